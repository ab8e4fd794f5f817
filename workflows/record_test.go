//go:build record

package workflows

// Records the histories the replay tests read. Not part of `make test`:
// run `make record-histories` after a change to the workflow, review the
// new files in testdata/histories, and commit them beside the change.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/testenv"
)

func TestRecordHistories(t *testing.T) {
	srv := testenv.StartDevServer(t, testenv.DevServerOptions{})
	c := srv.RawClient(t)
	src, err := os.ReadFile("testdata/policy-fast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakes(exampleDirectory(t))
	// Two workers: the default history cap, and a lowered one for the
	// Continue-As-New scenario.
	for queue, cap := range map[string]int{"record": 0, "record-can": 60} {
		w := worker.New(c, queue, worker.Options{})
		leads := New(Config{Policies: staticPolicy{mustPolicy(string(src))}, HistoryCap: cap})
		w.RegisterWorkflowWithOptions(leads.LeadWorkflow, workflow.RegisterOptions{Name: lead.WorkflowType})
		f.register(w)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
	}
	r := &recorder{t: t, c: c, queue: "record"}

	// handoff, touch, accept, opportunity, won
	id := r.lead("rec-won")
	r.send(id, quoteRequest("w1"))
	r.waitStage(id, lead.StageHandoff)
	owner := r.state(id).OwnerID
	r.send(id, ev("w2", lead.EventRepTouch, map[string]any{"repId": owner, "channel": "call"}))
	r.update(id, lead.UpdateAccept, lead.AcceptRequest{ID: "w3", RepID: owner})
	r.send(id, ev("w4", lead.EventOpportunityCreated, map[string]any{"amount": 5000}))
	r.send(id, ev("w5", lead.EventOpportunityWon, map[string]any{"amount": 5000}))
	r.waitStage(id, lead.StageCustomer)
	// an expansion opportunity, won; then an upsell signal
	r.send(id, ev("w6", lead.EventOpportunityCreated, map[string]any{"amount": 800}))
	r.send(id, ev("w7", lead.EventOpportunityWon, map[string]any{"amount": 800}))
	r.send(id, ev("w8", lead.EventFormSubmit, map[string]any{"form": "contact_sales"}))
	r.waitFor(id, "the upsell", func(v lead.View) bool {
		return len(v.History) > 0 && strings.HasPrefix(v.History[len(v.History)-1].Why, "upsell signal")
	})
	r.save(id, "won")

	// the human loop: re-engagement, an ops reassign, a CRM owner change,
	// an unknown CRM owner, the owner away (rerouted), then accept
	id = r.lead("rec-human")
	r.send(id, quoteRequest("h1"))
	r.waitStage(id, lead.StageHandoff)
	owner = r.state(id).OwnerID
	r.send(id, ev("h2", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	other := "rep-8"
	if owner == other {
		other = "rep-7"
	}
	r.update(id, lead.UpdateReassign, lead.ReassignRequest{ID: "h3", OwnerID: other, By: "ops"})
	r.send(id, ev("h4", lead.EventOwnerChanged, map[string]any{"ownerId": owner, "crmOwnerId": "7007", "by": "hubspot"}))
	r.send(id, ev("h5", lead.EventOwnerChanged, map[string]any{"crmOwnerId": "9999", "by": "hubspot"}))
	r.waitFor(id, "the CRM's owner", func(v lead.View) bool { return v.OwnerID == owner })
	r.update(id, lead.UpdateRepUnavailable, lead.RepUnavailableRequest{ID: "h6", RepID: owner, Reason: lead.RepAway, By: "ops"})
	owner = r.state(id).OwnerID
	r.update(id, lead.UpdateAccept, lead.AcceptRequest{ID: "h7", RepID: owner})
	r.waitStage(id, lead.StageSAL)
	r.save(id, "human-loop")

	// the SLA ladder: remind, escalate, reassign; then a timing rejection and the cool-off
	id = r.lead("rec-ladder")
	r.send(id, quoteRequest("l1"))
	r.waitFor(id, "a reassignment", func(v lead.View) bool {
		owner = v.OwnerID
		return len(v.History) > 0 && strings.HasPrefix(v.History[len(v.History)-1].Why, "reassigned from")
	})
	r.update(id, lead.UpdateReject, lead.RejectRequest{ID: "l2", RepID: owner, Reason: lead.ReasonTiming})
	// After the cool-off the lead waits for new intent; a pricing view
	// makes it an MQL again: a second handoff, to the same rep (sticky).
	r.waitFor(id, "the end of the cool-off", func(v lead.View) bool { return v.RecycleCount == 1 && v.Stage == lead.StageLead })
	r.send(id, ev("l3", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	r.waitFor(id, "a second handoff", func(v lead.View) bool { return v.RecycleCount == 1 && v.Stage == lead.StageHandoff })
	r.save(id, "ladder-timing")

	// enrichment, then bad fit, then a duplicate merge on a second lead
	id = r.lead("rec-enrich")
	q := quoteRequest("e1")
	q.Profile.Country, q.Profile.Region = "", ""
	r.send(id, q)
	r.waitStage(id, lead.StageMQL)
	r.send(id, lead.Event{ID: "e2", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Country: "US", Region: "OR"}})
	r.waitStage(id, lead.StageHandoff)
	r.update(id, lead.UpdateReject, lead.RejectRequest{ID: "e3", RepID: r.state(id).OwnerID, Reason: lead.ReasonBadFit})
	// a phone number changes nothing; a fit field that passes brings it back
	r.send(id, lead.Event{ID: "e4", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Phone: "+1 555 0100"}})
	r.send(id, lead.Event{ID: "e5", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Title: "CFO"}})
	r.waitStage(id, lead.StageLead)
	r.save(id, "enrich-badfit")

	// unknown fit: enrichment for employees and industry; a timing
	// rejection with a revisit date hands the lead back to the rep
	id = r.lead("rec-revisit")
	pv := ev("v1", lead.EventWebPageView, map[string]any{"category": "pricing"})
	pv.Profile = &lead.Profile{Email: "kim@nowhere.io", Company: "Nowhere", Country: "US", Region: "CA"}
	r.send(id, pv)
	r.send(id, ev("v2", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	r.send(id, ev("v3", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	r.waitStage(id, lead.StageMQL)
	r.send(id, lead.Event{ID: "v4", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Employees: 300, Industry: "insurance"}})
	r.waitStage(id, lead.StageHandoff)
	owner = r.state(id).OwnerID
	r.update(id, lead.UpdateReject, lead.RejectRequest{ID: "v5", RepID: owner, Reason: lead.ReasonTiming, Note: "after the budget",
		RevisitAt: time.Now().Add(20 * time.Second).UTC().Format(time.RFC3339)})
	r.waitFor(id, "the revisit handoff", func(v lead.View) bool { return v.RecycleCount == 1 && v.Stage == lead.StageHandoff })
	r.save(id, "revisit-unknown-fit")

	id = r.lead("rec-merge")
	r.send(id, quoteRequest("m1"))
	r.waitStage(id, lead.StageHandoff)
	r.update(id, lead.UpdateReject, lead.RejectRequest{ID: "m2", RepID: r.state(id).OwnerID, Reason: lead.ReasonDuplicate, DuplicateOf: "rec-won"})
	r.waitClosed(id)
	r.save(id, "merge")

	// a CRM that refuses the handoff task: the effect fails, an operator re-drives it
	f.mu.Lock()
	f.refusals["CreateTask"] = 1
	f.mu.Unlock()
	id = r.lead("rec-effects")
	r.send(id, quoteRequest("x1"))
	r.waitFor(id, "a failed task effect", func(v lead.View) bool {
		for _, e := range v.Effects {
			if e.Status == lead.EffectFailed {
				return true
			}
		}
		return false
	})
	r.update(id, lead.UpdateRetryEffects, lead.RetryEffectsRequest{ID: "x2", By: "ops-1"})
	r.waitFor(id, "no effects left", func(v lead.View) bool { return v.Stage == lead.StageHandoff && len(v.Effects) == 0 })
	r.save(id, "effects-redrive")

	// Continue-As-New at the (lowered) history cap
	r.queue = "record-can"
	id = r.lead("rec-can")
	for i := 0; i < 40; i++ {
		r.send(id, ev(fmt.Sprintf("c%d", i), lead.EventEmailOpen, nil))
	}
	r.saveFirstRun(id, "continue-as-new")
}

type recorder struct {
	t     *testing.T
	c     client.Client
	queue string
}

func (r *recorder) lead(id string) string { return id }

func (r *recorder) send(id string, e lead.Event) {
	r.t.Helper()
	e.LeadID = id
	if e.OccurredAt.IsZero() {
		e.OccurredAt = time.Now().UTC()
	}
	_, err := r.c.SignalWithStartWorkflow(context.Background(), lead.WorkflowID(id), lead.SignalEvent, e,
		client.StartWorkflowOptions{ID: lead.WorkflowID(id), TaskQueue: r.queue}, lead.WorkflowType, Input{LeadID: id})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *recorder) update(id, name string, req any) {
	r.t.Helper()
	h, err := r.c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
		WorkflowID: lead.WorkflowID(id), UpdateName: name, Args: []any{req}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		r.t.Fatalf("%s %s: %v", name, id, err)
	}
	var v lead.View
	if err := h.Get(context.Background(), &v); err != nil {
		r.t.Fatalf("%s %s: %v", name, id, err)
	}
}

func (r *recorder) state(id string) lead.View {
	r.t.Helper()
	res, err := r.c.QueryWorkflow(context.Background(), lead.WorkflowID(id), "", lead.QueryState)
	if err != nil {
		r.t.Fatal(err)
	}
	var v lead.View
	if err := res.Get(&v); err != nil {
		r.t.Fatal(err)
	}
	return v
}

func (r *recorder) waitFor(id, what string, ok func(lead.View) bool) {
	r.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if ok(r.state(id)) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.t.Fatalf("%s: no %s within 90s: %+v", id, what, r.state(id))
}

func (r *recorder) waitStage(id string, st lead.Stage) {
	r.t.Helper()
	r.waitFor(id, "stage "+string(st), func(v lead.View) bool { return v.Stage == st })
}

func (r *recorder) waitClosed(id string) {
	r.t.Helper()
	run := r.c.GetWorkflow(context.Background(), lead.WorkflowID(id), "")
	if err := run.Get(context.Background(), nil); err != nil {
		r.t.Fatal(err)
	}
}

func (r *recorder) history(id, runID string) *historypb.History {
	r.t.Helper()
	it := r.c.GetWorkflowHistory(context.Background(), lead.WorkflowID(id), runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			r.t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

// save writes the current run's history. The run is cancelled first so the
// history is complete (leads otherwise live forever).
func (r *recorder) save(id, name string) {
	r.t.Helper()
	desc, err := r.c.DescribeWorkflowExecution(context.Background(), lead.WorkflowID(id), "")
	if err != nil {
		r.t.Fatal(err)
	}
	runID := desc.WorkflowExecutionInfo.Execution.RunId
	if first := desc.WorkflowExecutionInfo.FirstRunId; first != runID && !strings.HasSuffix(name, "-next") {
		r.t.Fatalf("%s continued as new: its history would be partial", id)
	}
	if desc.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if err := r.c.CancelWorkflow(context.Background(), lead.WorkflowID(id), runID); err != nil {
			r.t.Fatal(err)
		}
		_ = r.c.GetWorkflow(context.Background(), lead.WorkflowID(id), runID).Get(context.Background(), nil)
	}
	r.write(name, r.history(id, runID))
}

// saveFirstRun waits until the first run has continued as new and writes it.
func (r *recorder) saveFirstRun(id, name string) {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		desc, err := r.c.DescribeWorkflowExecution(context.Background(), lead.WorkflowID(id), "")
		if err == nil && desc.WorkflowExecutionInfo.FirstRunId != "" && desc.WorkflowExecutionInfo.FirstRunId != desc.WorkflowExecutionInfo.Execution.RunId {
			r.write(name, r.history(id, desc.WorkflowExecutionInfo.FirstRunId))
			r.save(id, name+"-next")
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.t.Fatalf("%s never continued as new", id)
}

func (r *recorder) write(name string, h *historypb.History) {
	r.t.Helper()
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		r.t.Fatal(err)
	}
	path := filepath.Join("testdata", "histories", name+".json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.t.Logf("wrote %s (%d events)", path, len(h.Events))
}
