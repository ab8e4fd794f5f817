package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
)

// A workflow calling through the helpers reaches the implementations bound
// through the same references, with typed results and errors, remote and
// local.
func TestReferencesRoundTrip(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	bind(env,
		actions.CRM.CreateTask.Bind(func(_ context.Context, in actions.TaskInput) (actions.TaskRef, error) {
			return actions.TaskRef{TaskID: "task-" + in.Key}, nil
		}),
		actions.CRM.PostNote.Bind(func(_ context.Context, in actions.NoteInput) error {
			return errors.New("refused " + in.Key)
		}),
		actions.Nurture.Send.Bind(func(_ context.Context, in actions.SendInput) (actions.SendResult, error) {
			return actions.SendResult{Sent: in.Step == 2}, nil
		}),
	)
	type out struct {
		Task    string
		NoteErr string
		Sent    bool
	}
	wf := func(ctx workflow.Context) (out, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
		var o out
		ref, err := execute(ctx, actions.CRM.CreateTask, actions.TaskInput{Key: "k1"}).Get(ctx)
		if err != nil {
			return o, err
		}
		o.Task = ref.TaskID
		if err := perform(ctx, actions.CRM.PostNote, actions.NoteInput{Key: "k2"}).Get(ctx); err != nil {
			o.NoteErr = err.Error()
		}
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
		res, err := executeLocal(lctx, actions.Nurture.Send, actions.SendInput{Key: "k3", Step: 2}).Get(ctx)
		o.Sent = res.Sent
		return o, err
	}
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "refs"})
	env.ExecuteWorkflow("refs")
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var o out
	if err := env.GetWorkflowResult(&o); err != nil {
		t.Fatal(err)
	}
	if o.Task != "task-k1" || !o.Sent {
		t.Errorf("results: %+v, want task-k1 and sent", o)
	}
	if o.NoteErr == "" {
		t.Error("PostNote's error did not reach the workflow")
	}
}
