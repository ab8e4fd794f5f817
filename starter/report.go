package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/report"
)

const reportDetail = `
Computes the metrics of internal/metrics from the ledger in DATABASE_URL for
the days --from to --to (both inclusive, YYYY-MM-DD), one column (table) or
row (json, csv) per value of --by. Days run midnight to midnight in the
policy's time zone (LEADFLOW_POLICY; UTC when it cannot be loaded).
Without --from/--to: the last full week, Monday to Sunday, before today.
The numbers are as of now: what is not decided or due yet shows as pending.
Definitions, with worked examples: docs/metrics.md.
Formats: table (for a terminal), json (the metrics.Report), csv (long form:
by,key,metric,value with raw numbers: rates as fractions, durations in
seconds, velocity in days).`

func cmdReport(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	from := fs.String("from", "", "first day, YYYY-MM-DD (default: Monday of last week)")
	to := fs.String("to", "", "last day, inclusive, YYYY-MM-DD (default: Sunday of last week)")
	by := fs.String("by", "", "break down by "+strings.Join(metrics.Dimensions, "|"))
	format := fs.String("format", "table", "table, json or csv")
	if _, err := parseArgs(c, fs, args, 0, 0); err != nil {
		return err
	}
	if !metrics.ValidBy(*by) {
		return usagef(c, "--by %q: want one of %s", *by, strings.Join(metrics.Dimensions, ", "))
	}
	if !slices.Contains(report.Formats, *format) {
		return usagef(c, "--format %q: want table, json or csv", *format)
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	loc := time.UTC
	if p, err := policy.Load(cfg.PolicyPath); err == nil && p.Location != nil {
		loc = p.Location
	}
	period, err := reportPeriod(*from, *to, a.now(), loc)
	if err != nil {
		return usagef(c, "%v", err)
	}
	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer st.Close()
	rep, err := metrics.ComputeAt(ctx, st.Pool(), period, *by, a.now())
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return report.Render(a.stdout, rep, loc, *format)
}

// reportPeriod turns inclusive days into [from 00:00, day after to 00:00)
// in loc; both empty is the last full week before now.
func reportPeriod(from, to string, now time.Time, loc *time.Location) (metrics.Period, error) {
	if from == "" && to == "" {
		return metrics.LastWeek(now, loc), nil
	}
	if from == "" || to == "" {
		return metrics.Period{}, fmt.Errorf("give both --from and --to, or neither (last week)")
	}
	f, err := time.ParseInLocation("2006-01-02", from, loc)
	if err != nil {
		return metrics.Period{}, fmt.Errorf("--from %q is not a date (want YYYY-MM-DD)", from)
	}
	t, err := time.ParseInLocation("2006-01-02", to, loc)
	if err != nil {
		return metrics.Period{}, fmt.Errorf("--to %q is not a date (want YYYY-MM-DD)", to)
	}
	if t.Before(f) {
		return metrics.Period{}, fmt.Errorf("--to %s is before --from %s", to, from)
	}
	return metrics.Period{From: f, To: t.AddDate(0, 0, 1)}, nil
}
