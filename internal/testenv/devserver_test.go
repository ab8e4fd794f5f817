package testenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/workflows"
)

func TestDevServer(t *testing.T) {
	t.Parallel()
	srv := StartDevServer(t, DevServerOptions{})
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("search attributes registered with their types", func(t *testing.T) {
		resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: srv.Namespace})
		if err != nil {
			t.Fatal(err)
		}
		if len(lead.SearchAttributeTypes) != 9 {
			t.Fatalf("contract lists %d search attributes, want 9", len(lead.SearchAttributeTypes))
		}
		for _, sa := range lead.SearchAttributeTypes {
			want, err := temporalx.IndexedValueType(sa.Type)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := resp.GetCustomAttributes()[sa.Name]; !ok || got != want {
				t.Errorf("%s: got %v (present %t), want %v", sa.Name, got, ok, want)
			}
		}
		before := len(resp.GetCustomAttributes())
		if err := temporalx.EnsureSearchAttributes(ctx, c, srv.Namespace); err != nil {
			t.Fatalf("EnsureSearchAttributes on a ready server: %v", err)
		}
		after, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: srv.Namespace})
		if err != nil {
			t.Fatal(err)
		}
		if len(after.GetCustomAttributes()) != before {
			t.Errorf("EnsureSearchAttributes changed the attribute set: %d → %d", before, len(after.GetCustomAttributes()))
		}
	})

	t.Run("missing lead", func(t *testing.T) {
		lc := temporalx.NewLeadClient(c, lead.TaskQueue)
		var v lead.View
		if err := lc.Query(ctx, "no-such-lead", lead.QueryState, &v); !errors.Is(err, api.ErrNotFound) {
			t.Errorf("Query: got %v, want api.ErrNotFound", err)
		}
		_, err := lc.Update(ctx, "no-such-lead", lead.UpdateAccept, "u-1", map[string]string{"id": "u-1", "repId": "rep-7"})
		if !errors.Is(err, api.ErrNotFound) {
			t.Errorf("Update: got %v, want api.ErrNotFound", err)
		}
		if err := lc.Ready(ctx); err != nil {
			t.Errorf("Ready: %v", err)
		}
	})

	t.Run("lead client against a stand-in workflow", func(t *testing.T) {
		testLeadClientRoundTrip(t, srv)
	})
}

// stubLead stands in for LeadWorkflow (registered under its name) so the
// client's mapping is checked against the real server and SDK: an update
// validator refusal, a query, and a closed workflow.
func stubLead(ctx workflow.Context, in workflows.Input) error {
	view := lead.View{LeadID: in.LeadID, Stage: "handoff", OwnerID: "rep-7"}
	if err := workflow.SetQueryHandler(ctx, lead.QueryState, func() (lead.View, error) { return view, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, lead.UpdateAccept,
		func(ctx workflow.Context, req map[string]string) (lead.View, error) {
			view.Stage = "sal"
			return view, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req map[string]string) error {
			if req["repId"] != view.OwnerID {
				return errors.New(req["repId"] + " is not the lead's owner")
			}
			return nil
		}})
	if err != nil {
		return err
	}
	ch := workflow.GetSignalChannel(ctx, lead.SignalEvent)
	for {
		var ev lead.Event
		ch.Receive(ctx, &ev)
		if ev.Type == lead.EventOpportunityWon {
			return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		}
	}
}

func testLeadClientRoundTrip(t *testing.T, srv *DevServer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.FromLookup(func(k string) (string, bool) {
		if k == config.EnvCodecKeys {
			return CodecKeys, true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.TemporalAddress, cfg.Namespace, cfg.TaskQueue = srv.Address, srv.Namespace, "leadflow-stub"

	reg := prometheus.NewRegistry()
	metrics, closeMetrics, err := temporalx.NewPrometheusMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := temporalx.Dial(ctx, cfg, TestLogger(t, zap.WarnLevel), metrics)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)

	w := worker.New(c, cfg.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(stubLead, workflow.RegisterOptions{Name: lead.WorkflowType})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	lc := temporalx.NewLeadClient(c, cfg.TaskQueue)
	ev := lead.Event{ID: "evt-1", Type: lead.EventFormSubmit, Source: "website", OccurredAt: time.Now().UTC(),
		Profile: &lead.Profile{Email: "ana@acme.io"}}
	if err := lc.Deliver(ctx, "L-1", ev); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	desc, err := c.DescribeWorkflowExecution(ctx, lead.WorkflowID("L-1"), "")
	if err != nil {
		t.Fatal(err)
	}
	if typ := desc.GetWorkflowExecutionInfo().GetType().GetName(); typ != lead.WorkflowType {
		t.Errorf("workflow type %q", typ)
	}

	var v lead.View
	if err := lc.Query(ctx, "L-1", lead.QueryState, &v); err != nil || v.LeadID != "L-1" {
		t.Fatalf("Query: %+v, %v", v, err)
	}

	_, err = lc.Update(ctx, "L-1", lead.UpdateAccept, "u-1", map[string]string{"id": "u-1", "repId": "rep-9"})
	var refused *api.Refused
	if !errors.As(err, &refused) || refused.Message != "rep-9 is not the lead's owner" {
		t.Fatalf("Update by a non-owner: got %#v (%v), want Refused", err, err)
	}
	v, err = lc.Update(ctx, "L-1", lead.UpdateAccept, "u-2", map[string]string{"id": "u-2", "repId": "rep-7"})
	if err != nil || v.Stage != "sal" {
		t.Fatalf("Update by the owner: %+v, %v", v, err)
	}

	// Close the workflow: queries still answer, updates are refused (not 404).
	if err := lc.Deliver(ctx, "L-1", lead.Event{ID: "evt-2", Type: lead.EventOpportunityWon, OccurredAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if err := c.GetWorkflow(ctx, lead.WorkflowID("L-1"), "").Get(ctx, nil); err != nil {
		t.Fatalf("stub workflow: %v", err)
	}
	if err := lc.Query(ctx, "L-1", lead.QueryState, &v); err != nil {
		t.Errorf("Query on a closed lead: %v", err)
	}
	_, err = lc.Update(ctx, "L-1", lead.UpdateAccept, "u-3", map[string]string{"id": "u-3", "repId": "rep-7"})
	if !errors.As(err, &refused) || !strings.Contains(refused.Message, "closed") {
		t.Errorf("Update on a closed lead: got %v, want Refused", err)
	}

	// A completed lead is merged: a later event is refused with
	// api.ErrLeadClosed (the API redirects it to the survivor), and no new
	// run starts (ALLOW_DUPLICATE_FAILED_ONLY).
	err = lc.Deliver(ctx, "L-1", lead.Event{ID: "evt-3", Type: lead.EventFormSubmit, OccurredAt: time.Now().UTC()})
	if !errors.Is(err, api.ErrLeadClosed) {
		t.Fatalf("Deliver after close: %v, want api.ErrLeadClosed", err)
	}
	desc, err = c.DescribeWorkflowExecution(ctx, lead.WorkflowID("L-1"), "")
	if err != nil || desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("after a refused event: %v, %v", desc.GetWorkflowExecutionInfo().GetStatus(), err)
	}

	// SDK metrics reached Prometheus, and none were refused.
	w.Stop()
	c.Close()
	if err := closeMetrics.Close(); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			names[mf.GetName()] += m.GetCounter().GetValue()
		}
	}
	if names["temporal_request_total"] == 0 {
		t.Errorf("no temporal_request_total; got %d families", len(mfs))
	}
	if n := names["leadflow_temporal_metrics_register_errors_total"]; n != 0 {
		t.Errorf("%v SDK metrics were refused by Prometheus", n)
	}
}

// TestDevServerPersistent checks the file-backed mode: a lead survives a
// server restart on the same database file.
func TestDevServerPersistent(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "temporal.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	srv := StartDevServer(t, DevServerOptions{DBFile: db, Namespace: "leadflow-test"})
	if srv.Namespace != "leadflow-test" {
		t.Fatalf("namespace %q", srv.Namespace)
	}
	lc := temporalx.NewLeadClient(srv.Client(t), "no-worker")
	if err := lc.Deliver(ctx, "L-9", lead.Event{ID: "evt-1", Type: lead.EventFormSubmit, OccurredAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if !srv.Exited() {
		t.Fatal("Stop returned with the server still running")
	}

	srv2 := StartDevServer(t, DevServerOptions{DBFile: db, Namespace: "leadflow-test"})
	desc, err := srv2.Client(t).DescribeWorkflowExecution(ctx, lead.WorkflowID("L-9"), "")
	if err != nil {
		t.Fatalf("lead lost across restart: %v", err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("status %v", st)
	}
	if err := temporalx.EnsureSearchAttributes(ctx, srv2.Client(t), srv2.Namespace); err != nil {
		t.Errorf("EnsureSearchAttributes after restart: %v", err)
	}
}

func TestTemporalCLIOverride(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "temporal")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvTemporalCLI, fake)
	if got := TemporalCLI(t); got != fake {
		t.Errorf("TemporalCLI with %s set = %q, want %q", EnvTemporalCLI, got, fake)
	}
}

// With no variable set, the pinned CLI that `make` builds into the cache
// (temporal-<version>) is found: a plain `go test ./...` needs no setup.
func TestTemporalCLIFindsMakesCachedBinary(t *testing.T) {
	cache := t.TempDir()
	bin := filepath.Join(cache, "leadflow", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	pinned := filepath.Join(bin, "temporal-"+TemporalCLIVersion)
	if err := os.WriteFile(pinned, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvTemporalCLI, "")
	t.Setenv("XDG_CACHE_HOME", cache)
	if got := TemporalCLI(t); got != pinned {
		t.Errorf("TemporalCLI = %q, want the cached %q", got, pinned)
	}
}
