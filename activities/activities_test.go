package activities

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func newEnv(t *testing.T) (*testsuite.TestActivityEnvironment, *store.Store) {
	t.Helper()
	st := storetest.Open(t)
	dir, err := directory.Load("../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ImportDirectory(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	a := &Activities{Store: st, CRM: st, Nurture: st, TaskQueue: "leadflow", Metrics: NewMetrics(nil)}
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
	tasks, err := st.Tasks(t.Context(), "L-1")
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
