package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// PublishedState is a lead's last published state and when it was
// published (the snapshot's At).
type PublishedState struct {
	View        lead.View
	PublishedAt time.Time
}

// maxRepLeadRows bounds what one RepLeads call reads, however many leads
// tie on their deadline.
const maxRepLeadRows = 1000

// The deadline CompareUrgency orders by, in SQL: the SLA's due time, else
// the stale-SAL time (a zero SLA due time, as Go encodes it, is none).
const sqlDeadline = `coalesce(nullif(view->'sla'->>'dueAt', '0001-01-01T00:00:00Z'), view->'sal'->>'staleAt')::timestamptz`

// queryRepLeads ranks the rep's leads of a stage by what SQL can order
// (breached first, then deadline) and keeps every row ranked within the
// limit, ties included, so the decayed score (computed in Go) can break
// them; total counts all of them.
const queryRepLeads = `
WITH c AS (
  SELECT lead_id, view, published_at,
         rank() OVER (ORDER BY coalesce((view->'sla'->>'breached')::boolean, false) DESC, ` + sqlDeadline + ` ASC NULLS LAST) AS rnk,
         count(*) OVER () AS total
  FROM lead_states
  WHERE view->>'stage' = $1 AND view->>'ownerId' = $2
)
SELECT view, published_at, total FROM c WHERE rnk <= $3 ORDER BY rnk, lead_id LIMIT $4`

// RepLeads returns the leads whose last published state is in stage and
// owned by ownerID, most urgent first (lead.CompareUrgency: breached SLA,
// soonest deadline, highest score decayed to now): at most limit of them,
// and how many there are in all.
func (s States) RepLeads(ctx context.Context, ownerID string, stage lead.Stage, now time.Time, limit int) ([]PublishedState, int, error) {
	if ownerID == "" || stage == "" || limit <= 0 {
		return nil, 0, fmt.Errorf("rep leads: owner, stage and a positive limit are required (got %q, %q, %d): %w", ownerID, stage, limit, ErrInvalidInput)
	}
	rows, err := s.pool.Query(ctx, queryRepLeads, string(stage), ownerID, limit, maxRepLeadRows)
	if err != nil {
		return nil, 0, fmt.Errorf("rep leads of %s in %s: %w", ownerID, stage, err)
	}
	defer rows.Close()
	var out []PublishedState
	total := 0
	for rows.Next() {
		var data []byte
		var ps PublishedState
		if err := rows.Scan(&data, &ps.PublishedAt, &total); err != nil {
			return nil, 0, fmt.Errorf("rep leads of %s in %s: %w", ownerID, stage, err)
		}
		if err := json.Unmarshal(data, &ps.View); err != nil {
			return nil, 0, fmt.Errorf("rep leads of %s in %s: decode: %w", ownerID, stage, err)
		}
		ps.PublishedAt = ps.PublishedAt.UTC()
		out = append(out, ps)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("rep leads of %s in %s: %w", ownerID, stage, err)
	}
	slices.SortStableFunc(out, func(a, b PublishedState) int { return lead.CompareUrgency(a.View, b.View, now) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, total, nil
}

// Overdue deadlines.
const (
	DeadlineSLA      = "sla"       // the SLA in force (Kind says which)
	DeadlineSALStale = "sal_stale" // an accepted lead's stale-SAL time
)

// OverdueLead is a lead whose deadline has passed, per its last published
// state.
type OverdueLead struct {
	LeadID, Stage, OwnerID string
	Deadline               string // DeadlineSLA or DeadlineSALStale
	Kind                   string // the SLA's kind, for DeadlineSLA
	DueAt                  time.Time
}

// queryOverdue: per lead in handoff or sal, its passed deadlines (the SLA
// due time; the stale-SAL time of an accepted lead), the earliest kept.
// A recycle's cool-off is a wait, not a deadline: not here.
const queryOverdue = `
SELECT lead_id, stage, owner_id, deadline, kind, due FROM (
  SELECT DISTINCT ON (s.lead_id) s.lead_id, s.view->>'stage' AS stage, coalesce(s.view->>'ownerId', '') AS owner_id,
         d.deadline, d.kind, d.due
  FROM lead_states s, LATERAL (
    SELECT 'sla' AS deadline, coalesce(s.view->'sla'->>'kind', '') AS kind, (s.view->'sla'->>'dueAt')::timestamptz AS due
    WHERE nullif(s.view->'sla'->>'dueAt', '0001-01-01T00:00:00Z') IS NOT NULL
    UNION ALL
    SELECT 'sal_stale', '', (s.view->'sal'->>'staleAt')::timestamptz
    WHERE s.view->>'stage' = 'sal' AND s.view->'sal'->>'staleAt' IS NOT NULL
  ) d
  WHERE s.view->>'stage' IN ('handoff', 'sal') AND d.due < $1
  ORDER BY s.lead_id, d.due
) o
ORDER BY due, lead_id
LIMIT $2`

// OverdueLeads returns the leads whose SLA or stale-SAL deadline passed
// before now, most overdue first, at most limit.
func (s States) OverdueLeads(ctx context.Context, now time.Time, limit int) ([]OverdueLead, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("overdue leads: limit %d must be positive: %w", limit, ErrInvalidInput)
	}
	rows, err := s.pool.Query(ctx, queryOverdue, now, limit)
	if err != nil {
		return nil, fmt.Errorf("overdue leads: %w", err)
	}
	defer rows.Close()
	var out []OverdueLead
	for rows.Next() {
		var o OverdueLead
		if err := rows.Scan(&o.LeadID, &o.Stage, &o.OwnerID, &o.Deadline, &o.Kind, &o.DueAt); err != nil {
			return nil, fmt.Errorf("overdue leads: %w", err)
		}
		o.DueAt = o.DueAt.UTC()
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("overdue leads: %w", err)
	}
	return out, nil
}
