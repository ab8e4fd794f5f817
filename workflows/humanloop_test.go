package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

func pricingView(id string) lead.Event {
	return ev(id, lead.EventWebPageView, map[string]any{"category": "pricing"})
}

// closesOf lists "<outcome>:<owner of the task>" for every task close, in
// order, with the reasons.
func (f *fakes) closesOf() (outcomes []string, reasons []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	owner := map[string]string{}
	for _, t := range f.tasks {
		owner[t.Key] = t.OwnerID
	}
	for _, c := range f.closes {
		outcomes = append(outcomes, c.Outcome+":"+owner[c.TaskKey])
		reasons = append(reasons, c.Reason)
	}
	return outcomes, reasons
}

// The handoff task follows the lead: completed by the rep who accepts it,
// always after its creation.
func TestTaskCompletedOnAccept(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() { h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
	h.awake(2 * time.Minute)
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	outcomes, _ := h.f.closesOf()
	if !equal(outcomes, []string{"completed:rep-7"}) || h.f.closes[0].By != "rep-7" {
		t.Fatalf("closes: %v %+v", outcomes, h.f.closes)
	}
	if c, k := h.f.order(actions.CloseTask, "task:rep-7"), h.f.order(actions.CreateTask, "task:rep-7"); c < 0 || c < k {
		t.Fatalf("close at %d, create at %d", c, k)
	}
}

// Rejected, merged, or moved to an opportunity: the task closes with the
// reason (cancelled when its work no longer applies).
func TestTaskClosedWhenTheLeadLeavesHandoff(t *testing.T) {
	for name, c := range map[string]struct {
		act     func(h *harness)
		outcome string
		reason  string
	}{
		"rejected": {func(h *harness) {
			h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonTiming})
		}, "cancelled:rep-7", "rejected by rep-7: timing"},
		"merged": {func(h *harness) {
			h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonDuplicate, DuplicateOf: "L-9"})
		}, "cancelled:rep-7", "duplicate"},
		"opportunity": {func(h *harness) {
			h.env.SignalWorkflow(lead.SignalEvent, lead.Event{ID: "opp-1", LeadID: h.leadID, Type: lead.EventOpportunityCreated, OccurredAt: h.env.Now()})
		}, "completed:rep-7", "opportunity created"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.event(0, quoteRequest("evt-1"))
			h.at(time.Minute, func() { c.act(h) })
			h.awake(2 * time.Minute)
			if err := h.run(time.Minute); err != nil {
				t.Fatal(err)
			}
			outcomes, reasons := h.f.closesOf()
			if !equal(outcomes, []string{c.outcome}) || !strings.Contains(reasons[0], c.reason) {
				t.Fatalf("closes %v %q; want [%s] with %q", outcomes, reasons, c.outcome, c.reason)
			}
		})
	}
}

// An ops reassign in handoff: the old task is cancelled ("reassigned to
// rep-8"), the new owner gets a task and a fresh clock, and both reps are
// told.
func TestReassignMovesTheTaskAndTellsBothReps(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	var after lead.View
	h.at(5*time.Minute, func() {
		h.update(lead.UpdateReassign, "ra-1", lead.ReassignRequest{ID: "ra-1", OwnerID: "rep-8", By: "ops"})
	})
	h.at(6*time.Minute, func() { after = h.state() })
	h.awake(7 * time.Minute)
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	outcomes, reasons := h.f.closesOf()
	if !equal(outcomes, []string{"cancelled:rep-7"}) || !strings.Contains(reasons[0], "reassigned to rep-8") {
		t.Fatalf("closes %v %q", outcomes, reasons)
	}
	if got := h.f.taskKinds(); !equal(got, []string{"handoff:rep-7", "handoff:rep-8"}) {
		t.Fatalf("tasks %v", got)
	}
	if got := h.f.notifyKinds(); len(got) != 3 || got[0] != "handoff:rep-7" || !contains(got, "reassigned:rep-8") || !contains(got, "reassigned:rep-7") {
		t.Fatalf("notifications %v", got)
	}
	if after.OwnerID != "rep-8" || after.SLA == nil || !after.SLA.StartedAt.Equal(monday10.Add(5*time.Minute)) {
		t.Fatalf("after: owner %s sla %+v", after.OwnerID, after.SLA)
	}
}

// The ladder's reassign step cancels the unworked owner's task too.
func TestLadderReassignCancelsTheOldTask(t *testing.T) {
	h := newHarness(t, withPolicy(bigPoolPolicy(t)), withDirectory(bigPool(t)))
	h.event(0, quoteRequest("evt-1"))
	h.awake(24 * time.Minute)
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	outcomes, reasons := h.f.closesOf()
	if len(outcomes) == 0 || outcomes[0] != "cancelled:a1" || !strings.Contains(reasons[0], "reassigned to a2") {
		t.Fatalf("closes %v %q", outcomes, reasons)
	}
}

// New intent from a lead Sales owns tells its owner at most once per window
// (default 1 h), adds the event to the CRM record, and never routes it again.
func TestReengagementTellsTheOwnerOncePerWindow(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	// Touched: the acceptance clock (2 days) runs, so no ladder step moves it.
	h.event(time.Minute, ev("touch-1", lead.EventRepTouch, map[string]any{"repId": "rep-7", "channel": "call"}))
	h.event(10*time.Minute, pricingView("pv-1"))
	h.event(20*time.Minute, pricingView("pv-2"))                    // inside the window: silent
	h.event(75*time.Minute, pricingView("pv-3"))                    // a new window
	h.event(80*time.Minute, ev("open-1", lead.EventEmailOpen, nil)) // no points: silent
	var final lead.View
	h.at(81*time.Minute, func() { final = h.state() })
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	var re []actions.NotifyInput
	for _, n := range h.f.notifies {
		if n.Kind == actions.NotifyReengaged {
			re = append(re, n)
		}
	}
	if len(re) != 2 || re[0].To != "rep-7" || !strings.Contains(re[0].Title, "+20") || !strings.Contains(re[1].Key, "pv-3") {
		t.Fatalf("re-engaged notifications: %+v", re)
	}
	notes := 0
	for _, n := range h.f.notes {
		if strings.HasPrefix(n.Body, "Re-engaged: web.page_view") {
			notes++
		}
	}
	if notes != 2 {
		t.Fatalf("re-engagement notes: %d, want 2", notes)
	}
	if final.Stage != lead.StageHandoff || final.OwnerID != "rep-7" || len(h.f.routes) != 1 {
		t.Fatalf("re-engagement routed the lead: stage %s owner %s routes %d", final.Stage, final.OwnerID, len(h.f.routes))
	}
}

// Away (policy default: reroute): the untouched handoff moves at once under
// the ladder's rules; a touched one stays.
func TestAwayReroutesUntouchedHandoffs(t *testing.T) {
	away := func(h *harness, id string) *updateResult {
		return h.update(lead.UpdateRepUnavailable, id, lead.RepUnavailableRequest{ID: id, RepID: "rep-7", Reason: lead.RepAway, By: "ops"})
	}
	t.Run("untouched", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, quoteRequest("evt-1"))
		var res *updateResult
		h.at(2*time.Minute, func() { res = away(h, "away-1") })
		h.awake(3 * time.Minute)
		if err := h.run(time.Minute); err != nil {
			t.Fatal(err)
		}
		if !res.done || res.err != nil || res.view.OwnerID != "rep-8" {
			t.Fatalf("away: %+v", res)
		}
		if outcomes, _ := h.f.closesOf(); !equal(outcomes, []string{"cancelled:rep-7"}) {
			t.Fatalf("closes %v", outcomes)
		}
	})
	t.Run("touched", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, quoteRequest("evt-1"))
		h.event(time.Minute, ev("touch-1", lead.EventRepTouch, map[string]any{"repId": "rep-7", "channel": "call"}))
		var res *updateResult
		h.at(2*time.Minute, func() { res = away(h, "away-1") })
		if err := h.run(time.Minute); err != nil {
			t.Fatal(err)
		}
		if !res.done || res.err != nil || res.view.OwnerID != "rep-7" || len(h.f.closes) != 0 {
			t.Fatalf("a touched lead moved: %+v closes %+v", res.view, h.f.closes)
		}
	})
}

// Away with policy `away: {mode: pause}`: the clock stops (no ladder step
// while away) and runs again, with the business time it had left, when
// the rep is back.
func TestAwayPausesTheClockWhenThePolicySaysSo(t *testing.T) {
	h := newHarness(t, withPolicy(examplePolicySource(t)+"\naway:\n  mode: pause\n"))
	h.event(0, quoteRequest("evt-1"))
	h.at(5*time.Minute, func() {
		h.update(lead.UpdateRepUnavailable, "away-1", lead.RepUnavailableRequest{ID: "away-1", RepID: "rep-7", Reason: lead.RepAway, By: "ops"})
	})
	var during lead.View
	h.at(40*time.Minute, func() { during = h.state() })
	var back *updateResult
	h.at(60*time.Minute, func() {
		back = h.update(lead.UpdateRepBack, "back-1", lead.RepBackRequest{ID: "back-1", RepID: "rep-7", By: "ops"})
	})
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := h.f.notifyKinds(); !equal(got, []string{"handoff:rep-7"}) {
		t.Fatalf("a ladder step ran while the clock was paused: %v", got)
	}
	if during.OwnerID != "rep-7" {
		t.Fatalf("paused lead moved: %s", during.OwnerID)
	}
	// 15 business minutes, 5 used: due 10 minutes after the rep is back.
	want := monday10.Add(70 * time.Minute)
	if !back.done || back.err != nil || back.view.SLA == nil || !back.view.SLA.DueAt.Equal(want) {
		t.Fatalf("back: %+v; want due %s", back.view.SLA, want)
	}
}

// A deactivated rep's accepted lead moves to routing's pick; the rep is
// never picked again.
func TestDeactivatedRepLosesOpenLeads(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() { h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
	var res *updateResult
	h.at(time.Hour, func() {
		res = h.update(lead.UpdateRepUnavailable, "deact-1", lead.RepUnavailableRequest{ID: "deact-1", RepID: "rep-7", Reason: lead.RepDeactivated, By: "ops"})
	})
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if !res.done || res.err != nil || res.view.Stage != lead.StageSAL || res.view.OwnerID != "rep-8" {
		t.Fatalf("deactivate: %+v", res)
	}
	if got := h.f.notifyKinds(); !contains(got, "reassigned:rep-8") || !contains(got, "reassigned:rep-7") {
		t.Fatalf("notifications %v", got)
	}
}

// An owner set in the CRM becomes the lead's owner with the clock following
// them, without writing the owner back; one who is no rep is an alert.
func TestCRMOwnerChange(t *testing.T) {
	owner := func(id, rep, crm string) lead.Event {
		return ev(id, lead.EventOwnerChanged, map[string]any{"ownerId": rep, "crmOwnerId": crm, "by": "hubspot"})
	}
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.event(time.Minute, owner("own-0", "rep-7", "7007")) // the echo of leadflow's own write
	h.event(2*time.Minute, owner("own-1", "rep-8", "8008"))
	var moved lead.View
	h.at(3*time.Minute, func() { moved = h.state() })
	h.event(4*time.Minute, owner("own-2", "", "9999"))
	var final lead.View
	h.at(5*time.Minute, func() { final = h.state() })
	h.awake(6 * time.Minute)
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if moved.OwnerID != "rep-8" || moved.SLA == nil || !moved.SLA.StartedAt.Equal(monday10.Add(2*time.Minute)) {
		t.Fatalf("moved: owner %s sla %+v", moved.OwnerID, moved.SLA)
	}
	for _, a := range h.f.assigns {
		if a.OwnerID == "rep-8" {
			t.Fatalf("the CRM's owner was written back to it: %+v", a)
		}
	}
	if got := h.f.taskKinds(); !equal(got, []string{"handoff:rep-7", "handoff:rep-8"}) {
		t.Fatalf("tasks %v", got)
	}
	if final.OwnerID != "rep-8" || !contains(h.f.alertKinds(), "crm_owner_unknown") {
		t.Fatalf("unknown CRM owner: owner %s alerts %v", final.OwnerID, h.f.alertKinds())
	}
}
