package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

// smallCo is an SMB lead in New York (fit 20: size only): it routes to the
// inbound pool.
func smallCo() *lead.Profile {
	return &lead.Profile{Email: "bo@smallco.com", Company: "SmallCo", Domain: "smallco.com", Country: "US", Region: "NY",
		Employees: 60, Industry: "retail", Title: "Head of Ops"}
}

// Score-based MQL: pricing page (20) + fit 20 = 40 stays a lead; a reply
// (25) makes 65 ≥ 50, an MQL with the 4h SLA (not a quote request).
func TestScoreThresholdMakesMQL(t *testing.T) {
	h := newHarness(t)
	h.event(0, lead.Event{ID: "e1", Type: lead.EventWebPageView, Source: "website", Attributes: map[string]any{"category": "pricing"}, Profile: smallCo()})
	var before lead.View
	h.at(time.Minute, func() { before = h.state() })
	h.event(2*time.Minute, ev("e2", lead.EventEmailReply, nil))
	var after lead.View
	h.at(3*time.Minute, func() { after = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if before.Stage != lead.StageLead || before.Score.Total != 40 || before.Segment != "smb" {
		t.Fatalf("before: %+v", before)
	}
	if after.Stage != lead.StageHandoff || after.OwnerID != "rep-1" || after.Territory != "global" || after.Score.Total != 65 {
		t.Fatalf("after: %+v", after)
	}
	if want := monday10.Add(2*time.Minute + 4*time.Hour); !after.SLA.DueAt.Equal(want) {
		t.Fatalf("4h SLA due %s, want %s", after.SLA.DueAt, want)
	}
	e := after.History[len(after.History)-2]
	if e.To != lead.StageMQL || e.Why != "score 65 >= 50" {
		t.Fatalf("mql why: %+v", e)
	}
}

// A qualified lead missing a required field gets an enrichment task, not a
// handoff, and is handed off when the field arrives.
func TestEnrichmentBeforeHandoff(t *testing.T) {
	h := newHarness(t)
	q := quoteRequest("evt-1")
	q.Profile.Country, q.Profile.Region = "", ""
	h.event(0, q)
	var waiting lead.View
	h.at(time.Minute, func() { waiting = h.state() })
	h.event(time.Hour, lead.Event{ID: "upd-1", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Country: "US", Region: "WA"}})
	var after lead.View
	h.at(time.Hour+time.Minute, func() { after = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if waiting.Stage != lead.StageMQL || !equal(waiting.Missing, []string{"country"}) || waiting.OwnerID != "" {
		t.Fatalf("waiting: %+v", waiting)
	}
	if after.Stage != lead.StageHandoff || after.Territory != "na-west" || len(after.Missing) != 0 {
		t.Fatalf("after: %+v", after)
	}
	// The enrichment task has an owner (routing's, as the policy names
	// none), is completed when the field arrives, and its owner was told.
	if got := h.f.taskKinds(); !equal(got, []string{"enrichment:rep-1", "handoff:rep-7"}) {
		t.Fatalf("tasks: %v", got)
	}
	if len(h.f.closes) != 1 || h.f.closes[0].TaskKey != h.f.tasks[0].Key || h.f.closes[0].Outcome != actions.TaskCompleted {
		t.Fatalf("closes: %+v", h.f.closes)
	}
	if got := h.f.notifyKinds(); !equal(got, []string{"enrichment:rep-1", "handoff:rep-7"}) {
		t.Fatalf("notifications: %v", got)
	}
	// The ledger row says why the MQL waited (leakage metrics read it).
	found := false
	for _, e := range h.f.ledger {
		if e.Kind == actions.LedgerTransition && e.To == lead.StageMQL && strings.Contains(e.Why, "waiting for country") {
			found = true
		}
	}
	if !found {
		t.Fatal("no mql transition row saying it waits for country")
	}
}

// An accepted lead with no opportunity is reminded at sal_stale_after (14d)
// and recycled by the sal_stale play at twice that.
func TestSALStaleness(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() { h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
	var day15, day29 lead.View
	h.at(15*24*time.Hour, func() { day15 = h.state() })
	h.at(29*24*time.Hour, func() { day29 = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if day15.Stage != lead.StageSAL || !contains(h.f.notifyKinds(), "sal_stale:rep-7") {
		t.Fatalf("day 15: %s %v", day15.Stage, h.f.notifyKinds())
	}
	// Halved by the play (sal_stale: halve) after 28 days of decay (half-life
	// 30 days): 40 × 0.5^(29/30) / 2 ≈ 10.2 on day 29.
	if day29.Stage != lead.StageRecycle || day29.Play == nil || day29.Play.Name != lead.PlaySALStale || day29.Score.Intent != 10 {
		t.Fatalf("day 29: %+v", day29)
	}
	sum := 0
	for _, it := range day29.Score.Breakdown {
		sum += it.Points
	}
	if sum != day29.Score.Total {
		t.Fatalf("breakdown adds up to %d, total %d: %+v", sum, day29.Score.Total, day29.Score.Breakdown)
	}
}

// Opportunity, won (customer nurture) and lost (the opportunity_lost play).
func TestOpportunityWonAndLost(t *testing.T) {
	t.Run("won", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, quoteRequest("evt-1"))
		h.at(time.Minute, func() { h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
		h.event(time.Hour, ev("opp-1", lead.EventOpportunityCreated, map[string]any{"amount": 12000}))
		var opp lead.View
		h.at(time.Hour+time.Minute, func() { opp = h.state() })
		h.event(30*24*time.Hour, ev("won-1", lead.EventOpportunityWon, map[string]any{"amount": 12000}))
		var won lead.View
		h.at(30*24*time.Hour+time.Minute, func() { won = h.state() })
		// A customer showing buying intent again: an upsell task for the owner.
		h.event(40*24*time.Hour, lead.Event{ID: "evt-2", Type: lead.EventFormSubmit, Attributes: map[string]any{"form": "contact_sales"}})
		var upsell lead.View
		h.at(40*24*time.Hour+time.Minute, func() { upsell = h.state() })
		if err := h.run(0); err != nil {
			t.Fatal(err)
		}
		if opp.Stage != lead.StageOpportunity || !opp.Nurture.Suppressed {
			t.Fatalf("opportunity: %+v", opp)
		}
		if won.Stage != lead.StageCustomer || !won.Nurture.Enrolled || won.Nurture.Track != "customer" || won.OwnerID != "rep-7" {
			t.Fatalf("won: %+v", won)
		}
		if upsell.Stage != lead.StageCustomer || !contains(h.f.taskKinds(), "upsell:rep-7") {
			t.Fatalf("upsell: %s %v", upsell.Stage, h.f.taskKinds())
		}
	})
	t.Run("lost", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, quoteRequest("evt-1"))
		h.at(time.Minute, func() { h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
		h.event(time.Hour, ev("opp-1", lead.EventOpportunityCreated, nil))
		h.event(2*time.Hour, ev("lost-1", lead.EventOpportunityLost, map[string]any{"reason": "price"}))
		var lost lead.View
		h.at(2*time.Hour+time.Minute, func() { lost = h.state() })
		if err := h.run(0); err != nil {
			t.Fatal(err)
		}
		if lost.Stage != lead.StageRecycle || lost.Play.Name != lead.PlayOpportunityLost || lost.Nurture.Track != "win-back" || lost.Score.Intent != 0 {
			t.Fatalf("lost: %+v", lost)
		}
		want := monday10.Add(2 * time.Hour).Add(90 * 24 * time.Hour)
		if !lost.CoolOffUntil.Equal(want) {
			t.Fatalf("cool-off %s, want %s", lost.CoolOffUntil, want)
		}
	})
}

// Unsubscribe stops nurture for good: no touch after it, not even when a
// recycle play would resume nurture.
func TestUnsubscribeStopsNurtureForGood(t *testing.T) {
	h := newHarness(t)
	h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
	h.event(8*24*time.Hour, ev("unsub-1", lead.EventEmailUnsubscribe, nil)) // after the first touch (day 7)
	h.event(25*24*time.Hour, lead.Event{ID: "q1", Type: lead.EventFormSubmit, Attributes: map[string]any{"form": "demo_request"}})
	h.at(25*24*time.Hour+time.Minute, func() {
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-1", Reason: lead.ReasonNoResponse})
	})
	var final lead.View
	h.at(60*24*time.Hour, func() { final = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if len(h.f.sends) != 1 {
		t.Fatalf("only the first touch (before the unsubscribe) may go out: %+v", h.f.sends)
	}
	if final.Stage != lead.StageLead || final.Nurture.Enrolled || !final.Nurture.Suppressed || !contains(final.Nurture.Reasons, lead.SuppressUnsubscribed) {
		t.Fatalf("final: %+v", final)
	}
	if h.saValue(lead.SANurtureSuppressed) != true {
		t.Fatalf("NurtureSuppressed: %v", h.saValue(lead.SANurtureSuppressed))
	}
}

// Nurture touches follow the track's cadence; a rep touch postpones them by
// recent_rep_touch (14d); quiet hours postpone a touch to their end.
func TestNurtureCadenceAndGuards(t *testing.T) {
	t.Run("cadence and rep touch", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
		h.event(8*24*time.Hour, ev("touch-1", lead.EventRepTouch, map[string]any{"repId": "rep-1", "channel": "email"}))
		var held lead.View
		h.at(8*24*time.Hour+time.Minute, func() { held = h.state() })
		if err := h.run(14 * 24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		var at []time.Duration
		for _, s := range h.f.sendTimes {
			at = append(at, s.Sub(monday10))
		}
		day := 24 * time.Hour
		// The first touch one interval in (day 7); day 14 is held by the
		// rep touch of day 8 until day 22.
		if len(at) != 2 || at[0] != 7*day || at[1] != 22*day {
			t.Fatalf("send offsets: %v", at)
		}
		if !held.Nurture.Suppressed || !contains(held.Nurture.Reasons, lead.SuppressRecentRepTouch) {
			t.Fatalf("held: %+v", held.Nurture)
		}
	})
	t.Run("quiet hours", func(t *testing.T) {
		night := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC) // Mon 21:00 in New York
		h := newHarness(t, withStart(night))
		h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
		if err := h.run(7*24*time.Hour + 12*time.Hour); err != nil {
			t.Fatal(err)
		}
		// due a week in, Mon 21:00 again: held to Tue 08:00 EST
		want := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
		if len(h.f.sendTimes) != 1 || !h.f.sendTimes[0].Equal(want) {
			t.Fatalf("sends %v, want one at %s", h.f.sendTimes, want)
		}
	})
	t.Run("no nurture during an active sales motion", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, quoteRequest("evt-1")) // lead → handoff at once: nurture paused before its first touch
		h.at(time.Minute, func() { h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
		h.event(2*24*time.Hour, ev("opp-1", lead.EventOpportunityCreated, nil))
		if err := h.run(20 * 24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		// Straight to Sales: never enrolled, so nothing to pause and nothing sent.
		if len(h.f.sends) != 0 || len(h.f.enrolls) != 0 || len(h.f.pauses) != 0 {
			t.Fatalf("sends %d enrolls %d pauses %d", len(h.f.sends), len(h.f.enrolls), len(h.f.pauses))
		}
	})
}

// A repeated event id has no effect.
func TestDuplicateEventIDHasNoEffect(t *testing.T) {
	h := newHarness(t)
	pricing := lead.Event{ID: "e1", Type: lead.EventWebPageView, Attributes: map[string]any{"category": "pricing"}, Profile: smallCo()}
	h.event(0, pricing)
	h.event(time.Minute, pricing)
	h.event(2*time.Minute, pricing)
	var st lead.View
	h.at(3*time.Minute, func() { st = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if st.Score.Intent != 20 || h.f.ledgerKinds()[actions.LedgerEvent] != 1 {
		t.Fatalf("intent %d, ledger events %d", st.Score.Intent, h.f.ledgerKinds()[actions.LedgerEvent])
	}
}

// A bad-fit lead leaves disqualified only on a profile change that passes
// fit.
func TestDisqualifiedLeavesOnProfileUpdateThatPassesFit(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() {
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonBadFit})
	})
	h.event(time.Hour, ev("click-1", lead.EventEmailClick, nil))
	var still lead.View
	h.at(time.Hour+time.Minute, func() { still = h.state() })
	// A phone number is no reason to come back: no fit rule reads it.
	h.event(90*time.Minute, lead.Event{ID: "upd-0", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Phone: "+1 555 0100"}})
	var phone lead.View
	h.at(91*time.Minute, func() { phone = h.state() })
	h.event(2*time.Hour, lead.Event{ID: "upd-1", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Title: "Student"}})
	var student lead.View
	h.at(2*time.Hour+time.Minute, func() { student = h.state() })
	h.event(3*time.Hour, lead.Event{ID: "upd-2", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Title: "CFO"}})
	var back lead.View
	h.at(3*time.Hour+time.Minute, func() { back = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if still.Stage != lead.StageDisqualified || student.Stage != lead.StageDisqualified || phone.Stage != lead.StageDisqualified {
		t.Fatalf("still %s, phone %s, student %s", still.Stage, phone.Stage, student.Stage)
	}
	// A fit field (title) changed and fit passes: back to lead, with the
	// intent bad_fit cleared, so it is no MQL on its old behaviour.
	if back.Stage != lead.StageLead || back.Score.Intent != 0 || back.Score.Fit != 30 {
		t.Fatalf("back: %s %+v %+v", back.Stage, back.Score, back.History)
	}
}

// When routing fails the lead stays an MQL, ops get an alert, and routing is
// retried; no lead is left unowned.
func TestRoutingFailureRetries(t *testing.T) {
	h := newHarness(t)
	h.f.failures[actions.Route] = 1000
	h.event(0, quoteRequest("evt-1"))
	var stuck lead.View
	h.at(10*time.Minute, func() {
		stuck = h.state()
		h.f.mu.Lock()
		h.f.failures[actions.Route] = 0
		h.f.mu.Unlock()
	})
	var routed lead.View
	h.at(20*time.Minute, func() { routed = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if stuck.Stage != lead.StageMQL || !contains(h.f.alertKinds(), "routing_failed") {
		t.Fatalf("stuck: %s alerts %v", stuck.Stage, h.f.alertKinds())
	}
	if routed.Stage != lead.StageHandoff || routed.OwnerID != "rep-7" {
		t.Fatalf("routed: %+v", routed)
	}
}
