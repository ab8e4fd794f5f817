package metrics_test

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// at parses "MM-DD HH:MM" in November 2026, UTC.
func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", "2026-"+s)
	if err != nil {
		panic(err)
	}
	return t
}

// who carries a lead's dimensions.
type who struct {
	id, segment, source, campaign, territory, policy string
}

func (w who) entry(kind, key, when, owner string) actions.LedgerEntry {
	return actions.LedgerEntry{Key: "lead-" + w.id + ":" + key, LeadID: w.id, Kind: kind, At: at(when), OwnerID: owner,
		Segment: w.segment, Source: w.source, Campaign: w.campaign, Territory: w.territory, PolicyVersion: w.policy}
}

func (w who) tr(seq int, when string, from, to lead.Stage, owner, why string) actions.LedgerEntry {
	e := w.entry(actions.LedgerTransition, fmt.Sprintf("transition:%d:%s:%s", seq, from, to), when, owner)
	e.From, e.To, e.Why = from, to, why
	return e
}

func (w who) route(n int, when, pool, owner string) actions.LedgerEntry {
	e := w.entry(actions.LedgerRouting, fmt.Sprintf("handoff:%d:assign:%s", n, owner), when, owner)
	e.Data = map[string]any{"rule": "r", "pool": pool, "fallback": false}
	return e
}

func (w who) touch(when, owner string, raw, business int, met bool) actions.LedgerEntry {
	e := w.entry(actions.LedgerTouch, "touch:"+when, when, owner)
	e.Data = map[string]any{"ttftSeconds": raw, "ttftBusinessSeconds": business, "slaMet": met}
	return e
}

func (w who) fb(when, owner string, cycle int, outcome, reason string) actions.LedgerEntry {
	e := w.entry(actions.LedgerFeedback, "feedback:"+when, when, owner)
	e.Data = map[string]any{"outcome": outcome, "cycle": cycle, "repId": owner}
	if reason != "" {
		e.Data["reason"] = reason
	}
	return e
}

func (w who) step(when, owner, sla string, cycle, seq, index int, action string, breached bool, due string) actions.LedgerEntry {
	e := w.entry(actions.LedgerSLAStep, fmt.Sprintf("handoff:%d:sla:%s:%d:%d", cycle, sla, seq, index), when, owner)
	e.Data = map[string]any{"sla": sla, "step": index, "action": action, "breached": breached, "cycle": cycle, "dueAt": at(due)}
	return e
}

func (w who) event(when, id, typ string, amount any) actions.LedgerEntry {
	e := w.entry(actions.LedgerEvent, "event:"+id, when, "")
	attrs := map[string]any{}
	if amount != nil {
		attrs["amount"] = amount
	}
	e.Data = map[string]any{"eventId": id, "type": typ, "attributes": attrs}
	return e
}

const (
	lS  = lead.StageLead
	mS  = lead.StageMQL
	hS  = lead.StageHandoff
	sS  = lead.StageSAL
	oS  = lead.StageOpportunity
	cS  = lead.StageCustomer
	rS  = lead.StageRecycle
	dqS = lead.StageDisqualified
)

// scenario is the ledger the expectations below are computed from by hand.
// The period is the week Mon 2026-11-16 00:00 .. Mon 2026-11-23 00:00 UTC.
func scenario() []actions.LedgerEntry {
	A := who{"A", "smb", "web", "spring", "na", "v1"}
	B := who{"B", "mid", "ads", "", "emea", "v1"}
	C := who{"C", "smb", "web", "spring", "na", "v2"}
	D := who{"D", "mid", "ads", "", "emea", "v1"}
	E := who{"E", "smb", "web", "", "na", "v1"}
	F := who{"F", "mid", "ads", "", "emea", "v1"}
	G := who{"G", "smb", "web", "spring", "na", "v1"}
	H := who{"H", "mid", "ads", "", "emea", "v1"}
	I := who{"I", "smb", "web", "", "na", "v1"}
	hSAL := H.entry(actions.LedgerSLAStep, "handoff:1:sal-stale:remind", "11-15 09:00", "r2")
	hSAL.Data = map[string]any{"sla": "sal_stale", "action": "remind", "cycle": 1}
	return []actions.LedgerEntry{
		// A: handed off, touched in 30 min, accepted, opportunity (5000), won ("6000").
		A.tr(1, "11-16 09:00", "", lS, "", "first event"),
		A.tr(2, "11-16 10:00", lS, mS, "", "score"),
		A.route(1, "11-16 10:00", "p1", "r1"),
		A.tr(3, "11-16 10:00", mS, hS, "r1", "pool p1"),
		A.touch("11-16 10:30", "r1", 1800, 1800, true),
		A.fb("11-16 12:00", "r1", 1, "accepted", ""),
		A.tr(4, "11-16 12:00", hS, sS, "r1", "accepted by r1"),
		A.event("11-18 12:00", "E1", "opportunity.created", 5000),
		A.tr(5, "11-18 12:00", sS, oS, "r1", "opportunity created (E1), amount 5000"),
		A.event("11-20 12:00", "E2", "opportunity.won", "6000"),
		A.tr(6, "11-20 12:00", oS, cS, "r1", "opportunity won (E2), amount 6000"),

		// B: handed off Fri 11-13 16:00, first touch Mon 11-16 10:00: across
		// the weekend. Raw: 2 days 18 hours = 237600 s. Business hours
		// (Mon-Fri 09:00-17:00): Fri 16:00-17:00 = 1 h, Sat and Sun = 0,
		// Mon 09:00-10:00 = 1 h, so 2 h = 7200 s. The acceptance clock then
		// breached (escalate), was reassigned to r3, who accepted late.
		B.tr(1, "11-12 09:00", "", lS, "", "first event"),
		B.tr(2, "11-13 16:00", lS, mS, "", "score"),
		B.route(1, "11-13 16:00", "p2", "r2"),
		B.tr(3, "11-13 16:00", mS, hS, "r2", "pool p2"),
		B.touch("11-16 10:00", "r2", 237600, 7200, true),
		B.step("11-17 10:00", "r2", "acceptance", 1, 2, 1, "remind", false, "11-18 10:00"),
		B.step("11-18 10:00", "r2", "acceptance", 1, 2, 2, "escalate", true, "11-18 10:00"),
		B.step("11-19 10:00", "r2", "acceptance", 1, 2, 3, "reassign", true, "11-18 10:00"),
		B.route(2, "11-19 10:00", "p2", "r3"),
		B.fb("11-19 15:00", "r3", 1, "accepted", ""),
		B.tr(4, "11-19 15:00", hS, sS, "r3", "accepted by r3"),

		// C (policy v2): first touch late, rejected (timing), recycled, back
		// as MQL waiting for a field, handed off again (still open).
		C.tr(1, "11-10 09:00", "", lS, "", "first event"),
		C.tr(2, "11-17 09:00", lS, mS, "", "score"),
		C.route(1, "11-17 09:00", "p1", "r1"),
		C.tr(3, "11-17 09:00", mS, hS, "r1", "pool p1"),
		C.step("11-17 09:30", "r1", "first_touch", 1, 1, 1, "remind", false, "11-17 10:00"),
		C.step("11-17 10:00", "r1", "first_touch", 1, 1, 2, "escalate", true, "11-17 10:00"),
		C.touch("11-17 13:00", "r1", 14400, 14400, false),
		C.fb("11-17 14:00", "r1", 1, "rejected", "timing"),
		C.tr(4, "11-17 14:00", hS, rS, "", "rejected by r1: timing; play timing until 2027-02-15T14:00:00Z"),
		C.tr(5, "11-19 09:00", rS, lS, "", "cool-off of play timing ended"),
		C.tr(6, "11-19 09:00", lS, mS, "", "score 60"),
		C.route(2, "11-20 09:00", "p1", "r1"),
		C.tr(7, "11-20 09:00", mS, hS, "r1", "pool p1"),

		// D: rejected bad_fit, disqualified; never touched.
		D.tr(1, "11-18 08:00", "", lS, "", "first event"),
		D.tr(2, "11-18 09:00", lS, mS, "", "score"),
		D.route(1, "11-18 09:00", "p2", "r2"),
		D.tr(3, "11-18 09:00", mS, hS, "r2", "pool p2"),
		D.fb("11-18 11:00", "r2", 1, "rejected", "bad_fit"),
		D.tr(4, "11-18 11:00", hS, dqS, "", "rejected by r2: bad_fit"),

		// E: handed off Saturday, untouched; its first-touch clock (due Mon
		// 11-23 13:00) reminded after the period.
		E.tr(1, "11-21 09:00", "", lS, "", "first event"),
		E.tr(2, "11-21 10:00", lS, mS, "", "score"),
		E.route(1, "11-21 10:00", "p1", "r1"),
		E.tr(3, "11-21 10:00", mS, hS, "r1", "pool p1"),
		E.step("11-23 11:00", "r1", "first_touch", 1, 1, 1, "remind", false, "11-23 13:00"),

		// F: recycled (no_response) just inside the period, back as MQL,
		// accepted without a touch, opportunity without amount, won (1000).
		F.tr(10, "11-16 08:00", hS, rS, "", "rejected by r2: no_response; play no_response until 2026-11-17T08:00:00Z"),
		F.tr(11, "11-17 08:00", rS, lS, "", "cool-off of play no_response ended"),
		F.tr(12, "11-17 08:00", lS, mS, "", "score"),
		F.route(2, "11-17 08:00", "p2", "r2"),
		F.tr(13, "11-17 08:00", mS, hS, "r2", "pool p2"),
		F.fb("11-17 09:00", "r2", 2, "accepted", ""),
		F.tr(14, "11-17 09:00", hS, sS, "r2", "accepted by r2"),
		F.event("11-17 12:00", "E3", "opportunity.created", nil),
		F.tr(15, "11-17 12:00", sS, oS, "r2", "opportunity created (E3)"),
		F.event("11-22 12:00", "E4", "opportunity.won", 1000),
		F.tr(16, "11-22 12:00", oS, cS, "r2", "opportunity won (E4), amount 1000"),

		// G: rejected (no_response) twice: recycled, back, recycled again.
		G.route(1, "11-15 09:00", "p1", "r1"),
		G.fb("11-16 09:00", "r1", 1, "rejected", "no_response"),
		G.tr(4, "11-16 09:00", hS, rS, "", "rejected by r1: no_response; play no_response until 2026-11-18T09:00:00Z"),
		G.tr(5, "11-18 09:00", rS, lS, "", "cool-off ended"),
		G.tr(6, "11-18 09:00", lS, mS, "", "score"),
		G.route(2, "11-18 09:00", "p1", "r1"),
		G.tr(7, "11-18 09:00", mS, hS, "r1", "pool p1"),
		G.fb("11-19 09:00", "r1", 2, "rejected", "no_response"),
		G.tr(8, "11-19 09:00", hS, rS, "", "rejected by r1: no_response; play no_response until 2026-12-19T09:00:00Z"),

		// H: accepted long ago, SAL-stale reminder fired: stuck in sal.
		H.tr(4, "11-01 09:00", hS, sS, "r2", "accepted by r2"),
		hSAL,

		// I: MQL after the period, waiting for a field.
		I.tr(1, "11-23 09:00", "", lS, "", "first event"),
		I.tr(2, "11-23 10:00", lS, mS, "", "score 55; waiting for company"),
	}
}

var week = metrics.Period{From: at("11-16 00:00"), To: at("11-23 00:00")}

// later is "now" for the old scenario: a week after it, every fact counts.
var later = at("11-30 00:00")

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestComputeAll(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	if err := s.Ledger().Record(t.Context(), scenario()); err != nil {
		t.Fatal(err)
	}
	rep, err := metrics.ComputeAt(t.Context(), s.Pool(), week, "", later)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 {
		t.Fatalf("rows = %d, want 1", len(rep.Rows))
	}
	r := rep.Rows[0]
	// These rows are written as the ledger was before handoff transitions
	// carried their deadline (and first_touch rows came only from touches):
	// the old rows computed as they are.
	// Handoffs in the period: A, C (twice), D, E, F, G = 7 (B's was on
	// 11-13; G's 11-16 rejection belongs to a handoff the ledger lacks).
	// Accepted: A, F. Rejected: C's first, D, G's. Pending: C's second, E.
	if r.HandedOff != 7 || r.Accepted != 2 || r.Rejected != 3 || r.Pending != 2 || !near(r.AcceptanceRate, 2.0/5) {
		t.Errorf("handoffs = %d: %d/%d/%d rate %v; want 7: 2/3/2 2/5", r.HandedOff, r.Accepted, r.Rejected, r.Pending, r.AcceptanceRate)
	}
	// Rejections of those handoffs: C timing, D bad_fit, G no_response.
	wantReasons := []metrics.ReasonCount{{"bad_fit", 1, 1.0 / 3}, {"no_response", 1, 1.0 / 3}, {"timing", 1, 1.0 / 3}}
	if !reasonsNear(r.RejectionReasons, wantReasons) {
		t.Errorf("reasons = %+v; want %+v", r.RejectionReasons, wantReasons)
	}
	// First touches of those handoffs: A 1800/1800, C 14400/14400 (B's
	// belongs to its 11-13 handoff). p50 8100; p90 1800 + .9*12600 = 13140.
	if want := (metrics.Dist{N: 2, P50: 8100, P90: 13140, Max: 14400}); !distNear(r.TTFT, want) || !distNear(r.TTFTBusiness, want) {
		t.Errorf("ttft = %+v, business %+v; want %+v", r.TTFT, r.TTFTBusiness, want)
	}
	if r.Untouched != 5 || r.Via[0] != (metrics.ViaCount{Via: "touch", Count: 2}) {
		t.Errorf("untouched %d, via %+v; want 5, touch 2", r.Untouched, r.Via)
	}
	// No old row holds a handoff's deadline: the SLA cannot judge them.
	if want := (metrics.SLA{Unknown: 7}); r.FirstTouchSLA != want {
		t.Errorf("first touch SLA = %+v; want %+v", r.FirstTouchSLA, want)
	}
	// Acceptance SLA: A and F accepted with no breach; B after its
	// acceptance clock's escalate step.
	if want := (metrics.Share{Met: 2, Total: 3, Rate: 2.0 / 3}); !shareNear(r.AcceptanceSLA, want) {
		t.Errorf("acceptance SLA = %+v; want %+v", r.AcceptanceSLA, want)
	}
	// Breached clocks: B's acceptance clock (escalate + reassign), C's
	// first-touch clock; escalations B, C; reassignments B. (E's step is
	// after the period.)
	if r.Breaches != 2 || r.Escalations != 2 || r.Reassignments != 1 {
		t.Errorf("breaches/escalations/reassignments = %d/%d/%d; want 2/2/1", r.Breaches, r.Escalations, r.Reassignments)
	}
	// Cohort: A, D, E first entered in the week. A reached customer, D was
	// disqualified after handoff, E waits in handoff.
	wantCohort := []metrics.StageCount{{"lead", 3, 0}, {"mql", 3, 1}, {"handoff", 3, 1}, {"sal", 1, 1.0 / 3}, {"opportunity", 1, 1}, {"customer", 1, 1}}
	if !funnelNear(r.Cohort, wantCohort) {
		t.Errorf("cohort = %+v; want %+v", r.Cohort, wantCohort)
	}
	// Flow: F's and G's first lead rows in the ledger are their returns
	// from recycle, so they count as new; C's return is again.
	wantFlow := []metrics.FlowCount{{"lead", 6, 5, 1}, {"mql", 7, 6, 1}, {"handoff", 7, 6, 1}, {"sal", 3, 3, 0},
		{"opportunity", 2, 2, 0}, {"customer", 2, 2, 0}, {"recycle", 4, 3, 1}, {"disqualified", 1, 1, 0}, {"merged", 0, 0, 0}}
	if !reflect.DeepEqual(r.Flow, wantFlow) {
		t.Errorf("flow = %+v; want %+v", r.Flow, wantFlow)
	}
	// Stays that ended in the period, in days:
	//   lead: A 1/24, C 7 (11-10..11-17), C 0, D 1/24, E 1/24, F 0, G 0 -> median 1/24
	//   mql: A 0, C 0, C 1 (11-19..11-20), D 0, E 0, F 0, G 0 -> 0
	//   handoff: A 2/24, B 5+23/24, C 5/24, D 2/24, F 1/24, G 1 -> (2/24+5/24)/2 = 7/48
	//   sal: A 2, F 3/24 -> 1.0625
	//   opportunity: A 2, F 5 -> 3.5
	//   recycle: C 1+19/24, F 1, G 2 -> 43/24
	wantVel := []metrics.StageDays{{"lead", 7, 1.0 / 24}, {"mql", 7, 0}, {"handoff", 6, 7.0 / 48}, {"sal", 2, 1.0625}, {"opportunity", 2, 3.5}, {"recycle", 3, 43.0 / 24}}
	if !velNear(r.Velocity, wantVel) {
		t.Errorf("velocity = %+v; want %+v", r.Velocity, wantVel)
	}
	// Opportunities: A (5000), F (no amount). Won: A ("6000"), F (1000).
	if want := (metrics.Money{Count: 2, Priced: 1, Amount: 5000}); r.Pipeline != want {
		t.Errorf("pipeline = %+v; want %+v", r.Pipeline, want)
	}
	if want := (metrics.Money{Count: 2, Priced: 2, Amount: 7000}); r.Won != want {
		t.Errorf("won = %+v; want %+v", r.Won, want)
	}
	// Recycles: C (timing) came back as MQL; F (no_response) came back and
	// won; G's first came back and was recycled again, its second has not
	// come back.
	wantRec := []metrics.Recycle{
		{Play: "no_response", Recycled: 3, BackToMQL: 2, Won: 1, Lost: 0, RecycledAgain: 1},
		{Play: "timing", Recycled: 1, BackToMQL: 1},
	}
	if !reflect.DeepEqual(r.Recycles, wantRec) {
		t.Errorf("recycles = %+v; want %+v", r.Recycles, wantRec)
	}
	// C's second MQL (11-19) was not handed off at once: it waited.
	if r.WaitedEnrichment != 1 {
		t.Errorf("waited for enrichment = %d; want 1", r.WaitedEnrichment)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Error(err)
	}
}

func TestComputeBySegment(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	if err := s.Ledger().Record(t.Context(), scenario()); err != nil {
		t.Fatal(err)
	}
	rep, err := metrics.ComputeAt(t.Context(), s.Pool(), week, metrics.BySegment, later)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 || rep.Rows[0].Key != "mid" || rep.Rows[1].Key != "smb" {
		t.Fatalf("rows = %+v; want mid, smb", keys(rep))
	}
	mid, smb := rep.Rows[0], rep.Rows[1]
	// smb = A, C, E, G: handoffs A, C, C, E, G; accepted A; rejected C, G.
	if smb.HandedOff != 5 || smb.Accepted != 1 || smb.Rejected != 2 {
		t.Errorf("smb handoffs %d/%d/%d; want 5/1/2", smb.HandedOff, smb.Accepted, smb.Rejected)
	}
	if want := []metrics.ReasonCount{{"no_response", 1, 0.5}, {"timing", 1, 0.5}}; !reasonsNear(smb.RejectionReasons, want) {
		t.Errorf("smb reasons %+v; want %+v", smb.RejectionReasons, want)
	}
	// smb touches 1800 and 14400: p50 8100, p90 1800 + .9*12600 = 13140.
	if want := (metrics.Dist{N: 2, P50: 8100, P90: 13140, Max: 14400}); !distNear(smb.TTFTBusiness, want) {
		t.Errorf("smb business ttft %+v; want %+v", smb.TTFTBusiness, want)
	}
	if smb.FirstTouchSLA != (metrics.SLA{Unknown: 5}) || smb.AcceptanceSLA.Met != 1 || smb.AcceptanceSLA.Total != 1 {
		t.Errorf("smb SLA %+v %+v; want 5 unknown, 1/1", smb.FirstTouchSLA, smb.AcceptanceSLA)
	}
	if smb.Breaches != 1 || smb.Escalations != 1 || smb.Reassignments != 0 {
		t.Errorf("smb steps %d/%d/%d; want 1/1/0", smb.Breaches, smb.Escalations, smb.Reassignments)
	}
	// smb cohort: A and E.
	if want := []metrics.StageCount{{"lead", 2, 0}, {"mql", 2, 1}, {"handoff", 2, 1}, {"sal", 1, 0.5}, {"opportunity", 1, 1}, {"customer", 1, 1}}; !funnelNear(smb.Cohort, want) {
		t.Errorf("smb cohort %+v; want %+v", smb.Cohort, want)
	}
	if smb.Pipeline != (metrics.Money{Count: 1, Priced: 1, Amount: 5000}) || smb.Won != (metrics.Money{Count: 1, Priced: 1, Amount: 6000}) {
		t.Errorf("smb pipeline %+v won %+v", smb.Pipeline, smb.Won)
	}
	if want := []metrics.Recycle{{"no_response", 2, 1, 0, 0, 1}, {"timing", 1, 1, 0, 0, 0}}; !reflect.DeepEqual(smb.Recycles, want) {
		t.Errorf("smb recycles %+v; want %+v", smb.Recycles, want)
	}
	if smb.WaitedEnrichment != 1 || mid.WaitedEnrichment != 0 {
		t.Errorf("waited: smb %d mid %d; want 1, 0", smb.WaitedEnrichment, mid.WaitedEnrichment)
	}
	// mid = B, D, F: handoffs D, F; accepted F; rejected D (bad_fit). B's
	// weekend touch only: 237600 raw, 7200 business. Acceptance: F met, B
	// breached. B's three steps: one clock, one escalation, one reassign.
	if mid.HandedOff != 2 || mid.Accepted != 1 || mid.Rejected != 1 {
		t.Errorf("mid handoffs %d/%d/%d; want 2/1/1", mid.HandedOff, mid.Accepted, mid.Rejected)
	}
	if want := []metrics.ReasonCount{{"bad_fit", 1, 1}}; !reflect.DeepEqual(mid.RejectionReasons, want) {
		t.Errorf("mid reasons %+v", mid.RejectionReasons)
	}
	// B's weekend touch belongs to its 11-13 handoff; D and F were not touched.
	if mid.TTFT.N != 0 || mid.Untouched != 2 {
		t.Errorf("mid ttft %+v, untouched %d; want none, 2", mid.TTFT, mid.Untouched)
	}
	if mid.AcceptanceSLA.Met != 1 || mid.AcceptanceSLA.Total != 2 || mid.Breaches != 1 || mid.Escalations != 1 || mid.Reassignments != 1 {
		t.Errorf("mid SLA %+v steps %d/%d/%d", mid.AcceptanceSLA, mid.Breaches, mid.Escalations, mid.Reassignments)
	}
	// mid cohort: D, disqualified after its handoff.
	if want := []metrics.StageCount{{"lead", 1, 0}, {"mql", 1, 1}, {"handoff", 1, 1}, {"sal", 0, 0}, {"opportunity", 0, 0}, {"customer", 0, 0}}; !funnelNear(mid.Cohort, want) {
		t.Errorf("mid cohort %+v; want %+v", mid.Cohort, want)
	}
	if mid.Pipeline != (metrics.Money{Count: 1}) || mid.Won != (metrics.Money{Count: 1, Priced: 1, Amount: 1000}) {
		t.Errorf("mid pipeline %+v won %+v", mid.Pipeline, mid.Won)
	}
	if want := []metrics.Recycle{{"no_response", 1, 1, 1, 0, 0}}; !reflect.DeepEqual(mid.Recycles, want) {
		t.Errorf("mid recycles %+v", mid.Recycles)
	}
}

// TestComputeDimensions checks the handoff counts (handed off, accepted,
// rejected) per value of every other dimension, and the acceptance SLA by
// rep (B's late acceptance belongs to r3, who accepted).
func TestComputeDimensions(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	if err := s.Ledger().Record(t.Context(), scenario()); err != nil {
		t.Fatal(err)
	}
	type hc struct {
		key              string
		handed, acc, rej int
	}
	cases := map[string][]hc{
		// web / spring = A, C, G; web = E; ads = B, D, F.
		metrics.BySource:    {{"ads", 2, 1, 1}, {"web", 1, 0, 0}, {"web / spring", 4, 1, 2}},
		metrics.ByTerritory: {{"emea", 2, 1, 1}, {"na", 5, 1, 2}},
		// Pool of the routing row at or before each fact; rows before any
		// routing (first transitions, F's recycle) have none.
		metrics.ByPool: {{"", 0, 0, 0}, {"p1", 5, 1, 2}, {"p2", 2, 1, 1}},
		// Owner of the handoff transition; rows without an owner are "";
		// r3 only accepted B (handed off to r2 before the period).
		metrics.ByRep:    {{"", 0, 0, 0}, {"r1", 5, 1, 2}, {"r2", 2, 1, 1}, {"r3", 0, 0, 0}},
		metrics.ByPolicy: {{"v1", 5, 2, 2}, {"v2", 2, 0, 1}},
	}
	for by, want := range cases {
		rep, err := metrics.ComputeAt(t.Context(), s.Pool(), week, by, later)
		if err != nil {
			t.Fatalf("by %s: %v", by, err)
		}
		var got []hc
		for _, r := range rep.Rows {
			got = append(got, hc{r.Key, r.HandedOff, r.Accepted, r.Rejected})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("by %s: %+v; want %+v", by, got, want)
		}
		if by == metrics.ByRep {
			acc := map[string]metrics.Share{}
			for _, r := range rep.Rows {
				acc[r.Key] = r.AcceptanceSLA
			}
			if acc["r1"].Met != 1 || acc["r1"].Total != 1 || acc["r2"].Met != 1 || acc["r2"].Total != 1 || acc["r3"].Met != 0 || acc["r3"].Total != 1 {
				t.Errorf("acceptance SLA by rep: %+v", acc)
			}
		}
	}
	if _, err := metrics.ComputeAt(t.Context(), s.Pool(), week, "colour", later); err == nil {
		t.Error("unknown dimension accepted")
	}
}

func TestLeakage(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	if err := s.Ledger().Record(t.Context(), scenario()); err != nil {
		t.Fatal(err)
	}
	// At 14:00 on 11-23: E's first-touch clock (due 13:00, reported by its
	// reminder) is an hour overdue; H's SAL-stale reminder fired; C is in
	// handoff with no step on its current clock (not known overdue); I waits
	// for a field.
	lk, err := metrics.Leakage(t.Context(), s.Pool(), at("11-23 14:00"))
	if err != nil {
		t.Fatal(err)
	}
	got := stuckIDs(lk.Stuck)
	if want := []string{"H sal", "E handoff"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stuck = %v; want %v", got, want)
	}
	if len(lk.Stuck) == 2 && (!lk.Stuck[1].DueAt.Equal(at("11-23 13:00")) || lk.Stuck[1].Overdue != 3600 || lk.Stuck[1].OwnerID != "r1") {
		t.Errorf("E = %+v; want due 13:00, overdue 3600 s, owner r1", lk.Stuck[1])
	}
	if got := stuckIDs(lk.Waiting); !reflect.DeepEqual(got, []string{"I mql"}) {
		t.Errorf("waiting = %v; want [I mql]", got)
	}
	// At noon E's clock is not yet due; I is already waiting.
	lk, err = metrics.Leakage(t.Context(), s.Pool(), at("11-23 12:00"))
	if err != nil {
		t.Fatal(err)
	}
	if got := stuckIDs(lk.Stuck); !reflect.DeepEqual(got, []string{"H sal"}) {
		t.Errorf("stuck at noon = %v; want [H sal]", got)
	}
	// At 09:30 I is not an MQL yet.
	lk, err = metrics.Leakage(t.Context(), s.Pool(), at("11-23 09:30"))
	if err != nil {
		t.Fatal(err)
	}
	if len(lk.Waiting) != 0 {
		t.Errorf("waiting at 09:30 = %v", stuckIDs(lk.Waiting))
	}
}

func stuckIDs(ss []metrics.Stuck) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.LeadID+" "+s.Stage)
	}
	return out
}

func keys(r metrics.Report) []string {
	var out []string
	for _, row := range r.Rows {
		out = append(out, row.Key)
	}
	return out
}

func distNear(a, b metrics.Dist) bool {
	return a.N == b.N && near(a.P50, b.P50) && near(a.P90, b.P90) && near(a.Max, b.Max)
}

func shareNear(a, b metrics.Share) bool {
	return a.Met == b.Met && a.Total == b.Total && near(a.Rate, b.Rate)
}

func reasonsNear(a, b []metrics.ReasonCount) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Reason != b[i].Reason || a[i].Count != b[i].Count || !near(a[i].Share, b[i].Share) {
			return false
		}
	}
	return true
}

func funnelNear(a, b []metrics.StageCount) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Stage != b[i].Stage || a[i].Leads != b[i].Leads || !near(a[i].Rate, b[i].Rate) {
			return false
		}
	}
	return true
}

func velNear(a, b []metrics.StageDays) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Stage != b[i].Stage || a[i].Stays != b[i].Stays || !near(a[i].MedianDays, b[i].MedianDays) {
			return false
		}
	}
	return true
}
