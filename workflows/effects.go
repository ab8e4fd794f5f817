package workflows

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/routing"
)

// Retry classes. Routing is the one call a decision waits for: a short
// local activity, and when the directory cannot answer the decision is
// retried from a timer (retryDelay), never by holding the loop. Ledger
// writes try once fast, then patiently (outbox.go). Remote effects (CRM,
// nurture, notifications) retry for the policy's effects.retry_for with a
// backoff capped low enough that a dependency that comes back is used
// within seconds; a SaaS API's Retry-After overrides it. Bad input never
// retries.
var nonRetryable = []string{actions.ErrInvalidInput, actions.ErrUnknownRep, actions.ErrUnknownPool}

func routeOptions() workflow.LocalActivityOptions {
	return shortLocal("route lead", 2*time.Second, 4*time.Second)
}

func ledgerFastOptions(summary string) workflow.LocalActivityOptions {
	return shortLocal(summary, 2*time.Second, 3*time.Second)
}

// shortLocal is a local activity that answers within a few seconds or not
// at all: what comes after it (a timer, a regular activity) is the patience.
func shortLocal(summary string, startToClose, total time.Duration) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    startToClose,
		ScheduleToCloseTimeout: total,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        200 * time.Millisecond,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Second,
			NonRetryableErrorTypes: nonRetryable,
		},
	}
}

// ledgerPatientOptions retry without end: the ledger outlasts any outage.
func ledgerPatientOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		Summary:             summary + " (retrying until Postgres answers)",
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Second,
			MaximumAttempts:        math.MaxInt32, // unlimited, said so (0 would mean 10 in the test environment)
			NonRetryableErrorTypes: nonRetryable,
		},
	}
}

const remoteMaxInterval = 15 * time.Second

func remoteOptions(summary string, retryFor time.Duration) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second, // a CRM call that takes longer is stuck; a crashed worker's attempt is retried this soon
		ScheduleToCloseTimeout: retryFor,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        remoteMaxInterval,
			MaximumAttempts:        int32(min(retryFor/remoteMaxInterval+10, math.MaxInt32)), // the window bounds it; said so for the test environment
			NonRetryableErrorTypes: nonRetryable,
		},
	}
}

// retryDelay is when a decision that needed the directory tries again
// after its n-th failure in a row: 5 s, 10 s, then every 20 s.
func retryDelay(n int) time.Duration {
	d := 5 * time.Second << min(max(n-1, 0), 2)
	return min(d, 20*time.Second)
}

// key is an idempotency key: the lead's workflow ID and life plus the
// business event. The life (the first run ID of this chain of runs) stays
// the same across Continue-As-New and retries, and differs when the lead is
// started again after a terminate, cancel or failure.
func (r *run) key(parts ...any) string {
	var b strings.Builder
	b.WriteString(lead.WorkflowID(r.s.LeadID))
	if r.s.Life != "" {
		b.WriteByte('@')
		b.WriteString(r.s.Life)
	}
	for _, p := range parts {
		b.WriteByte(':')
		fmt.Fprint(&b, p)
	}
	return b.String()
}

// route asks the directory for an owner: the one call a decision waits for,
// bounded to a few seconds.
func (r *run) route(in actions.RouteInput) (routing.Decision, error) {
	in.LeadID = r.s.LeadID
	in.PolicyVersion = r.pol.Version
	ctx := workflow.WithLocalActivityOptions(r.ctx, routeOptions())
	return executeLocal(ctx, actions.Directory.Route, in).Get(ctx)
}

func (r *run) assignOwner(key, owner, previous, why string) {
	r.enqueue("assign owner "+owner, EffectInput{Assign: &actions.AssignOwnerInput{
		Key: key, LeadID: r.s.LeadID, Email: r.s.Profile.Email, OwnerID: owner, Previous: previous, Why: why}})
}

func (r *run) createTask(in actions.TaskInput) {
	in.LeadID, in.Email = r.s.LeadID, r.s.Profile.Email
	r.enqueue("create "+in.Kind+" task", EffectInput{Task: &in})
}

func (r *run) note(key, body string) {
	r.enqueue("post note", EffectInput{Note: &actions.NoteInput{Key: key, LeadID: r.s.LeadID, Email: r.s.Profile.Email, Body: body}})
}

// tell notifies a person about the lead: urgent ones (escalations) reach
// them in their quiet hours, the others wait for those to end.
func (r *run) tell(key, to, kind string, urgent bool, due time.Time, title, body string) {
	if to == "" {
		return
	}
	r.enqueue(kind+" · "+to, EffectInput{Notify: &actions.NotifyInput{
		Key: key, LeadID: r.s.LeadID, Email: r.s.Profile.Email, To: to, Kind: kind, OwnerID: r.s.OwnerID,
		Title: title, Body: body, WhyNow: r.s.WhyNow, DueAt: due, Urgent: urgent}})
}

func (r *run) setCRMStage(key string, st lead.Stage) {
	r.enqueue("set lifecycle stage "+string(st), EffectInput{Stage: &actions.StageInput{Key: key, LeadID: r.s.LeadID, Email: r.s.Profile.Email, Stage: st}})
}

// alert records an alert on the lead; with raise it also goes to ops through
// the CRM adapter. An alert about a failed effect is not raised again through
// an adapter: it is in explain, the Temporal UI, the ledger and the metrics.
func (r *run) alert(kind, msg string, raise bool) {
	now := workflow.Now(r.ctx)
	msg = truncate(msg, maxWhyBytes)
	r.s.Alerts = capTail(append(r.s.Alerts, lead.Alert{At: now, Kind: kind, Message: msg}), maxAlerts)
	workflow.GetLogger(r.ctx).Warn("lead alert", "leadId", r.s.LeadID, "kind", kind, "message", msg)
	r.s.Seq++
	key := r.key("alert", r.s.Seq, kind)
	r.ledger(actions.LedgerEntry{Key: key, Kind: actions.LedgerAlert, Why: msg, Data: map[string]any{"kind": kind}})
	if raise {
		r.enqueue("raise alert "+kind, EffectInput{Alert: &actions.AlertInput{Key: key, LeadID: r.s.LeadID, Email: r.s.Profile.Email, Kind: kind, Message: msg}})
	}
}

// ledger queues immutable facts in the State; flushLedger writes them.
func (r *run) ledger(entries ...actions.LedgerEntry) {
	now := workflow.Now(r.ctx)
	for i := range entries {
		e := &entries[i]
		e.LeadID = r.s.LeadID
		if e.At.IsZero() {
			e.At = now
		}
		if e.PolicyVersion == "" && r.pol != nil {
			e.PolicyVersion = r.pol.Version
		}
		if e.Segment == "" {
			e.Segment = r.s.Segment
		}
		if e.Territory == "" {
			e.Territory = r.s.Territory
		}
		if e.OwnerID == "" {
			e.OwnerID = r.s.OwnerID
		}
		if e.Source == "" {
			e.Source = r.s.Source
		}
		if e.Campaign == "" {
			e.Campaign = r.s.Campaign
		}
	}
	r.s.Ledger = append(r.s.Ledger, entries...)
}
