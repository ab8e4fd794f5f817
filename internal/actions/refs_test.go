package actions_test

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

// The registered names are in every recorded history: a reference whose
// name drifts would make old runs fail to replay.
func TestRegisteredNamesAreStable(t *testing.T) {
	got := map[string]string{
		"Directory.Route":        actions.Directory.Route.Name,
		"Ledger.Record":          actions.Ledger.Record.Name,
		"CRM.AssignOwner":        actions.CRM.AssignOwner.Name,
		"CRM.CreateTask":         actions.CRM.CreateTask.Name,
		"CRM.CloseTask":          actions.CRM.CloseTask.Name,
		"CRM.PostNote":           actions.CRM.PostNote.Name,
		"CRM.Notify":             actions.CRM.Notify.Name,
		"CRM.RaiseAlert":         actions.CRM.RaiseAlert.Name,
		"CRM.SetLifecycleStage":  actions.CRM.SetLifecycleStage.Name,
		"Nurture.Enroll":         actions.Nurture.Enroll.Name,
		"Nurture.Pause":          actions.Nurture.Pause.Name,
		"Nurture.Send":           actions.Nurture.Send.Name,
		"Nurture.Stop":           actions.Nurture.Stop.Name,
		"Leads.ForwardEvents":    actions.Leads.ForwardEvents.Name,
		"Report.Snapshot":        actions.Report.Snapshot.Name,
		"Report.Managers":        actions.Report.Managers.Name,
		"Report.Notify":          actions.Report.Notify.Name,
		"Report.NotifyMarketing": actions.Report.NotifyMarketing.Name,
	}
	want := map[string]string{
		"Directory.Route":        "Route",
		"Ledger.Record":          "Record",
		"CRM.AssignOwner":        "AssignOwner",
		"CRM.CreateTask":         "CreateTask",
		"CRM.CloseTask":          "CloseTask",
		"CRM.PostNote":           "PostNote",
		"CRM.Notify":             "NotifyManager",
		"CRM.RaiseAlert":         "RaiseAlert",
		"CRM.SetLifecycleStage":  "SetLifecycleStage",
		"Nurture.Enroll":         "NurtureEnroll",
		"Nurture.Pause":          "NurturePause",
		"Nurture.Send":           "NurtureSend",
		"Nurture.Stop":           "NurtureStop",
		"Leads.ForwardEvents":    "ForwardEvents",
		"Report.Snapshot":        "WeeklyReport.Snapshot",
		"Report.Managers":        "WeeklyReport.Managers",
		"Report.Notify":          "WeeklyReport.Notify",
		"Report.NotifyMarketing": "WeeklyReport.NotifyMarketing",
	}
	for ref, name := range want {
		if got[ref] != name {
			t.Errorf("%s is registered as %q, histories know it as %q", ref, got[ref], name)
		}
	}
}

// A workflow calling through the references reaches the implementations
// registered through them, with typed results and errors.
func TestReferencesRoundTrip(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	actions.CRM.CreateTask.Register(env, func(_ context.Context, in actions.TaskInput) (actions.TaskRef, error) {
		return actions.TaskRef{TaskID: "task-" + in.Key}, nil
	})
	actions.CRM.PostNote.Register(env, func(_ context.Context, in actions.NoteInput) error {
		return errors.New("refused " + in.Key)
	})
	actions.Nurture.Send.Register(env, func(_ context.Context, in actions.SendInput) (actions.SendResult, error) {
		return actions.SendResult{Sent: in.Step == 2}, nil
	})
	type out struct {
		Task    string
		NoteErr string
		Sent    bool
	}
	wf := func(ctx workflow.Context) (out, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
		var o out
		ref, err := actions.CRM.CreateTask.Execute(ctx, actions.TaskInput{Key: "k1"}).Get(ctx)
		if err != nil {
			return o, err
		}
		o.Task = ref.TaskID
		if err := actions.CRM.PostNote.Execute(ctx, actions.NoteInput{Key: "k2"}).Get(ctx); err != nil {
			o.NoteErr = err.Error()
		}
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
		res, err := actions.Nurture.Send.ExecuteLocal(lctx, actions.SendInput{Key: "k3", Step: 2}).Get(ctx)
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
