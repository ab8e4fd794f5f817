// Package governance runs the weekly governance report ("review SLA
// performance weekly"): a Temporal Schedule starts WeeklyReportWorkflow,
// which computes last week's numbers from the ledger (internal/metrics),
// stores the snapshot in Postgres (report_snapshots) and sends a summary to
// every manager in the sales directory through the CRM port and the
// notification channels, and to the policy's marketing recipients.
//
// Every step is idempotent: the snapshot is kept once per period, and each
// manager's notification has the key weekly-report:<from>:<manager>, so a
// rerun of the same week changes nothing.
package governance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/crm"
	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
)

// Names registered with the worker.
const (
	WorkflowName     = "WeeklyReport"
	ActivitySnapshot = "WeeklyReport.Snapshot"
	ActivityManagers = "WeeklyReport.Managers"
	ActivityNotify   = "WeeklyReport.Notify"
	// ActivityNotifyMarketing sends the summary to the policy's
	// notifications.weekly_report_to addresses.
	ActivityNotifyMarketing = "WeeklyReport.NotifyMarketing"
	// MarketingRecipient is the To of the marketing notification's record:
	// the addresses are outside the directory.
	MarketingRecipient = "marketing"
	// ScheduleID is the one schedule; its runs' workflow IDs start with it.
	ScheduleID = "leadflow-weekly-report"
	// NotifyKind is the kind of the managers' notifications.
	NotifyKind = "weekly_report"
)

// Input is what a run reports on.
type Input struct {
	// Timezone (IANA) the week runs Monday to Sunday in; "" is UTC.
	Timezone string `json:"timezone"`
	// Week, YYYY-MM-DD of a Monday, reports that week instead of the last
	// full week before the run (a manual rerun or backfill).
	Week string `json:"week,omitempty"`
}

// Result is what a run did.
type Result struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Created  bool      `json:"created"` // false: the snapshot was already there
	Notified []string  `json:"notified"`
}

// PeriodFor is the week a run at now reports on.
func PeriodFor(in Input, now time.Time) (metrics.Period, error) {
	loc := time.UTC
	if in.Timezone != "" {
		l, err := time.LoadLocation(in.Timezone)
		if err != nil {
			return metrics.Period{}, fmt.Errorf("weekly report: time zone %q: %w", in.Timezone, err)
		}
		loc = l
	}
	if in.Week == "" {
		return metrics.LastWeek(now, loc), nil
	}
	d, err := time.ParseInLocation("2006-01-02", in.Week, loc)
	if err != nil || d.Weekday() != time.Monday {
		return metrics.Period{}, fmt.Errorf("weekly report: week %q is not a Monday (YYYY-MM-DD)", in.Week)
	}
	return metrics.Period{From: d, To: d.AddDate(0, 0, 7)}, nil
}

// WeeklyReportWorkflow computes, stores and sends one week's report.
func WeeklyReportWorkflow(ctx workflow.Context, in Input) (Result, error) {
	p, err := PeriodFor(in, workflow.Now(ctx))
	if err != nil {
		return Result{}, temporal.NewNonRetryableApplicationError(err.Error(), "BadInput", err)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 10},
	})
	var snap SnapshotResult
	if err := workflow.ExecuteActivity(ctx, ActivitySnapshot, SnapshotInput{From: p.From, To: p.To, Timezone: in.Timezone}).Get(ctx, &snap); err != nil {
		return Result{}, err
	}
	var managers []string
	if err := workflow.ExecuteActivity(ctx, ActivityManagers).Get(ctx, &managers); err != nil {
		return Result{}, err
	}
	res := Result{From: p.From, To: p.To, Created: snap.Created, Notified: []string{}}
	// All notifications in parallel; one manager the CRM does not know
	// does not stop the others.
	futures := make([]workflow.Future, len(managers))
	for i, m := range managers {
		futures[i] = workflow.ExecuteActivity(ctx, ActivityNotify, NotifyInput{From: p.From, Manager: m, Body: snap.Summary})
	}
	// Runs started before the marketing recipients existed replay without
	// the call.
	var marketing workflow.Future
	if workflow.GetVersion(ctx, "weekly-report-marketing", workflow.DefaultVersion, 1) == 1 {
		marketing = workflow.ExecuteActivity(ctx, ActivityNotifyMarketing, MarketingInput{From: p.From, Body: snap.Summary})
	}
	var errs []error
	for i, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Error("weekly report: notify manager failed", "manager", managers[i], "error", err)
			errs = append(errs, fmt.Errorf("notify %s: %w", managers[i], err))
			continue
		}
		res.Notified = append(res.Notified, managers[i])
	}
	if marketing != nil {
		var n int
		if err := marketing.Get(ctx, &n); err != nil {
			workflow.GetLogger(ctx).Error("weekly report: notify marketing failed", "error", err)
			errs = append(errs, fmt.Errorf("notify %s: %w", MarketingRecipient, err))
		} else if n > 0 {
			res.Notified = append(res.Notified, MarketingRecipient)
		}
	}
	return res, errors.Join(errs...)
}

// SnapshotInput is the period to compute and store.
type SnapshotInput struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Timezone string    `json:"timezone"`
}

// SnapshotResult says whether the snapshot is new and carries the summary
// of the stored one.
type SnapshotResult struct {
	Created bool   `json:"created"`
	Summary string `json:"summary"`
}

// NotifyInput is one manager's notification.
type NotifyInput struct {
	From    time.Time `json:"from"`
	Manager string    `json:"manager"`
	Body    string    `json:"body"`
}

// MarketingInput is the marketing recipients' notification.
type MarketingInput struct {
	From time.Time `json:"from"`
	Body string    `json:"body"`
}

// Notifier delivers a notification on the configured channels
// (internal/notify's Dispatcher).
type Notifier interface {
	Dispatch(ctx context.Context, in actions.NotifyInput) error
}

// Activities are the report's side effects.
type Activities struct {
	Store *store.Store
	CRM   crm.CRM
	// Notifier delivers what the CRM filed; nil: the CRM's record only.
	Notifier Notifier
	// Policy is the current policy (its notifications.weekly_report_to);
	// nil: no marketing recipients.
	Policy func() *policy.Policy
}

// Snapshot computes the report of [From, To) and stores it unless the
// period has one already; the summary is always of the stored snapshot, so
// every run sends the same text.
func (a *Activities) Snapshot(ctx context.Context, in SnapshotInput) (SnapshotResult, error) {
	rep, err := metrics.Compute(ctx, a.Store.Pool(), metrics.Period{From: in.From, To: in.To}, metrics.ByAll)
	if err != nil {
		return SnapshotResult{}, err
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return SnapshotResult{}, fmt.Errorf("weekly report: %w", err)
	}
	created, err := a.Store.SaveReportSnapshot(ctx, in.From, in.To, metrics.ByAll, body)
	if err != nil {
		return SnapshotResult{}, err
	}
	if !created {
		stored, _, err := a.Store.ReportSnapshot(ctx, in.From, in.To, metrics.ByAll)
		if err != nil {
			return SnapshotResult{}, err
		}
		if err := json.Unmarshal(stored, &rep); err != nil {
			return SnapshotResult{}, fmt.Errorf("weekly report: stored snapshot: %w", err)
		}
	}
	loc := time.UTC
	if in.Timezone != "" {
		if l, err := time.LoadLocation(in.Timezone); err == nil {
			loc = l
		}
	}
	return SnapshotResult{Created: created, Summary: metrics.Summary(rep, loc)}, nil
}

// Managers lists the managers in the directory: every rep some active rep
// names as manager, sorted.
func (a *Activities) Managers(ctx context.Context) ([]string, error) {
	d, err := a.Store.Directory(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range d.Reps {
		if r.Manager != "" && !seen[r.Manager] {
			seen[r.Manager] = true
			out = append(out, r.Manager)
		}
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// ReportLeadID is the record the CRM files a week's notifications under
// (the CRM port is lead-centred; the report is about no single lead).
func ReportLeadID(from time.Time) string { return "weekly-report-" + from.Format("2006-01-02") }

// NotifyKey is the idempotency key of a manager's notification for a week.
func NotifyKey(from time.Time, manager string) string {
	return "weekly-report:" + from.Format("2006-01-02") + ":" + manager
}

// Notify sends one manager the week's summary: filed in the CRM, then
// delivered on every channel that reaches them, each once.
func (a *Activities) Notify(ctx context.Context, in NotifyInput) error {
	n := actions.NotifyInput{
		Key: NotifyKey(in.From, in.Manager), LeadID: ReportLeadID(in.From),
		To: in.Manager, Kind: NotifyKind, Body: in.Body, Title: title(in.From),
	}
	if err := a.CRM.Notify(ctx, n); err != nil || a.Notifier == nil {
		return err
	}
	return a.Notifier.Dispatch(ctx, n)
}

// NotifyMarketing emails the summary to the policy's weekly_report_to
// addresses, once each, and returns how many there are. The record is the
// built-in one (a CRM such as HubSpot knows no "marketing" owner).
func (a *Activities) NotifyMarketing(ctx context.Context, in MarketingInput) (int, error) {
	if a.Policy == nil {
		return 0, nil
	}
	to := a.Policy().Notifications.WeeklyReportTo
	if len(to) == 0 {
		return 0, nil
	}
	n := actions.NotifyInput{
		Key: NotifyKey(in.From, MarketingRecipient), LeadID: ReportLeadID(in.From),
		To: MarketingRecipient, Kind: NotifyKind, Body: in.Body, Title: title(in.From), ToEmails: to,
	}
	if err := a.Store.Notify(ctx, n); err != nil {
		return 0, err
	}
	if a.Notifier == nil {
		return len(to), nil
	}
	return len(to), a.Notifier.Dispatch(ctx, n)
}

func title(from time.Time) string {
	return "leadflow weekly report: week of " + from.Format("2 Jan 2006")
}

// Register adds the workflow and its activities to a worker.
func Register(w worker.Registry, a *Activities) {
	// A run takes minutes: it finishes on the build it started on (Pinned),
	// so a deploy never replays it on other code. Ignored by an
	// unversioned worker.
	w.RegisterWorkflowWithOptions(WeeklyReportWorkflow, workflow.RegisterOptions{Name: WorkflowName, VersioningBehavior: workflow.VersioningBehaviorPinned})
	w.RegisterActivityWithOptions(a.Snapshot, activity.RegisterOptions{Name: ActivitySnapshot})
	w.RegisterActivityWithOptions(a.Managers, activity.RegisterOptions{Name: ActivityManagers})
	w.RegisterActivityWithOptions(a.Notify, activity.RegisterOptions{Name: ActivityNotify})
	w.RegisterActivityWithOptions(a.NotifyMarketing, activity.RegisterOptions{Name: ActivityNotifyMarketing})
}

// Spec is when the schedule fires: a cron spec in a time zone.
type Spec struct {
	Cron     string
	Timezone string
}

// SpecFrom is the policy's report section (defaults: Monday 08:00 in the
// policy's time zone).
func SpecFrom(p *policy.Policy) Spec {
	s := Spec{Cron: p.Report.Cron, Timezone: p.Report.Timezone}
	if s.Cron == "" {
		s.Cron = policy.DefaultReportCron
	}
	if s.Timezone == "" {
		s.Timezone = p.Timezone
	}
	return s
}

func (s Spec) schedule() client.ScheduleSpec {
	return client.ScheduleSpec{CronExpressions: []string{s.Cron}, TimeZoneName: s.Timezone}
}

func action(taskQueue string, s Spec) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:                       ScheduleID,
		Workflow:                 WorkflowName,
		Args:                     []any{Input{Timezone: s.Timezone}},
		TaskQueue:                taskQueue,
		WorkflowExecutionTimeout: 6 * time.Hour,
	}
}

// EnsureSchedule creates the weekly report schedule, or, when it exists
// (another worker start), updates its spec and action to s: every worker
// start leaves exactly one schedule with the current policy's spec.
func EnsureSchedule(ctx context.Context, c client.Client, taskQueue string, s Spec) error {
	if err := policy.CheckCron(s.Cron); err != nil {
		return fmt.Errorf("weekly report schedule: %w", err)
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil {
		return fmt.Errorf("weekly report schedule: time zone %q: %w", s.Timezone, err)
	}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      ScheduleID,
		Spec:    s.schedule(),
		Action:  action(taskQueue, s),
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		Memo:    map[string]any{"cron": s.Cron, "timezone": s.Timezone},
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", ScheduleID, err)
	}
	h := c.ScheduleClient().GetHandle(ctx, ScheduleID)
	err = h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			spec := s.schedule()
			sched.Spec = &spec
			sched.Action = action(taskQueue, s)
			if sched.Policy == nil {
				sched.Policy = &client.SchedulePolicies{}
			}
			sched.Policy.Overlap = enums.SCHEDULE_OVERLAP_POLICY_SKIP
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", ScheduleID, err)
	}
	return nil
}
