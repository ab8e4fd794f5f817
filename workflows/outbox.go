package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

// The effect outbox. A handler never calls a dependency and waits: it
// decides, changes the State and enqueues Effects. At the end of each turn
// of the loop every effect that may start is started in a coroutine of its
// own; its outcome comes back on r.done and is handled like any other
// input. Effects live in the carried State until they are confirmed, so
// Continue-As-New carries them and the next run starts them again under the
// same keys (every adapter is idempotent by key).

// Effect is one side effect the lead decided on.
type Effect struct {
	Key     string `json:"key"` // the idempotency key; unique in the outbox
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
	// After names an effect that must be confirmed first (a note after the
	// task it refers to; nurture calls in the order they were decided).
	After     string      `json:"after,omitempty"`
	Failed    bool        `json:"failed,omitempty"` // retries ran out: alerted, waiting for a re-drive
	Attempts  int         `json:"attempts"`         // starts so far, across runs and re-drives
	Since     time.Time   `json:"since"`
	LastError string      `json:"lastError,omitempty"`
	In        EffectInput `json:"in"`
}

// EffectInput is the activity input of an effect: exactly one is set. One
// typed field per kind keeps the carried State checked by the compiler.
type EffectInput struct {
	Assign  *actions.AssignOwnerInput `json:"assign,omitempty"`
	Task    *actions.TaskInput        `json:"task,omitempty"`
	Close   *actions.CloseTaskInput   `json:"close,omitempty"`
	Note    *actions.NoteInput        `json:"note,omitempty"`
	Notify  *actions.NotifyInput      `json:"notify,omitempty"`
	Alert   *actions.AlertInput       `json:"alert,omitempty"`
	Stage   *actions.StageInput       `json:"stage,omitempty"`
	Enroll  *actions.EnrollInput      `json:"enroll,omitempty"`
	Pause   *actions.PauseInput       `json:"pause,omitempty"`
	Send    *actions.SendInput        `json:"send,omitempty"`
	Stop    *actions.StopInput        `json:"stop,omitempty"`
	Forward *actions.ForwardInput     `json:"forward,omitempty"`
}

// call is the effect's activity: its registered name (the Effect's Kind)
// and how to run it through its typed reference, with the result the
// workflow keeps (a task's ID, a send's outcome) put into c. This switch is
// the one place an effect kind meets its activity.
func (in EffectInput) call() (string, func(workflow.Context, *completion) error) {
	switch {
	case in.Assign != nil:
		return actions.AssignOwner, proc(actions.CRM.AssignOwner, *in.Assign)
	case in.Task != nil:
		return actions.CreateTask, func(ctx workflow.Context, c *completion) (err error) {
			c.task, err = execute(ctx, actions.CRM.CreateTask, *in.Task).Get(ctx)
			return err
		}
	case in.Close != nil:
		return actions.CloseTask, proc(actions.CRM.CloseTask, *in.Close)
	case in.Note != nil:
		return actions.PostNote, proc(actions.CRM.PostNote, *in.Note)
	case in.Notify != nil:
		return actions.NotifyManager, proc(actions.CRM.Notify, *in.Notify)
	case in.Alert != nil:
		return actions.RaiseAlert, proc(actions.CRM.RaiseAlert, *in.Alert)
	case in.Stage != nil:
		return actions.SetLifecycleStage, proc(actions.CRM.SetLifecycleStage, *in.Stage)
	case in.Enroll != nil:
		return actions.NurtureEnroll, proc(actions.Nurture.Enroll, *in.Enroll)
	case in.Pause != nil:
		return actions.NurturePause, proc(actions.Nurture.Pause, *in.Pause)
	case in.Send != nil:
		return actions.NurtureSend, func(ctx workflow.Context, c *completion) (err error) {
			c.send, err = execute(ctx, actions.Nurture.Send, *in.Send).Get(ctx)
			return err
		}
	case in.Stop != nil:
		return actions.NurtureStop, proc(actions.Nurture.Stop, *in.Stop)
	case in.Forward != nil:
		return actions.ForwardEvents, proc(actions.Leads.ForwardEvents, *in.Forward)
	}
	return "", nil
}

// proc runs an activity whose only outcome is its error.
func proc[I any](ref actions.Proc[I], in I) func(workflow.Context, *completion) error {
	return func(ctx workflow.Context, _ *completion) error { return perform(ctx, ref, in).Get(ctx) }
}

// lane names the effects whose order matters to the system they reach:
// nurture calls (a pause must not be overtaken by a later send), the CRM
// owner, the CRM lifecycle stage. Effects of no lane run side by side.
func lane(kind string) string {
	switch kind {
	case actions.NurtureEnroll, actions.NurturePause, actions.NurtureSend, actions.NurtureStop:
		return "nurture"
	case actions.AssignOwner:
		return "owner"
	case actions.SetLifecycleStage:
		return "stage"
	}
	return ""
}

// latestWins: a lane that carries a value, where a newer write makes an
// older one that has not gone out moot.
func latestWins(lane string) bool { return lane == "owner" || lane == "stage" }

// onSaaSQueue: the effect reaches a third party (the worker says which
// kinds do; by default all but merge forwarding).
func (r *run) onSaaSQueue(kind string) bool {
	if r.cfg.SaaSKinds == nil {
		return kind != actions.ForwardEvents
	}
	return r.cfg.SaaSKinds[kind]
}

// completion is an effect's outcome, reported by its coroutine.
type completion struct {
	key     string
	attempt int
	task    actions.TaskRef
	send    actions.SendResult
	err     error
	// ledger: a ledger write of the first `written` pending entries.
	ledger  bool
	written int
}

// enqueue adds an effect to the outbox; an effect whose key is already
// there is the same fact decided twice and is not added again.
func (r *run) enqueue(summary string, in EffectInput) {
	kind, _ := in.call()
	key := effectKey(in)
	if r.effectIndex(key) >= 0 {
		return
	}
	e := Effect{Key: key, Kind: kind, Summary: summary, Since: workflow.Now(r.ctx), In: in}
	if ln := lane(kind); ln != "" {
		if latestWins(ln) {
			// Only the newest owner (or CRM stage) matters: an older write
			// that has not started is superseded, never sent after it.
			for i := len(r.s.Effects) - 1; i >= 0; i-- {
				if old := r.s.Effects[i]; lane(old.Kind) == ln && r.running[old.Key] == 0 {
					r.s.Effects = append(r.s.Effects[:i:i], r.s.Effects[i+1:]...)
				}
			}
		}
		// The other side sees one lane's calls in the order they were
		// decided: each waits for the one before it.
		for i := len(r.s.Effects) - 1; i >= 0; i-- {
			if lane(r.s.Effects[i].Kind) == ln {
				e.After = r.s.Effects[i].Key
				break
			}
		}
	}
	if kind == actions.CloseTask && r.effectIndex(in.Close.TaskKey) >= 0 {
		e.After = in.Close.TaskKey // a task is closed only once it exists
	}
	if kind == actions.PostNote {
		if h := r.s.Handoff; h != nil && r.effectIndex(h.TaskKey) >= 0 {
			e.After = h.TaskKey // a note about the task lands after it
		}
	}
	r.s.Effects = append(r.s.Effects, e)
}

func effectKey(in EffectInput) string {
	switch {
	case in.Assign != nil:
		return in.Assign.Key
	case in.Task != nil:
		return in.Task.Key
	case in.Close != nil:
		return in.Close.Key
	case in.Note != nil:
		return in.Note.Key
	case in.Notify != nil:
		return in.Notify.Key
	case in.Alert != nil:
		return in.Alert.Key
	case in.Stage != nil:
		return in.Stage.Key
	case in.Enroll != nil:
		return in.Enroll.Key
	case in.Pause != nil:
		return in.Pause.Key
	case in.Send != nil:
		return in.Send.Key
	case in.Stop != nil:
		return in.Stop.Key
	case in.Forward != nil:
		return in.Forward.Key
	}
	return ""
}

func (r *run) effectIndex(key string) int {
	if key == "" {
		return -1
	}
	for i := range r.s.Effects {
		if r.s.Effects[i].Key == key {
			return i
		}
	}
	return -1
}

// dropEffect removes an effect that has not started: a later decision made
// it moot (a pause supersedes a send that never went out).
func (r *run) dropEffect(key string) {
	i := r.effectIndex(key)
	if i < 0 || r.running[key] > 0 {
		return
	}
	r.s.Effects = append(r.s.Effects[:i:i], r.s.Effects[i+1:]...)
}

// startReady starts every effect that is neither running, failed, nor
// waiting for the effect it comes after.
func (r *run) startReady() {
	for i := range r.s.Effects {
		e := &r.s.Effects[i]
		if e.Failed || r.running[e.Key] > 0 || (e.After != "" && r.effectIndex(e.After) >= 0) {
			continue
		}
		r.start(e)
	}
}

func (r *run) start(e *Effect) {
	e.Attempts++
	attempt := e.Attempts
	r.running[e.Key] = attempt
	kind, call := e.In.call()
	key := e.Key
	opts := remoteOptions(e.Summary, r.retryFor())
	if r.onSaaSQueue(kind) {
		// Third parties: their own queue, whose rate every worker shares.
		opts.TaskQueue = r.saasQueue
	}
	workflow.Go(r.ctx, func(ctx workflow.Context) {
		c := completion{key: key, attempt: attempt}
		if call == nil {
			c.err = temporal.NewNonRetryableApplicationError("effect "+key+" has no input", actions.ErrInvalidInput, nil)
		} else {
			c.err = call(workflow.WithActivityOptions(ctx, opts), &c)
		}
		r.done.Send(ctx, c)
	})
}

// onDone handles an effect's outcome: confirmed effects leave the outbox
// (and may change the State: a task's ID, a send's result); failed ones
// stay, marked, with an alert.
func (r *run) onDone(c completion) {
	if c.ledger {
		r.onLedgerWritten(c)
		return
	}
	r.quiet = false
	i := r.effectIndex(c.key)
	if i < 0 || r.running[c.key] != c.attempt {
		return // superseded, or an attempt of an earlier start
	}
	delete(r.running, c.key)
	e := &r.s.Effects[i]
	if c.err != nil {
		if temporal.IsCanceledError(c.err) {
			return
		}
		e.Failed, e.LastError = true, truncate(errMessage(c.err), 300)
		r.effectFailed(*e)
		return
	}
	done := *e
	r.s.Effects = append(r.s.Effects[:i:i], r.s.Effects[i+1:]...)
	switch done.Kind {
	case actions.CreateTask:
		if h := r.s.Handoff; h != nil && h.TaskKey == done.Key {
			h.TaskID = c.task.TaskID
		}
	case actions.NurtureSend:
		r.nurtureSent(*done.In.Send, c.send)
	}
}

// effectFailed: the dependency refused (4xx) or stayed down for the whole
// retry window. The lead says so everywhere ops look; the effect waits for
// `starter lead retry-effects`. A nurture touch is not kept: the track
// tries the same step again later, under the same key.
func (r *run) effectFailed(e Effect) {
	workflow.GetMetricsHandler(r.ctx).WithTags(map[string]string{"kind": e.Kind}).Counter(effectFailuresMetric).Inc(1)
	r.alert("effect_failed", fmt.Sprintf("%s failed (attempt %d): %s", e.Summary, e.Attempts, e.LastError), false)
	if e.Kind == actions.NurtureSend {
		r.dropEffect(e.Key)
		if n := &r.s.Nurture; n.Sending == e.Key {
			n.Sending = ""
			if n.Enrolled && !n.Paused {
				n.NextAt = workflow.Now(r.ctx).Add(time.Hour)
			}
		}
	}
}

// effectFailuresMetric counts effects whose retries ran out, by kind.
const effectFailuresMetric = "leadflow_effect_failures_total"

// retryFailed starts every failed effect again (an operator's re-drive);
// it returns how many.
func (r *run) retryFailed() int {
	n := 0
	for i := range r.s.Effects {
		if e := &r.s.Effects[i]; e.Failed {
			e.Failed = false
			n++
		}
	}
	return n
}

func (r *run) retryFor() time.Duration {
	if r.pol != nil && r.pol.Effects.RetryFor > 0 {
		return r.pol.Effects.RetryFor.D()
	}
	return 24 * time.Hour
}

func (r *run) effectViews() []lead.EffectView {
	if len(r.s.Effects) == 0 {
		return nil
	}
	out := make([]lead.EffectView, 0, len(r.s.Effects))
	for _, e := range r.s.Effects {
		st := lead.EffectPending
		switch {
		case e.Failed:
			st = lead.EffectFailed
		case r.running[e.Key] > 0:
			st = lead.EffectRunning
		}
		out = append(out, lead.EffectView{Key: e.Key, Kind: e.Kind, Summary: e.Summary, Status: st,
			Attempts: e.Attempts, Since: e.Since, LastError: e.LastError})
	}
	return out
}

func (r *run) failedEffects() int {
	n := 0
	for _, e := range r.s.Effects {
		if e.Failed {
			n++
		}
	}
	return n
}

// The ledger. Entries stay in the State until Postgres confirms them: a
// fast local attempt first (the usual case, one marker in the history),
// then a regular activity that retries for as long as Postgres is down.
// One write is in flight at a time; it takes every entry pending when it
// starts, with the lead's state as of then.

func (r *run) flushLedger() {
	if r.ledgerBusy || len(r.s.Ledger) == 0 || r.holdQuietEvents() {
		return
	}
	r.ledgerBusy = true
	r.lastWritten = r.published()
	n := len(r.s.Ledger)
	// Microseconds of workflow time, never repeating: a lead started again
	// after a terminate publishes above its earlier life.
	r.s.StateSeq = max(r.s.StateSeq+1, workflow.Now(r.ctx).UnixMicro())
	in := actions.RecordInput{
		Entries: append([]actions.LedgerEntry(nil), r.s.Ledger...),
		State: &actions.StateSnapshot{LeadID: r.s.LeadID, Seq: r.s.StateSeq, At: workflow.Now(r.ctx), View: r.view(),
			Inputs: &actions.DecisionInputs{Profile: r.s.Profile, Trigger: r.s.Trigger, Counts: r.s.Score.Counts}},
	}
	summary := fmt.Sprintf("record %d ledger entries", n)
	workflow.Go(r.ctx, func(ctx workflow.Context) {
		err := performLocal(workflow.WithLocalActivityOptions(ctx, ledgerFastOptions(summary)), actions.Ledger.Record, in).Get(ctx)
		if err != nil && !isNonRetryable(err) && ctx.Err() == nil {
			err = perform(workflow.WithActivityOptions(ctx, ledgerPatientOptions(summary)), actions.Ledger.Record, in).Get(ctx)
		}
		r.done.Send(ctx, completion{ledger: true, written: n, err: err})
	})
}

// maxHeldEvents bounds the event rows a lead holds back (see
// holdQuietEvents) before it writes them anyway.
const maxHeldEvents = 50

// holdQuietEvents: a workflow task that only received events which changed
// nothing the lead publishes (no stage, owner, score, SLA, nurture, effect
// or alert changed, no other fact) does not write their event rows on its
// own: they stay in the State (carried across Continue-As-New like every
// pending entry) and go with the lead's next write — its next event that
// changes something, its next timer, command or effect outcome, or the
// 50th held row. A plain event then costs its signal and one workflow task,
// no marker; the facts the metrics join to event rows (a transition, an
// opportunity) are written in the same write as the events before them.
func (r *run) holdQuietEvents() bool {
	if !r.quiet || len(r.s.Ledger) >= maxHeldEvents {
		return false
	}
	for _, e := range r.s.Ledger {
		if e.Kind != actions.LedgerEvent {
			return false
		}
	}
	return r.published() == r.lastWritten
}

// publishedFacts is what a reader of the lead's published state would see
// change; holdQuietEvents compares it with the last write's.
type publishedFacts struct {
	Stage                     lead.Stage
	Owner, Segment, Territory string
	Policy                    string
	Score                     int
	SLADue                    time.Time
	SLALevel                  int
	Breached, Away, SAL       bool
	Track, Sending            string
	Step                      int
	NextTouch                 time.Time
	Enrolled, Paused, Stopped bool
	Effects, Alerts           int
}

func (r *run) published() publishedFacts {
	s, n := r.s, r.s.Nurture
	f := publishedFacts{Stage: s.Stage, Owner: s.OwnerID, Segment: s.Segment, Territory: s.Territory, Policy: s.PolicyVersion,
		Score: s.Score.Total(), Away: s.Away != nil, SAL: s.SAL != nil, Effects: len(s.Effects), Alerts: len(s.Alerts),
		Track: n.Track, Sending: n.Sending, Step: n.Step, NextTouch: n.NextAt, Enrolled: n.Enrolled, Paused: n.Paused,
		Stopped: n.Unsubscribed || n.Bounced}
	if c := s.SLA; c != nil {
		f.SLADue, f.SLALevel, f.Breached = c.DueAt, c.Level, c.Breached
	}
	return f
}

func (r *run) onLedgerWritten(c completion) {
	r.ledgerBusy = false
	if c.err == nil || isNonRetryable(c.err) {
		if c.err != nil {
			// Only a malformed entry is refused for good: a bug, never an
			// outage. Say so loudly rather than retry it forever.
			workflow.GetLogger(r.ctx).Error("ledger refused entries", "leadId", r.s.LeadID, "entries", c.written, "error", c.err)
			r.alert("ledger_refused", "ledger refused entries: "+truncate(errMessage(c.err), 300), false)
		}
		r.s.Ledger = append([]actions.LedgerEntry(nil), r.s.Ledger[c.written:]...)
	}
}

func isNonRetryable(err error) bool {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return false
	}
	if app.NonRetryable() {
		return true
	}
	for _, t := range nonRetryable {
		if app.Type() == t {
			return true
		}
	}
	return false
}

func errMessage(err error) string { return unwrapApp(err).Error() }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
