package policy

import (
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
