package main

import (
	"context"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

// The worker, wired as in production, on a real dev server and a fresh
// Postgres database: a quote request becomes a handoff with an owner, a task
// in the built-in CRM, a ledger trail and search attributes.
func TestWorkerRunsLeadsOnRealServerAndPostgres(t *testing.T) {
	srv := testenv.StartDevServer(t, testenv.DevServerOptions{})
	dbURL := storetest.NewDB(t)
	cfg, err := config.FromLookup(func(k string) (string, bool) {
		v, ok := map[string]string{
			"TEMPORAL_ADDRESS":      srv.Address,
			"DATABASE_URL":          dbURL,
			"LEADFLOW_POLICY":       "../workflows/testdata/policy-fast.yaml",
			"LEADFLOW_METRICS_ADDR": "127.0.0.1:0",
		}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- run(ctx, cfg, testenv.TestLogger(t, 0), ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("worker did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("worker did not start within 60s")
	}

	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, err := directory.Load("../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ImportDirectory(ctx, dir); err != nil {
		t.Fatal(err)
	}

	c := srv.Client(t)
	leads := temporalx.NewLeadClient(c, cfg.TaskQueue)
	ev := lead.Event{ID: "w-evt-1", LeadID: "W-1", Type: lead.EventFormSubmit, OccurredAt: time.Now().UTC(), Source: "website",
		Attributes: map[string]any{"form": "demo_request"},
		Profile:    &lead.Profile{Email: "kim@initech.com", Company: "Initech", Domain: "initech.com", Country: "US", Employees: 400}}
	if err := leads.Deliver(ctx, "W-1", ev); err != nil {
		t.Fatal(err)
	}
	var v lead.View
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := leads.Query(ctx, "W-1", lead.QueryState, &v); err == nil && v.Stage == lead.StageHandoff {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// initech.com is rep-7's account.
	if v.Stage != lead.StageHandoff || v.OwnerID != "rep-7" {
		t.Fatalf("lead: %+v", v)
	}
	tasks, err := st.Tasks(ctx, "W-1")
	if err != nil || len(tasks) != 1 || tasks[0].OwnerID != "rep-7" || tasks[0].Kind != "handoff" || tasks[0].Context == nil {
		t.Fatalf("tasks: %+v %v", tasks, err)
	}
	owner, ok, err := st.Owner(ctx, "W-1")
	if err != nil || !ok || owner != "rep-7" {
		t.Fatalf("CRM owner: %q %v %v", owner, ok, err)
	}
	// The update path through the worker: a wrong rep is refused, the owner accepts.
	if _, err := leads.Update(ctx, "W-1", lead.UpdateAccept, "acc-x", lead.AcceptRequest{ID: "acc-x", RepID: "rep-8"}); err == nil {
		t.Fatal("accept by rep-8 should be refused")
	} else if r, ok := err.(*api.Refused); !ok || r.Message == "" {
		t.Fatalf("want *api.Refused, got %T %v", err, err)
	}
	v, err = leads.Update(ctx, "W-1", lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"})
	if err != nil || v.Stage != lead.StageSAL {
		t.Fatalf("accept: %+v %v", v, err)
	}
	// Search attributes are visible to operators.
	resp, err := c.DescribeWorkflowExecution(ctx, lead.WorkflowID("W-1"), "")
	if err != nil {
		t.Fatal(err)
	}
	fields := resp.WorkflowExecutionInfo.SearchAttributes.GetIndexedFields()
	// (No LeadTerritory: the account_owner rule names none; no SLADueAt: accepted.)
	for _, name := range []string{lead.SALeadStage, lead.SALeadOwner, lead.SALeadSegment, lead.SAPolicyVersion, lead.SALeadScore, lead.SASLABreached, lead.SANurtureSuppressed} {
		if _, ok := fields[name]; !ok {
			t.Errorf("search attribute %s not set; have %v", name, keys(fields))
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
