package workflows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
)

// One manager the CRM refuses does not stop the others or the marketing
// recipients; the run reports who was told and fails naming the refused.
func TestWeeklyReportNotifiesEveryoneItCan(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	var snapIn actions.ReportSnapshotInput
	var told []string
	bind(env, actions.Report.Snapshot.Bind(func(_ context.Context, in actions.ReportSnapshotInput) (actions.ReportSnapshotResult, error) {
		snapIn = in
		return actions.ReportSnapshotResult{Created: true, Summary: "Handed off 3"}, nil
	}))
	bind(env, actions.Report.Managers.Bind(func(context.Context) ([]string, error) {
		return []string{"mgr-1", "mgr-404", "mgr-2"}, nil
	}))
	bind(env, actions.Report.Notify.Bind(func(_ context.Context, in actions.ReportNotifyInput) error {
		if in.Manager == "mgr-404" {
			return temporal.NewNonRetryableApplicationError("unknown rep mgr-404", actions.ErrUnknownRep, nil)
		}
		if in.Body != "Handed off 3" {
			return errors.New("body " + in.Body)
		}
		mu.Lock()
		defer mu.Unlock()
		told = append(told, in.Manager)
		return nil
	}))
	bind(env, actions.Report.NotifyMarketing.Bind(func(context.Context, actions.ReportMarketingInput) (int, error) { return 2, nil }))
	env.RegisterWorkflowWithOptions(WeeklyReport, workflow.RegisterOptions{Name: WeeklyReportType})

	env.ExecuteWorkflow(WeeklyReportType, WeeklyReportInput{Timezone: "UTC"})
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "notify mgr-404") {
		t.Fatalf("error = %v; want one naming mgr-404", err)
	}
	// Last week: Monday 16 to Monday 23 November.
	if want := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC); !snapIn.From.Equal(want) || !snapIn.To.Equal(want.AddDate(0, 0, 7)) {
		t.Errorf("snapshot of %v..%v; want the week of %v", snapIn.From, snapIn.To, want)
	}
	slices.Sort(told)
	if !slices.Equal(told, []string{"mgr-1", "mgr-2"}) {
		t.Errorf("told %v; want mgr-1 and mgr-2", told)
	}
}

// A week that is no Monday fails the run at once, with no activity run.
func TestWeeklyReportRefusesABadWeek(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	ran := false
	bind(env, actions.Report.Snapshot.Bind(func(context.Context, actions.ReportSnapshotInput) (actions.ReportSnapshotResult, error) {
		ran = true
		return actions.ReportSnapshotResult{}, nil
	}))
	env.RegisterWorkflowWithOptions(WeeklyReport, workflow.RegisterOptions{Name: WeeklyReportType})
	env.ExecuteWorkflow(WeeklyReportType, WeeklyReportInput{Week: "2026-11-17"})
	var app *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &app) || !app.NonRetryable() || !strings.Contains(err.Error(), "not a Monday") {
		t.Errorf("error = %v; want a non-retryable 'not a Monday'", err)
	}
	if ran {
		t.Error("the snapshot ran for a bad week")
	}
}
