package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policydiff"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// writeVariant writes deploy/policy.yaml under another version label and
// MQL threshold into dir.
func writeVariant(t *testing.T, dir, name, version, threshold string) string {
	t.Helper()
	src, err := os.ReadFile(deployPolicy)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), `version: "2026-11-22.1"`, `version: "`+version+`"`, 1)
	s = strings.Replace(s, "mql_threshold: 50", "mql_threshold: "+threshold, 1)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyPublishActivateRollback(t *testing.T) {
	db := storetest.NewDB(t)
	ta := newTestApp(t, map[string]string{"DATABASE_URL": db, "LEADFLOW_POLICY": deployPolicy})
	dir := t.TempDir()
	expect := func(code int, args ...string) (string, string) {
		t.Helper()
		if got := ta.run(t, args...); got != code {
			t.Fatalf("starter %v = %d; want %d", args, got, code)
		}
		return ta.out.String(), ta.errOut.String()
	}
	if out, _ := expect(exitOK, "policy", "status"); !strings.Contains(out, "active: none") {
		t.Fatalf("status before any activation:\n%s", out)
	}
	if out, _ := expect(exitOK, "policy", "publish", deployPolicy); !strings.Contains(out, "published version 2026-11-22.1") {
		t.Fatalf("publish:\n%s", out)
	}
	if out, _ := expect(exitOK, "policy", "publish", deployPolicy); !strings.Contains(out, "already published with this source") {
		t.Fatalf("publish again:\n%s", out)
	}
	// The same label with another source is refused, naming the version.
	edited := writeVariant(t, dir, "edited.yaml", "2026-11-22.1", "45")
	if _, errOut := expect(exitFailure, "policy", "publish", edited); !strings.Contains(errOut, "version 2026-11-22.1 is already published with another source") {
		t.Fatalf("publish an edited file under the same label:\n%s", errOut)
	}
	// A bad file: the line-numbered errors of policy check.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: x\nscoring:\n  mql_threshold: lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut := expect(exitFailure, "policy", "publish", bad); !strings.Contains(errOut, "bad.yaml:3") {
		t.Fatalf("publish a bad file:\n%s", errOut)
	}
	cand := writeVariant(t, dir, "cand.yaml", "cand-1", "40")
	expect(exitOK, "policy", "publish", cand, "--by", "ana")
	if _, errOut := expect(exitFailure, "policy", "rollback"); !strings.Contains(errOut, "no earlier activation") {
		t.Fatalf("rollback with nothing active:\n%s", errOut)
	}
	if _, errOut := expect(exitFailure, "policy", "activate", "nope"); !strings.Contains(errOut, "not published") {
		t.Fatalf("activate an unknown version:\n%s", errOut)
	}
	expect(exitOK, "policy", "activate", "2026-11-22.1")
	if out, _ := expect(exitOK, "policy", "activate", "cand-1"); !strings.Contains(out, "activated version cand-1 (activation 2)") {
		t.Fatalf("activate:\n%s", out)
	}
	if out, _ := expect(exitOK, "policy", "status"); !strings.Contains(out, "active: cand-1 (activation 2, activate") || !strings.Contains(out, "tester") {
		t.Fatalf("status:\n%s", out)
	}
	if out, _ := expect(exitOK, "policy", "rollback"); !strings.Contains(out, "rolled back to version 2026-11-22.1 (activation 3)") {
		t.Fatalf("rollback:\n%s", out)
	}
}

// Shadow on a known set of leads: the active policy (MQL at 50) against a
// candidate at 40. L-1: fit 20 + intent 20 = 40, becomes an MQL; L-2 has 65
// under either; L-3 is disqualified (not open).
func TestPolicyShadow(t *testing.T) {
	db := storetest.NewDB(t)
	ta := newTestApp(t, map[string]string{"DATABASE_URL": db, "LEADFLOW_POLICY": deployPolicy})
	ctx := t.Context()
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	importDeployDirectory(t, st)
	at := time.Now().UTC()
	prof := func(email, region string, employees int) *actions.DecisionInputs {
		return &actions.DecisionInputs{Profile: lead.Profile{Email: email, Country: "US", Region: region, Employees: employees, Industry: "retail"}}
	}
	pricing := lead.ScoreItem{Rule: "pricing_page", Points: 20, Kind: "intent"}
	reply := lead.ScoreItem{Rule: "replied", Points: 25, Kind: "intent"}
	for _, s := range []actions.StateSnapshot{
		{LeadID: "L-1", Seq: 1, At: at, View: lead.View{Stage: lead.StageLead, Score: lead.ScoreView{Intent: 20, IntentExact: 20, Breakdown: []lead.ScoreItem{pricing}}}, Inputs: prof("a@a.io", "NY", 60)},
		{LeadID: "L-2", Seq: 1, At: at, View: lead.View{Stage: lead.StageHandoff, Score: lead.ScoreView{Intent: 45, IntentExact: 45, Breakdown: []lead.ScoreItem{pricing, reply}}}, Inputs: prof("b@b.io", "NY", 60)},
		{LeadID: "L-3", Seq: 1, At: at, View: lead.View{Stage: lead.StageDisqualified}, Inputs: prof("c@c.io", "NY", 60)},
	} {
		if err := st.States().PublishState(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	cand := writeVariant(t, dir, "cand.yaml", "cand-1", "40")
	csvPath := filepath.Join(dir, "shadow.csv")
	if code := ta.run(t, "policy", "shadow", cand, "--csv", csvPath); code != exitOK {
		t.Fatalf("shadow = %d", code)
	}
	out := ta.out.String()
	for _, want := range []string{"policy 2026-11-22.1 → cand-1 over 2 open leads: 1 would change", "   1 would become an MQL", "L-1 (lead): score 40 → 40 (score 40 >= 40)"} {
		if !strings.Contains(out, want) {
			t.Fatalf("shadow summary lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "L-1,lead,becomes_mql,false,true,") {
		t.Fatalf("csv:\n%s", b)
	}
	// A published version by name: the same answer.
	if code := ta.run(t, "policy", "publish", cand); code != exitOK {
		t.Fatal("publish")
	}
	if code := ta.run(t, "policy", "shadow", "--version", "cand-1"); code != exitOK || !strings.Contains(ta.out.String(), "1 would change") {
		t.Fatalf("shadow --version: %d\n%s", code, ta.out.String())
	}
	// The dashboard's page reads the same report.
	page, err := policyShadows{st: st, file: deployPolicy, now: time.Now}.Shadow(ctx, "cand-1")
	if err != nil || len(page.Changes) != 1 || page.Changes[0].LeadID != "L-1" || page.Counts[policydiff.BecomesMQL] != 1 {
		t.Fatalf("the page's report = %+v %v; want L-1 becoming an MQL", page, err)
	}
	if _, err := (policyShadows{st: st, file: deployPolicy, now: time.Now}).Shadow(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the page's report of an unknown version: %v; want ErrNotFound", err)
	}
	if code := ta.run(t, "policy", "shadow", cand, "--version", "cand-1"); code != exitUsage {
		t.Fatalf("shadow with FILE and --version = %d; want usage", code)
	}
}

func importDeployDirectory(t *testing.T, st *store.DB) {
	t.Helper()
	d, err := directory.Load(deployDirectory)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Directory().ImportDirectory(t.Context(), d); err != nil {
		t.Fatal(err)
	}
}
