package workflows

import (
	"regexp"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
)

// bigPool is a directory with one round-robin pool of four reps, so the
// ladder can reassign twice within the pool and then go to the fallback.
func bigPool(t *testing.T) *directory.Directory {
	t.Helper()
	d, err := directory.Parse("big.yaml", []byte(`
reps:
  - { id: a1, name: A1, manager: m1, timezone: America/New_York }
  - { id: a2, name: A2, manager: m1, timezone: America/New_York }
  - { id: a3, name: A3, manager: m1, timezone: America/New_York }
  - { id: a4, name: A4, manager: m1, timezone: America/New_York }
  - { id: m1, name: M1, timezone: America/New_York }
  - { id: q1, name: Queue, manager: m1, timezone: America/New_York }
pools:
  big: { strategy: round_robin, members: [a1, a2, a3, a4], fallback: q1 }
`))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var routingSection = regexp.MustCompile(`(?s)\nrouting:.*?\nsla:`)

func bigPoolPolicy(t *testing.T) string {
	return routingSection.ReplaceAllString(examplePolicySource(t), "\nrouting:\n  - { name: all, territory: global, pool: big }\nsla:")
}

// The first-touch SLA of a quote request is 15 business minutes; the ladder
// reminds at 7.5, escalates at 15 and reassigns at 22.5. Two reassignments
// stay in the pool (never the same rep); the third goes to the fallback
// owner with an alert; after that the ladder only alerts.
func TestSLALadderRemindEscalateReassignFallback(t *testing.T) {
	h := newHarness(t, withPolicy(bigPoolPolicy(t)), withDirectory(bigPool(t)))
	h.event(0, quoteRequest("evt-1"))
	var afterEscalate, afterFirstReassign lead.View
	h.at(16*time.Minute, func() { afterEscalate = h.state() })
	h.at(23*time.Minute, func() { afterFirstReassign = h.state() })
	var final lead.Explanation
	h.at(3*time.Hour, func() { final = h.explain() })
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}

	if afterEscalate.SLA == nil || !afterEscalate.SLA.Breached || afterEscalate.SLA.Level != 2 || afterEscalate.OwnerID != "a1" {
		t.Fatalf("after escalate: %+v", afterEscalate.SLA)
	}
	if afterFirstReassign.OwnerID != "a2" || afterFirstReassign.SLA.Breached || afterFirstReassign.SLA.Level != 0 {
		t.Fatalf("after first reassign: owner %s sla %+v", afterFirstReassign.OwnerID, afterFirstReassign.SLA)
	}
	// 15 business minutes from the reassignment at 10:22:30.
	if want := monday10.Add(22*time.Minute + 30*time.Second + 15*time.Minute); !afterFirstReassign.SLA.DueAt.Equal(want) {
		t.Fatalf("new SLA due %s, want %s", afterFirstReassign.SLA.DueAt, want)
	}

	owners := []string{}
	for _, a := range h.f.assigns {
		owners = append(owners, a.OwnerID)
	}
	if want := []string{"a1", "a2", "a3", "q1"}; !equal(owners, want) {
		t.Fatalf("owners %v, want %v", owners, want)
	}
	if got := h.f.taskKinds(); !equal(got, []string{"handoff:a1", "handoff:a2", "handoff:a3", "handoff:q1"}) {
		t.Fatalf("tasks: %v", got)
	}
	notifies := h.f.notifyKinds()
	if hasPrefix(notifies, "remind:") != 4 || hasPrefix(notifies, "escalate:m1") != 4 {
		t.Fatalf("notifications: %v", notifies)
	}
	alerts := h.f.alertKinds()
	if !contains(alerts, "sla_max_reassigns") || !contains(alerts, "sla_unworked_at_fallback") {
		t.Fatalf("alerts: %v", alerts)
	}
	if final.Stage != lead.StageHandoff || len(final.Ladder) != 12 {
		t.Fatalf("final: stage %s, %d ladder steps: %+v", final.Stage, len(final.Ladder), final.Ladder)
	}
	if h.saValue(lead.SASLABreached) != true || h.saValue(lead.SALeadOwner) != "q1" || h.saValue(lead.SALeadTerritory) != "global" ||
		h.saValue(lead.SALeadStage) != "handoff" || h.saValue(lead.SANurtureSuppressed) != true {
		t.Fatalf("search attributes: %v", h.sa)
	}
	if due, ok := h.saValue(lead.SASLADueAt).(time.Time); !ok || !due.Equal(final.History[len(final.History)-1].At.Add(15*time.Minute)) {
		t.Fatalf("SLADueAt %v, want 15 business minutes after the last reassignment (%s)", h.saValue(lead.SASLADueAt), final.History[len(final.History)-1].At)
	}
}

// Business hours: a quote request on Friday at 16:50 is due Monday 09:05;
// nothing on the ladder fires over the weekend.
func TestSLARunsOnBusinessHours(t *testing.T) {
	friday1650 := time.Date(2026, 11, 27, 21, 50, 0, 0, time.UTC) // Fri after Thanksgiving, 16:50 EST
	h := newHarness(t, withStart(friday1650))
	h.event(0, quoteRequest("evt-1"))
	var st lead.View
	h.at(time.Minute, func() { st = h.state() })
	var sunday []string
	h.at(48*time.Hour, func() { sunday = h.f.notifyKinds() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC) // Mon 09:05 EST
	if st.SLA == nil || !st.SLA.DueAt.Equal(want) {
		t.Fatalf("due %v, want %s", st.SLA, want)
	}
	// The handoff notification, then the reminder (7.5 business minutes)
	// Friday 16:57:30; nothing else until Monday.
	if !equal(sunday, []string{"handoff:rep-7", "remind:rep-7"}) {
		t.Fatalf("by Sunday: %v", sunday)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
