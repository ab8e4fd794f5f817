package activities

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/crm"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/policy"
)

// ReportStore is what the weekly report needs of Postgres (store.Metrics).
type ReportStore interface {
	// Pool is what internal/metrics computes the week from.
	Pool() *pgxpool.Pool
	SaveReportSnapshot(ctx context.Context, from, to time.Time, by string, report []byte) (created bool, err error)
	ReportSnapshot(ctx context.Context, from, to time.Time, by string) (report []byte, createdAt time.Time, err error)
}

// DirectorySource is the imported sales directory (store.Directory).
type DirectorySource interface {
	Directory(ctx context.Context) (*directory.Directory, error)
}

// Records files a notification in the built-in CRM's records
// (store.CRM), whatever CRM the leads use.
type Records interface {
	Notify(ctx context.Context, in actions.NotifyInput) error
}

// Report is the weekly report's side effects (workflows.WeeklyReport).
type Report struct {
	Metrics   ReportStore
	Directory DirectorySource
	Records   Records
	CRM       crm.CRM
	// Notifier delivers what the CRM filed; nil: the CRM's record only.
	Notifier Notifier
	// Policy is the current policy (its notifications.weekly_report_to);
	// nil: no marketing recipients.
	Policy func() *policy.Policy
}

// Register registers the report's activities under their contract names.
func (a *Report) Register(r Registry) {
	register(r,
		actions.Report.Snapshot.Bind(a.Snapshot),
		actions.Report.Managers.Bind(a.Managers),
		actions.Report.Notify.Bind(a.Notify),
		actions.Report.NotifyMarketing.Bind(a.NotifyMarketing),
	)
}

// Snapshot computes the report of [From, To) and stores it unless the
// period has one already; the summary is always of the stored snapshot, so
// every run sends the same text.
func (a *Report) Snapshot(ctx context.Context, in actions.ReportSnapshotInput) (actions.ReportSnapshotResult, error) {
	op := "weekly report of " + day(in.From)
	rep, err := metrics.Compute(ctx, a.Metrics.Pool(), metrics.Period{From: in.From, To: in.To}, metrics.ByAll)
	if err != nil {
		return actions.ReportSnapshotResult{}, classify(op, err)
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return actions.ReportSnapshotResult{}, classify(op, err)
	}
	created, err := a.Metrics.SaveReportSnapshot(ctx, in.From, in.To, metrics.ByAll, body)
	if err != nil {
		return actions.ReportSnapshotResult{}, classify(op+": save snapshot", err)
	}
	if !created {
		stored, _, err := a.Metrics.ReportSnapshot(ctx, in.From, in.To, metrics.ByAll)
		if err != nil {
			return actions.ReportSnapshotResult{}, classify(op+": read snapshot", err)
		}
		if err := json.Unmarshal(stored, &rep); err != nil {
			return actions.ReportSnapshotResult{}, classify(op+": stored snapshot", err)
		}
	}
	loc := time.UTC
	if in.Timezone != "" {
		if l, err := time.LoadLocation(in.Timezone); err == nil {
			loc = l
		}
	}
	return actions.ReportSnapshotResult{Created: created, Summary: metrics.Summary(rep, loc)}, nil
}

// Managers lists the managers in the directory: every rep some active rep
// names as manager, sorted.
func (a *Report) Managers(ctx context.Context) ([]string, error) {
	d, err := a.Directory.Directory(ctx)
	if err != nil {
		return nil, classify("weekly report managers", err)
	}
	seen := map[string]bool{}
	out := []string{}
	for _, r := range d.Reps {
		if r.Manager != "" && !seen[r.Manager] {
			seen[r.Manager] = true
			out = append(out, r.Manager)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ReportLeadID is the record the CRM files a week's notifications under
// (the CRM port is lead-centred; the report is about no single lead).
func ReportLeadID(from time.Time) string { return "weekly-report-" + day(from) }

// ReportNotifyKey is the idempotency key of a recipient's notification for
// a week.
func ReportNotifyKey(from time.Time, recipient string) string {
	return "weekly-report:" + day(from) + ":" + recipient
}

// Notify sends one manager the week's summary: filed in the CRM, then
// delivered on every channel that reaches them, each once.
func (a *Report) Notify(ctx context.Context, in actions.ReportNotifyInput) error {
	op := "weekly report of " + day(in.From) + ": notify " + in.Manager
	n := actions.NotifyInput{
		Key: ReportNotifyKey(in.From, in.Manager), LeadID: ReportLeadID(in.From),
		To: in.Manager, Kind: actions.NotifyWeekly, Body: in.Body, Title: reportTitle(in.From),
	}
	if err := a.CRM.Notify(ctx, n); err != nil {
		return classify(op, err)
	}
	if a.Notifier == nil {
		return nil
	}
	return classify(op, a.Notifier.Dispatch(ctx, n))
}

// NotifyMarketing emails the summary to the policy's weekly_report_to
// addresses, once each, and returns how many there are. The record is the
// built-in one (a CRM such as HubSpot knows no "marketing" owner).
func (a *Report) NotifyMarketing(ctx context.Context, in actions.ReportMarketingInput) (int, error) {
	op := "weekly report of " + day(in.From) + ": notify " + actions.ReportMarketingRecipient
	if a.Policy == nil {
		return 0, nil
	}
	to := a.Policy().Notifications.WeeklyReportTo
	if len(to) == 0 {
		return 0, nil
	}
	n := actions.NotifyInput{
		Key: ReportNotifyKey(in.From, actions.ReportMarketingRecipient), LeadID: ReportLeadID(in.From),
		To: actions.ReportMarketingRecipient, Kind: actions.NotifyWeekly, Body: in.Body, Title: reportTitle(in.From), ToEmails: to,
	}
	if err := a.Records.Notify(ctx, n); err != nil {
		return 0, classify(op, err)
	}
	if a.Notifier == nil {
		return len(to), nil
	}
	return len(to), classify(op, a.Notifier.Dispatch(ctx, n))
}

func reportTitle(from time.Time) string {
	return "leadflow weekly report: week of " + from.Format("2 Jan 2006")
}

func day(t time.Time) string { return t.Format("2006-01-02") }
