package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/temporalx"
)

// A rep marked away loses their untouched leads within seconds: two
// handoffs owned by rep-7 (Initech's account owner), one touched; `starter
// rep away` moves the untouched one to another owner at once, not at the
// ladder's reassign step (an hour away here), and the touched one stays.
func TestRepAwayMovesUntouchedLeadsAtOnce(t *testing.T) {
	// Long SLAs: no ladder step moves a lead while the test watches.
	s := newStack(t, longSLAPolicy(t))
	initech := func(email string) *lead.Profile {
		return &lead.Profile{Email: email, Company: "Initech", Domain: "initech.com", Country: "US", Region: "CA",
			Employees: 250, Industry: "insurance", Title: "VP Sales"}
	}
	s.send(quote("a-1", "AWAY-UNTOUCHED", initech("bill@initech.com")), quote("a-2", "AWAY-TOUCHED", initech("peter@initech.com")))
	for _, id := range []string{"AWAY-UNTOUCHED", "AWAY-TOUCHED"} {
		s.waitLead(id, "handoff to rep-7", 30*time.Second, func(v lead.View) bool { return v.Stage == lead.StageHandoff && v.OwnerID == "rep-7" })
	}
	s.send(event("a-3", "AWAY-TOUCHED", lead.EventRepTouch, map[string]any{"repId": "rep-7", "channel": "call"}))
	s.waitLead("AWAY-TOUCHED", "first touch", 30*time.Second, func(v lead.View) bool { return v.FirstTouchAt != nil })
	// The command lists leads from visibility, which trails the workflows:
	// wait until it shows both, so the test checks the command, not the lag.
	lc := temporalx.NewLeadClient(s.srv.Client(t), lead.TaskQueue)
	s.waitFor("visibility to list rep-7's two handoffs", 30*time.Second, func() bool {
		ids, err := lc.OwnedBy(t.Context(), "rep-7", []lead.Stage{lead.StageHandoff})
		slices.Sort(ids)
		return err == nil && slices.Equal(ids, []string{"AWAY-TOUCHED", "AWAY-UNTOUCHED"})
	})

	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(la)
	cmd := exec.Command(filepath.Join(binDir, "starter"), "rep", "away", "rep-7",
		"--from", today.Format("2006-01-02"), "--to", today.AddDate(0, 0, 1).Format("2006-01-02"))
	cmd.Env = s.env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("starter rep away:\n%s", out)
	if err != nil {
		t.Fatalf("starter rep away: %v", err)
	}
	for _, want := range []string{"AWAY-TOUCHED: stays: touched", "AWAY-UNTOUCHED: moved to rep-"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	v := s.waitLead("AWAY-UNTOUCHED", "a new owner", 10*time.Second, func(v lead.View) bool { return v.OwnerID != "rep-7" && v.OwnerID != "" })
	t.Logf("untouched lead moved to %s %s after the command started", v.OwnerID, time.Since(start).Round(time.Millisecond))
	if v.Stage != lead.StageHandoff || v.SLA == nil || v.SLA.StartedAt.Before(start) {
		t.Errorf("the new owner has no fresh SLA clock: %+v", v.SLA)
	}
	if v, _ := s.state("AWAY-TOUCHED"); v.OwnerID != "rep-7" {
		t.Errorf("the touched lead moved to %s", v.OwnerID)
	}
}

// With policy away.mode pause, the untouched lead keeps its owner and its
// SLA clock stops; `starter rep back` runs it again. (The commands read
// both from the lead's history: this checks them against the real
// workflow's words.)
func TestRepAwayPausesAndBackResumes(t *testing.T) {
	path := longSLAPolicy(t)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\naway: { mode: pause }\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s := newStack(t, path)
	s.send(quote("p-1", "PAUSE-1", &lead.Profile{Email: "bill@initech.com", Company: "Initech", Domain: "initech.com",
		Country: "US", Region: "CA", Employees: 250}))
	s.waitLead("PAUSE-1", "handoff to rep-7", 30*time.Second, func(v lead.View) bool { return v.Stage == lead.StageHandoff && v.OwnerID == "rep-7" })
	lc := temporalx.NewLeadClient(s.srv.Client(t), lead.TaskQueue)
	s.waitFor("visibility to list rep-7's handoff", 30*time.Second, func() bool {
		ids, err := lc.OwnedBy(t.Context(), "rep-7", []lead.Stage{lead.StageHandoff})
		return err == nil && slices.Equal(ids, []string{"PAUSE-1"})
	})
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(la).Format("2006-01-02")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rep", "away", "rep-7", "--from", today, "--to", today}, "PAUSE-1: clock paused"},
		{[]string{"rep", "back", "rep-7"}, "PAUSE-1: clock resumed"},
	} {
		cmd := exec.Command(filepath.Join(binDir, "starter"), c.args...)
		cmd.Env = s.env
		out, err := cmd.CombinedOutput()
		t.Logf("starter %v:\n%s", c.args, out)
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Fatalf("starter %v: %v; want %q", c.args, err, c.want)
		}
	}
	if v, _ := s.state("PAUSE-1"); v.OwnerID != "rep-7" {
		t.Errorf("the paused lead moved to %s", v.OwnerID)
	}
}

// longSLAPolicy is the fast policy with first-touch SLAs of hours: no
// ladder step fires during a test.
func longSLAPolicy(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(fastPolicy)
	if err != nil {
		t.Fatal(err)
	}
	slow := strings.NewReplacer("within: 4s", "within: 1h", "within: 8s", "within: 2h").Replace(string(src))
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(slow), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
