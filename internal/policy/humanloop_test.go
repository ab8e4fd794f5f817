package policy

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHumanLoopDefaultsAndSections(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.People; got.EnrichmentOwner != "" || got.ReengagementWindow != DefaultReengagementWindow || got.Away != AwayReroute {
		t.Errorf("defaults = %+v; want routing decides enrichment, 1h window, reroute", got)
	}
	p, err = Parse("policy.yaml", []byte(base+"enrichment:\n  owner: queue-research\nreengagement:\n  window: 3h\naway:\n  mode: pause\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.People; got.EnrichmentOwner != "queue-research" || got.ReengagementWindow.D() != 3*time.Hour || got.Away != AwayPause {
		t.Errorf("sections = %+v", got)
	}
}

func TestHumanLoopValidationErrors(t *testing.T) {
	for src, want := range map[string]string{
		"away:\n  mode: hide\n":           `away.mode: must be "reroute" or "pause"`,
		"reengagement:\n  window: 0s\n":   "reengagement.window",
		"enrichment:\n  owner: \"\"\n":    "enrichment.owner: must not be empty",
		"enrichment:\n  queue: q\n":       "enrichment.queue",
		"reengagement:\n  window: soon\n": "reengagement.window",
	} {
		_, err := Parse("policy.yaml", []byte(base+src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v; want it to mention %q", src, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "policy.yaml:") {
			t.Errorf("%q: error %v has no file:line", src, err)
		}
	}
}

func TestLeadFieldsOfConditions(t *testing.T) {
	for expr, want := range map[string][]string{
		`lead.employees >= 50 && lead.industry in ["x"]`: {"employees", "industry"},
		`lead["region"] == "CA" || lead.region == "WA"`:  {"region"},
		`event.type == "x" && segment == "smb"`:          nil,
	} {
		if got := MustCompile(expr).LeadFields; !slices.Equal(got, want) {
			t.Errorf("%s: %v; want %v", expr, got, want)
		}
	}
}

func TestMinFitAndIntent(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(strings.Replace(base, "  mql_threshold:", "  min_fit: 10\n  min_intent: 20\n  mql_threshold:", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Scoring.MinFit != 10 || p.Scoring.MinIntent != 20 {
		t.Errorf("gates = %d, %d", p.Scoring.MinFit, p.Scoring.MinIntent)
	}
	if _, err := Parse("policy.yaml", []byte(strings.Replace(base, "  mql_threshold:", "  min_intent: -1\n  mql_threshold:", 1))); err == nil || !strings.Contains(err.Error(), "scoring.min_intent") {
		t.Errorf("negative min_intent: %v", err)
	}
}

func TestRequalifyAndStickyOwner(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if !p.StickyOwner || p.Plays["timing"].Requalify != RequalifyNewIntent {
		t.Errorf("defaults: sticky %v, timing requalify %q", p.StickyOwner, p.Plays["timing"].Requalify)
	}
	src := strings.Replace(base, "timing:           { to: recycle,", "timing:           { requalify: cool_off_end, to: recycle,", 1)
	src = strings.Replace(src, "routing:\n  - name: owner", "routing:\n sticky_owner: false\n rules:\n  - name: owner", 1)
	p, err = Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.StickyOwner || p.Plays["timing"].Requalify != RequalifyAtCoolOffEnd || len(p.Routing) != 3 {
		t.Errorf("sections: sticky %v, requalify %q, %d rules", p.StickyOwner, p.Plays["timing"].Requalify, len(p.Routing))
	}
	bad := strings.Replace(base, "timing:           { to: recycle,", "timing:           { requalify: later, to: recycle,", 1)
	if _, err := Parse("policy.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "plays.timing.requalify") {
		t.Errorf("bad requalify: %v", err)
	}
}
