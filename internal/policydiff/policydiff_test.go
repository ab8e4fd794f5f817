package policydiff_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/policydiff"
)

var monday = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

func load(t *testing.T) (cur, cand *policy.Policy, dir *directory.Directory) {
	t.Helper()
	src, err := os.ReadFile("../../deploy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cur, err = policy.Parse("policy.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	// The candidate: MQL at 40, insurance worth 20 fit, a reply worth 5,
	// Nevada in na-west, a 2h default first touch.
	s := string(src)
	for _, r := range [][2]string{
		{`version: "2026-11-22.1"`, `version: "candidate"`},
		{"mql_threshold: 50", "mql_threshold: 40"},
		{`financial-services"]
      points: 10`, `financial-services"]
      points: 20`},
		{`sms.reply"]
      points: 25`, `sms.reply"]
      points: 5`},
		{`["CA", "WA", "OR"]`, `["CA", "WA", "OR", "NV"]`},
		{"- { within: 4h }", "- { within: 2h }"},
	} {
		if !strings.Contains(s, r[0]) {
			t.Fatalf("deploy/policy.yaml no longer has %q", r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	cand, err = policy.Parse("candidate.yaml", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	dir, err = directory.Load("../../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cur, cand, dir
}

func mk(id string, st lead.Stage, p lead.Profile, trigger string, intentExact float64, items ...lead.ScoreItem) policydiff.Lead {
	return policydiff.Lead{
		View:   lead.View{LeadID: id, Stage: st, Score: lead.ScoreView{IntentExact: intentExact, Intent: int(intentExact), Breakdown: items}},
		Inputs: &actions.DecisionInputs{Profile: p, Trigger: trigger},
	}
}

func intent(rule string, pts int) lead.ScoreItem {
	return lead.ScoreItem{Rule: rule, Points: pts, Kind: "intent"}
}

func TestDiff(t *testing.T) {
	cur, cand, dir := load(t)
	prof := func(email string, employees int, industry, region string) lead.Profile {
		return lead.Profile{Email: email, Company: "X", Country: "US", Region: region, Employees: employees, Industry: industry}
	}
	leads := []policydiff.Lead{
		// fit 20 + intent 20 = 40: under 50 now, at 40 a candidate MQL.
		mk("L-A", lead.StageLead, prof("a@a.io", 60, "retail", "NY"), "", 20, intent("pricing_page", 20)),
		// A fast-tracked CA handoff: fit 30 → 40, but the same route and SLA (quote_request: 15m).
		mk("L-B", lead.StageHandoff, prof("b@b.io", 250, "insurance", "CA"), "quote_request", 0),
		// Nevada: inbound (rep-1) now, na-west under the candidate; default SLA 4h → 2h.
		// Intent 45 re-weighted: 45 × (20+5)/(20+25) = 25; 20 + 25 = 45 >= 40.
		mk("L-C", lead.StageHandoff, prof("c@c.io", 300, "retail", "NV"), "pricing_page", 45, intent("pricing_page", 20), intent("replied", 25)),
		// Accepted, never an MQL by score under either (15); Sales has it: the SLA differs.
		mk("L-D", lead.StageSAL, prof("d@d.io", 40, "", "NY"), "webinar", 15, intent("webinar", 15)),
		mk("L-E", lead.StageDisqualified, prof("e@e.io", 5000, "insurance", "CA"), "", 0),
		{View: lead.View{LeadID: "L-F", Stage: lead.StageLead}},
		// Recycled, intent decayed to 10: 30 + 10 = 40 now; 40 + 10 = 50 under the candidate.
		mk("L-G", lead.StageRecycle, prof("g@g.io", 500, "insurance", "CA"), "", 10, intent("pricing_page", 20)),
		// A reply and three opens: 35 intent + fit 20 = 55 now; the reply at 5:
		// 35 × 15/35 = 15, 20 + 15 = 35 < 40: no longer an MQL. SLA 4h → 2h.
		mk("L-H", lead.StageHandoff, prof("h@h.io", 60, "retail", "NY"), "replied", 35, intent("replied", 25), intent("opened_3_emails", 10)),
	}
	rep := policydiff.Diff(cur, cand, dir, monday, leads)
	if rep.Current != "2026-11-22.1" || rep.Candidate != "candidate" || rep.Leads != 6 {
		t.Fatalf("report %s → %s over %d leads; want 6", rep.Current, rep.Candidate, rep.Leads)
	}
	if strings.Join(rep.NoInputs, ",") != "L-F" {
		t.Fatalf("no inputs: %v; want L-F", rep.NoInputs)
	}
	want := map[string]string{
		"L-A": "becomes_mql",
		"L-C": "route,owner,sla",
		"L-D": "sla",
		"L-G": "becomes_mql",
		"L-H": "stops_mql,sla",
	}
	got := map[string]string{}
	for _, c := range rep.Changes {
		got[c.LeadID] = strings.Join(c.What, ",")
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: changes %q; want %q", id, got[id], w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: unexpected changes %q", id, got[id])
		}
	}
	wantCounts := map[string]int{policydiff.BecomesMQL: 2, policydiff.StopsMQL: 1, policydiff.Route: 1, policydiff.Owner: 1, policydiff.SLA: 3}
	for k, n := range wantCounts {
		if rep.Counts[k] != n {
			t.Errorf("count %s = %d; want %d", k, rep.Counts[k], n)
		}
	}
	byID := map[string]policydiff.Change{}
	for _, c := range rep.Changes {
		byID[c.LeadID] = c
	}
	c := byID["L-C"]
	if c.Current.Pool != "inbound-sdrs" || c.Current.Owner != "rep-1" || c.Candidate.Pool != "na-west-sdrs" || c.Candidate.Territory != "na-west" {
		t.Errorf("L-C route %+v → %+v; want inbound-sdrs rep-1 → na-west-sdrs", c.Current, c.Candidate)
	}
	if c.Candidate.Intent != 25 || c.Candidate.Score != 45 || c.Current.Score != 65 {
		t.Errorf("L-C scores %d → %d (intent %d); want 65 → 45 (intent 25)", c.Current.Score, c.Candidate.Score, c.Candidate.Intent)
	}
	if h := byID["L-H"]; h.Candidate.Intent != 15 || h.Candidate.Score != 35 || h.Current.Score != 55 {
		t.Errorf("L-H scores %d → %d (intent %d); want 55 → 35 (intent 15)", h.Current.Score, h.Candidate.Score, h.Candidate.Intent)
	}
	if g := byID["L-G"]; g.Current.Fit != 30 || g.Candidate.Fit != 40 || g.Candidate.Score != 50 {
		t.Errorf("L-G fit %d → %d, score %d; want 30 → 40, 50", g.Current.Fit, g.Candidate.Fit, g.Candidate.Score)
	}
	if d := byID["L-D"]; !strings.HasPrefix(d.Current.SLA, "first touch 4h") || !strings.HasPrefix(d.Candidate.SLA, "first touch 2h") {
		t.Errorf("L-D SLA %q → %q; want 4h → 2h", d.Current.SLA, d.Candidate.SLA)
	}
}

// The same policy on both sides changes nothing.
func TestDiffOfItselfIsEmpty(t *testing.T) {
	cur, _, dir := load(t)
	l := mk("L-C", lead.StageHandoff, lead.Profile{Email: "c@c.io", Country: "US", Region: "NV", Employees: 300}, "pricing_page", 45,
		intent("pricing_page", 20), intent("replied", 25))
	if rep := policydiff.Diff(cur, cur, dir, monday, []policydiff.Lead{l}); len(rep.Changes) != 0 || rep.Leads != 1 {
		t.Fatalf("diff of a policy with itself: %+v", rep)
	}
}

func TestCSV(t *testing.T) {
	cur, cand, dir := load(t)
	l := mk("L-A", lead.StageLead, lead.Profile{Email: "a@a.io", Country: "US", Region: "NY", Employees: 60, Industry: "retail"}, "", 20, intent("pricing_page", 20))
	rep := policydiff.Diff(cur, cand, dir, monday, []policydiff.Lead{l})
	var b strings.Builder
	if err := policydiff.WriteCSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "L-A,lead,becomes_mql,false,true,40,40,smb,smb,") {
		t.Fatalf("csv:\n%s", b.String())
	}
	var s strings.Builder
	if err := policydiff.WriteSummary(&s, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.String(), "1 would change") || !strings.Contains(s.String(), "   1 would become an MQL") {
		t.Fatalf("summary:\n%s", s.String())
	}
}
