package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/routing"
)

// Retry classes. Directory and ledger writes are fast Postgres steps on the
// speed-to-lead path: local activities with short retries. CRM and nurture
// calls may hit a SaaS API that rate-limits for minutes: regular activities
// with long, patient retries. Bad input never retries.
var nonRetryable = []string{actions.ErrInvalidInput, actions.ErrUnknownRep, actions.ErrUnknownPool}

func localOptions(summary string) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 2 * time.Minute,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        200 * time.Millisecond,
			BackoffCoefficient:     2,
			MaximumInterval:        10 * time.Second,
			NonRetryableErrorTypes: nonRetryable,
		},
	}
}

func remoteOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second, // a CRM call that takes longer is stuck; a crashed worker's attempt is retried this soon
		ScheduleToCloseTimeout: 24 * time.Hour,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: nonRetryable,
		},
	}
}

// key is an idempotency key: the workflow ID plus the business event.
func (r *run) key(parts ...any) string {
	var b strings.Builder
	b.WriteString(lead.WorkflowID(r.s.LeadID))
	for _, p := range parts {
		b.WriteByte(':')
		fmt.Fprint(&b, p)
	}
	return b.String()
}

func (r *run) local(summary, name string, in, out any) error {
	ctx := workflow.WithLocalActivityOptions(r.ctx, localOptions(summary))
	return workflow.ExecuteLocalActivity(ctx, name, in).Get(ctx, out)
}

func (r *run) remote(summary, name string, in, out any) error {
	ctx := workflow.WithActivityOptions(r.ctx, remoteOptions(summary))
	return workflow.ExecuteActivity(ctx, name, in).Get(ctx, out)
}

// effect runs a side effect whose failure must not stop the lifecycle: the
// failure becomes an alert on the lead (explain) instead. Inside together()
// it only starts; together waits for all of them.
func (r *run) effect(summary, name string, in any) {
	r.startEffect(summary, name, in, nil, nil)
	if !r.deferring {
		r.awaitEffects()
	}
}

// inflight is a started side effect and what to do with its result.
type inflight struct {
	summary string
	f       workflow.Future
	out     any
	after   func()
}

func (r *run) startEffect(summary, name string, in, out any, after func()) {
	ctx := workflow.WithActivityOptions(r.ctx, remoteOptions(summary))
	r.inflight = append(r.inflight, inflight{summary: summary, f: workflow.ExecuteActivity(ctx, name, in), out: out, after: after})
}

func (r *run) awaitEffects() {
	started := r.inflight
	r.inflight = nil
	for _, e := range started {
		if err := e.f.Get(r.ctx, e.out); err != nil {
			r.alert("effect_failed", fmt.Sprintf("%s failed: %v", e.summary, err), false)
			continue
		}
		if e.after != nil {
			e.after()
		}
	}
}

// together runs fn with its side effects started side by side and waits for
// all of them: the handoff's owner assignment, task and lifecycle stage are
// independent (each idempotent by key), so speed-to-lead pays one round trip
// to the CRM, not three.
func (r *run) together(fn func()) {
	r.deferring = true
	fn()
	r.deferring = false
	r.awaitEffects()
}

func (r *run) route(in actions.RouteInput) (routing.Decision, error) {
	in.LeadID = r.s.LeadID
	in.PolicyVersion = r.pol.Version
	var d routing.Decision
	err := r.local("route lead", actions.Route, in, &d)
	return d, err
}

func (r *run) assignOwner(key, owner, previous, why string) {
	r.effect("assign owner "+owner, actions.AssignOwner, actions.AssignOwnerInput{
		Key: key, LeadID: r.s.LeadID, Email: r.s.Profile.Email, OwnerID: owner, Previous: previous, Why: why})
}

// createTask creates a task; done (if not nil) gets its ID once it exists.
func (r *run) createTask(in actions.TaskInput, done func(taskID string)) {
	in.LeadID, in.Email = r.s.LeadID, r.s.Profile.Email
	ref := &actions.TaskRef{}
	r.startEffect("create "+in.Kind+" task", actions.CreateTask, in, ref, func() {
		if done != nil {
			done(ref.TaskID)
		}
	})
	if !r.deferring {
		r.awaitEffects()
	}
}

func (r *run) note(key, body string) {
	r.effect("post note", actions.PostNote, actions.NoteInput{Key: key, LeadID: r.s.LeadID, Email: r.s.Profile.Email, Body: body})
}

func (r *run) notify(key, to, kind, body string) {
	r.effect(kind+" · "+to, actions.NotifyManager, actions.NotifyInput{
		Key: key, LeadID: r.s.LeadID, Email: r.s.Profile.Email, To: to, Kind: kind, OwnerID: r.s.OwnerID, Body: body})
}

func (r *run) setCRMStage(key string, st lead.Stage) {
	r.effect("set lifecycle stage "+string(st), actions.SetLifecycleStage, actions.StageInput{Key: key, LeadID: r.s.LeadID, Email: r.s.Profile.Email, Stage: st})
}

// alert records an alert on the lead; with raise it also goes to ops through
// the CRM adapter. An alert about a failed effect is not raised again through
// the same adapter.
func (r *run) alert(kind, msg string, raise bool) {
	now := workflow.Now(r.ctx)
	r.s.Alerts = capTail(append(r.s.Alerts, lead.Alert{At: now, Kind: kind, Message: msg}), maxAlerts)
	workflow.GetLogger(r.ctx).Warn("lead alert", "leadId", r.s.LeadID, "kind", kind, "message", msg)
	r.s.Seq++
	key := r.key("alert", r.s.Seq, kind)
	r.ledger(actions.LedgerEntry{Key: key, Kind: actions.LedgerAlert, Why: msg, Data: map[string]any{"kind": kind}})
	if raise {
		if err := r.remote("raise alert "+kind, actions.RaiseAlert, actions.AlertInput{Key: key, LeadID: r.s.LeadID, Email: r.s.Profile.Email, Kind: kind, Message: msg}, nil); err != nil {
			workflow.GetLogger(r.ctx).Error("raise alert failed", "leadId", r.s.LeadID, "kind", kind, "error", err)
		}
	}
}

// ledger queues immutable facts; flushLedger writes them in one local
// activity per turn of the loop, so a handoff costs one ledger write, not
// five. The ledger is what the metrics are computed from, so a failed write
// is retried by the activity and, if it still fails, logged loudly; the
// lifecycle itself goes on.
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
	r.pending = append(r.pending, entries...)
}

func (r *run) flushLedger() {
	if len(r.pending) == 0 {
		return
	}
	entries := r.pending
	r.pending = nil
	summary := fmt.Sprintf("record %d ledger entries", len(entries))
	if err := r.local(summary, actions.Record, actions.RecordInput{Entries: entries}, nil); err != nil {
		workflow.GetLogger(r.ctx).Error("ledger write failed", "leadId", r.s.LeadID, "entries", len(entries), "error", err)
	}
}
