package leadview

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// Failed effects come first, with the command that re-drives them.
func TestEffectsFailedFirst(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	v := lead.View{LeadID: "L-1", Effects: []lead.EffectView{
		{Kind: "crm.assign", Status: lead.EffectPending, Attempts: 1, Since: now.Add(-time.Minute)},
		{Kind: "nurture.stop", Status: lead.EffectFailed, Attempts: 3, Since: now.Add(-2 * time.Hour), LastError: "503"},
	}}
	var b bytes.Buffer
	Effects(&b, v, now)
	want := "lead L-1\n" +
		"effects (2 not done, 1 failed: `starter lead retry-effects` starts them again):\n" +
		"  FAILED  nurture.stop  attempts 3, since 2h0m ago\n" +
		"          last error: 503\n" +
		"  PENDING crm.assign  attempts 1, since 1m ago\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	Effects(&b, lead.View{LeadID: "L-2"}, now)
	if !strings.Contains(b.String(), "none pending") {
		t.Errorf("no effects: %q", b.String())
	}
}
