package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/workflows"
)

// The weekly report's Temporal Schedule: one, created or updated to the
// current policy's report section on every worker start.

// reportScheduleID is the one schedule; its runs' workflow IDs start with it.
const reportScheduleID = "leadflow-weekly-report"

// reportSpec is when the schedule fires: a cron spec in a time zone.
type reportSpec struct {
	Cron     string
	Timezone string
}

// reportSpecFrom is the policy's report section (defaults: Monday 08:00 in
// the policy's time zone).
func reportSpecFrom(p *policy.Policy) reportSpec {
	s := reportSpec{Cron: p.Report.Cron, Timezone: p.Report.Timezone}
	if s.Cron == "" {
		s.Cron = policy.DefaultReportCron
	}
	if s.Timezone == "" {
		s.Timezone = p.Timezone
	}
	return s
}

func (s reportSpec) schedule() client.ScheduleSpec {
	return client.ScheduleSpec{CronExpressions: []string{s.Cron}, TimeZoneName: s.Timezone}
}

func (s reportSpec) action(taskQueue string) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:                       reportScheduleID,
		Workflow:                 workflows.WeeklyReportType,
		Args:                     []any{workflows.WeeklyReportInput{Timezone: s.Timezone}},
		TaskQueue:                taskQueue,
		WorkflowExecutionTimeout: 6 * time.Hour,
	}
}

// ensureReportSchedule creates the weekly report schedule, or, when it
// exists (another worker start), updates its spec and action to s: every
// worker start leaves exactly one schedule with the current policy's spec.
func ensureReportSchedule(ctx context.Context, c client.Client, taskQueue string, s reportSpec) error {
	if err := policy.CheckCron(s.Cron); err != nil {
		return fmt.Errorf("weekly report schedule: %w", err)
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil {
		return fmt.Errorf("weekly report schedule: time zone %q: %w", s.Timezone, err)
	}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      reportScheduleID,
		Spec:    s.schedule(),
		Action:  s.action(taskQueue),
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		Memo:    map[string]any{"cron": s.Cron, "timezone": s.Timezone},
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", reportScheduleID, err)
	}
	h := c.ScheduleClient().GetHandle(ctx, reportScheduleID)
	err = h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			spec := s.schedule()
			sched.Spec = &spec
			sched.Action = s.action(taskQueue)
			if sched.Policy == nil {
				sched.Policy = &client.SchedulePolicies{}
			}
			sched.Policy.Overlap = enums.SCHEDULE_OVERLAP_POLICY_SKIP
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", reportScheduleID, err)
	}
	return nil
}
