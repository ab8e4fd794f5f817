package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

var queryNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func publish(t *testing.T, s *store.DB, v lead.View) {
	t.Helper()
	// Seq from the clock: a later publish of the same lead replaces it.
	if err := s.States().PublishState(t.Context(), actions.StateSnapshot{LeadID: v.LeadID, Seq: time.Now().UnixNano(), At: queryNow.Add(-time.Minute), View: v}); err != nil {
		t.Fatal(err)
	}
}

func inHandoff(id, owner string, due time.Time, breached bool, score lead.ScoreView) lead.View {
	return lead.View{LeadID: id, Stage: lead.StageHandoff, OwnerID: owner, Score: score,
		SLA: &lead.SLAView{Kind: lead.SLAFirstTouch, DueAt: due, Breached: breached}}
}

func ids(states []store.PublishedState) string {
	var out []string
	for _, s := range states {
		out = append(out, s.View.LeadID)
	}
	return strings.Join(out, ",")
}

func TestRepLeadsOrderAndFilter(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	flat := func(n int) lead.ScoreView { return lead.ScoreView{Total: n, Fit: n} }
	// 10 fit + 80 intent a day ago, half-life 12h: 30 now, though it published 90.
	decays := lead.ScoreView{Total: 90, Fit: 10, Intent: 80, IntentExact: 80, AsOf: queryNow.Add(-24 * time.Hour), HalfLife: "12h"}
	due := queryNow.Add(time.Hour)
	for _, v := range []lead.View{
		inHandoff("H-late", "rep-1", queryNow.Add(3*time.Hour), false, flat(99)),
		inHandoff("H-40", "rep-1", due, false, flat(40)),
		inHandoff("H-0-decays", "rep-1", due, false, decays),
		inHandoff("H-breached", "rep-1", queryNow.Add(-time.Minute), true, flat(1)),
		// 500 ms later than H-40's due: fractional seconds must compare as times, not text.
		inHandoff("H-frac", "rep-1", due.Add(500*time.Millisecond), false, flat(1)),
		inHandoff("H-other-rep", "rep-2", queryNow, true, flat(99)),
		{LeadID: "S-1", Stage: lead.StageSAL, OwnerID: "rep-1", SAL: &lead.SALView{Since: queryNow, StaleAt: queryNow.Add(48 * time.Hour)}},
		{LeadID: "S-2", Stage: lead.StageSAL, OwnerID: "rep-1", SAL: &lead.SALView{Since: queryNow, StaleAt: queryNow.Add(24 * time.Hour)}},
		{LeadID: "R-1", Stage: lead.StageRecycle, OwnerID: "rep-1"},
	} {
		publish(t, s, v)
	}
	got, total, err := s.States().RepLeads(t.Context(), "rep-1", lead.StageHandoff, queryNow, 10)
	if err != nil {
		t.Fatal(err)
	}
	if ids(got) != "H-breached,H-40,H-0-decays,H-frac,H-late" || total != 5 {
		t.Errorf("handoffs of rep-1 = %s (total %d), want H-breached,H-40,H-0-decays,H-frac,H-late (5)", ids(got), total)
	}
	if got[0].PublishedAt != queryNow.Add(-time.Minute) || got[0].View.SLA == nil || !got[0].View.SLA.Breached {
		t.Errorf("first row %+v", got[0])
	}
	// A limit that cuts through a tie on the deadline: the decayed score decides who stays.
	got, total, err = s.States().RepLeads(t.Context(), "rep-1", lead.StageHandoff, queryNow, 2)
	if err != nil || ids(got) != "H-breached,H-40" || total != 5 {
		t.Errorf("limit 2: %s (total %d, %v), want H-breached,H-40 (5)", ids(got), total, err)
	}
	got, total, err = s.States().RepLeads(t.Context(), "rep-1", lead.StageSAL, queryNow, 10)
	if err != nil || ids(got) != "S-2,S-1" || total != 2 {
		t.Errorf("SAL of rep-1: %s (total %d, %v), want S-2,S-1", ids(got), total, err)
	}
	if got, _, err := s.States().RepLeads(t.Context(), "rep-3", lead.StageHandoff, queryNow, 10); err != nil || len(got) != 0 {
		t.Errorf("rep-3: %s, %v", ids(got), err)
	}
	// Accepting moves a lead between the lists with its next publish.
	publish(t, s, lead.View{LeadID: "H-40", Stage: lead.StageSAL, OwnerID: "rep-1", SAL: &lead.SALView{Since: queryNow, StaleAt: queryNow.Add(time.Hour)}})
	if got, _, _ := s.States().RepLeads(t.Context(), "rep-1", lead.StageSAL, queryNow, 10); ids(got) != "H-40,S-2,S-1" {
		t.Errorf("SAL after accepting H-40: %s", ids(got))
	}
	if _, _, err := s.States().RepLeads(t.Context(), "", lead.StageSAL, queryNow, 10); err == nil || !strings.Contains(err.Error(), "owner") {
		t.Errorf("empty owner: %v", err)
	}
}

func TestOverdueLeads(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	past := func(d time.Duration) time.Time { return queryNow.Add(-d) }
	sal := func(id string, staleAt time.Time) lead.View {
		return lead.View{LeadID: id, Stage: lead.StageSAL, OwnerID: "rep-2", SAL: &lead.SALView{Since: past(72 * time.Hour), StaleAt: staleAt}}
	}
	coolOff := past(time.Hour)
	for _, v := range []lead.View{
		inHandoff("H-overdue", "rep-1", past(90*time.Minute), true, lead.ScoreView{}),
		inHandoff("H-due-soon", "rep-1", queryNow.Add(time.Minute), false, lead.ScoreView{}),
		inHandoff("H-due-now", "rep-1", queryNow, false, lead.ScoreView{}), // not yet past
		sal("S-stale", past(2*time.Hour)),
		sal("S-fresh", queryNow.Add(time.Hour)),
		{LeadID: "R-cooling", Stage: lead.StageRecycle, OwnerID: "rep-1", CoolOffUntil: &coolOff},
		{LeadID: "H-no-sla", Stage: lead.StageHandoff, OwnerID: "rep-1", SLA: &lead.SLAView{Kind: lead.SLAFirstTouch}},
		// An SLA left on a lead that moved on is not its deadline any more.
		{LeadID: "O-1", Stage: lead.StageOpportunity, OwnerID: "rep-1", SLA: &lead.SLAView{Kind: lead.SLAAcceptance, DueAt: past(time.Hour)}},
	} {
		publish(t, s, v)
	}
	got, err := s.States().OverdueLeads(t.Context(), queryNow, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.OverdueLead{
		{LeadID: "S-stale", Stage: "sal", OwnerID: "rep-2", Deadline: store.DeadlineSALStale, DueAt: past(2 * time.Hour)},
		{LeadID: "H-overdue", Stage: "handoff", OwnerID: "rep-1", Deadline: store.DeadlineSLA, Kind: lead.SLAFirstTouch, DueAt: past(90 * time.Minute)},
	}
	if len(got) != len(want) {
		t.Fatalf("overdue = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("overdue[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got, _ := s.States().OverdueLeads(t.Context(), queryNow, 1); len(got) != 1 || got[0].LeadID != "S-stale" {
		t.Errorf("limit 1: %+v", got)
	}
	// The lead's next state ends it: accepted, H-overdue is no longer stuck.
	publish(t, s, sal("H-overdue", queryNow.Add(7*24*time.Hour)))
	if got, _ := s.States().OverdueLeads(t.Context(), queryNow, 10); len(got) != 1 || got[0].LeadID != "S-stale" {
		t.Errorf("after H-overdue was accepted: %+v", got)
	}
}
