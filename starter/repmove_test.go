package main

import (
	"context"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

const stubQueue = "starter-repmove"

var (
	saOwner = temporal.NewSearchAttributeKeyKeyword(lead.SALeadOwner)
	saStage = temporal.NewSearchAttributeKeyKeyword(lead.SALeadStage)
)

// stubRepLead stands in for LeadWorkflow to check the commands' wiring
// against a real server (the real workflow's answers are the e2e test's):
// it starts with the owner and stage of its search attributes, answers
// state, takes reassign, and moves to rep-8 on repUnavailable when it is
// the rep's, keeping LeadOwner current as the real one does.
func stubRepLead(ctx workflow.Context, in lead.StartInput) error {
	sa := workflow.GetTypedSearchAttributes(ctx)
	owner, _ := sa.GetKeyword(saOwner)
	stage, _ := sa.GetKeyword(saStage)
	view := func() lead.View { return lead.View{LeadID: in.LeadID, OwnerID: owner, Stage: lead.Stage(stage)} }
	setOwner := func(to string) error {
		owner = to
		return workflow.UpsertTypedSearchAttributes(ctx, saOwner.ValueSet(to))
	}
	if err := workflow.SetQueryHandler(ctx, lead.QueryState, func() (lead.View, error) { return view(), nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, lead.UpdateReassign, func(ctx workflow.Context, req lead.ReassignRequest) (lead.View, error) {
		err := setOwner(req.OwnerID)
		return view(), err
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, lead.UpdateRepUnavailable, func(ctx workflow.Context, req lead.RepUnavailableRequest) (lead.View, error) {
		if req.RepID != owner {
			return view(), nil
		}
		err := setOwner("rep-8")
		return view(), err
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, lead.UpdateRepBack, func(ctx workflow.Context, req lead.RepBackRequest) (lead.View, error) {
		return view(), nil
	}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return false })
}

type repEnv struct {
	ta  *testApp
	env map[string]string
	c   client.Client
	lc  *temporalx.LeadClient
	st  *store.DB
}

func newRepEnv(t *testing.T) *repEnv {
	t.Helper()
	dev := testenv.StartDevServer(t, testenv.DevServerOptions{})
	dbURL := storetest.NewDB(t)
	env := map[string]string{
		config.EnvTemporalAddress:   dev.Address,
		config.EnvTemporalNamespace: dev.Namespace,
		config.EnvTaskQueue:         stubQueue,
		config.EnvDatabaseURL:       dbURL,
		config.EnvUpdateTimeout:     "5s",
		config.EnvCodecKeys:         testenv.CodecKeys, // the dev client encrypts with it too
	}
	c := dev.Client(t)
	w := worker.New(c, stubQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(stubRepLead, workflow.RegisterOptions{Name: lead.WorkflowType})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	ta := newTestApp(t, env)
	if code := ta.run(t, "directory", "import", deployDirectory); code != exitOK {
		t.Fatalf("directory import: exit %d", code)
	}
	st, err := store.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return &repEnv{ta: ta, env: env, c: c, lc: temporalx.NewLeadClient(c, stubQueue), st: st}
}

func (e *repEnv) start(t *testing.T, id, owner string, stage lead.Stage) {
	t.Helper()
	_, err := e.c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: lead.WorkflowID(id), TaskQueue: stubQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(saOwner.ValueSet(owner), saStage.ValueSet(string(stage)))},
		lead.WorkflowType, lead.StartInput{LeadID: id})
	if err != nil {
		t.Fatal(err)
	}
}

// listed waits until visibility lists exactly ids as rep's open leads.
func (e *repEnv) listed(t *testing.T, rep string, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := e.lc.OwnedBy(t.Context(), rep, nil)
		slices.Sort(got)
		if err == nil && slices.Equal(got, ids) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("visibility lists %v (%v) for %s, want %v", got, err, rep, ids)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *repEnv) owner(t *testing.T, id string) string {
	t.Helper()
	var v lead.View
	if err := e.lc.Query(t.Context(), id, lead.QueryState, &v); err != nil {
		t.Fatal(err)
	}
	return v.OwnerID
}

func wantOut(t *testing.T, ta *testApp, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(ta.out.String(), w) {
			t.Errorf("stdout lacks %q:\n%s", w, ta.out)
		}
	}
}

func TestRepCommandsMoveLeads(t *testing.T) {
	e := newRepEnv(t)
	ta := e.ta
	// The test's clock: 2026-12-01 15:00 UTC, the same date in every rep's zone.
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	ta.now = func() time.Time { return now }
	e.start(t, "L-a", "rep-1", lead.StageHandoff)
	e.start(t, "L-b", "rep-1", lead.StageSAL) // away leaves accepted leads alone: not even asked
	e.start(t, "L-c", "rep-2", lead.StageHandoff)
	e.start(t, "L-d", "rep-2", lead.StageOpportunity)
	e.listed(t, "rep-1", "L-a", "L-b")
	e.listed(t, "rep-2", "L-c", "L-d")

	t.Run("away later: nothing moves yet", func(t *testing.T) {
		if code := ta.run(t, "rep", "away", "rep-1", "--from", "2026-12-24", "--to", "2026-12-26"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		wantOut(t, ta, "takes effect on 2026-12-24 (America/New_York)", "the SLA ladder reassigns")
		if o := e.owner(t, "L-a"); o != "rep-1" {
			t.Errorf("L-a moved to %s before the period", o)
		}
	})
	t.Run("away now", func(t *testing.T) {
		if code := ta.run(t, "rep", "away", "rep-1", "--from", "2026-11-30", "--to", "2026-12-02"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		wantOut(t, ta, "→ 2026-11-30..2026-12-02, 2026-12-24..2026-12-26", "L-a: moved to rep-8", "1 lead: 1 moved, 0 errors")
		if strings.Contains(ta.out.String(), "L-b") {
			t.Errorf("the accepted lead was asked")
		}
	})
	t.Run("back", func(t *testing.T) {
		if code := ta.run(t, "rep", "back", "rep-1"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		wantOut(t, ta, "rep-1 back: handoffs:")
	})
	t.Run("bulk reassign, dry run first", func(t *testing.T) {
		if code := ta.run(t, "lead", "reassign", "--from", "rep-2", "--to", "rep-9", "--dry-run"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		wantOut(t, ta, "L-c: would move to rep-9", "L-d: would move to rep-9", "dry run, nothing sent")
		if a, b := e.owner(t, "L-c"), e.owner(t, "L-d"); a != "rep-2" || b != "rep-2" {
			t.Fatalf("a dry run moved leads: %s, %s", a, b)
		}
		if code := ta.run(t, "lead", "reassign", "--from", "rep-2", "--to", "rep-9"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		wantOut(t, ta, "L-c: moved to rep-9", "L-d: moved to rep-9", "2 leads: 2 moved, 0 errors")
		if a := e.owner(t, "L-c"); a != "rep-9" {
			t.Fatalf("L-c owned by %s", a)
		}
	})
	t.Run("deactivate with --to", func(t *testing.T) {
		e.listed(t, "rep-9", "L-c", "L-d")
		if code := ta.run(t, "rep", "deactivate", "rep-9", "--to", "rep-7"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		wantOut(t, ta, "rep-9 (Priya Raman) is inactive", "L-c: moved to rep-7", "2 leads: 2 moved, 0 errors")
		d, err := e.st.Directory().Directory(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := d.Reps["rep-9"]; ok {
			t.Error("rep-9 still active")
		}
		// Again (as after a Temporal outage): safe, and says so.
		if code := ta.run(t, "rep", "deactivate", "rep-9", "--to", "rep-7"); code != exitOK {
			t.Fatalf("re-run: exit %d", code)
		}
		wantOut(t, ta, "rep-9 is already inactive")
	})
	t.Run("deactivate, routing decides", func(t *testing.T) {
		e.listed(t, "rep-7", "L-c", "L-d")
		if code := ta.run(t, "rep", "deactivate", "rep-7"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		wantOut(t, ta, "L-c: moved to rep-8", "L-d: moved to rep-8")
	})
	t.Run("import making a rep away today", func(t *testing.T) {
		e.start(t, "L-e", "rep-2", lead.StageHandoff)
		e.listed(t, "rep-2", "L-e")
		src, err := os.ReadFile(deployDirectory)
		if err != nil {
			t.Fatal(err)
		}
		file := writeFile(t, "directory.yaml", string(src)+`  - { rep: rep-2, from: "2026-12-01", to: "2026-12-01" }`+"\n")
		// --skip-leads only imports: nothing is sent, the lead stays.
		if code := ta.run(t, "directory", "import", "--skip-leads", file); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		if o := e.owner(t, "L-e"); o != "rep-2" || strings.Contains(ta.out.String(), "L-e") {
			t.Fatalf("--skip-leads moved L-e to %s:\n%s", o, ta.out)
		}
		// Back to the deploy file, then the one that adds today's range.
		if code := ta.run(t, "directory", "import", deployDirectory); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		if code := ta.run(t, "directory", "import", file); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		wantOut(t, ta, "rep-2 is away from today (2026-12-01..2026-12-01)", "L-e: moved to rep-8")
		if strings.Contains(ta.out.String(), "rep-1 is away") {
			t.Errorf("rep-1's away range was cleared by the import, not added")
		}
	})
}

func TestRepCommandsBadInput(t *testing.T) {
	e := newRepEnv(t)
	for _, args := range [][]string{
		{"rep", "away", "rep-99", "--from", "2026-12-01", "--to", "2026-12-02"},
		{"rep", "back", "rep-99"},
		{"rep", "deactivate", "rep-99"},
		{"rep", "deactivate", "rep-1", "--to", "rep-99"},
		{"lead", "reassign", "--from", "rep-99", "--to", "rep-1"},
		{"lead", "reassign", "--from", "rep-1", "--to", "rep-99"},
	} {
		if code := e.ta.run(t, args...); code != exitUsage || !strings.Contains(e.ta.errOut.String(), `unknown rep "rep-99"`) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming rep-99", args, code, e.ta.errOut)
		}
	}
	if d, _ := e.st.Directory().Directory(t.Context()); d.Reps["rep-1"].ID == "" {
		t.Error("a refused deactivate --to deactivated rep-1")
	}
	for _, args := range [][]string{
		{"lead", "reassign", "--from", "rep-1"},
		{"lead", "reassign", "L-1", "--from", "rep-1", "--to", "rep-2"},
		{"lead", "reassign", "--from", "rep-1", "--to", "rep-2", "--owner", "rep-3"},
		{"lead", "reassign", "L-1", "--owner", "rep-2", "--by", "x", "--dry-run"},
		{"lead", "reassign", "--from", "rep-1", "--to", "rep-1"},
		{"rep", "deactivate", "rep-1", "--to", "rep-1"},
	} {
		if code := e.ta.run(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestRepAwayWithoutTemporal(t *testing.T) {
	dbURL := storetest.NewDB(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing answers there
	old := repDialTimeout
	repDialTimeout = 2 * time.Second
	t.Cleanup(func() { repDialTimeout = old })
	ta := newTestApp(t, map[string]string{config.EnvDatabaseURL: dbURL, config.EnvTemporalAddress: closed, config.EnvCodecKeys: testenv.CodecKeys})
	ta.now = func() time.Time { return time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC) }
	if code := ta.run(t, "directory", "import", deployDirectory); code != exitOK {
		t.Fatalf("import: exit %d", code)
	}
	if code := ta.run(t, "rep", "away", "rep-1", "--from", "2026-12-01", "--to", "2026-12-02"); code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	wantOut(t, ta, "(none) → 2026-12-01..2026-12-02")
	if !strings.Contains(ta.errOut.String(), "the directory change above is made, but the leads were not told") {
		t.Errorf("stderr %q", ta.errOut)
	}
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.Directory().Directory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(d.Away, directory.Away{RepID: "rep-1", From: "2026-12-01", To: "2026-12-02"}) {
		t.Errorf("the away range was not kept: %v", d.Away)
	}
}
