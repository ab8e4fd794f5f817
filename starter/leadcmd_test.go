package main

import (
	"encoding/json"
	"net/http"
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
	leads.Views["L-1"] = leadView("L-1")
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
	leads.Explain["L-1"] = lead.Explanation{
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
	for _, id := range []string{"L-1", "L-2", "L-3", "L-4"} {
		leads.Views[id] = leadView(id)
	}
	ta := newTestApp(t, clientEnv(ts, ""))

	if code := ta.run(t, "lead", "accept", "L-1", "--rep", "rep-7", "--id", "click-1"); code != exitOK {
		t.Fatalf("accept: exit %d", code)
	}
	if code := ta.run(t, "lead", "accept", "L-2", "--rep", "rep-7"); code != exitOK {
		t.Fatalf("accept without --id: exit %d", code)
	}
	if code := ta.run(t, "lead", "reject", "L-3", "--rep", "rep-7", "--reason", "duplicate", "--duplicate-of", "L-2"); code != exitOK {
		t.Fatalf("reject: exit %d", code)
	}
	if code := ta.run(t, "lead", "reassign", "L-4", "--owner", "rep-8", "--by", "mgr-2", "--note", "vacation"); code != exitOK {
		t.Fatalf("reassign: exit %d", code)
	}
	u := leads.AllUpdates()
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
	leads.Views["L-1"] = leadView("L-1")
	leads.Refuse = "rep-8 is not the owner of L-1 (rep-7 is)"
	ta := newTestApp(t, clientEnv(ts, ""))
	if code := ta.run(t, "lead", "accept", "L-1", "--rep", "rep-8"); code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(ta.errOut.String(), "refused: rep-8 is not the owner of L-1 (rep-7 is)") {
		t.Errorf("stderr %q", ta.errOut)
	}
}

func effectsView(id string) lead.View {
	v := leadView(id)
	since := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	v.Effects = []lead.EffectView{
		{Key: "k-note", Kind: "PostNote", Summary: "note on the task", Status: lead.EffectPending, Since: since},
		{Key: "k-task", Kind: "CreateTask", Summary: "create handoff task", Status: lead.EffectFailed, Attempts: 3, Since: since,
			LastError: "hubspot: 403 Forbidden: missing scope crm.objects.tasks.write"},
	}
	return v
}

func TestLeadShowEffects(t *testing.T) {
	ts, leads := fakeAPI(t, "", nil)
	leads.Views["L-1"] = effectsView("L-1")
	ta := newTestApp(t, clientEnv(ts, ""))
	if code := ta.run(t, "lead", "show", "L-1"); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	out := ta.out.String()
	for _, want := range []string{"effects (2 not done, 1 failed: `starter lead retry-effects` starts them again):",
		"FAILED  CreateTask  attempts 3", "last error: hubspot: 403 Forbidden: missing scope crm.objects.tasks.write",
		"PENDING PostNote  attempts 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q", want)
		}
	}
	// Failed first: they are what an operator acts on.
	if strings.Index(out, "FAILED") > strings.Index(out, "PENDING") {
		t.Error("failed effects are not listed first")
	}
	// No effects, no section.
	leads.Views["L-2"] = leadView("L-2")
	if code := ta.run(t, "lead", "show", "L-2"); code != exitOK || strings.Contains(ta.out.String(), "effects") {
		t.Errorf("a lead without effects: exit %d, stdout %q", code, ta.out)
	}
}

func TestLeadRetryEffects(t *testing.T) {
	ts, leads := fakeAPI(t, "s3cret", nil)
	after := effectsView("L-1")
	after.Effects[1].Status, after.Effects[1].Attempts = lead.EffectRunning, 4
	leads.Views["L-1"] = after
	ta := newTestApp(t, clientEnv(ts, "s3cret"))
	if code := ta.run(t, "lead", "retry-effects", "L-1", "--by", "ops-1", "--id", "r-1"); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"retryEffects L-1: ok (update id r-1)", "RUNNING CreateTask  attempts 4", "PENDING PostNote"} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	// --by defaults to the user running the command.
	if code := ta.run(t, "lead", "retry-effects", "L-1"); code != exitOK {
		t.Fatalf("without --by: exit %d", code)
	}
	u := leads.AllUpdates()
	if len(u) != 2 || u[0].Name != lead.UpdateRetryEffects || u[0].UpdateID != "r-1" ||
		u[0].Req != (lead.RetryEffectsRequest{ID: "r-1", By: "ops-1"}) {
		t.Fatalf("updates %+v", u)
	}
	if r := u[1].Req.(lead.RetryEffectsRequest); r.By != "tester" || !strings.HasPrefix(r.ID, "cli-") {
		t.Errorf("default request %+v, want by tester and a random id", r)
	}
	// Nothing left in the outbox.
	leads.Views["L-1"] = leadView("L-1")
	if code := ta.run(t, "lead", "retry-effects", "L-1", "--by", "ops-1"); code != exitOK || !strings.Contains(ta.out.String(), "none pending") {
		t.Errorf("empty outbox: exit %d, stdout %q", code, ta.out)
	}
	if code := ta.run(t, "lead", "retry-effects", "--json", "L-1", "--by", "ops-1"); code != exitOK || !json.Valid(ta.out.Bytes()) {
		t.Errorf("--json: exit %d", code)
	}
}

func TestLeadRetryEffectsFailures(t *testing.T) {
	// 422: nothing to retry is the workflow's refusal, said as is; exit 1.
	ts, leads := fakeAPI(t, "", nil)
	leads.Views["L-1"] = leadView("L-1")
	leads.Refuse = "lead L-1 has no failed effects to retry"
	ta := newTestApp(t, clientEnv(ts, ""))
	if code := ta.run(t, "lead", "retry-effects", "L-1", "--by", "ops-1"); code != exitFailure {
		t.Fatalf("422: exit %d, want 1", code)
	}
	if !strings.Contains(ta.errOut.String(), "retryEffects L-1 refused: lead L-1 has no failed effects to retry") {
		t.Errorf("422: stderr %q", ta.errOut)
	}
	// 404.
	leads.Refuse = ""
	if code := ta.run(t, "lead", "retry-effects", "L-404", "--by", "ops-1"); code != exitFailure || !strings.Contains(ta.errOut.String(), "lead L-404 not found") {
		t.Errorf("404: exit %d, stderr %q", code, ta.errOut)
	}
	// 503 (no worker took it): the message and how to retry safely; exit 1.
	ts503, _ := fakeAPI(t, "", func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/leads/L-1/retry-effects" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Retry-After", "5")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"no worker took the retryEffects update within 10s: the lead's workflow is not being processed; retry later"}`))
		})
	})
	ta = newTestApp(t, clientEnv(ts503, ""))
	if code := ta.run(t, "lead", "retry-effects", "L-1", "--by", "ops-1", "--id", "r-9"); code != exitFailure {
		t.Fatalf("503: exit %d, want 1", code)
	}
	for _, want := range []string{"no worker took the retryEffects update within 10s", "retry safely with --id r-9"} {
		if !strings.Contains(ta.errOut.String(), want) {
			t.Errorf("503: stderr lacks %q", want)
		}
	}
	// Who is acting cannot be told: a usage error.
	ta = newTestApp(t, clientEnv(ts, ""))
	ta.user = func() string { return "" }
	if code := ta.run(t, "lead", "retry-effects", "L-1"); code != exitUsage || !strings.Contains(ta.errOut.String(), "--by is required") {
		t.Errorf("unknown user: exit %d, stderr %q", code, ta.errOut)
	}
}
