package workflows

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/lead"
)

// Continue-As-New when the server suggests it: signals buffered at that
// moment and an update in flight are applied first, and the carried state
// goes on in the next run, where a repeated event id still has no effect.
func TestContinueAsNewCarriesStateAndDrainsSignals(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	var acc *updateResult
	h.at(time.Minute, func() {
		h.env.SignalWorkflow(lead.SignalEvent, lead.Event{ID: "e2", LeadID: h.leadID, Type: lead.EventWebPageView, OccurredAt: h.env.Now(), Attributes: map[string]any{"category": "pricing"}})
		acc = h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"})
		h.env.SignalWorkflow(lead.SignalEvent, lead.Event{ID: "e3", LeadID: h.leadID, Type: lead.EventEmailReply, OccurredAt: h.env.Now()})
	})
	// The suggestion comes once the test environment has delivered the
	// three (it delivers each in a task of its own; the server would hand
	// them over together, and refuses a Continue-As-New that misses one).
	h.at(time.Minute+time.Second, func() { h.env.SetContinueAsNewSuggested(true) })
	h.event(time.Minute+2*time.Second, lead.Event{ID: "e5", Type: lead.EventEmailOpen})
	h.env.ExecuteWorkflow(lead.WorkflowType, Input{LeadID: h.leadID})
	in := h.continuedInput()
	s := in.State
	if s == nil || s.Stage != lead.StageSAL || s.Score.IntentPoints() != 85 || s.SAL == nil {
		t.Fatalf("carried state: %+v", s)
	}
	if !acc.done || acc.err != nil || acc.view.Stage != lead.StageSAL {
		t.Fatalf("update in flight at continue-as-new: %+v", acc)
	}
	for _, id := range []string{"evt-1", "e2", "e3", "acc-1", "e5"} {
		if !contains(s.Seen, id) {
			t.Fatalf("seen ids %v lack %s", s.Seen, id)
		}
	}

	// The next run: a repeated id changes nothing, a new one counts, and the
	// SAL staleness clock from the first run still runs.
	h2 := newHarness(t, withStart(monday10.Add(time.Minute)))
	h2.event(time.Minute, lead.Event{ID: "e2", Type: lead.EventWebPageView, Attributes: map[string]any{"category": "pricing"}})
	h2.event(2*time.Minute, lead.Event{ID: "e4", Type: lead.EventWebinarAttended})
	var next lead.View
	h2.at(3*time.Minute, func() { next = h2.state() })
	h2.at(15*24*time.Hour, func() {})
	if err := h2.runWith(0, in); err != nil {
		t.Fatal(err)
	}
	if next.Stage != lead.StageSAL || next.Score.Intent != 100 || next.OwnerID != "rep-7" {
		t.Fatalf("next run: %+v", next)
	}
	if !contains(h2.f.notifyKinds(), "sal_stale:rep-7") {
		t.Fatalf("SAL staleness should carry over: %v", h2.f.notifyKinds())
	}
	if h2.saValue(lead.SALeadStage) != "sal" {
		t.Fatalf("a new run upserts its search attributes: %v", h2.sa)
	}
}

// The history cap (lowered here) also triggers Continue-As-New.
func TestContinueAsNewAtHistoryCap(t *testing.T) {
	h := newHarness(t, withHistoryCap(50))
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() { h.env.SetCurrentHistoryLength(50) })
	h.event(time.Minute, ev("e2", lead.EventEmailOpen, nil))
	h.env.ExecuteWorkflow(lead.WorkflowType, Input{LeadID: h.leadID})
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
}

// Callers start a lead with lead.StartInput; its JSON must decode as Input.
func TestStartInputDecodesAsInput(t *testing.T) {
	p, err := converter.GetDefaultDataConverter().ToPayloads(lead.StartInput{LeadID: "L-7"})
	if err != nil {
		t.Fatal(err)
	}
	var in Input
	if err := converter.GetDefaultDataConverter().FromPayloads(p, &in); err != nil || in.LeadID != "L-7" || in.State != nil {
		t.Fatalf("%+v %v", in, err)
	}
}
