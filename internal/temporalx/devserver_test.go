package temporalx_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

// stubLead stands in for LeadWorkflow (registered under its name), so the
// client's error mapping is checked against the real server and SDK. Its
// accept update: the validator refuses anyone but rep-7, rep-9 and the
// test reps; the handler returns a plain error for rep-plain, an
// lead.ErrTypeUnavailable error for rep-down, and never finishes for
// rep-slow. opportunity.won completes the workflow (as a merge would).
func stubLead(ctx workflow.Context, in lead.StartInput) error {
	view := lead.View{LeadID: in.LeadID, Stage: lead.StageHandoff, OwnerID: "rep-7"}
	if err := workflow.SetQueryHandler(ctx, lead.QueryState, func() (lead.View, error) { return view, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, lead.UpdateAccept,
		func(ctx workflow.Context, req lead.AcceptRequest) (lead.View, error) {
			switch req.RepID {
			case "rep-plain":
				return lead.View{}, errors.New("lead is no longer in handoff")
			case "rep-down":
				return lead.View{}, temporal.NewApplicationError("the directory did not answer", lead.ErrTypeUnavailable)
			case "rep-slow":
				return lead.View{}, workflow.Await(ctx, func() bool { return false })
			}
			view.Stage = lead.StageSAL
			return view, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req lead.AcceptRequest) error {
			switch req.RepID {
			case "rep-7", "rep-plain", "rep-down", "rep-slow":
				return nil
			}
			return errors.New(req.RepID + " is not the lead's owner")
		}})
	if err != nil {
		return err
	}
	ch := workflow.GetSignalChannel(ctx, lead.SignalEvent)
	for {
		var ev lead.Event
		ch.Receive(ctx, &ev)
		if ev.Type == lead.EventOpportunityWon {
			return nil
		}
	}
}

func event(id, typ string) lead.Event {
	return lead.Event{ID: id, Type: typ, Source: "test", OccurredAt: time.Now().UTC()}
}

func wantUnavailable(t *testing.T, err error, msg string) {
	t.Helper()
	u, ok := errors.AsType[*api.Unavailable](err)
	if !ok || !strings.Contains(u.Message, msg) {
		t.Fatalf("got %T %v, want *api.Unavailable saying %q", err, err, msg)
	}
}

func wantRefused(t *testing.T, err error, msg string) {
	t.Helper()
	r, ok := errors.AsType[*api.Refused](err)
	if !ok || !strings.Contains(r.Message, msg) {
		t.Fatalf("got %T %v, want *api.Refused saying %q", err, err, msg)
	}
}

func TestLeadClientOnDevServer(t *testing.T) {
	t.Parallel()
	srv := testenv.StartDevServer(t, testenv.DevServerOptions{})
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	w := worker.New(c, "leadflow-stub", worker.Options{})
	w.RegisterWorkflowWithOptions(stubLead, workflow.RegisterOptions{Name: lead.WorkflowType})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	lc := temporalx.NewLeadClient(c, "leadflow-stub")
	lc.UpdateTimeout = 3 * time.Second
	accept := func(lc *temporalx.LeadClient, leadID, id, rep string) (lead.View, error) {
		return lc.Update(ctx, leadID, lead.UpdateAccept, id, lead.AcceptRequest{ID: id, RepID: rep})
	}

	t.Run("update outcomes", func(t *testing.T) {
		if err := lc.Deliver(ctx, "L-1", event("evt-1", lead.EventFormSubmit)); err != nil {
			t.Fatal(err)
		}
		_, err := accept(lc, "L-1", "u-1", "rep-9")
		wantRefused(t, err, "rep-9 is not the lead's owner") // the validator
		_, err = accept(lc, "L-1", "u-2", "rep-plain")
		wantRefused(t, err, "lead is no longer in handoff") // the handler's plain error
		_, err = accept(lc, "L-1", "u-3", "rep-down")
		wantUnavailable(t, err, "the directory did not answer") // the handler's Unavailable
		start := time.Now()
		_, err = accept(lc, "L-1", "u-4", "rep-slow")
		wantUnavailable(t, err, "took the accept update but did not finish it within 3s")
		if d := time.Since(start); d < 3*time.Second || d > 8*time.Second {
			t.Errorf("a slow handler answered after %v, want the 3s deadline", d)
		}
		if v, err := accept(lc, "L-1", "u-5", "rep-7"); err != nil || v.Stage != lead.StageSAL {
			t.Errorf("accept by the owner: %+v, %v", v, err)
		}
		_, err = accept(lc, "L-404", "u-6", "rep-7")
		if !errors.Is(err, api.ErrNotFound) {
			t.Errorf("missing lead: %v", err)
		}
	})

	t.Run("deliver to closed leads", func(t *testing.T) {
		// Completed (merged): refused, ErrLeadClosed; nothing new starts.
		if err := lc.Deliver(ctx, "L-merged", event("evt-1", lead.EventFormSubmit)); err != nil {
			t.Fatal(err)
		}
		if err := lc.Deliver(ctx, "L-merged", event("evt-2", lead.EventOpportunityWon)); err != nil {
			t.Fatal(err)
		}
		run := c.GetWorkflow(ctx, lead.WorkflowID("L-merged"), "")
		if err := run.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		err := lc.Deliver(ctx, "L-merged", event("evt-3", lead.EventEmailOpen))
		if !errors.Is(err, api.ErrLeadClosed) {
			t.Fatalf("Deliver to a completed lead: %v, want api.ErrLeadClosed", err)
		}
		d, err := c.DescribeWorkflowExecution(ctx, lead.WorkflowID("L-merged"), "")
		if err != nil || d.GetWorkflowExecutionInfo().GetExecution().GetRunId() != run.GetRunID() {
			t.Errorf("a new run started for a completed lead: %v", err)
		}
		// Terminated by an operator: a later event starts a new life.
		if err := lc.Deliver(ctx, "L-term", event("evt-1", lead.EventFormSubmit)); err != nil {
			t.Fatal(err)
		}
		if err := c.TerminateWorkflow(ctx, lead.WorkflowID("L-term"), "", "operator fix"); err != nil {
			t.Fatal(err)
		}
		if err := lc.Deliver(ctx, "L-term", event("evt-2", lead.EventEmailOpen)); err != nil {
			t.Fatalf("Deliver to a terminated lead: %v, want a new run", err)
		}
		d, err = c.DescribeWorkflowExecution(ctx, lead.WorkflowID("L-term"), "")
		if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Errorf("terminated lead after an event: %v, %v", d.GetWorkflowExecutionInfo().GetStatus(), err)
		}
	})

	t.Run("is open", func(t *testing.T) {
		for id, want := range map[string]bool{"L-1": true, "L-term": true, "L-merged": false, "L-404": false} {
			if open, err := lc.IsOpen(ctx, id); err != nil || open != want {
				t.Errorf("IsOpen(%s) = %v, %v; want %v", id, open, err, want)
			}
		}
	})

	// A lead on a task queue no worker polls: Temporal admits the update and
	// the query, and nobody takes them.
	idle := temporalx.NewLeadClient(c, "leadflow-nobody")
	idle.UpdateTimeout = time.Second
	if err := idle.Deliver(ctx, "L-idle", event("evt-1", lead.EventFormSubmit)); err != nil {
		t.Fatal(err)
	}
	t.Run("no worker", func(t *testing.T) {
		start := time.Now()
		_, err := accept(idle, "L-idle", "u-1", "rep-7")
		wantUnavailable(t, err, "no worker took the accept update within 1s: the lead's workflow is not being processed; retry later")
		if d := time.Since(start); d < time.Second || d > 5*time.Second {
			t.Errorf("answered after %v, want the 1s deadline", d)
		}
		var v lead.View
		start = time.Now()
		wantUnavailable(t, idle.Query(ctx, "L-idle", lead.QueryState, &v), "no worker answered the state query within 1s")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("query answered after %v", d)
		}
	})

	// Last: with the server gone, nothing answers.
	t.Run("Temporal down", func(t *testing.T) {
		w.Stop()
		srv.Stop()
		start := time.Now()
		_, err := accept(idle, "L-idle", "u-2", "rep-7")
		wantUnavailable(t, err, "Temporal did not answer the accept update within 1s")
		if d := time.Since(start); d > 6*time.Second {
			t.Errorf("answered after %v", d)
		}
		start = time.Now()
		if _, err := idle.IsOpen(ctx, "L-idle"); err == nil || errors.Is(err, api.ErrNotFound) {
			t.Errorf("IsOpen with Temporal down: %v, want an error", err)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("IsOpen answered after %v", d)
		}
	})
}
