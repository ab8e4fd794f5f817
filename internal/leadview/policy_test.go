package leadview

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// explain names the version of each decision taken under another policy
// than the lead's current one, and shows the switch itself.
func TestExplainNamesOtherPolicyVersions(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	x := lead.Explanation{LeadID: "L-1", Stage: lead.StageHandoff, PolicyVersion: "B",
		Routing: &lead.RoutingView{At: at, Rule: "inbound", OwnerID: "rep-1", PolicyVersion: "A"},
		Ladder:  []lead.LadderTaken{{At: at, SLA: "first_touch", Step: 0, Action: "remind", OwnerID: "rep-1", Policy: "A"}},
		History: []lead.Transition{
			{At: at, From: "", To: lead.StageLead, Why: "first event", Policy: "A"},
			{At: at, From: lead.StageLead, To: lead.StageLead, Why: "policy A → B (activation 2)", Policy: "B"},
			{At: at, From: lead.StageLead, To: lead.StageMQL, Why: "score 60 >= 50", Policy: "B"},
		}}
	var b bytes.Buffer
	Explanation(&b, x)
	out := b.String()
	for _, want := range []string{
		"policy:      B",
		"(new) → lead  first event [policy A]",
		"lead → lead  policy A → B (activation 2)\n",
		"lead → mql  score 60 >= 50\n",
		"remind (owner rep-1) [policy A]",
		"  policy:    A",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
}
