package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

// A bounce stops nurture for good, as an unsubscribe does: the nurture
// system is told, and no touch goes out after it.
func TestBounceStopsNurtureForGood(t *testing.T) {
	h := newHarness(t)
	h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
	h.event(8*24*time.Hour, ev("bounce-1", lead.EventEmailBounce, nil)) // after the first touch (day 7)
	var final lead.View
	h.at(40*24*time.Hour, func() { final = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if len(h.f.sends) != 1 {
		t.Fatalf("only the touch before the bounce: %+v", h.f.sends)
	}
	if len(h.f.stops) != 1 || h.f.stops[0].Reason != lead.SuppressBounced {
		t.Fatalf("stops: %+v", h.f.stops)
	}
	if final.Nurture.Enrolled || !final.Nurture.Suppressed || !contains(final.Nurture.Reasons, lead.SuppressBounced) {
		t.Fatalf("final nurture: %+v", final.Nurture)
	}
}

// A merged lead forwards events that arrive after the merge, and completes
// only once every forward is confirmed.
func TestMergedLeadForwardsLateEventsBeforeCompleting(t *testing.T) {
	h := newHarness(t)
	h.f.down(actions.ForwardEvents, monday10.Add(time.Hour))
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() {
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonDuplicate, DuplicateOf: "L-0999"})
	})
	h.event(10*time.Minute, ev("late-1", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	var open lead.View
	h.at(20*time.Minute, func() { open = h.state() })
	h.awake(2 * time.Hour)
	h.env.ExecuteWorkflow(lead.WorkflowType, Input{LeadID: h.leadID})
	if !h.env.IsWorkflowCompleted() || h.env.GetWorkflowError() != nil {
		t.Fatalf("a merged lead completes once settled: %v", h.env.GetWorkflowError())
	}
	if open.Stage != lead.StageMerged || len(open.Effects) == 0 {
		t.Fatalf("while forwarding is down the merged lead waits: %+v", open)
	}
	var ids []string
	for _, fw := range h.f.forwards {
		if fw.To != "L-0999" {
			t.Fatalf("forward to %s", fw.To)
		}
		for _, e := range fw.Events {
			ids = append(ids, e.ID)
		}
	}
	if !contains(ids, "merged:L-1001:evt-1") || !contains(ids, "merged:L-1001:late-1") {
		t.Fatalf("forwarded ids %v", ids)
	}
}

// A merge whose lead has nothing to forward (only feedback) is still
// recorded: the forward effect goes out with no events.
func TestMergeWithNothingToForwardIsRecorded(t *testing.T) {
	h := newHarness(t)
	h.at(time.Minute, func() {
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonDuplicate, DuplicateOf: "L-0999"})
	})
	// An accepted lead whose timeline holds only the feedback itself.
	h.env.ExecuteWorkflow(lead.WorkflowType, Input{LeadID: h.leadID, State: &State{LeadID: h.leadID, Life: "x",
		Stage: lead.StageSAL, OwnerID: "rep-7", SAL: &SALWatch{Since: monday10},
		Recent: []lead.Event{{ID: "acc-0", Type: lead.EventLeadAccepted}}}})
	if !h.env.IsWorkflowCompleted() || h.env.GetWorkflowError() != nil {
		t.Fatalf("merged lead: %v", h.env.GetWorkflowError())
	}
	if len(h.f.forwards) != 1 || h.f.forwards[0].To != "L-0999" || len(h.f.forwards[0].Events) != 0 {
		t.Fatalf("forwards: %+v", h.f.forwards)
	}
}

// A reassignment posts a note on the CRM record naming both owners and who
// did it.
func TestReassignPostsANote(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() {
		h.update(lead.UpdateReassign, "ra-1", lead.ReassignRequest{ID: "ra-1", OwnerID: "rep-8", By: "ops-1", Note: "covering"})
	})
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(h.f.notes) != 1 {
		t.Fatalf("notes: %+v", h.f.notes)
	}
	body := h.f.notes[0].Body
	for _, want := range []string{"rep-7", "rep-8", "ops-1", "covering"} {
		if !strings.Contains(body, want) {
			t.Fatalf("note %q lacks %s", body, want)
		}
	}
}

// opportunity.lost with no open opportunity changes nothing and is listed
// as a refusal, without an alert.
func TestOpportunityLostOutsideAnOpportunity(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.event(time.Minute, ev("lost-1", lead.EventOpportunityLost, map[string]any{"reason": "price"}))
	var x lead.Explanation
	h.at(2*time.Minute, func() { x = h.explain() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if x.Stage != lead.StageHandoff {
		t.Fatalf("stage %s", x.Stage)
	}
	if len(x.Refusals) != 1 || x.Refusals[0].EventID != "lost-1" || !strings.Contains(x.Refusals[0].Message, "no open opportunity") {
		t.Fatalf("refusals: %+v", x.Refusals)
	}
	if len(h.f.alerts) != 0 || len(h.f.notes) != 0 {
		t.Fatalf("no alert, no play: alerts %+v notes %+v", h.f.alerts, h.f.notes)
	}
}

// A lead enrolled again on the same track (disqualified, then back) gets
// new send keys: its first touch goes out again instead of being taken for
// the earlier enrollment's and skipped.
func TestReEnrollmentSendsAgain(t *testing.T) {
	h := newHarness(t)
	h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
	// the first touch goes on day 7; the demo request the day after
	day := 24 * time.Hour
	h.event(8*day, lead.Event{ID: "demo-1", Type: lead.EventFormSubmit, Attributes: map[string]any{"form": "demo_request"}})
	h.at(8*day+time.Minute, func() {
		st := h.state()
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: st.OwnerID, Reason: lead.ReasonBadFit})
	})
	// 90 days on, intent has decayed to 5: fit passes again (insurance), the
	// lead is back in stage lead without qualifying, on the entry track,
	// whose first touch is due a week later.
	h.event(98*day, lead.Event{ID: "upd-1", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Industry: "insurance"}})
	var back lead.View
	h.at(98*day+time.Minute, func() { back = h.state() })
	if err := h.run(8 * day); err != nil {
		t.Fatal(err)
	}
	if back.Stage != lead.StageLead || !back.Nurture.Enrolled || back.Nurture.Track != "default" {
		t.Fatalf("back: %s %+v", back.Stage, back.Nurture)
	}
	if len(h.f.sends) != 2 || h.f.sends[0].Step != 0 || h.f.sends[1].Step != 0 || h.f.sends[0].Key == h.f.sends[1].Key {
		t.Fatalf("two first touches under two keys: %+v", h.f.sends)
	}
}
