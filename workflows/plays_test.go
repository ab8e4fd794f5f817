package workflows

import (
	"fmt"
	"github.com/leadflow/leadflow/internal/actions"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// Each rejection reason runs its play from the example policy.
func TestRejectionPlays(t *testing.T) {
	cases := []struct {
		req       lead.RejectRequest
		stage     lead.Stage
		track     string
		coolOff   time.Duration
		intent    int // intent after the play (40 before)
		enrolled  bool
		completed bool
	}{
		{req: lead.RejectRequest{Reason: lead.ReasonBadFit}, stage: lead.StageDisqualified, intent: 0}, // intent cleared
		{req: lead.RejectRequest{Reason: lead.ReasonNoResponse}, stage: lead.StageRecycle, track: "re-engagement", coolOff: 30 * 24 * time.Hour, intent: 0, enrolled: true},
		{req: lead.RejectRequest{Reason: lead.ReasonTiming}, stage: lead.StageRecycle, track: "long-term", coolOff: 90 * 24 * time.Hour, intent: 20, enrolled: true},
		{req: lead.RejectRequest{Reason: lead.ReasonCompetitor}, stage: lead.StageRecycle, track: "win-back", coolOff: 180 * 24 * time.Hour, intent: 0, enrolled: true},
		{req: lead.RejectRequest{Reason: lead.ReasonOther, Note: "wrong product line"}, stage: lead.StageRecycle, track: "default", coolOff: 30 * 24 * time.Hour, intent: 40, enrolled: true},
		{req: lead.RejectRequest{Reason: lead.ReasonDuplicate, DuplicateOf: "L-0999"}, stage: lead.StageMerged, completed: true},
	}
	for _, tc := range cases {
		t.Run(string(tc.req.Reason), func(t *testing.T) {
			h := newHarness(t)
			h.event(0, quoteRequest("evt-1"))
			h.event(time.Minute, ev("page-1", lead.EventWebPageView, map[string]any{"category": "product"}))
			req := tc.req
			req.ID, req.RepID = "rej-1", "rep-7"
			var res *updateResult
			rejectAt := 2 * time.Minute
			h.at(rejectAt, func() { res = h.update(lead.UpdateReject, req.ID, req) })
			var after lead.View
			if !tc.completed {
				h.at(3*time.Minute, func() { after = h.state() })
			}
			err := h.run(time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if !res.done || res.err != nil {
				t.Fatalf("reject: %+v", res)
			}
			v := res.view
			if v.Stage != tc.stage || v.Play == nil || v.Play.Name != string(tc.req.Reason) {
				t.Fatalf("after reject: stage %s play %+v", v.Stage, v.Play)
			}
			if tc.completed {
				if v.MergedInto != "L-0999" || len(h.f.forwards) != 1 {
					t.Fatalf("merge: %+v forwards %+v", v, h.f.forwards)
				}
				fw := h.f.forwards[0]
				if fw.To != "L-0999" || len(fw.Events) != 2 || fw.Events[0].ID != "merged:L-1001:evt-1" || fw.Events[0].LeadID != "L-0999" {
					t.Fatalf("forwarded: %+v", fw)
				}
				if len(h.f.stops) != 1 {
					t.Fatalf("nurture should stop on merge: %+v", h.f.stops)
				}
				return
			}
			if v.Score.Intent != tc.intent {
				t.Fatalf("intent after play: %d, want %d", v.Score.Intent, tc.intent)
			}
			if v.OwnerID != "" || v.SLA != nil {
				t.Fatalf("recycled or disqualified lead keeps no owner or SLA: %+v", v)
			}
			if after.Nurture.Enrolled != tc.enrolled || after.Nurture.Track != tc.track && tc.enrolled {
				t.Fatalf("nurture: %+v", after.Nurture)
			}
			if tc.stage == lead.StageRecycle {
				want := monday10.Add(rejectAt).Add(tc.coolOff)
				if v.CoolOffUntil == nil || !v.CoolOffUntil.Equal(want) {
					t.Fatalf("cool-off until %v, want %s", v.CoolOffUntil, want)
				}
				if v.RecycleCount != 1 {
					t.Fatalf("recycle count %d", v.RecycleCount)
				}
			}
			if tc.stage == lead.StageDisqualified && (len(h.f.stops) != 1 || h.f.stops[0].Reason != "disqualified" || !after.Nurture.Suppressed) {
				t.Fatalf("disqualified stops nurture: %+v %+v", h.f.stops, after.Nurture)
			}
			if len(h.f.notes) != 1 || !strings.Contains(h.f.notes[0].Body, string(tc.req.Reason)) {
				t.Fatalf("CRM note: %+v", h.f.notes)
			}
			fb := 0
			for _, e := range h.f.ledger {
				if e.Kind == "feedback" && e.Data["reason"] == string(tc.req.Reason) {
					fb++
				}
			}
			if fb != 1 {
				t.Fatalf("ledger feedback rows for %s: %d", tc.req.Reason, fb)
			}
		})
	}
}

// A rejection with revisitAt: on that date the same rep gets the lead
// again, with a task that says why and an SLA (the play's cool-off is cut
// short by the rep's own date).
func TestRevisitDateHandsTheLeadBackToTheRep(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	revisit := monday10.Add(10 * 24 * time.Hour)
	h.at(time.Minute, func() {
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonOther, Note: "call back", RevisitAt: revisit.Format(time.RFC3339)})
	})
	var during, after lead.View
	h.at(9*24*time.Hour, func() { during = h.state() })
	h.at(10*24*time.Hour+time.Minute, func() { after = h.state() })
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if during.Stage != lead.StageRecycle || during.CoolOffUntil == nil || !during.CoolOffUntil.Equal(monday10.Add(time.Minute+30*24*time.Hour)) {
		t.Fatalf("during cool-off: %s until %v (the play's 30 days)", during.Stage, during.CoolOffUntil)
	}
	if after.Stage != lead.StageHandoff || after.OwnerID != "rep-7" || after.SLA == nil {
		t.Fatalf("revisit: stage %s owner %s sla %+v history %+v", after.Stage, after.OwnerID, after.SLA, after.History)
	}
	if len(h.f.tasks) != 2 || !strings.HasPrefix(h.f.tasks[1].Title, "Revisit lead L-1001") || !strings.Contains(h.f.tasks[1].Title, "call back") || h.f.tasks[1].OwnerID != "rep-7" {
		t.Fatalf("tasks: %+v", h.f.tasks)
	}
}

// After a play's cool-off the lead needs new intent: its kept score is
// shown, not acted on; a scored event then makes it an MQL, and it goes
// back to the rep who had it (sticky owner, same territory).
func TestCoolOffEndsAndLeadWaitsForNewIntent(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() {
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonOther, Note: "not now"})
	})
	var waiting, after lead.View
	h.at(31*24*time.Hour, func() { waiting = h.state() })
	h.event(32*24*time.Hour, ev("open-1", lead.EventEmailOpen, nil)) // no points: not new intent
	h.event(33*24*time.Hour, pricingView("pv-1"))
	h.at(33*24*time.Hour+time.Minute, func() { after = h.state() })
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if waiting.Stage != lead.StageLead || waiting.Score.Total < 50 {
		t.Fatalf("after cool-off: %s score %d (kept, above the threshold, not acted on)", waiting.Stage, waiting.Score.Total)
	}
	if after.Stage != lead.StageHandoff || after.OwnerID != "rep-7" {
		t.Fatalf("after new intent: %s owner %s history %+v", after.Stage, after.OwnerID, after.History)
	}
	if got := h.f.taskKinds(); !equal(got, []string{"handoff:rep-7", "handoff:rep-7"}) {
		t.Fatalf("tasks: %v", got)
	}
}

// A play may keep the old behaviour: requalify at the cool-off's end.
func TestPlayMayRequalifyAtCoolOffEnd(t *testing.T) {
	src := strings.Replace(examplePolicySource(t), "other:            { to: recycle,", "other:            { requalify: cool_off_end, to: recycle,", 1)
	h := newHarness(t, withPolicy(src))
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() {
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonOther, Note: "n"})
	})
	var after lead.View
	h.at(31*24*time.Hour, func() { after = h.state() })
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if after.Stage != lead.StageHandoff {
		t.Fatalf("with requalify: cool_off_end the kept score qualifies: %s %+v", after.Stage, after.History)
	}
}

// A fast-track signal (a hand-raise) during cool-off ends it early.
func TestFastTrackEndsCoolOffEarly(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() {
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonTiming})
	})
	h.event(5*24*time.Hour, lead.Event{ID: "evt-2", Type: lead.EventFormSubmit, Attributes: map[string]any{"form": "demo_request"}})
	var after lead.View
	h.at(5*24*time.Hour+time.Minute, func() { after = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if after.Stage != lead.StageHandoff {
		t.Fatalf("stage %s, history %+v", after.Stage, after.History)
	}
}

// Fit unknown (no employees, no industry) and intent that qualifies: an
// enrichment task for exactly those fields, not a handoff; when they
// arrive and fit passes, the handoff.
func TestUnknownFitGetsEnrichmentNotAHandoff(t *testing.T) {
	h := newHarness(t)
	p := &lead.Profile{Email: "kim@nowhere.io", Company: "Nowhere", Country: "US", Region: "CA"}
	for i, d := range []time.Duration{0, time.Minute, 2 * time.Minute} {
		e := pricingView(fmt.Sprintf("pv-%d", i))
		if i == 0 {
			e.Profile = p
		}
		h.event(d, e)
	}
	var waiting, after lead.View
	h.at(3*time.Minute, func() { waiting = h.state() })
	h.event(time.Hour, lead.Event{ID: "upd-1", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Employees: 300, Industry: "insurance"}})
	h.at(time.Hour+time.Minute, func() { after = h.state() })
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if waiting.Stage != lead.StageMQL || !equal(waiting.Missing, []string{"employees", "industry"}) || waiting.OwnerID != "" {
		t.Fatalf("waiting: %s missing %v owner %s", waiting.Stage, waiting.Missing, waiting.OwnerID)
	}
	if len(h.f.tasks) < 1 || h.f.tasks[0].Kind != actions.TaskEnrichment || !equal(h.f.tasks[0].Context.Missing, []string{"employees", "industry"}) {
		t.Fatalf("tasks: %+v", h.f.tasks)
	}
	if after.Stage != lead.StageHandoff {
		t.Fatalf("after the fields: %s %+v", after.Stage, after.History)
	}
}

// The policy's intent gate: an ICP lead (fit 30) is no MQL on one pricing
// view (20) when min_intent is 30, though 50 reaches the threshold.
func TestMinIntentGate(t *testing.T) {
	src := strings.Replace(examplePolicySource(t), "  mql_threshold:", "  min_intent: 30\n  mql_threshold:", 1)
	h := newHarness(t, withPolicy(src))
	e := pricingView("pv-1")
	e.Profile = acmeProfile()
	h.event(0, e)
	var one, two lead.View
	h.at(time.Minute, func() { one = h.state() })
	h.event(2*time.Minute, pricingView("pv-2"))
	h.at(3*time.Minute, func() { two = h.state() })
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if one.Stage != lead.StageLead || one.Score.Total != 50 {
		t.Fatalf("one view: %s score %d", one.Stage, one.Score.Total)
	}
	if two.Stage != lead.StageHandoff {
		t.Fatalf("two views: %s", two.Stage)
	}
}

// A customer's buying signal goes to the account owner (the account the
// domain matches), not to whoever had the original handoff; an expansion
// opportunity pauses customer nurture and is pipeline of its own.
func TestCustomerUpsellAndExpansion(t *testing.T) {
	h := newHarness(t)
	q := quoteRequest("evt-1")
	q.Profile.Email, q.Profile.Domain = "ana@globex.com", "globex.com" // account owner rep-9
	h.event(0, q)
	var owner string
	h.at(time.Minute, func() {
		owner = h.state().OwnerID
		h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: owner})
	})
	h.event(time.Hour, ev("opp-1", lead.EventOpportunityCreated, map[string]any{"amount": 1000}))
	// rep-8 closed the deal; ops then hand the customer to rep-1. The
	// account still belongs to rep-9.
	h.event(2*time.Hour, ev("won-1", lead.EventOpportunityWon, map[string]any{"amount": 1000, "repId": "rep-8"}))
	h.at(3*time.Hour, func() {
		h.update(lead.UpdateReassign, "ra-1", lead.ReassignRequest{ID: "ra-1", OwnerID: "rep-1", By: "ops"})
	})
	h.event(40*24*time.Hour, ev("opp-2", lead.EventOpportunityCreated, map[string]any{"amount": 500}))
	var expanding lead.View
	h.at(40*24*time.Hour+time.Minute, func() { expanding = h.state() })
	h.event(41*24*time.Hour, lead.Event{ID: "evt-2", Type: lead.EventFormSubmit, Attributes: map[string]any{"form": "contact_sales"}})
	h.event(50*24*time.Hour, ev("won-2", lead.EventOpportunityWon, map[string]any{"amount": 500}))
	var after lead.View
	h.at(50*24*time.Hour+time.Minute, func() { after = h.state() })
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if expanding.Stage != lead.StageCustomer || !expanding.Nurture.Suppressed {
		t.Fatalf("expansion: %s nurture %+v", expanding.Stage, expanding.Nurture)
	}
	if after.Stage != lead.StageCustomer || after.Nurture.Suppressed || !after.Nurture.Enrolled {
		t.Fatalf("after expansion won: %s nurture %+v", after.Stage, after.Nurture)
	}
	var rows []string
	for _, e := range h.f.ledgerOf(actions.LedgerExpansion) {
		rows = append(rows, e.Data["outcome"].(string))
	}
	if !equal(rows, []string{"created", "won"}) {
		t.Fatalf("expansion rows %v", rows)
	}
	if !contains(h.f.taskKinds(), "upsell:rep-9") {
		t.Fatalf("upsell went to %v, want the account owner rep-9 (handoff owner %s)", h.f.taskKinds(), owner)
	}
}

// Without an account match the upsell goes to the rep who won the deal,
// not to the customer's current owner.
func TestUpsellWithoutAccountGoesToWhoWon(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() { h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
	h.event(time.Hour, ev("won-1", lead.EventOpportunityWon, map[string]any{"repId": "rep-8"}))
	h.at(2*time.Hour, func() {
		h.update(lead.UpdateReassign, "ra-1", lead.ReassignRequest{ID: "ra-1", OwnerID: "rep-1", By: "ops"})
	})
	h.event(40*24*time.Hour, lead.Event{ID: "evt-2", Type: lead.EventFormSubmit, Attributes: map[string]any{"form": "contact_sales"}})
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if !contains(h.f.taskKinds(), "upsell:rep-8") {
		t.Fatalf("upsell went to %v, want rep-8 who won the deal", h.f.taskKinds())
	}
}
