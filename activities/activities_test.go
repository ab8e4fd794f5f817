package activities

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func newEnv(t *testing.T) (*testsuite.TestActivityEnvironment, *store.DB) {
	t.Helper()
	st := storetest.Open(t)
	dir, err := directory.Load("../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Directory().ImportDirectory(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	a := &Activities{Router: st.Directory(), Ledger: st.Ledger(), States: st.States(), Merges: st.Merges(), CRM: st.CRM(), Nurture: st.Nurture(), TaskQueue: "leadflow", Metrics: NewMetrics(nil)}
	a.Register(env)
	return env, st
}

// Bad input that no retry can fix is non-retryable, with the contract's
// error type, so the workflow sees it at once.
func TestUnknownRepIsNonRetryable(t *testing.T) {
	env, _ := newEnv(t)
	_, err := env.ExecuteActivity(actions.Route, actions.RouteInput{Key: "k1", LeadID: "L-1", ForceOwner: "rep-404", At: time.Now()})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != actions.ErrUnknownRep {
		t.Fatalf("want non-retryable %s, got %v", actions.ErrUnknownRep, err)
	}
	_, err = env.ExecuteActivity(actions.Route, actions.RouteInput{Key: "k2", LeadID: "L-1", At: time.Now(),
		Rules: []routing.Rule{{Name: "r", Pool: "no-such-pool"}}})
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != actions.ErrUnknownPool {
		t.Fatalf("want non-retryable %s, got %v", actions.ErrUnknownPool, err)
	}
}

// A retried activity (same key) creates one task, not two.
func TestCreateTaskIsIdempotentThroughTheActivity(t *testing.T) {
	env, st := newEnv(t)
	in := actions.TaskInput{Key: "lead/L-1:handoff:1:task:rep-7", LeadID: "L-1", OwnerID: "rep-7", Kind: actions.TaskHandoff,
		Title: "New lead", DueAt: time.Now().Add(time.Hour)}
	var first, second actions.TaskRef
	v, err := env.ExecuteActivity(actions.CreateTask, in)
	if err != nil {
		t.Fatal(err)
	}
	_ = v.Get(&first)
	v, err = env.ExecuteActivity(actions.CreateTask, in)
	if err != nil {
		t.Fatal(err)
	}
	_ = v.Get(&second)
	tasks, err := st.CRM().Tasks(t.Context(), "L-1")
	if err != nil || len(tasks) != 1 || first.TaskID == "" || first != second {
		t.Fatalf("tasks %+v refs %v %v err %v", tasks, first, second, err)
	}
}

// An adapter's own application error (a rate limit's retry delay, a
// rejection) reaches Temporal as it is, not wrapped into a retryable error.
func TestAdapterApplicationErrorsPassThrough(t *testing.T) {
	delay := temporal.NewApplicationErrorWithOptions("throttled", "NurtureThrottled", temporal.ApplicationErrorOptions{NextRetryDelay: 7 * time.Second})
	if got := classify("op", delay); got != delay {
		t.Fatalf("wrapped: %v", got)
	}
	rejected := temporal.NewNonRetryableApplicationError("bad", "NurtureRejected", nil)
	var app *temporal.ApplicationError
	if !errors.As(classify("op", rejected), &app) || !app.NonRetryable() {
		t.Fatal("non-retryable lost")
	}
	if got := classify("op", errors.New("plain")); got.Error() != "op: plain" {
		t.Fatalf("plain error: %v", got)
	}
}

// fakeTemporal knows which leads run; it records what each was sent.
type fakeTemporal struct {
	open map[string]bool
	got  map[string][]string // workflow ID → event IDs
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, workflowID, _, _ string, arg any) error {
	if !f.open[workflowID] {
		return serviceerror.NewNotFound("workflow not found: " + workflowID)
	}
	f.got[workflowID] = append(f.got[workflowID], arg.(lead.Event).ID)
	return nil
}

// Forwarding follows a chain of merges to the open survivor, and refuses
// (non-retryably) a survivor that does not run, without starting it.
func TestForwardEventsFollowsMergesAndNeverStartsALead(t *testing.T) {
	st := storetest.Open(t)
	ft := &fakeTemporal{open: map[string]bool{"lead/L-3": true}, got: map[string][]string{}}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	(&Activities{Router: st.Directory(), Ledger: st.Ledger(), States: st.States(), Merges: st.Merges(), CRM: st.CRM(), Nurture: st.Nurture(), Temporal: ft, TaskQueue: "leadflow", Metrics: NewMetrics(nil)}).Register(env)
	if err := st.Merges().RecordMerge(t.Context(), "L-2", "L-3"); err != nil {
		t.Fatal(err)
	}
	evs := []lead.Event{{ID: "merged:L-1:e1", Type: lead.EventWebPageView}}
	if _, err := env.ExecuteActivity(actions.ForwardEvents, actions.ForwardInput{Key: "k1", From: "L-1", To: "L-2", Events: evs}); err != nil {
		t.Fatalf("forward along L-2 → L-3: %v", err)
	}
	if got := ft.got["lead/L-3"]; len(got) != 1 || got[0] != "merged:L-1:e1" {
		t.Fatalf("survivor L-3 got %v", ft.got)
	}
	if to, ok, err := st.Merges().MergedInto(t.Context(), "L-1"); err != nil || !ok || to != "L-3" { // the store follows the chain
		t.Fatalf("merge of L-1 recorded: %q %v %v", to, ok, err)
	}
	// A survivor that does not exist: refused for good, nothing started.
	_, err := env.ExecuteActivity(actions.ForwardEvents, actions.ForwardInput{Key: "k2", From: "L-4", To: "L-404", Events: evs})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || !strings.Contains(app.Error(), "not an open lead") {
		t.Fatalf("want a non-retryable refusal, got %v", err)
	}
	if len(ft.got["lead/L-404"]) != 0 {
		t.Fatal("a phantom lead was signalled")
	}
	// A merge with no events is still recorded.
	if _, err := env.ExecuteActivity(actions.ForwardEvents, actions.ForwardInput{Key: "k3", From: "L-5", To: "L-3"}); err != nil {
		t.Fatal(err)
	}
	if to, ok, _ := st.Merges().MergedInto(t.Context(), "L-5"); !ok || to != "L-3" {
		t.Fatalf("empty merge recorded: %q %v", to, ok)
	}
}

// A first touch carries its enrollment: the send activity enrolls first
// (idempotent by the enrollment's key), then sends; a retry does neither twice.
func TestNurtureSendEnrollsFirst(t *testing.T) {
	env, st := newEnv(t)
	// stopped on an earlier life of the track (a disqualification): only
	// the new enrollment lets the touch go
	if err := st.Nurture().Stop(t.Context(), actions.StopInput{Key: "lead/L-9:nurture:stop:dq", LeadID: "L-9", Reason: "disqualified"}); err != nil {
		t.Fatal(err)
	}
	in := actions.SendInput{Key: "lead/L-9:nurture:1:default:0", LeadID: "L-9", Track: "default", Stage: lead.StageLead, Timezone: "UTC",
		Enroll: &actions.EnrollInput{Key: "lead/L-9:nurture:enroll:enter:default", LeadID: "L-9", Track: "default"}}
	for i := 0; i < 2; i++ {
		v, err := env.ExecuteActivity(actions.NurtureSend, in)
		if err != nil {
			t.Fatal(err)
		}
		var res actions.SendResult
		if err := v.Get(&res); err != nil || !res.Sent {
			t.Fatalf("attempt %d: %+v %v", i, res, err)
		}
	}
	n, ok, err := st.Nurture().Nurture(t.Context(), "L-9")
	if err != nil || !ok || n.Track != "default" {
		t.Fatalf("nurture state %+v %v %v: the send did not enroll", n, ok, err)
	}
	sends, err := st.Nurture().Sends(t.Context(), "L-9")
	if err != nil || len(sends) != 1 {
		t.Fatalf("sends %+v %v", sends, err)
	}
}
