package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

// The validators refuse what breaks the contract's rules, with a message
// that says why, and nothing is recorded.
func TestValidatorRefusals(t *testing.T) {
	cases := []struct {
		name, update string
		req          any
		want         string
	}{
		{"accept by a rep who is not the owner", lead.UpdateAccept, lead.AcceptRequest{ID: "u1", RepID: "rep-8"}, "rep-8 is not the owner of lead L-1001 (owner: rep-7)"},
		{"accept without repId", lead.UpdateAccept, lead.AcceptRequest{ID: "u1"}, "repId is required"},
		{"reject without reason", lead.UpdateReject, lead.RejectRequest{ID: "u1", RepID: "rep-7"}, "reason is required"},
		{"reject with unknown reason", lead.UpdateReject, lead.RejectRequest{ID: "u1", RepID: "rep-7", Reason: "meh"}, `reason "meh" is not one of`},
		{"duplicate without duplicateOf", lead.UpdateReject, lead.RejectRequest{ID: "u1", RepID: "rep-7", Reason: lead.ReasonDuplicate}, "duplicate needs duplicateOf"},
		{"duplicate of itself", lead.UpdateReject, lead.RejectRequest{ID: "u1", RepID: "rep-7", Reason: lead.ReasonDuplicate, DuplicateOf: "L-1001"}, "is this lead itself"},
		{"other without note", lead.UpdateReject, lead.RejectRequest{ID: "u1", RepID: "rep-7", Reason: lead.ReasonOther}, "other needs a note"},
		{"revisitAt in the past", lead.UpdateReject, lead.RejectRequest{ID: "u1", RepID: "rep-7", Reason: lead.ReasonTiming, RevisitAt: "2020-01-01T00:00:00Z"}, "not in the future"},
		{"reject by a rep who is not the owner", lead.UpdateReject, lead.RejectRequest{ID: "u1", RepID: "rep-1", Reason: lead.ReasonTiming}, "rep-1 is not the owner"},
		{"reassign to the current owner", lead.UpdateReassign, lead.ReassignRequest{ID: "u1", OwnerID: "rep-7", By: "ops"}, "rep-7 already owns"},
		{"reassign without by", lead.UpdateReassign, lead.ReassignRequest{ID: "u1", OwnerID: "rep-9"}, "by is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.event(0, quoteRequest("evt-1"))
			var before, after lead.View
			var res *updateResult
			h.at(time.Minute, func() {
				before = h.state()
				res = h.update(tc.update, "u1", tc.req)
			})
			h.at(2*time.Minute, func() { after = h.state() })
			if err := h.run(0); err != nil {
				t.Fatal(err)
			}
			if !res.rejected || res.err == nil || !strings.Contains(res.err.Error(), tc.want) {
				t.Fatalf("want validator refusal containing %q, got %+v", tc.want, res)
			}
			if after.Stage != before.Stage || after.OwnerID != before.OwnerID || len(after.History) != len(before.History) {
				t.Fatalf("state changed: %+v → %+v", before, after)
			}
			if n := h.f.ledgerKinds()[actions.LedgerFeedback]; n != 0 {
				t.Fatalf("feedback recorded: %d", n)
			}
		})
	}
}

// Accepting a lead that is not in handoff is refused with the stage.
func TestAcceptInWrongStage(t *testing.T) {
	h := newHarness(t)
	h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Profile: smallCo()})
	var res *updateResult
	h.at(time.Minute, func() { res = h.update(lead.UpdateAccept, "u1", lead.AcceptRequest{ID: "u1", RepID: "rep-1"}) })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if !res.rejected || !strings.Contains(res.err.Error(), "is in stage lead: only a lead in handoff can be accepted") {
		t.Fatalf("got %+v", res)
	}
}

// Feedback from a CRM on the signal path follows the same rules: a refused
// one changes nothing, shows in explain and raises an alert; a valid one
// works like the update.
func TestFeedbackEvents(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.event(time.Minute, ev("crm-1", lead.EventLeadAccepted, map[string]any{"repId": "rep-8"}))
	var refused lead.Explanation
	h.at(2*time.Minute, func() { refused = h.explain() })
	h.event(3*time.Minute, ev("crm-2", lead.EventLeadRejected, map[string]any{"repId": "rep-7", "reason": "competitor"}))
	var rejected lead.View
	h.at(4*time.Minute, func() { rejected = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if refused.Stage != lead.StageHandoff || len(refused.Refusals) != 1 || !strings.Contains(refused.Refusals[0].Message, "rep-8 is not the owner") {
		t.Fatalf("refused: %+v", refused)
	}
	if !contains(h.f.alertKinds(), "feedback_refused") {
		t.Fatalf("alerts: %v", h.f.alertKinds())
	}
	if rejected.Stage != lead.StageRecycle || rejected.Play.Name != "competitor" {
		t.Fatalf("rejected: %+v", rejected)
	}
}

// An update repeated with the same id changes nothing the second time.
func TestRepeatedUpdateIDIsIdempotent(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	var first, second *updateResult
	h.at(time.Minute, func() { first = h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
	h.at(2*time.Minute, func() {
		second = h.update(lead.UpdateAccept, "acc-1b", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"})
	})
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if first.err != nil || second.err != nil || second.view.Stage != lead.StageSAL {
		t.Fatalf("first %+v second %+v", first, second)
	}
	if n := h.f.ledgerKinds()[actions.LedgerFeedback]; n != 1 {
		t.Fatalf("feedback rows %d", n)
	}
}

// Ops reassign a lead to a named rep: new owner, task and SLA clock; an
// unknown rep is refused with the directory's message.
func TestReassignUpdate(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	var ok, unknown *updateResult
	h.at(5*time.Minute, func() {
		ok = h.update(lead.UpdateReassign, "ra-1", lead.ReassignRequest{ID: "ra-1", OwnerID: "rep-9", By: "ops-jo", Note: "territory fix"})
	})
	h.at(6*time.Minute, func() {
		unknown = h.update(lead.UpdateReassign, "ra-2", lead.ReassignRequest{ID: "ra-2", OwnerID: "rep-404", By: "ops-jo"})
	})
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if ok.err != nil || ok.view.OwnerID != "rep-9" || ok.view.SLA.Level != 0 {
		t.Fatalf("reassign: %+v", ok)
	}
	if want := monday10.Add(5*time.Minute + 15*time.Minute); !ok.view.SLA.DueAt.Equal(want) {
		t.Fatalf("fresh SLA due %s, want %s", ok.view.SLA.DueAt, want)
	}
	if got := h.f.taskKinds(); !equal(got, []string{"handoff:rep-7", "handoff:rep-9"}) {
		t.Fatalf("tasks %v", got)
	}
	if unknown.err == nil || !strings.Contains(unknown.err.Error(), `"rep-404" is not in the directory`) {
		t.Fatalf("unknown rep: %v", unknown.err)
	}
}
