// Package workflows holds LeadWorkflow: the lead lifecycle of the handoff
// contract as one long-lived Temporal workflow per lead. It is a state machine
// and nothing else: decisions come from the pure packages under internal/
// (scoring, routing rules, sla, suppression), side effects go through
// activities named in internal/actions.
package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/sla"
)

// PolicySource gives the policy the worker runs on now.
type PolicySource interface {
	Current() *policy.Policy
}

// Config is what the worker gives every lead workflow.
type Config struct {
	Policies PolicySource
	// HistoryCap: continue as new once the history has this many events
	// (0: defaultHistoryCap), or sooner when the server suggests it.
	HistoryCap int
	// SaaSQueue is the task queue of the activities that call third
	// parties (CRM, nurture, notifications), rate-limited across workers;
	// "" runs them on the workflow's own queue.
	SaaSQueue string
	// SaaSKinds: the effect kinds (activity names) that go to SaaSQueue;
	// nil: every effect but merge forwarding.
	SaaSKinds map[string]bool
}

// defaultHistoryCap keeps every run under the server's Continue-As-New
// suggestion (4,096 events by default) with room for the last task, and a
// cold replay of a full run short: replay measured 72 ms per 1,000 events
// on the 2-core bench machine (docs/benchmarks.md), so about 0.2 s.
const defaultHistoryCap = 3000

// Leads holds the workflow's configuration; register Leads.LeadWorkflow
// under the name lead.WorkflowType.
type Leads struct{ cfg Config }

// New returns the lead workflow with its configuration.
func New(cfg Config) *Leads {
	if cfg.HistoryCap <= 0 {
		cfg.HistoryCap = defaultHistoryCap
	}
	return &Leads{cfg: cfg}
}

// LeadWorkflow runs one lead from its first event for as long as it lives.
// Events arrive on the `event` signal (usually by SignalWithStart); reps
// act through the accept/reject/reassign updates.
func (l *Leads) LeadWorkflow(ctx workflow.Context, in Input) error {
	r, err := newRun(ctx, l.cfg, in)
	if err != nil {
		return err
	}
	return r.loop()
}

// run is one run of the workflow: the carried State plus what a run rebuilds.
type run struct {
	ctx    workflow.Context
	cfg    Config
	s      *State
	pol    *policy.Policy
	cal    *sla.Calendar
	seen   map[string]bool
	events workflow.ReceiveChannel
	cmds   workflow.Channel
	timer  pendingTimer
	// historyCap is this run's Continue-As-New threshold (recorded at
	// start); saasQueue the third-party activities' task queue.
	historyCap int
	saasQueue  string
	// The outbox's moving parts in this run: effects started (key → the
	// attempt number), their outcomes, and whether a ledger write is out.
	running    map[string]int
	done       workflow.Channel
	ledgerBusy bool
	// quiet: the inputs handled since the last publish were events only
	// (no command, timer or effect outcome); lastWritten what the last
	// ledger write published. Together they let quiet events wait.
	quiet       bool
	lastWritten publishedFacts
	prevOwner   string // the owner before the assignment being made
}

type pendingTimer struct {
	at     time.Time
	what   string
	f      workflow.Future
	cancel workflow.CancelFunc
}

func newRun(ctx workflow.Context, cfg Config, in Input) (*run, error) {
	if cfg.Policies == nil {
		return nil, temporal.NewNonRetryableApplicationError("lead workflow has no policy source", "Config", nil)
	}
	s := in.State
	if s == nil {
		if !lead.ValidLeadID(in.LeadID) {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("invalid leadId %q", in.LeadID), "InvalidInput", nil)
		}
		s = &State{LeadID: in.LeadID, Life: lifeOf(workflow.GetInfo(ctx))}
	}
	r := &run{
		ctx:     ctx,
		cfg:     cfg,
		s:       s,
		seen:    make(map[string]bool, len(s.Seen)),
		events:  workflow.GetSignalChannel(ctx, lead.SignalEvent),
		cmds:    workflow.NewBufferedChannel(ctx, 1000),
		running: map[string]int{},
		// Buffered so an effect's coroutine never waits for the loop, and
		// Len counts outcomes not yet handled.
		done: workflow.NewBufferedChannel(ctx, 1<<14),
	}
	for _, id := range s.Seen {
		r.seen[id] = true
	}
	// No marker needed: a replay does not compare an activity's task queue,
	// and a worker's queue names are fixed for its lifetime.
	r.saasQueue = cfg.SaaSQueue
	if err := r.refreshPolicy(); err != nil {
		return nil, err
	}
	if err := r.registerHandlers(); err != nil {
		return nil, err
	}
	return r, nil
}

// loop is the state machine's heart: wait for an event, a rep's command or
// the next due time, act, publish, repeat.
func (r *run) loop() error {
	for {
		r.publish()
		r.quiet = true
		if r.s.Stage == lead.StageMerged && r.settled() {
			return r.finishMerged()
		}
		if r.shouldContinueAsNew() {
			return r.continueAsNew()
		}
		if r.armTimer() {
			r.onWake()
			continue
		}
		sel := workflow.NewSelector(r.ctx)
		sel.AddReceive(r.events, func(c workflow.ReceiveChannel, _ bool) {
			var ev lead.Event
			c.Receive(r.ctx, &ev)
			r.onEvent(ev)
		})
		sel.AddReceive(r.cmds, func(c workflow.ReceiveChannel, _ bool) {
			var cmd *command
			c.Receive(r.ctx, &cmd)
			r.onCommand(cmd)
		})
		sel.AddReceive(r.done, func(c workflow.ReceiveChannel, _ bool) {
			var out completion
			c.Receive(r.ctx, &out)
			r.onDone(out)
		})
		if t := r.timer.f; t != nil {
			sel.AddFuture(t, func(f workflow.Future) {
				r.timer = pendingTimer{}
				if err := f.Get(r.ctx, nil); err == nil {
					r.onWake()
				}
			})
		}
		sel.AddReceive(r.ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.Select(r.ctx)
		// Everything else already delivered to this workflow task is
		// handled before the lead publishes and starts effects: one ledger
		// write and one search-attribute upsert per task, not per signal.
		r.takeBuffered()
		if err := r.ctx.Err(); err != nil {
			// Cancelled by an operator: the lead stops here, as it is.
			r.cancelTimer()
			return err
		}
	}
}

// armTimer makes sure one timer is pending for the next due time, reusing
// the current one when the due time has not moved (no timer churn per
// signal). It reports true when something is already due.
func (r *run) armTimer() bool {
	at, what := r.nextWake()
	if at.IsZero() {
		r.cancelTimer()
		return false
	}
	now := workflow.Now(r.ctx)
	if !at.After(now) {
		r.cancelTimer()
		return true
	}
	if r.timer.f != nil && r.timer.at.Equal(at) {
		return false
	}
	r.cancelTimer()
	tctx, cancel := workflow.WithCancel(r.ctx)
	r.timer = pendingTimer{
		at: at, what: what, cancel: cancel,
		f: workflow.NewTimerWithOptions(tctx, at.Sub(now), workflow.TimerOptions{Summary: what}),
	}
	return false
}

func (r *run) cancelTimer() {
	if r.timer.cancel != nil {
		r.timer.cancel()
	}
	r.timer = pendingTimer{}
}

// nextWake is the earliest time the lead must act on its own, and what for.
func (r *run) nextWake() (time.Time, string) {
	var at time.Time
	var what string
	consider := func(t time.Time, label string) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at, what = t, label
		}
	}
	s := r.s
	if s.Away != nil {
		consider(s.Away.Until, "owner back · "+s.Away.RepID)
	} else if c := s.SLA; c != nil && c.Level < len(c.Steps) {
		st := c.Steps[c.Level]
		consider(later(st.At, c.RetryAt), fmt.Sprintf("%s SLA %s · %s", slaLabel(c.Kind), st.Action, s.OwnerID))
	}
	if s.SAL != nil && s.Stage == lead.StageSAL {
		t, label := r.salNext()
		consider(t, label)
	}
	if s.Stage == lead.StageRecycle {
		consider(s.CoolOffUntil, "cool-off ends · "+s.playName())
	}
	if s.Revisit != nil {
		consider(s.Revisit.At, "revisit · "+s.Revisit.RepID)
	}
	if s.Stage == lead.StageMQL || s.CRMOwner != "" {
		consider(s.RouteRetryAt, "retry routing")
	}
	if n := s.Nurture; n.Enrolled && !n.Paused && n.Sending == "" {
		consider(n.NextAt, fmt.Sprintf("nurture touch · %s %d/%d", n.Track, n.Step+1, r.trackSteps(n.Track)))
	}
	return at, what
}

// refreshPolicy picks up the worker's current policy when it is newer than
// the lead's (newerPolicy). The choice is recorded in history (a mutable side
// effect, written only when it changes), so a replay re-parses exactly the
// contract the lead decided under.
func (r *run) refreshPolicy() error {
	// The run's history cap is worker configuration too, recorded in the
	// same marker (one marker for a new lead, not two): a replay decides
	// when to continue as new with the cap the run had, not the replaying
	// worker's.
	type recorded struct {
		PolicyRef
		HistoryCap int `json:"historyCap,omitempty"`
	}
	v := workflow.MutableSideEffect(r.ctx, "policy", func(workflow.Context) any {
		return recorded{newerPolicy(r.s.Policy, offeredPolicy(r.cfg.Policies)), r.cfg.HistoryCap}
	}, func(a, b any) bool {
		ra, rb := a.(recorded), b.(recorded)
		return ra.same(rb.PolicyRef) && ra.HistoryCap == rb.HistoryCap
	})
	var rec recorded
	if err := v.Get(&rec); err != nil {
		return fmt.Errorf("lead %s: read policy: %w", r.s.LeadID, err)
	}
	got := rec.PolicyRef
	r.historyCap = rec.HistoryCap
	if r.historyCap <= 0 {
		r.historyCap = defaultHistoryCap
	}
	if r.pol != nil && r.s.Policy != nil && r.s.Policy.same(got) {
		return nil
	}
	p, err := policy.FromSource([]byte(got.Source))
	if err != nil {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("lead %s: policy %s: %v", r.s.LeadID, got.Version, err), "Policy", err)
	}
	cal, err := sla.NewCalendar(p.SLA.BusinessHours, p.Location)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("lead %s: policy %s calendar: %v", r.s.LeadID, got.Version, err), "Policy", err)
	}
	from, prev := r.s.PolicyVersion, r.s.Policy
	r.pol, r.cal = p, cal
	r.s.PolicyVersion, r.s.Policy = p.Version, &got
	if switched := prev != nil && prev.Digest != got.Digest || prev == nil && from != "" && from != got.Version; switched {
		r.notePolicySwitch(from, got)
	}
	return nil
}

func (r *run) shouldContinueAsNew() bool {
	info := workflow.GetInfo(r.ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= r.historyCap
}

// continueAsNew hands the state to a fresh run once every buffered signal
// is applied and every update handler has finished, so no event and no
// rep's answer is lost at the boundary. Effects still in the outbox (and
// ledger entries not yet written) travel in the State; the next run starts
// them again under the same keys.
func (r *run) continueAsNew() error {
	r.drain()
	r.cancelTimer()
	s := *r.s
	return workflow.NewContinueAsNewError(r.ctx, lead.WorkflowType, Input{LeadID: s.LeadID, State: &s})
}

// settled: nothing is left to confirm and nobody is waiting on the lead.
func (r *run) settled() bool {
	return len(r.s.Effects) == 0 && len(r.s.Ledger) == 0 && !r.ledgerBusy &&
		r.events.Len() == 0 && r.cmds.Len() == 0 && r.done.Len() == 0 && workflow.AllHandlersFinished(r.ctx)
}

// takeBuffered handles every signal, command and effect outcome already
// buffered, without waiting for more.
func (r *run) takeBuffered() bool {
	took := false
	for {
		progressed := false
		var ev lead.Event
		for r.events.ReceiveAsync(&ev) {
			r.onEvent(ev)
			ev = lead.Event{}
			progressed = true
		}
		var cmd *command
		for r.cmds.ReceiveAsync(&cmd) {
			r.onCommand(cmd)
			progressed = true
		}
		var out completion
		for r.done.ReceiveAsync(&out) {
			r.onDone(out)
			progressed = true
		}
		if !progressed {
			return took
		}
		took = true
	}
}

// drain applies every buffered signal, command and effect outcome until no
// handler runs.
func (r *run) drain() {
	for {
		if r.takeBuffered() {
			continue
		}
		if workflow.AllHandlersFinished(r.ctx) {
			return
		}
		_ = workflow.Await(r.ctx, func() bool {
			return r.events.Len() > 0 || r.cmds.Len() > 0 || workflow.AllHandlersFinished(r.ctx)
		})
	}
}

// lifeOf names this chain of runs: its first run ID, without dashes.
func lifeOf(info *workflow.Info) string {
	id := info.FirstRunID
	if id == "" {
		id = info.WorkflowExecution.RunID
	}
	return strings.ReplaceAll(id, "-", "")
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func slaLabel(kind string) string {
	if kind == lead.SLAFirstTouch {
		return "first-touch"
	}
	return kind
}

func (s *State) playName() string {
	if s.Play != nil {
		return s.Play.Name
	}
	return ""
}
