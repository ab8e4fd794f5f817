package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

func TestFastTrackHandoffTouchAccept(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	var handoff lead.View
	h.at(time.Minute, func() { handoff = h.state() })
	h.event(5*time.Minute, ev("touch-1", lead.EventRepTouch, map[string]any{"repId": "rep-7", "channel": "call"}))
	var touched lead.View
	h.at(6*time.Minute, func() { touched = h.state() })
	var accepted *updateResult
	h.at(10*time.Minute, func() {
		accepted = h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"})
	})
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}

	if handoff.Stage != lead.StageHandoff || handoff.OwnerID != "rep-7" || handoff.Segment != "mid-market" || handoff.Territory != "na-west" {
		t.Fatalf("handoff state: %+v", handoff)
	}
	if handoff.Score.Total != 70 || handoff.Score.Fit != 30 || handoff.Score.Intent != 40 {
		t.Fatalf("score: %+v", handoff.Score)
	}
	due := monday10.Add(15 * time.Minute)
	if handoff.SLA == nil || handoff.SLA.Kind != lead.SLAFirstTouch || !handoff.SLA.DueAt.Equal(due) {
		t.Fatalf("SLA: %+v, want first_touch due %s", handoff.SLA, due)
	}
	if !handoff.Nurture.Suppressed || !contains(handoff.Nurture.Reasons, lead.SuppressActiveSalesMotion) {
		t.Fatalf("nurture should be suppressed by the sales motion: %+v", handoff.Nurture)
	}
	wantHistory := []lead.Stage{lead.StageLead, lead.StageMQL, lead.StageHandoff}
	for i, tr := range handoff.History {
		if tr.To != wantHistory[i] {
			t.Fatalf("history %d: %+v", i, handoff.History)
		}
	}
	if len(h.f.tasks) != 1 {
		t.Fatalf("tasks: %+v", h.f.tasks)
	}
	task := h.f.tasks[0]
	if task.Kind != "handoff" || task.OwnerID != "rep-7" || !task.DueAt.Equal(due) || task.Email != "ana@acme.io" {
		t.Fatalf("task: %+v", task)
	}
	c := task.Context
	if c == nil || !strings.Contains(c.WhyNow, "quote_request") || c.Campaign["utm_campaign"] != "q4-pricing" ||
		len(c.Timeline) != 1 || c.Timeline[0].EventID != "evt-1" || c.Trigger != "quote_request" {
		t.Fatalf("task context: %+v", c)
	}
	foundRule := false
	for _, b := range c.Score.Breakdown {
		if b.Rule == "quote_request" && b.Points == 40 && b.EventID == "evt-1" {
			foundRule = true
		}
	}
	if !foundRule {
		t.Fatalf("breakdown lacks quote_request: %+v", c.Score.Breakdown)
	}

	if touched.SLA == nil || touched.SLA.Kind != lead.SLAAcceptance {
		t.Fatalf("after touch the acceptance clock should run: %+v", touched.SLA)
	}
	if !accepted.done || accepted.err != nil || accepted.view.Stage != lead.StageSAL || accepted.view.SLA != nil {
		t.Fatalf("accept: %+v", accepted)
	}
	// The owner was told of the handoff; no ladder step ran (touched at 5m).
	if got := h.f.notifyKinds(); !equal(got, []string{"handoff:rep-7"}) {
		t.Fatalf("notifications: %v", got)
	}
	kinds := h.f.ledgerKinds()
	if kinds["first_touch"] != 1 || kinds["feedback"] != 1 || kinds["routing"] != 1 || kinds["transition"] != 4 {
		t.Fatalf("ledger: %v", kinds)
	}
	if h.saValue(lead.SALeadStage) != "sal" || h.saValue(lead.SALeadOwner) != "rep-7" || h.saValue(lead.SALeadScore) != int64(70) ||
		h.saValue(lead.SAPolicyVersion) != "2026-11-22.1" || h.saValue(lead.SALeadSegment) != "mid-market" {
		t.Fatalf("search attributes: %v", h.sa)
	}
}
