package metrics_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// The ledger rows below are written the way the workflow writes them since
// the handoff transition carries its first deadline and trigger, and every
// handoff has one first_touch row (via touch, accept or reject).

// handoff is the transition into handoff of cycle with its first deadline.
func (w who) handoff(seq, cycle int, when, owner, due, trigger string) actions.LedgerEntry {
	e := w.tr(seq, when, mS, hS, owner, "pool p")
	e.Data = map[string]any{"cycle": cycle, "slaKind": "first_touch", "slaDueAt": at(due), "trigger": trigger}
	return e
}

// contact is the handoff's first_touch row; ownerDue "" leaves the owner's
// clock out.
func (w who) contact(cycle int, when, rep, via, handoffAt string, raw, business, owners int, due, ownerDue string) actions.LedgerEntry {
	e := w.entry(actions.LedgerTouch, fmt.Sprintf("handoff:%d:first-touch", cycle), when, rep)
	e.Data = map[string]any{"handoffAt": at(handoffAt), "ttftSeconds": raw, "ttftBusinessSeconds": business,
		"via": via, "repId": rep, "owners": owners, "cycle": cycle,
		"slaDueAt": at(due), "slaMet": !at(when).After(at(due))}
	if ownerDue != "" {
		e.Data["ownerDueAt"], e.Data["ownerMet"] = at(ownerDue), !at(when).After(at(ownerDue))
	}
	return e
}

// signal is an event row received (by the workflow) at received.
func (w who) signal(id, occurred, received, typ, form string) actions.LedgerEntry {
	e := w.entry(actions.LedgerEvent, "event:"+id, occurred, "")
	attrs := map[string]any{}
	if form != "" {
		attrs["form"] = form
	}
	e.Data = map[string]any{"eventId": id, "type": typ, "attributes": attrs, "receivedAt": at(received)}
	return e
}

func (w who) reassign(n int, when, to, from string) actions.LedgerEntry {
	e := w.route(n, when, "p", to)
	e.Data["previous"] = from
	return e
}

// definitions is the hand-built ledger of docs/metrics.md's examples. The
// period is the week 11-16 .. 11-23; "now" is Sun 11-22 12:00 unless a case
// says otherwise.
func definitions() []actions.LedgerEntry {
	P := who{"P", "smb", "web", "spring", "na", "v1"}
	Q := who{"Q", "mid", "ads", "", "emea", "v1"}
	U := who{"U", "mid", "ads", "", "emea", "v1"}
	N := who{"N", "smb", "web", "", "na", "v1"}
	W := who{"W", "smb", "web", "spring", "na", "v1"}
	X := who{"X", "mid", "ads", "", "emea", "v1"}
	Y := who{"Y", "smb", "web", "", "na", "v1"}
	return []actions.LedgerEntry{
		// P: met (touched 30 min after the handoff, due in an hour), accepted.
		P.signal("p1", "11-16 09:58", "11-16 09:58", "form.submit", "quote_request"),
		P.tr(1, "11-16 10:00", "", lS, "", "first event"),
		P.tr(2, "11-16 10:00", lS, mS, "", "score"),
		P.route(1, "11-16 10:00", "p", "r1"),
		P.handoff(3, 1, "11-16 10:00", "r1", "11-16 11:00", "quote_request"),
		P.contact(1, "11-16 10:30", "r1", "touch", "11-16 10:00", 1800, 1800, 1, "11-16 11:00", "11-16 11:00"),
		P.fb("11-16 11:00", "r1", 1, "accepted", ""),
		P.tr(4, "11-16 11:00", hS, sS, "r1", "accepted by r1"),

		// Q: not touched by its 10:00 deadline, reassigned to r2 at 10:30,
		// who touched it at 11:00 within their own clock (due 11:30):
		// breached for the handoff, met on the owner's clock. Rejected.
		Q.signal("q1", "11-17 09:00", "11-17 09:00", "form.submit", "demo_request"),
		Q.tr(1, "11-17 09:00", "", lS, "", "first event"),
		Q.tr(2, "11-17 09:00", lS, mS, "", "score"),
		Q.route(1, "11-17 09:00", "p", "r1"),
		Q.handoff(3, 1, "11-17 09:00", "r1", "11-17 10:00", "demo_request"),
		Q.reassign(2, "11-17 10:30", "r2", "r1"),
		Q.contact(1, "11-17 11:00", "r2", "touch", "11-17 09:00", 7200, 7200, 2, "11-17 10:00", "11-17 11:30"),
		Q.fb("11-17 12:00", "r2", 1, "rejected", "bad_fit"),
		Q.tr(4, "11-17 12:00", hS, dqS, "", "rejected by r2: bad_fit"),

		// U: never touched; due 11-18 13:00, so breached; reassigned to r1
		// after the breach (the breach stays); not decided.
		U.signal("u1", "11-18 08:50", "11-18 08:50", "form.submit", "contact_sales"),
		U.tr(1, "11-18 08:50", "", lS, "", "first event"),
		U.tr(2, "11-18 09:00", lS, mS, "", "score"),
		U.route(1, "11-18 09:00", "p", "r2"),
		U.handoff(3, 1, "11-18 09:00", "r2", "11-18 13:00", "contact_sales"),
		U.reassign(2, "11-18 14:00", "r1", "r2"),

		// N: handed off at 11:00 today, due 15:00: pending at noon. It
		// became an MQL on its 10:00 signal and was routed an hour later
		// (routing was retried); a page view in between is not the signal.
		N.signal("n1", "11-22 10:00", "11-22 10:00", "form.submit", "quote_request"),
		N.tr(1, "11-22 10:00", "", lS, "", "first event"),
		N.tr(2, "11-22 10:00", lS, mS, "", "score"),
		N.signal("n2", "11-22 10:30", "11-22 10:30", "web.page_view", ""),
		N.route(1, "11-22 11:00", "p", "r1"),
		N.handoff(3, 1, "11-22 11:00", "r1", "11-22 15:00", "quote_request"),

		// W: recycled twice. Handed off on 11-09 (before the period),
		// rejected (no_response) and recycled; back on 11-16, MQL on a
		// pricing visit 11-17, rejected without a touch (timing) and
		// recycled again; back 11-19, MQL on a webinar, accepted without a
		// touch.
		W.signal("w1", "11-09 09:00", "11-09 09:00", "form.submit", "quote_request"),
		W.tr(1, "11-09 09:00", "", lS, "", "first event"),
		W.tr(2, "11-09 09:00", lS, mS, "", "score"),
		W.route(1, "11-09 09:00", "p", "r1"),
		W.handoff(3, 1, "11-09 09:00", "r1", "11-09 10:00", "quote_request"),
		W.contact(1, "11-09 12:00", "r1", "reject", "11-09 09:00", 10800, 10800, 1, "11-09 10:00", "11-09 10:00"),
		W.fb("11-09 12:00", "r1", 1, "rejected", "no_response"),
		W.tr(4, "11-09 12:00", hS, rS, "", "rejected by r1: no_response; play no_response until 2026-11-16T12:00:00Z"),
		W.tr(5, "11-16 12:00", rS, lS, "", "cool-off of play no_response ended"),
		W.signal("w2", "11-17 09:00", "11-17 09:00", "web.page_view", ""),
		W.tr(6, "11-17 09:00", lS, mS, "", "score"),
		W.route(2, "11-17 09:00", "p", "r1"),
		W.handoff(7, 2, "11-17 09:00", "r1", "11-17 13:00", "pricing_visits"),
		W.contact(2, "11-17 10:00", "r1", "reject", "11-17 09:00", 3600, 3600, 1, "11-17 13:00", "11-17 13:00"),
		W.fb("11-17 10:00", "r1", 2, "rejected", "timing"),
		W.tr(8, "11-17 10:00", hS, rS, "", "rejected by r1: timing; play timing until 2026-11-19T10:00:00Z"),
		W.tr(9, "11-19 10:00", rS, lS, "", "cool-off of play timing ended"),
		W.signal("w3", "11-19 11:00", "11-19 11:00", "webinar.attended", ""),
		W.tr(10, "11-19 11:00", lS, mS, "", "score"),
		W.route(3, "11-19 11:00", "p", "r2"),
		W.handoff(11, 3, "11-19 11:00", "r2", "11-19 15:00", "webinar"),
		W.contact(3, "11-19 11:30", "r2", "accept", "11-19 11:00", 1800, 1800, 1, "11-19 15:00", "11-19 15:00"),
		W.fb("11-19 11:30", "r2", 3, "accepted", ""),
		W.tr(12, "11-19 11:30", hS, sS, "r2", "accepted by r2"),

		// X: handed off before the period, its deadline inside it: met.
		X.signal("x1", "11-15 22:00", "11-15 22:00", "form.submit", "quote_request"),
		X.tr(1, "11-15 22:00", "", lS, "", "first event"),
		X.tr(2, "11-15 23:00", lS, mS, "", "score"),
		X.route(1, "11-15 23:00", "p", "r2"),
		X.handoff(3, 1, "11-15 23:00", "r2", "11-16 10:00", "quote_request"),
		X.contact(1, "11-16 09:30", "r2", "touch", "11-15 23:00", 37800, 1800, 1, "11-16 10:00", "11-16 10:00"),

		// Y: handed off in the period, due after it (Monday 10:00): not in
		// this week's SLA. No event row (speed-to-lead unknown). Touched on
		// a Sunday: 15 minutes raw, none in business hours.
		Y.tr(1, "11-22 09:00", "", lS, "", "imported"),
		Y.tr(2, "11-22 09:00", lS, mS, "", "score"),
		Y.route(1, "11-22 09:00", "p", "r2"),
		Y.handoff(3, 1, "11-22 09:00", "r2", "11-23 10:00", "demo_request"),
		Y.contact(1, "11-22 09:15", "r2", "touch", "11-22 09:00", 900, 0, 1, "11-23 10:00", "11-23 10:00"),
	}
}

func computeDefinitions(t *testing.T, now string) metrics.Row {
	t.Helper()
	s := storetest.Open(t)
	if err := s.Ledger().Record(t.Context(), definitions()); err != nil {
		t.Fatal(err)
	}
	rep, err := metrics.ComputeAt(t.Context(), s.Pool(), week, "", at(now))
	if err != nil {
		t.Fatal(err)
	}
	return rep.Rows[0]
}

func TestFirstTouchSLADefinition(t *testing.T) {
	t.Parallel()
	cases := []struct {
		now    string
		want   metrics.SLA
		byTrig []metrics.TriggerSLA
		owner  metrics.Share
	}{
		// Deadlines in the week: P met, Q breached (touched after its
		// deadline, by the new owner), W's second handoff met (its reject
		// at 10:00 was the first contact), U breached (never touched), W's
		// third met (accept), N pending (due 15:00), X met. Y is due next
		// week. Rate 4 / (4 + 2).
		{now: "11-22 12:00", want: metrics.SLA{Met: 4, Breached: 2, Pending: 1, Rate: 4.0 / 6},
			byTrig: []metrics.TriggerSLA{
				{Trigger: "contact_sales", SLA: metrics.SLA{Breached: 1}},
				{Trigger: "demo_request", SLA: metrics.SLA{Breached: 1}},
				{Trigger: "pricing_visits", SLA: metrics.SLA{Met: 1, Rate: 1}},
				{Trigger: "quote_request", SLA: metrics.SLA{Met: 2, Pending: 1, Rate: 1}},
				{Trigger: "webinar", SLA: metrics.SLA{Met: 1, Rate: 1}},
			},
			// Q was first touched after a reassignment, within r2's clock.
			owner: metrics.Share{Met: 1, Total: 1, Rate: 1}},
		// A week later N's deadline has passed untouched: breached.
		{now: "11-30 00:00", want: metrics.SLA{Met: 4, Breached: 3, Rate: 4.0 / 7}},
		// At 09:30 on 11-17: P and X met; Q (due 10:00) and W's second
		// (due 13:00, contacted at 10:00) not yet due and not contacted:
		// pending. Nothing after 09:30 counts.
		{now: "11-17 09:30", want: metrics.SLA{Met: 2, Pending: 2, Rate: 1}},
	}
	for _, c := range cases {
		t.Run(c.now, func(t *testing.T) {
			t.Parallel()
			r := computeDefinitions(t, c.now)
			if !slaNear(r.FirstTouchSLA, c.want) {
				t.Errorf("first-touch SLA = %+v; want %+v", r.FirstTouchSLA, c.want)
			}
			if len(r.SLAWeeks) != 1 || !slaNear(r.SLAWeeks[0].SLA, c.want) {
				t.Errorf("weeks = %+v; want one week %+v", r.SLAWeeks, c.want)
			}
			if c.byTrig != nil {
				got := r.SLAByTrigger
				for i := range got {
					got[i].SLA.Rate = round(got[i].SLA.Rate)
				}
				if !reflect.DeepEqual(got, c.byTrig) {
					t.Errorf("by trigger = %+v; want %+v", got, c.byTrig)
				}
				if !shareNear(r.OwnerClock, c.owner) {
					t.Errorf("owner clock = %+v; want %+v", r.OwnerClock, c.owner)
				}
			}
		})
	}
}

func TestTimeToFirstTouchDefinition(t *testing.T) {
	t.Parallel()
	r := computeDefinitions(t, "11-22 12:00")
	// Handoffs made in the week: P, Q, W2, U, W3, Y, N (X was before).
	// Contacted: P 1800/1800 (touch), Q 7200/7200 (touch), W2 3600/3600
	// (reject), W3 1800/1800 (accept), Y 900/0 (touch). U and N: open.
	// Raw sorted 900 1800 1800 3600 7200: p50 rank 2 = 1800; p90 rank 3.6 =
	// 3600 + .6 * 3600 = 5760. Business 0 1800 1800 3600 7200: the same.
	if want := (metrics.Dist{N: 5, P50: 1800, P90: 5760, Max: 7200}); !distNear(r.TTFT, want) {
		t.Errorf("ttft = %+v; want %+v", r.TTFT, want)
	}
	if want := (metrics.Dist{N: 5, P50: 1800, P90: 5760, Max: 7200}); !distNear(r.TTFTBusiness, want) {
		t.Errorf("ttft business = %+v; want %+v", r.TTFTBusiness, want)
	}
	if r.Untouched != 2 || r.HandedOff != 7 {
		t.Errorf("untouched %d of %d handoffs; want 2 of 7", r.Untouched, r.HandedOff)
	}
	if want := []metrics.ViaCount{{"touch", 3}, {"accept", 1}, {"reject", 1}}; !reflect.DeepEqual(r.Via, want) {
		t.Errorf("via = %+v; want %+v", r.Via, want)
	}
	// Business seconds: 0 < 15m; 1800, 1800 in 30m–1h; 3600 in 1h–2h; 7200 in 2h–4h.
	var counts []int
	for _, b := range r.TTFTHistogram {
		counts = append(counts, b.Count)
	}
	if want := []int{1, 0, 2, 1, 1, 0, 0, 0}; !reflect.DeepEqual(counts, want) {
		t.Errorf("histogram = %v; want %v", counts, want)
	}
}

func TestSpeedToLeadDefinition(t *testing.T) {
	t.Parallel()
	r := computeDefinitions(t, "11-22 12:00")
	// P 120 s (signal 09:58, handoff 10:00); Q 0; W2 0 (its pricing visit,
	// not the first quote request); U 600; W3 0; N 3600 (signal and MQL
	// 10:00, handoff 11:00); Y: no event row. Sorted 0 0 0 120 600 3600:
	// p50 rank 2.5 = 60; p90 rank 4.5 = 600 + .5 * 3000 = 2100.
	if want := (metrics.Dist{N: 6, P50: 60, P90: 2100, Max: 3600}); !distNear(r.SpeedToLead, want) {
		t.Errorf("speed to lead = %+v; want %+v", r.SpeedToLead, want)
	}
	if r.SpeedUnknown != 1 {
		t.Errorf("speed to lead unknown = %d; want 1", r.SpeedUnknown)
	}
}

func TestAcceptanceDefinition(t *testing.T) {
	t.Parallel()
	r := computeDefinitions(t, "11-22 12:00")
	// P accepted (r1), W3 accepted (r2); Q rejected bad_fit (r2), W2
	// rejected timing (r1); U (reassigned to r1), Y (r2), N (r1) pending.
	// 2 / (2 + 2).
	if r.Accepted != 2 || r.Rejected != 2 || r.Pending != 3 || !near(r.AcceptanceRate, 0.5) {
		t.Errorf("acceptance %d/%d/%d rate %v; want 2/2/3 0.5", r.Accepted, r.Rejected, r.Pending, r.AcceptanceRate)
	}
	want := []metrics.RepAcceptance{{Rep: "r1", Accepted: 1, Rejected: 1, Pending: 2, Rate: 0.5}, {Rep: "r2", Accepted: 1, Rejected: 1, Pending: 1, Rate: 0.5}}
	if !reflect.DeepEqual(r.AcceptanceByRep, want) {
		t.Errorf("by rep = %+v; want %+v", r.AcceptanceByRep, want)
	}
	if want := []metrics.ReasonCount{{"bad_fit", 1, 0.5}, {"timing", 1, 0.5}}; !reflect.DeepEqual(r.RejectionReasons, want) {
		t.Errorf("reasons = %+v; want %+v", r.RejectionReasons, want)
	}
	// Q came from ads (demo_request), W from web / spring (pricing_visits).
	if want := []metrics.Rejections{{Key: "ads", Total: 1, Reasons: []metrics.ReasonCount{{"bad_fit", 1, 1}}},
		{Key: "web / spring", Total: 1, Reasons: []metrics.ReasonCount{{"timing", 1, 1}}}}; !reflect.DeepEqual(r.RejectionsBySource, want) {
		t.Errorf("by source = %+v; want %+v", r.RejectionsBySource, want)
	}
	if want := []metrics.Rejections{{Key: "demo_request", Total: 1, Reasons: []metrics.ReasonCount{{"bad_fit", 1, 1}}},
		{Key: "pricing_visits", Total: 1, Reasons: []metrics.ReasonCount{{"timing", 1, 1}}}}; !reflect.DeepEqual(r.RejectionsByOffer, want) {
		t.Errorf("by offer = %+v; want %+v", r.RejectionsByOffer, want)
	}
}

func TestFunnelDefinition(t *testing.T) {
	t.Parallel()
	r := computeDefinitions(t, "11-22 12:00")
	// Cohort: P, Q, U, N, Y first entered in the week (W on 11-09, X on
	// 11-15). All reached handoff; P reached sal; Q was disqualified.
	want := []metrics.StageCount{{"lead", 5, 0}, {"mql", 5, 1}, {"handoff", 5, 1}, {"sal", 1, 0.2}, {"opportunity", 0, 0}, {"customer", 0, 0}}
	if !funnelNear(r.Cohort, want) || r.CohortRecycled != 0 {
		t.Errorf("cohort = %+v recycled %d; want %+v, 0", r.Cohort, r.CohortRecycled, want)
	}
	// Flow: the five new leads enter lead, mql and handoff once each; W
	// comes back twice (lead, mql, handoff: again), is recycled again and
	// reaches sal for the first time. P reaches sal, Q disqualified.
	wantFlow := []metrics.FlowCount{
		{"lead", 7, 5, 2}, {"mql", 7, 5, 2}, {"handoff", 7, 5, 2}, {"sal", 2, 2, 0},
		{"opportunity", 0, 0, 0}, {"customer", 0, 0, 0}, {"recycle", 1, 0, 1}, {"disqualified", 1, 1, 0}, {"merged", 0, 0, 0},
	}
	if !reflect.DeepEqual(r.Flow, wantFlow) {
		t.Errorf("flow = %+v; want %+v", r.Flow, wantFlow)
	}
}

func slaNear(a, b metrics.SLA) bool {
	return a.Met == b.Met && a.Breached == b.Breached && a.Pending == b.Pending && a.Unknown == b.Unknown && near(a.Rate, b.Rate)
}

func round(f float64) float64 { return float64(int(f*1e6+0.5)) / 1e6 }
