package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LeakageReport is where leads leak out of the process right now.
type LeakageReport struct {
	At time.Time `json:"at"`
	// Stuck are leads held in a stage past its SLA, oldest first.
	Stuck []Stuck `json:"stuck"`
	// Waiting are leads that qualified but wait for an enrichment field,
	// oldest first.
	Waiting []Stuck `json:"waitingForEnrichment"`
}

// Stuck is one lead and since when it has been in Stage. DueAt is when its
// SLA was due (zero for enrichment waits).
type Stuck struct {
	LeadID  string    `json:"leadId"`
	Stage   string    `json:"stage"`
	Since   time.Time `json:"since"`
	DueAt   time.Time `json:"dueAt,omitzero"`
	OwnerID string    `json:"ownerId,omitempty"`
	Segment string    `json:"segment,omitempty"`
	Source  string    `json:"source,omitempty"`
	Why     string    `json:"why,omitempty"`
	Overdue float64   `json:"overdueSeconds,omitempty"`
}

// QueryStuck finds, as of $1, the leads whose current stage (the to_stage
// of their latest transition at or before $1) is
//
//   - handoff, and the current SLA clock is past due: the clock is the
//     latest sla_step row (not a reassign step, whose dueAt belongs to the
//     clock it ended) written at or after the lead's latest routing row,
//     i.e. for the current owner; it is past due when its data.dueAt is
//     before $1. A first-touch clock stops at the first touch, so its
//     steps do not count once the lead has a first_touch row since entering
//     handoff. (The ledger has no
//     row for a clock until a ladder step fires; with the usual ladder the
//     first step, a reminder, fires before the due time and carries it.)
//   - sal, and the SAL-stale reminder (an sla_step row with data.sla =
//     sal_stale) was written after the lead entered sal: it has been
//     accepted longer than sla.sal_stale_after without an opportunity.
const QueryStuck = `
WITH current AS (
    SELECT DISTINCT ON (l.lead_id) l.lead_id, l.to_stage, l.at, l.why,
           coalesce(l.owner_id, '') AS owner_id, coalesce(l.segment, '') AS segment, coalesce(l.source, '') AS source
    FROM ledger l
    WHERE l.kind = 'transition' AND l.at <= $1
    ORDER BY l.lead_id, l.at DESC, ` + seqExpr + ` DESC, l.key DESC
), clocks AS (
    SELECT c.lead_id,
           (SELECT s.data->>'dueAt'
            FROM ledger s
            WHERE s.kind = 'sla_step' AND s.lead_id = c.lead_id AND s.at <= $1
              AND s.data->>'sla' IN ('first_touch', 'acceptance')
              AND s.data->>'action' <> 'reassign'
              AND s.at >= c.at
              AND s.at >= coalesce((SELECT max(r.at) FROM ledger r
                                    WHERE r.kind = 'routing' AND r.lead_id = c.lead_id AND r.at <= $1), c.at)
              AND NOT (s.data->>'sla' = 'first_touch' AND EXISTS (
                  SELECT 1 FROM ledger t WHERE t.kind = 'first_touch' AND t.lead_id = c.lead_id
                    AND t.at >= c.at AND t.at <= $1))
            ORDER BY s.at DESC, s.key DESC
            LIMIT 1)::timestamptz AS due_at
    FROM current c
    WHERE c.to_stage = 'handoff'
)
SELECT c.lead_id, c.to_stage, c.at, k.due_at, c.owner_id, c.segment, c.source, coalesce(c.why, '')
FROM current c JOIN clocks k USING (lead_id)
WHERE k.due_at < $1
UNION ALL
SELECT c.lead_id, c.to_stage, c.at,
       (SELECT min(s.at) FROM ledger s WHERE s.kind = 'sla_step' AND s.lead_id = c.lead_id
          AND s.data->>'sla' = 'sal_stale' AND s.at >= c.at AND s.at <= $1),
       c.owner_id, c.segment, c.source, coalesce(c.why, '')
FROM current c
WHERE c.to_stage = 'sal' AND EXISTS (
    SELECT 1 FROM ledger s WHERE s.kind = 'sla_step' AND s.lead_id = c.lead_id
      AND s.data->>'sla' = 'sal_stale' AND s.at >= c.at AND s.at <= $1)
ORDER BY 3, 1`

// QueryWaiting finds, as of $1, the leads whose current stage is mql
// through a transition that waited for an enrichment field: its why says
// "waiting for", or no handoff transition followed at the same instant and
// no routing_failed alert explains why (the workflow hands a complete MQL
// off in the same turn, so an MQL left alone is one missing a field).
const QueryWaiting = `
WITH current AS (
    SELECT DISTINCT ON (l.lead_id) l.*
    FROM ledger l
    WHERE l.kind = 'transition' AND l.at <= $1
    ORDER BY l.lead_id, l.at DESC, ` + seqExpr + ` DESC, l.key DESC
)
SELECT l.lead_id, l.to_stage, l.at, coalesce(l.owner_id, ''), coalesce(l.segment, ''), coalesce(l.source, ''), coalesce(l.why, '')
FROM current l
WHERE ` + enrichmentWait + `
ORDER BY l.at, l.lead_id`

// Leakage lists the leads stuck past an SLA and waiting for enrichment as
// of now (rules: QueryStuck, QueryWaiting).
func Leakage(ctx context.Context, q Querier, now time.Time) (LeakageReport, error) {
	out := LeakageReport{At: now.UTC(), Stuck: []Stuck{}, Waiting: []Stuck{}}
	rows, err := q.Query(ctx, QueryStuck, now)
	if err != nil {
		return LeakageReport{}, fmt.Errorf("leakage: stuck: %w", err)
	}
	out.Stuck, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Stuck, error) {
		var s Stuck
		var due *time.Time
		if err := r.Scan(&s.LeadID, &s.Stage, &s.Since, &due, &s.OwnerID, &s.Segment, &s.Source, &s.Why); err != nil {
			return s, err
		}
		if due != nil {
			s.DueAt = due.UTC()
			s.Overdue = now.Sub(*due).Seconds()
		}
		s.Since = s.Since.UTC()
		return s, nil
	})
	if err != nil {
		return LeakageReport{}, fmt.Errorf("leakage: stuck: %w", err)
	}
	rows, err = q.Query(ctx, QueryWaiting, now)
	if err != nil {
		return LeakageReport{}, fmt.Errorf("leakage: waiting: %w", err)
	}
	out.Waiting, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Stuck, error) {
		var s Stuck
		err := r.Scan(&s.LeadID, &s.Stage, &s.Since, &s.OwnerID, &s.Segment, &s.Source, &s.Why)
		s.Since = s.Since.UTC()
		return s, err
	})
	if err != nil {
		return LeakageReport{}, fmt.Errorf("leakage: waiting: %w", err)
	}
	if out.Stuck == nil {
		out.Stuck = []Stuck{}
	}
	if out.Waiting == nil {
		out.Waiting = []Stuck{}
	}
	return out, nil
}
