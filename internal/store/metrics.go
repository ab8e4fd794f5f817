package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The numbers both teams review weekly (DOMAIN.md, "Improve"), as plain SQL
// over the ledger. Each query takes a half-open window $1 <= at < $2. They
// are exported so a report, a dashboard or psql can run the same text.

// QueryAcceptanceRate counts the handoffs made in the window and how many of
// them Sales accepted. A handoff is a transition into handoff from another
// stage (a reassignment within handoff is not a new one); it counts as
// accepted when an accepted feedback row follows it before the lead's next
// handoff, even if that feedback falls after the window, so a handoff on the
// window's last day is not counted as unaccepted for lack of time.
const QueryAcceptanceRate = `
WITH handoffs AS (
    SELECT lead_id, at,
           lead(at) OVER (PARTITION BY lead_id ORDER BY at) AS next_at
    FROM ledger
    WHERE kind = 'transition' AND to_stage = 'handoff'
      AND from_stage IS DISTINCT FROM 'handoff'
), judged AS (
    SELECT EXISTS (
               SELECT 1 FROM ledger f
               WHERE f.kind = 'feedback' AND f.lead_id = h.lead_id
                 AND f.data->>'outcome' = 'accepted'
                 AND f.at >= h.at AND (h.next_at IS NULL OR f.at < h.next_at)
           ) AS accepted
    FROM handoffs h
    WHERE h.at >= $1 AND h.at < $2
)
SELECT count(*) FILTER (WHERE accepted), count(*) FROM judged`

// QueryRejectionReasons counts rejections given in the window by reason.
const QueryRejectionReasons = `
SELECT coalesce(data->>'reason', ''), count(*)
FROM ledger
WHERE kind = 'feedback' AND data->>'outcome' = 'rejected'
  AND at >= $1 AND at < $2
GROUP BY 1`

// QueryRejectionReasonsBySource is the same split by lead source, the
// "rejection reasons by source" view that tells marketing which sources
// send bad leads.
const QueryRejectionReasonsBySource = `
SELECT coalesce(source, ''), coalesce(data->>'reason', ''), count(*)
FROM ledger
WHERE kind = 'feedback' AND data->>'outcome' = 'rejected'
  AND at >= $1 AND at < $2
GROUP BY 1, 2
ORDER BY 1, 2`

// QueryTTFT is time-to-first-touch in business seconds over the first
// touches made in the window: median, 90th percentile (interpolated), max
// and how many.
const QueryTTFT = `
SELECT coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY s), 0),
       coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY s), 0),
       coalesce(max(s), 0),
       count(s)
FROM (SELECT (data->>'ttftBusinessSeconds')::float8 AS s
      FROM ledger
      WHERE kind = 'first_touch' AND at >= $1 AND at < $2) t`

// QuerySLAAdherence counts first touches in the window and how many were
// within the SLA.
const QuerySLAAdherence = `
SELECT count(*) FILTER (WHERE (data->>'slaMet')::boolean), count(*)
FROM ledger
WHERE kind = 'first_touch' AND at >= $1 AND at < $2`

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

// AcceptanceRate returns the handoffs made in [from, to) and how many were
// accepted (QueryAcceptanceRate). The rate is accepted/handedOff.
func (s *Store) AcceptanceRate(ctx context.Context, from, to time.Time) (accepted, handedOff int, err error) {
	if err := s.pool.QueryRow(ctx, QueryAcceptanceRate, from, to).Scan(&accepted, &handedOff); err != nil {
		return 0, 0, fmt.Errorf("acceptance rate %s..%s: %w", from, to, err)
	}
	return accepted, handedOff, nil
}

// RejectionReasons counts rejections in [from, to) by reason.
func (s *Store) RejectionReasons(ctx context.Context, from, to time.Time) (map[string]int, error) {
	out, err := s.countBy(ctx, QueryRejectionReasons, from, to)
	if err != nil {
		return nil, fmt.Errorf("rejection reasons %s..%s: %w", from, to, err)
	}
	return out, nil
}

// TTFT is time-to-first-touch in business time over first touches in
// [from, to): median, 90th percentile, max and count (zeros when none).
func (s *Store) TTFT(ctx context.Context, from, to time.Time) (p50, p90, max time.Duration, n int, err error) {
	var a, b, c float64
	if err := s.pool.QueryRow(ctx, QueryTTFT, from, to).Scan(&a, &b, &c, &n); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("ttft %s..%s: %w", from, to, err)
	}
	return seconds(a), seconds(b), seconds(c), n, nil
}

// SLAAdherence returns the first touches in [from, to) and how many met
// their SLA.
func (s *Store) SLAAdherence(ctx context.Context, from, to time.Time) (met, total int, err error) {
	if err := s.pool.QueryRow(ctx, QuerySLAAdherence, from, to).Scan(&met, &total); err != nil {
		return 0, 0, fmt.Errorf("sla adherence %s..%s: %w", from, to, err)
	}
	return met, total, nil
}

// StageCounts returns, per stage, how many leads reached it in [from, to).
func (s *Store) StageCounts(ctx context.Context, from, to time.Time) (map[string]int, error) {
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
func (s *Store) Pipeline(ctx context.Context, from, to time.Time) ([]PipelineRow, error) {
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
func (s *Store) countBy(ctx context.Context, query string, from, to time.Time) (map[string]int, error) {
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

func seconds(f float64) time.Duration {
	return time.Duration(f * float64(time.Second))
}

// SaveReportSnapshot stores a computed report (JSON) for the period
// [from, to) broken down by by, once: a second save of the same period and
// dimension keeps the first snapshot and reports created = false.
func (s *Store) SaveReportSnapshot(ctx context.Context, from, to time.Time, by string, report []byte) (created bool, err error) {
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
func (s *Store) ReportSnapshot(ctx context.Context, from, to time.Time, by string) (report []byte, createdAt time.Time, err error) {
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
func (s *Store) CountReportSnapshots(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM report_snapshots`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count report snapshots: %w", err)
	}
	return n, nil
}
