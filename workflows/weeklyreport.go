package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/week"
)

// The weekly governance report ("review SLA performance weekly"): a
// Temporal Schedule (set up by the worker) starts WeeklyReport, which has
// last week's numbers computed from the ledger and stored once per week,
// then sends the summary to every manager in the sales directory and to
// the policy's marketing recipients. Every step is idempotent by the week
// and the recipient, so a rerun of the same week changes nothing.

// WeeklyReportType is the workflow type the schedule starts.
const WeeklyReportType = "WeeklyReport"

// WeeklyReportInput is what a run reports on.
type WeeklyReportInput struct {
	// Timezone (IANA) the week runs Monday to Sunday in; "" is UTC.
	Timezone string `json:"timezone"`
	// Week, YYYY-MM-DD of a Monday, reports that week instead of the last
	// full week before the run (a manual rerun or backfill).
	Week string `json:"week,omitempty"`
}

// WeeklyReportResult is what a run did.
type WeeklyReportResult struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Created  bool      `json:"created"` // false: the snapshot was already there
	Notified []string  `json:"notified"`
}

// WeeklyReport computes, stores and sends one week's report.
func WeeklyReport(ctx workflow.Context, in WeeklyReportInput) (WeeklyReportResult, error) {
	p, err := week.Reported(in.Timezone, in.Week, workflow.Now(ctx))
	if err != nil {
		return WeeklyReportResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "BadInput", err)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 10},
	})
	snap, err := execute(ctx, actions.Report.Snapshot, actions.ReportSnapshotInput{From: p.From, To: p.To, Timezone: in.Timezone}).Get(ctx)
	if err != nil {
		return WeeklyReportResult{}, err
	}
	managers, err := fetch(ctx, actions.Report.Managers).Get(ctx)
	if err != nil {
		return WeeklyReportResult{}, err
	}
	res := WeeklyReportResult{From: p.From, To: p.To, Created: snap.Created, Notified: []string{}}
	// All notifications in parallel; one manager the CRM does not know
	// does not stop the others.
	sent := make([]outcome, len(managers))
	for i, m := range managers {
		sent[i] = perform(ctx, actions.Report.Notify, actions.ReportNotifyInput{From: p.From, Manager: m, Body: snap.Summary})
	}
	// Runs started before the marketing recipients existed replay without
	// the call.
	var marketing *result[int]
	if workflow.GetVersion(ctx, "weekly-report-marketing", workflow.DefaultVersion, 1) == 1 {
		f := execute(ctx, actions.Report.NotifyMarketing, actions.ReportMarketingInput{From: p.From, Body: snap.Summary})
		marketing = &f
	}
	var errs []error
	for i, d := range sent {
		if err := d.Get(ctx); err != nil {
			workflow.GetLogger(ctx).Error("weekly report: notify manager failed", "manager", managers[i], "error", err)
			errs = append(errs, fmt.Errorf("notify %s: %w", managers[i], err))
			continue
		}
		res.Notified = append(res.Notified, managers[i])
	}
	if marketing != nil {
		if n, err := marketing.Get(ctx); err != nil {
			workflow.GetLogger(ctx).Error("weekly report: notify marketing failed", "error", err)
			errs = append(errs, fmt.Errorf("notify %s: %w", actions.ReportMarketingRecipient, err))
		} else if n > 0 {
			res.Notified = append(res.Notified, actions.ReportMarketingRecipient)
		}
	}
	return res, errors.Join(errs...)
}
