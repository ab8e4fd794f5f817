package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

// While the nurture system and the CRM's stage call are down for hours, the
// lead still hands off at once, its SLA ladder fires on time and an accept
// answers at once; when they come back every call is made, once.
func TestEffectsNeverBlockTheLead(t *testing.T) {
	h := newHarness(t)
	// The lead's first touch (with its enrollment) is due a week in, when
	// the nurture system is down; the quote request comes a minute later.
	week := 7 * 24 * time.Hour
	t0 := monday10.Add(week)
	back := t0.Add(3 * time.Hour)
	h.f.down(actions.NurtureEnroll, back)
	h.f.down(actions.NurturePause, back)
	h.f.down(actions.SetLifecycleStage, back)
	h.event(0, ev("page-0", lead.EventWebPageView, map[string]any{"category": "product"}))
	h.event(week+time.Minute, quoteRequest("evt-1"))
	var handoff lead.View
	h.at(week+time.Minute+time.Second, func() { handoff = h.state() })
	var acc *updateResult
	h.at(week+14*time.Minute, func() { acc = h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
	h.awake(week + 4*time.Hour)
	var after lead.View
	h.at(week+4*time.Hour, func() { after = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if handoff.Stage != lead.StageHandoff || handoff.OwnerID != "rep-7" {
		t.Fatalf("one second after the quote request: %+v", handoff)
	}
	pending := map[string]string{}
	for _, e := range handoff.Effects {
		pending[e.Kind] = e.Status
	}
	if pending[actions.NurtureSend] == "" || pending[actions.SetLifecycleStage] == "" {
		t.Fatalf("the state lists the effects still out: %+v", handoff.Effects)
	}
	// The first-touch SLA (15 min) reminded at its step on time, outage or not.
	remind := ledgerAt(h.f, func(e actions.LedgerEntry) bool {
		return e.Kind == actions.LedgerSLAStep && e.Data["action"] == "remind"
	})
	if remind.IsZero() || remind.After(t0.Add(time.Minute+15*time.Minute)) {
		t.Fatalf("remind step at %s", remind)
	}
	if !acc.done || acc.err != nil || acc.view.Stage != lead.StageSAL {
		t.Fatalf("accept during the outage: %+v", acc)
	}
	if len(after.Effects) != 0 {
		t.Fatalf("effects left after the outage: %+v", after.Effects)
	}
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if len(h.f.enrolls) != 1 || len(h.f.pauses) != 1 || len(h.f.tasks) != 1 || len(h.f.assigns) != 1 {
		t.Fatalf("calls made once each: enrolls %d pauses %d tasks %d assigns %d", len(h.f.enrolls), len(h.f.pauses), len(h.f.tasks), len(h.f.assigns))
	}
	stages := map[lead.Stage]int{}
	for _, s := range h.f.stages {
		stages[s.Stage]++
	}
	if stages[lead.StageHandoff] != 1 || stages[lead.StageSAL] != 1 {
		t.Fatalf("CRM stages: %v", stages)
	}
}

// Order is explicit: the nurture system sees enroll before pause, and a
// note about a reassignment lands after the task it refers to.
func TestEffectOrdering(t *testing.T) {
	h := newHarness(t)
	week := 7 * 24 * time.Hour
	h.f.down(actions.NurtureEnroll, monday10.Add(week+time.Hour))
	h.f.down(actions.CreateTask, monday10.Add(week+2*time.Hour))
	h.event(0, ev("page-0", lead.EventWebPageView, map[string]any{"category": "product"}))
	h.event(week+time.Minute, quoteRequest("evt-1"))
	var re *updateResult
	h.at(week+5*time.Minute, func() {
		re = h.update(lead.UpdateReassign, "ra-1", lead.ReassignRequest{ID: "ra-1", OwnerID: "rep-8", By: "ops-1", Note: "covering"})
	})
	h.awake(week + 3*time.Hour)
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if !re.done || re.err != nil || re.view.OwnerID != "rep-8" {
		t.Fatalf("reassign while the CRM's tasks are down: %+v", re)
	}
	enroll, pause := h.f.order(actions.NurtureEnroll, ""), h.f.order(actions.NurturePause, "")
	if enroll < 0 || pause < 0 || pause < enroll {
		t.Fatalf("nurture order: enroll at %d, pause at %d; calls %v", enroll, pause, h.f.calls)
	}
	task, note := h.f.order(actions.CreateTask, "task:rep-8"), h.f.order(actions.PostNote, "reassign:ra-1")
	if task < 0 || note < 0 || note < task {
		t.Fatalf("note at %d before its task at %d: %v", note, task, h.f.calls)
	}
}

// Effects pending at Continue-As-New travel in the State and run in the
// next run under the same keys: none lost, none made twice.
func TestContinueAsNewCarriesPendingEffects(t *testing.T) {
	h := newHarness(t)
	h.f.down(actions.CreateTask, monday10.Add(time.Hour))
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() { h.env.SetContinueAsNewSuggested(true) })
	h.event(2*time.Minute, ev("e2", lead.EventEmailOpen, nil))
	h.env.ExecuteWorkflow(lead.WorkflowType, Input{LeadID: h.leadID})
	in := h.continuedInput()
	var carried *Effect
	for i, e := range in.State.Effects {
		if e.Kind == actions.CreateTask {
			carried = &in.State.Effects[i]
		}
	}
	if carried == nil || in.State.Handoff == nil || in.State.Handoff.TaskKey != carried.Key {
		t.Fatalf("the pending task is carried: %+v", in.State.Effects)
	}
	if len(h.f.tasks) != 0 {
		t.Fatalf("no task while the CRM is down: %+v", h.f.tasks)
	}

	h2 := newHarness(t, withStart(monday10.Add(2*time.Minute)))
	var next lead.View
	h2.awake(2 * time.Hour)
	h2.at(2*time.Hour, func() { next = h2.state() })
	if err := h2.runWith(0, in); err != nil {
		t.Fatal(err)
	}
	made := 0
	for _, tk := range h2.f.tasks {
		if tk.Key == carried.Key {
			made++
		}
	}
	if made != 1 {
		t.Fatalf("the carried task made once under its key %s: %+v", carried.Key, h2.f.tasks)
	}
	if len(next.Effects) != 0 {
		t.Fatalf("effects left: %+v", next.Effects)
	}
}

// A dependency that stays down past the policy's retry window: the effect
// is marked failed, the lead raises an alert (explain, the Temporal UI's
// details, the ledger) and goes on; an operator's re-drive makes the call
// once, under the same key.
func TestEffectRetriesEndInAlertAndRedrive(t *testing.T) {
	src := examplePolicySource(t) + "\neffects:\n  retry_for: 1h\n"
	h := newHarness(t, withPolicy(src))
	h.f.down(actions.CreateTask, monday10.Add(5*time.Hour))
	h.event(0, quoteRequest("evt-1"))
	var failed lead.Explanation
	var failedView lead.View
	h.at(2*time.Hour, func() { failed, failedView = h.explain(), h.state() })
	var refused, redrive *updateResult
	h.at(5*time.Hour+time.Minute, func() {
		redrive = h.update(lead.UpdateRetryEffects, "retry-1", lead.RetryEffectsRequest{ID: "retry-1", By: "ops-1"})
	})
	h.at(5*time.Hour+2*time.Minute, func() {
		refused = h.update(lead.UpdateRetryEffects, "retry-2", lead.RetryEffectsRequest{ID: "retry-2", By: "ops-1"})
	})
	var after lead.View
	h.awake(6 * time.Hour)
	h.at(6*time.Hour, func() { after = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	var task *lead.EffectView
	for i, e := range failed.Effects {
		if e.Kind == actions.CreateTask {
			task = &failed.Effects[i]
		}
	}
	if task == nil || task.Status != lead.EffectFailed || !strings.Contains(task.LastError, "outage") {
		t.Fatalf("after the window the task effect is failed: %+v", failed.Effects)
	}
	if failedView.Stage != lead.StageHandoff {
		t.Fatalf("the lead goes on: %s", failedView.Stage)
	}
	alerted := false
	for _, a := range failed.Alerts {
		if a.Kind == "effect_failed" && strings.Contains(a.Message, "create handoff task") {
			alerted = true
		}
	}
	if !alerted {
		t.Fatalf("alerts: %+v", failed.Alerts)
	}
	if n := len(h.f.ledgerRows(actions.LedgerAlert)); n == 0 {
		t.Fatal("the alert is in the ledger")
	}
	if !redrive.done || redrive.err != nil {
		t.Fatalf("re-drive: %+v", redrive)
	}
	if !refused.done || !refused.rejected || !strings.Contains(refused.err.Error(), "no failed effects") {
		t.Fatalf("a second re-drive with nothing failed is refused: %+v", refused)
	}
	// The ladder reassigned twice meanwhile (each new owner's task failed
	// too); the re-drive makes every one of them, each once.
	made := map[string]int{}
	for _, tk := range h.f.tasks {
		made[tk.Key]++
	}
	if made[task.Key] != 1 || len(made) != len(h.f.tasks) || len(after.Effects) != 0 {
		t.Fatalf("re-driven tasks: %v; effects %+v", made, after.Effects)
	}
}

// A refusal (a 4xx: non-retryable) fails the effect at once, with no retry.
func TestRefusedEffectFailsAtOnce(t *testing.T) {
	h := newHarness(t)
	h.f.refusals[actions.NotifyManager] = 1
	h.event(0, quoteRequest("evt-1"))
	var x lead.Explanation
	h.at(13*time.Minute, func() { x = h.explain() }) // remind is at 12 min (80% of 15)
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	var notify *lead.EffectView
	for i, e := range x.Effects {
		if e.Kind == actions.NotifyManager {
			notify = &x.Effects[i]
		}
	}
	if notify == nil || notify.Status != lead.EffectFailed || notify.Attempts != 1 || !strings.Contains(notify.LastError, "400") {
		t.Fatalf("refused notification: %+v", x.Effects)
	}
}

// The ledger loses nothing while Postgres is down: entries wait in the
// State (and across Continue-As-New) and are written once when it returns.
func TestLedgerSurvivesPostgresOutage(t *testing.T) {
	h := newHarness(t)
	h.f.down(actions.Record, monday10.Add(3*time.Hour))
	h.event(0, quoteRequest("evt-1"))
	h.event(time.Minute, ev("touch-1", lead.EventRepTouch, map[string]any{"repId": "rep-7", "channel": "call"}))
	h.at(2*time.Minute, func() { h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
	var during lead.View
	h.at(time.Hour, func() { during = h.state() })
	h.awake(4 * time.Hour)
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if during.Stage != lead.StageSAL {
		t.Fatalf("the lead went on during the outage: %s", during.Stage)
	}
	if n := len(h.f.ledger); n == 0 {
		t.Fatal("nothing written after the outage")
	}
	keys := map[string]int{}
	for _, e := range h.f.ledger {
		keys[e.Key]++
	}
	for k, n := range keys {
		if n != 1 {
			t.Fatalf("ledger key %s written %d times", k, n)
		}
	}
	kinds := h.f.ledgerKinds()
	if kinds[actions.LedgerTransition] != 4 || kinds[actions.LedgerFeedback] != 1 || kinds[actions.LedgerTouch] != 1 || kinds[actions.LedgerEvent] != 2 {
		t.Fatalf("ledger after the outage: %v", kinds)
	}
}

// While the directory is down the handoff is retried from a timer every few
// seconds, so the lead is handed off within seconds of its return.
func TestRoutingRetriesWithinSecondsOfTheDirectory(t *testing.T) {
	h := newHarness(t)
	back := monday10.Add(3 * time.Minute)
	h.f.down(actions.Route, back)
	h.event(0, quoteRequest("evt-1"))
	h.awake(10 * time.Minute)
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	at := ledgerAt(h.f, func(e actions.LedgerEntry) bool {
		return e.Kind == actions.LedgerTransition && e.To == lead.StageHandoff
	})
	if at.IsZero() || at.Sub(back) > 25*time.Second {
		t.Fatalf("handoff at %s, directory back at %s", at, back)
	}
	if n := strings.Count(strings.Join(h.f.alertKinds(), ","), "routing_failed"); n != 1 {
		t.Fatalf("one routing alert per outage, got %d", n)
	}
}

// A reassignment the directory cannot answer is not applied and says so
// with the Unavailable type (the edge's 503), not as a refusal.
func TestReassignWhileDirectoryDownIsUnavailable(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	var res *updateResult
	h.at(time.Minute, func() {
		h.f.down(actions.Route, monday10.Add(time.Hour))
		res = h.update(lead.UpdateReassign, "ra-1", lead.ReassignRequest{ID: "ra-1", OwnerID: "rep-8", By: "ops-1"})
	})
	var after lead.View
	h.at(2*time.Minute, func() { after = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	var app *temporal.ApplicationError
	if !res.done || res.rejected || !errors.As(res.err, &app) || app.Type() != lead.ErrTypeUnavailable {
		t.Fatalf("reassign with the directory down: %+v", res)
	}
	if after.OwnerID != "rep-7" {
		t.Fatalf("nothing changed: owner %s", after.OwnerID)
	}
}

// Keys carry the life of the lead: the same across Continue-As-New (the
// life is in the State), different for a lead started again.
func TestKeysCarryTheLife(t *testing.T) {
	r := &run{s: &State{LeadID: "L-1", Life: "abc"}}
	if got := r.key("handoff", 1, "task", "rep-7"); got != "lead/L-1@abc:handoff:1:task:rep-7" {
		t.Fatalf("key %s", got)
	}
	if lifeOf(&workflow.Info{FirstRunID: "1111-2222", WorkflowExecution: workflow.Execution{RunID: "3333"}}) != "11112222" {
		t.Fatal("the life is the chain's first run ID")
	}
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(h.f.tasks) != 1 || !strings.HasPrefix(h.f.tasks[0].Key, "lead/L-1001@") {
		t.Fatalf("task key %+v", h.f.tasks)
	}
}

// ledgerAt is the time of the first ledger entry that matches.
func ledgerAt(f *fakes, match func(actions.LedgerEntry) bool) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.ledger {
		if match(e) {
			return e.At
		}
	}
	return time.Time{}
}

func (f *fakes) ledgerRows(kind string) []actions.LedgerEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []actions.LedgerEntry
	for _, e := range f.ledger {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// Whatever callers send within the edge's bounds, the carried State stays
// far under Temporal's 2 MiB payload limit: maximal events (attributes and
// IDs at their limits) and maximal notes, driven through Continue-As-New.
func TestStateStaysSmallWithMaximalInput(t *testing.T) {
	h := newHarness(t, withHistoryCap(3000))
	big := func(i int) lead.Event {
		attrs := map[string]any{}
		for k := 0; k < lead.MaxAttributes; k++ {
			attrs[fmt.Sprintf("k%02d-%s", k, strings.Repeat("x", 50))] = strings.Repeat("v", lead.MaxAttributesBytes/lead.MaxAttributes-70)
		}
		id := fmt.Sprintf("%06d-%s", i, strings.Repeat("i", 121))
		return lead.Event{ID: id, Type: lead.EventWebPageView, Source: strings.Repeat("s", lead.MaxProfileValueBytes), Attributes: attrs}
	}
	note := strings.Repeat("n", lead.MaxNoteBytes)
	h.event(0, quoteRequest("evt-1"))
	owners := []string{"rep-8", "rep-7"}
	for i := 0; i < 60; i++ {
		at := time.Duration(i+1) * time.Minute
		h.event(at, big(i))
		if i%3 == 0 {
			i := i
			h.at(at+time.Second, func() {
				id := fmt.Sprintf("ra-%d", i)
				h.update(lead.UpdateReassign, id, lead.ReassignRequest{ID: id, OwnerID: owners[(i/3)%2], By: "ops-1", Note: note})
			})
		}
	}
	h.at(61*time.Minute+30*time.Second, func() { h.env.SetContinueAsNewSuggested(true) })
	h.event(62*time.Minute, big(999))
	h.env.ExecuteWorkflow(lead.WorkflowType, Input{LeadID: h.leadID})
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	size := 0
	for _, p := range can.Input.Payloads {
		size += len(p.Data)
	}
	t.Logf("carried State after 61 maximal events and 20 maximal notes: %d bytes", size)
	if size > 512<<10 {
		t.Fatalf("carried State is %d bytes", size)
	}
	var in Input
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.State.Recent) == 0 || len(in.State.Recent) == maxRecent {
		t.Fatalf("the timeline is bounded by bytes, not only by count: %d events", len(in.State.Recent))
	}
	for _, tr := range in.State.History {
		if len(tr.Why) > maxWhyBytes+len("…") {
			t.Fatalf("history why of %d bytes", len(tr.Why))
		}
	}
}

// The CRM's owner and lifecycle stage carry a value: while the CRM is down
// the newest decision supersedes older writes not yet made, and writes are
// never made out of order, so the CRM ends where the lead is.
func TestOwnerAndStageWritesEndWithTheNewest(t *testing.T) {
	h := newHarness(t)
	back := monday10.Add(time.Hour)
	h.f.down(actions.SetLifecycleStage, back)
	h.f.down(actions.AssignOwner, back)
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() {
		h.update(lead.UpdateReassign, "ra-1", lead.ReassignRequest{ID: "ra-1", OwnerID: "rep-8", By: "ops-1"})
	})
	h.at(2*time.Minute, func() { h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-8"}) })
	h.event(3*time.Minute, ev("opp-1", lead.EventOpportunityCreated, nil))
	h.event(4*time.Minute, ev("won-1", lead.EventOpportunityWon, nil))
	h.awake(2 * time.Hour)
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if n := len(h.f.stages); n == 0 || h.f.stages[n-1].Stage != lead.StageCustomer {
		t.Fatalf("CRM stages written: %+v", h.f.stages)
	}
	if n := len(h.f.assigns); n == 0 || h.f.assigns[n-1].OwnerID != "rep-8" {
		t.Fatalf("CRM owners written: %+v", h.f.assigns)
	}
}

// Effects the worker names as third-party calls go to the SaaS queue; the
// rest (here the built-in CRM's task) stay on the lead's own queue, where
// eager execution starts them without another trip through the server.
func TestEffectsOnTheirQueues(t *testing.T) {
	for name, kinds := range map[string]map[string]bool{
		"worker says":  {actions.NotifyManager: true},
		"default: all": nil,
	} {
		t.Run(name, func(t *testing.T) {
			queues := map[string]string{}
			h := newHarness(t, withSaaS("leadflow-saas", kinds))
			h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				queues[info.ActivityType.Name] = info.TaskQueue
			})
			h.event(0, quoteRequest("evt-1"))
			if err := h.run(time.Minute); err != nil {
				t.Fatal(err)
			}
			taskOnSaaS := queues[actions.CreateTask] == "leadflow-saas"
			if queues[actions.CreateTask] == "" || taskOnSaaS != (kinds == nil) || queues[actions.NotifyManager] != "leadflow-saas" {
				t.Fatalf("queues %v: want the task on the SaaS queue only by default, notifications there always", queues)
			}
		})
	}
}
