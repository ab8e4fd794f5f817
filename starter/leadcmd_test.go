package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

func leadView(id string) lead.View {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return lead.View{
		LeadID: id, Stage: lead.StageHandoff, OwnerID: "rep-7", Segment: "mid-market", Territory: "na-west",
		Score: lead.ScoreView{Total: 65, Fit: 20, Intent: 45, Breakdown: []lead.ScoreItem{
			{Rule: "quote_request", Points: 40, EventID: "evt-81f2"}, {Rule: "icp_size", Points: 20, Kind: "fit"},
		}},
		SLA:           &lead.SLAView{Kind: lead.SLAFirstTouch, DueAt: at.Add(15 * time.Minute), Level: 1, NextStep: "escalate", NextAt: at.Add(15 * time.Minute)},
		Nurture:       lead.NurtureView{Enrolled: true, Suppressed: true, Reasons: []string{lead.SuppressActiveSalesMotion}},
		PolicyVersion: "2026-11-22.1",
		History: []lead.Transition{
			{At: at.Add(-time.Minute), From: "", To: lead.StageLead, Why: "first event"},
			{At: at, From: lead.StageMQL, To: lead.StageHandoff, Why: "routed by na_west"},
		},
	}
}

func TestLeadShowSummaryAndToken(t *testing.T) {
	ts, leads := fakeAPI(t, "s3cret", nil)
	leads.views["L-1"] = leadView("L-1")
	ta := newTestApp(t, clientEnv(ts, "s3cret"))
	if code := ta.run(t, "lead", "show", "L-1"); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"lead L-1", "handoff", "rep-7", "mid-market", "na-west",
		"65 (fit 20, intent 45)", "+40 quote_request", "first_touch due 2026-11-22 10:15:00Z", "level 1",
		"active_sales_motion", "mql → handoff", "routed by na_west"} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	// Without the token the API refuses.
	ta2 := newTestApp(t, clientEnv(ts, ""))
	if code := ta2.run(t, "lead", "show", "L-1"); code != exitFailure || !strings.Contains(ta2.errOut.String(), "401") {
		t.Fatalf("no token: exit %d, stderr %q", code, ta2.errOut)
	}
}

func TestLeadShowNotFound(t *testing.T) {
	ts, _ := fakeAPI(t, "", nil)
	ta := newTestApp(t, clientEnv(ts, ""))
	if code := ta.run(t, "lead", "show", "L-404"); code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(ta.errOut.String(), "lead L-404 not found") {
		t.Errorf("stderr %q", ta.errOut)
	}
}

func TestLeadExplain(t *testing.T) {
	ts, leads := fakeAPI(t, "", nil)
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	leads.explain["L-1"] = lead.Explanation{
		LeadID: "L-1", Stage: lead.StageHandoff, Why: "quote request fast-tracked", Threshold: 50, Trigger: "quote_request",
		Score: leadView("L-1").Score,
		Routing: &lead.RoutingView{At: at, Rule: "na_west", Territory: "na-west", Pool: "na-west-sdrs", Strategy: "weighted_round_robin",
			OwnerID: "rep-7", Candidates: []lead.Candidate{{RepID: "rep-7", Chosen: true}, {RepID: "rep-8", Skipped: "at capacity"}},
			Inputs: map[string]string{"country": "US", "region": "CA"}, Why: "first matching rule"},
		Ladder:   []lead.LadderTaken{{At: at, SLA: "first_touch", Step: 0, Action: "remind", OwnerID: "rep-7"}},
		Refusals: []lead.Refusal{{At: at, EventID: "crm-1", Type: "lead.accepted", Message: "rep-8 is not the owner"}},
		Alerts:   []lead.Alert{{At: at, Kind: "max_reassigns", Message: "gave it to the fallback"}},
	}
	ta := newTestApp(t, clientEnv(ts, ""))
	if code := ta.run(t, "lead", "explain", "L-1"); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"quote request fast-tracked", "rule:", "na_west", "na-west-sdrs (weighted_round_robin)",
		"* rep-7 chosen", "- rep-8 skipped: at capacity", "country=US region=CA", "first_touch step 0: remind",
		"rep-8 is not the owner", "max_reassigns"} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("explain lacks %q", want)
		}
	}
	if code := ta.run(t, "lead", "explain", "--json", "L-1"); code != exitOK || !json.Valid(ta.out.Bytes()) {
		t.Fatalf("--json: exit %d, valid %t", code, json.Valid(ta.out.Bytes()))
	}
}

func TestLeadUpdates(t *testing.T) {
	ts, leads := fakeAPI(t, "", nil)
	leads.views["L-1"] = leadView("L-1")
	ta := newTestApp(t, clientEnv(ts, ""))

	if code := ta.run(t, "lead", "accept", "L-1", "--rep", "rep-7", "--id", "click-1"); code != exitOK {
		t.Fatalf("accept: exit %d", code)
	}
	if code := ta.run(t, "lead", "accept", "L-1", "--rep", "rep-7"); code != exitOK {
		t.Fatalf("accept without --id: exit %d", code)
	}
	if code := ta.run(t, "lead", "reject", "L-1", "--rep", "rep-7", "--reason", "duplicate", "--duplicate-of", "L-2"); code != exitOK {
		t.Fatalf("reject: exit %d", code)
	}
	if code := ta.run(t, "lead", "reassign", "L-1", "--owner", "rep-8", "--by", "mgr-2", "--note", "vacation"); code != exitOK {
		t.Fatalf("reassign: exit %d", code)
	}
	u := leads.updates
	if len(u) != 4 {
		t.Fatalf("%d updates, want 4", len(u))
	}
	if u[0].Name != lead.UpdateAccept || u[0].UpdateID != "click-1" {
		t.Errorf("accept update %+v, want id click-1", u[0])
	}
	if !strings.HasPrefix(u[1].UpdateID, "cli-") || u[1].UpdateID == u[0].UpdateID {
		t.Errorf("default id %q, want a random cli-… id", u[1].UpdateID)
	}
	if rej, ok := u[2].Req.(lead.RejectRequest); !ok || rej.Reason != lead.ReasonDuplicate || rej.DuplicateOf != "L-2" {
		t.Errorf("reject request %+v", u[2].Req)
	}
	if re, ok := u[3].Req.(lead.ReassignRequest); !ok || re.OwnerID != "rep-8" || re.By != "mgr-2" || re.Note != "vacation" {
		t.Errorf("reassign request %+v", u[3].Req)
	}
}

func TestLeadUpdateRefused(t *testing.T) {
	ts, leads := fakeAPI(t, "", nil)
	leads.views["L-1"] = leadView("L-1")
	leads.refuse = "rep-8 is not the owner of L-1 (rep-7 is)"
	ta := newTestApp(t, clientEnv(ts, ""))
	if code := ta.run(t, "lead", "accept", "L-1", "--rep", "rep-8"); code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(ta.errOut.String(), "refused: rep-8 is not the owner of L-1 (rep-7 is)") {
		t.Errorf("stderr %q", ta.errOut)
	}
}
