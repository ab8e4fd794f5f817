package lead_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

func TestCompareUrgency(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	handoff := func(id string, due time.Time, breached bool, score lead.ScoreView) lead.View {
		return lead.View{LeadID: id, Stage: lead.StageHandoff, Score: score,
			SLA: &lead.SLAView{Kind: lead.SLAFirstTouch, DueAt: due, Breached: breached}}
	}
	flat := func(total int) lead.ScoreView { return lead.ScoreView{Total: total, Fit: total} }
	// 90 as of a day ago with a 12h half-life: 10 fit + 80 intent → 10 + 20 = 30 now.
	decays := lead.ScoreView{Total: 90, Fit: 10, Intent: 80, IntentExact: 80, AsOf: now.Add(-24 * time.Hour), HalfLife: "12h"}
	due := now.Add(time.Hour)
	views := []lead.View{
		handoff("late-due", now.Add(3*time.Hour), false, flat(99)),
		handoff("same-due-40", due, false, flat(40)),
		handoff("same-due-decays", due, false, decays), // 30 now, below 40
		{LeadID: "no-deadline", Stage: lead.StageHandoff, Score: flat(100)},
		handoff("breached-later", now.Add(-time.Minute), true, flat(1)),
		handoff("breached", now.Add(-time.Hour), true, flat(1)),
		handoff("not-yet-marked", now.Add(-2*time.Hour), false, flat(1)), // past due, breach not recorded yet
		{LeadID: "sal", Stage: lead.StageSAL, SAL: &lead.SALView{StaleAt: now.Add(2 * time.Hour)}, Score: flat(5)},
		handoff("same-due-40-b", due, false, flat(40)),
	}
	slices.SortFunc(views, func(a, b lead.View) int { return lead.CompareUrgency(a, b, now) })
	var got []string
	for _, v := range views {
		got = append(got, v.LeadID)
	}
	want := "breached,breached-later,not-yet-marked,same-due-40,same-due-40-b,same-due-decays,sal,late-due,no-deadline"
	if strings.Join(got, ",") != want {
		t.Errorf("order\n got %s\nwant %s", strings.Join(got, ","), want)
	}
}
