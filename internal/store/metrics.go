package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Metrics are the ledger's counts and the weekly report's snapshots.
type Metrics struct{ *conn }

// Ledger counts for tests and tools, as plain SQL over the ledger; each
// query takes a half-open window $1 <= at < $2. The numbers both teams
// review (acceptance, SLA adherence, time to first touch, rejections, the
// funnel) are defined once, in internal/metrics: use those.

// QueryStageCounts counts the leads that reached each stage in the window
// (a lead that reached a stage twice counts once); stage conversion is the
// ratio of two of these.
const QueryStageCounts = `
SELECT to_stage, count(DISTINCT lead_id)
FROM ledger
WHERE kind = 'transition' AND to_stage IS NOT NULL
  AND at >= $1 AND at < $2
GROUP BY to_stage`

// QueryPipeline counts the leads that became an opportunity in the window,
// by segment and source ("" where the ledger row had none).
const QueryPipeline = `
SELECT coalesce(segment, ''), coalesce(source, ''), count(DISTINCT lead_id)
FROM ledger
WHERE kind = 'transition' AND to_stage = 'opportunity'
  AND at >= $1 AND at < $2
GROUP BY 1, 2
ORDER BY 1, 2`

// StageCounts returns, per stage, how many leads reached it in [from, to).
func (s Metrics) StageCounts(ctx context.Context, from, to time.Time) (map[string]int, error) {
	out, err := s.countBy(ctx, QueryStageCounts, from, to)
	if err != nil {
		return nil, fmt.Errorf("stage counts %s..%s: %w", from, to, err)
	}
	return out, nil
}

// PipelineRow is one line of Pipeline.
type PipelineRow struct {
	Segment, Source string
	Leads           int
}

// Pipeline returns the opportunities created in [from, to) by segment and
// source.
func (s Metrics) Pipeline(ctx context.Context, from, to time.Time) ([]PipelineRow, error) {
	rows, err := s.pool.Query(ctx, QueryPipeline, from, to)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s..%s: %w", from, to, err)
	}
	defer rows.Close()
	var out []PipelineRow
	for rows.Next() {
		var r PipelineRow
		if err := rows.Scan(&r.Segment, &r.Source, &r.Leads); err != nil {
			return nil, fmt.Errorf("pipeline: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	return out, nil
}

// countBy runs a "label, count" query over [from, to).
func (s Metrics) countBy(ctx context.Context, query string, from, to time.Time) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, query, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// SaveReportSnapshot stores a computed report (JSON) for the period
// [from, to) broken down by by, once: a second save of the same period and
// dimension keeps the first snapshot and reports created = false.
func (s Metrics) SaveReportSnapshot(ctx context.Context, from, to time.Time, by string, report []byte) (created bool, err error) {
	tag, err := s.pool.Exec(ctx, `
INSERT INTO report_snapshots (period_from, period_to, by_dim, report, created_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (period_from, period_to, by_dim) DO NOTHING`, from, to, by, report, s.now())
	if err != nil {
		return false, fmt.Errorf("save report snapshot %s..%s by %q: %w", from, to, by, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReportSnapshot returns the stored snapshot of [from, to) by by and when it
// was made, or ErrNotFound.
func (s Metrics) ReportSnapshot(ctx context.Context, from, to time.Time, by string) (report []byte, createdAt time.Time, err error) {
	err = s.pool.QueryRow(ctx, `
SELECT report, created_at FROM report_snapshots
WHERE period_from = $1 AND period_to = $2 AND by_dim = $3`, from, to, by).Scan(&report, &createdAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("report snapshot %s..%s by %q: %w", from, to, by, ErrNotFound)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("report snapshot %s..%s by %q: %w", from, to, by, err)
	}
	return report, createdAt, nil
}

// CountReportSnapshots is how many snapshots are stored.
func (s Metrics) CountReportSnapshots(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM report_snapshots`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count report snapshots: %w", err)
	}
	return n, nil
}

// Pool is the pool the ledger is read from, for internal/metrics' queries.
func (s Metrics) Pool() *pgxpool.Pool { return s.pool }
