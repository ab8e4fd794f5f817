// Package metrics computes the numbers Sales and Marketing review every week
// from the Postgres ledger (internal/store, table ledger), with plain SQL:
// no counters that drift. Every number is something a person can recompute
// by hand from the ledger rows; the rules are stated next to each query.
//
// Definitions (a period is the half-open window [From, To)):
//
//   - Handed off: transitions into handoff from another stage made in the
//     period (a reassignment inside handoff is not a new handoff). Accepted:
//     an accepted feedback row follows the handoff before the lead's next
//     handoff, even after the period; rejected: a rejected one does and no
//     accepted one. Acceptance rate = accepted / handed off.
//   - Rejection reasons: rejected feedback rows in the period, by
//     data.reason; share = count / all rejections of the row.
//   - Time to first touch: first_touch rows in the period, data.ttftSeconds
//     (raw) and data.ttftBusinessSeconds (business hours); p50 and p90 are
//     interpolated (percentile_cont), max is the largest.
//   - First-touch SLA: first_touch rows in the period with data.slaMet.
//   - Acceptance SLA: accepted feedback rows in the period; met when no
//     sla_step row of the same lead and cycle (data.cycle) for the
//     acceptance SLA with data.breached = true is at or before the
//     acceptance. (The acceptance clock starts at the first touch; the
//     ladder writes breached = true from its escalate step on.)
//   - Breaches: distinct SLA clocks with a breached step in the period (a
//     clock is the sla_step key without its trailing step index);
//     escalations and reassignments: sla_step rows with data.action escalate
//     and reassign.
//   - Stage conversion: distinct leads with a transition into lead, mql,
//     sal, opportunity and customer in the period; each step rate is a
//     stage's count over the previous stage's count (flow in the period, not
//     a cohort).
//   - Velocity: a stay in a stage runs from the transition into it to the
//     lead's next transition into another stage (consecutive transitions,
//     ordered by at, then the sequence number in the key); the median of the
//     stays that ended in the period, in days, per stage.
//   - Pipeline: transitions into opportunity (created) and customer (won) in
//     the period; the amount is data.attributes.amount of the
//     opportunity.created / opportunity.won event the transition names
//     ("opportunity created (EVENT_ID)"), when it carries a number.
//   - Recycles: transitions into recycle in the period, by play (the why's
//     "play NAME until"). Of each: came back as MQL (a later transition into
//     mql before the lead's next recycle), and of those, won (a later
//     customer transition before the next recycle), lost (disqualified or
//     merged before it) or recycled again (there is a next recycle).
//   - Waited for enrichment: see Leakage.
//
// Dimensions: the dimension value of a fact is taken from the ledger row
// the fact is (the handoff transition, the feedback row, the first_touch
// row, ...). pool is the data.pool of the lead's latest routing row at or
// before that row; source is "source / campaign" (the journey).
package metrics

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier is what the queries need: a *pgxpool.Pool, a pgx.Tx or a conn.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Dimensions a report can be broken down by ("" is one row for everything).
const (
	ByAll       = ""
	BySegment   = "segment"
	BySource    = "source"
	ByTerritory = "territory"
	ByPool      = "pool"
	ByRep       = "rep"
	ByPolicy    = "policy"
)

// Dimensions lists the valid non-empty values of by.
var Dimensions = []string{BySegment, BySource, ByTerritory, ByPool, ByRep, ByPolicy}

// FunnelStages are the stages of the conversion funnel, in order.
var FunnelStages = []string{"lead", "mql", "sal", "opportunity", "customer"}

// VelocityStages are the stages velocity is reported for, in order.
var VelocityStages = []string{"lead", "mql", "handoff", "sal", "opportunity", "recycle"}

// Period is the half-open window [From, To).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Report is the numbers for one period, one Row per dimension value.
type Report struct {
	Period Period `json:"period"`
	By     string `json:"by"`
	Rows   []Row  `json:"rows"`
}

// Row is the numbers of one dimension value (Key; "" when by is "" or the
// rows had no value).
type Row struct {
	Key              string        `json:"key"`
	HandedOff        int           `json:"handedOff"`
	Accepted         int           `json:"accepted"`
	Rejected         int           `json:"rejected"`
	AcceptanceRate   float64       `json:"acceptanceRate"`
	RejectionReasons []ReasonCount `json:"rejectionReasons"`
	TTFT             Dist          `json:"ttft"`
	TTFTBusiness     Dist          `json:"ttftBusiness"`
	FirstTouchSLA    Share         `json:"firstTouchSla"`
	AcceptanceSLA    Share         `json:"acceptanceSla"`
	Breaches         int           `json:"breaches"`
	Escalations      int           `json:"escalations"`
	Reassignments    int           `json:"reassignments"`
	Funnel           []StageCount  `json:"funnel"`
	Velocity         []StageDays   `json:"velocity"`
	Pipeline         Money         `json:"pipeline"`
	Won              Money         `json:"won"`
	Recycles         []Recycle     `json:"recycles"`
	WaitedEnrichment int           `json:"waitedForEnrichment"`
}

// ReasonCount is one rejection reason.
type ReasonCount struct {
	Reason string  `json:"reason"`
	Count  int     `json:"count"`
	Share  float64 `json:"share"`
}

// Dist is a distribution of durations in seconds.
type Dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50Seconds"`
	P90 float64 `json:"p90Seconds"`
	Max float64 `json:"maxSeconds"`
}

// Share is "met out of total".
type Share struct {
	Met   int     `json:"met"`
	Total int     `json:"total"`
	Rate  float64 `json:"rate"`
}

// StageCount is one funnel step: leads that reached Stage and the rate from
// the previous step (0 for the first step and when the previous is 0).
type StageCount struct {
	Stage string  `json:"stage"`
	Leads int     `json:"leads"`
	Rate  float64 `json:"rate"`
}

// StageDays is the median stay in a stage, of Stays stays.
type StageDays struct {
	Stage      string  `json:"stage"`
	Stays      int     `json:"stays"`
	MedianDays float64 `json:"medianDays"`
}

// Money is a count of opportunities and the sum of the amounts known
// (Priced of them carried one).
type Money struct {
	Count  int     `json:"count"`
	Priced int     `json:"priced"`
	Amount float64 `json:"amount"`
}

// Recycle is what became of the leads one play recycled.
type Recycle struct {
	Play          string `json:"play"`
	Recycled      int    `json:"recycled"`
	BackToMQL     int    `json:"backToMql"`
	Won           int    `json:"won"`
	Lost          int    `json:"lost"`
	RecycledAgain int    `json:"recycledAgain"`
}

// ValidBy reports whether by names a dimension ("" included).
func ValidBy(by string) bool { return by == ByAll || slices.Contains(Dimensions, by) }

// dimExpr is the SQL expression of a dimension over the ledger row l.
func dimExpr(by string) (string, error) {
	switch by {
	case ByAll:
		return "''", nil
	case BySegment:
		return "coalesce(l.segment, '')", nil
	case BySource:
		return "coalesce(l.source, '') || coalesce(' / ' || l.campaign, '')", nil
	case ByTerritory:
		return "coalesce(l.territory, '')", nil
	case ByRep:
		return "coalesce(l.owner_id, '')", nil
	case ByPolicy:
		return "coalesce(l.policy_version, '')", nil
	case ByPool:
		return `coalesce((SELECT r.data->>'pool' FROM ledger r
                  WHERE r.kind = 'routing' AND r.lead_id = l.lead_id AND r.at <= l.at
                  ORDER BY r.at DESC, r.key DESC LIMIT 1), '')`, nil
	}
	return "", fmt.Errorf("metrics: unknown dimension %q (want one of %s)", by, strings.Join(Dimensions, ", "))
}

// Query returns the SQL text of one of the queries with the dimension
// filled in, so a dashboard or psql can run the very same text.
func Query(q, by string) (string, error) {
	d, err := dimExpr(by)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(q, "{{dim}}", d), nil
}

// seqExpr orders transitions recorded at the same instant: the workflow's
// keys are "lead-ID:transition:SEQ:FROM:TO".
const seqExpr = `coalesce(substring(l.key from ':transition:([0-9]+):')::int, 0)`

// QueryHandoffs: handoffs in the period and how they were judged.
const QueryHandoffs = `
WITH handoffs AS (
    SELECT l.lead_id, l.at, {{dim}} AS dim,
           lead(l.at) OVER (PARTITION BY l.lead_id ORDER BY l.at, l.key) AS next_at
    FROM ledger l
    WHERE l.kind = 'transition' AND l.to_stage = 'handoff'
      AND l.from_stage IS DISTINCT FROM 'handoff'
), judged AS (
    SELECT h.dim,
           EXISTS (SELECT 1 FROM ledger f
                   WHERE f.kind = 'feedback' AND f.lead_id = h.lead_id AND f.data->>'outcome' = 'accepted'
                     AND f.at >= h.at AND (h.next_at IS NULL OR f.at < h.next_at)) AS accepted,
           EXISTS (SELECT 1 FROM ledger f
                   WHERE f.kind = 'feedback' AND f.lead_id = h.lead_id AND f.data->>'outcome' = 'rejected'
                     AND f.at >= h.at AND (h.next_at IS NULL OR f.at < h.next_at)) AS rejected
    FROM handoffs h
    WHERE h.at >= $1 AND h.at < $2
)
SELECT dim, count(*), count(*) FILTER (WHERE accepted), count(*) FILTER (WHERE rejected AND NOT accepted)
FROM judged
GROUP BY dim`

// QueryReasons: rejections in the period by reason.
const QueryReasons = `
SELECT {{dim}} AS dim, coalesce(l.data->>'reason', '') AS reason, count(*)
FROM ledger l
WHERE l.kind = 'feedback' AND l.data->>'outcome' = 'rejected'
  AND l.at >= $1 AND l.at < $2
GROUP BY 1, 2`

// QueryFirstTouch: time to first touch (raw and business) and the
// first-touch SLA over first touches in the period.
const QueryFirstTouch = `
SELECT {{dim}} AS dim, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (l.data->>'ttftSeconds')::float8),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY (l.data->>'ttftSeconds')::float8),
       max((l.data->>'ttftSeconds')::float8),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (l.data->>'ttftBusinessSeconds')::float8),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY (l.data->>'ttftBusinessSeconds')::float8),
       max((l.data->>'ttftBusinessSeconds')::float8),
       count(*) FILTER (WHERE (l.data->>'slaMet')::boolean)
FROM ledger l
WHERE l.kind = 'first_touch' AND l.at >= $1 AND l.at < $2
GROUP BY 1`

// QueryAcceptanceSLA: acceptances in the period and how many came before
// the acceptance SLA of their cycle was breached.
const QueryAcceptanceSLA = `
SELECT {{dim}} AS dim, count(*),
       count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM ledger s
           WHERE s.kind = 'sla_step' AND s.lead_id = l.lead_id
             AND s.data->>'sla' = 'acceptance' AND (s.data->>'breached')::boolean
             AND s.data->'cycle' = l.data->'cycle' AND s.at <= l.at))
FROM ledger l
WHERE l.kind = 'feedback' AND l.data->>'outcome' = 'accepted'
  AND l.at >= $1 AND l.at < $2
GROUP BY 1`

// QuerySLASteps: breached clocks, escalations and reassignments in the period.
const QuerySLASteps = `
SELECT {{dim}} AS dim,
       count(DISTINCT regexp_replace(l.key, ':[0-9]+$', '')) FILTER (WHERE (l.data->>'breached')::boolean),
       count(*) FILTER (WHERE l.data->>'action' = 'escalate'),
       count(*) FILTER (WHERE l.data->>'action' = 'reassign')
FROM ledger l
WHERE l.kind = 'sla_step' AND l.at >= $1 AND l.at < $2
GROUP BY 1`

// QueryStages: distinct leads that reached each stage in the period.
const QueryStages = `
SELECT {{dim}} AS dim, l.to_stage, count(DISTINCT l.lead_id)
FROM ledger l
WHERE l.kind = 'transition' AND l.to_stage IS NOT NULL
  AND l.at >= $1 AND l.at < $2
GROUP BY 1, 2`

// QueryVelocity: median days in each stage over the stays that ended in
// the period.
const QueryVelocity = `
WITH t AS (
    SELECT l.lead_id, l.at, l.to_stage, {{dim}} AS dim, ` + seqExpr + ` AS seq, l.key,
           lag(l.to_stage) OVER (PARTITION BY l.lead_id ORDER BY l.at, ` + seqExpr + `, l.key) AS prev_stage
    FROM ledger l
    WHERE l.kind = 'transition'
), stays AS (
    SELECT dim, to_stage AS stage, at AS entered,
           lead(at) OVER (PARTITION BY lead_id ORDER BY at, seq, key) AS left_at
    FROM t
    WHERE prev_stage IS DISTINCT FROM to_stage
)
SELECT dim, stage, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM left_at - entered)::float8 / 86400)
FROM stays
WHERE left_at >= $1 AND left_at < $2
GROUP BY 1, 2`

// QueryPipeline: opportunities created and won in the period with the
// amounts their events carried.
const QueryPipeline = `
SELECT {{dim}} AS dim, l.to_stage, count(*), count(e.amount), coalesce(sum(e.amount), 0)
FROM ledger l
LEFT JOIN LATERAL (
    SELECT CASE
             WHEN jsonb_typeof(ev.data->'attributes'->'amount') = 'number'
               THEN (ev.data->'attributes'->>'amount')::float8
             WHEN ev.data->'attributes'->>'amount' ~ '^-?[0-9]+(\.[0-9]+)?$'
               THEN (ev.data->'attributes'->>'amount')::float8
           END AS amount
    FROM ledger ev
    WHERE ev.kind = 'event' AND ev.lead_id = l.lead_id
      AND l.why LIKE CASE l.to_stage WHEN 'opportunity' THEN 'opportunity created (' ELSE 'opportunity won (' END
                     || (ev.data->>'eventId') || ')%'
    ORDER BY ev.at, ev.key
    LIMIT 1
) e ON true
WHERE l.kind = 'transition' AND l.to_stage IN ('opportunity', 'customer')
  AND l.at >= $1 AND l.at < $2
GROUP BY 1, 2`

// QueryRecycles: recycles in the period by play and what became of them.
const QueryRecycles = `
WITH recycles AS (
    SELECT l.lead_id, l.at, {{dim}} AS dim,
           coalesce(substring(l.why from '; play (\S+) until '), '') AS play,
           lead(l.at) OVER (PARTITION BY l.lead_id ORDER BY l.at, l.key) AS next_recycle
    FROM ledger l
    WHERE l.kind = 'transition' AND l.to_stage = 'recycle'
), fate AS (
    SELECT r.dim, r.play, r.next_recycle IS NOT NULL AS again,
           EXISTS (SELECT 1 FROM ledger t WHERE t.kind = 'transition' AND t.lead_id = r.lead_id
                     AND t.to_stage = 'mql' AND t.at > r.at
                     AND (r.next_recycle IS NULL OR t.at < r.next_recycle)) AS back,
           EXISTS (SELECT 1 FROM ledger t WHERE t.kind = 'transition' AND t.lead_id = r.lead_id
                     AND t.to_stage = 'customer' AND t.at > r.at
                     AND (r.next_recycle IS NULL OR t.at < r.next_recycle)) AS won,
           EXISTS (SELECT 1 FROM ledger t WHERE t.kind = 'transition' AND t.lead_id = r.lead_id
                     AND t.to_stage IN ('disqualified', 'merged') AND t.at > r.at
                     AND (r.next_recycle IS NULL OR t.at < r.next_recycle)) AS lost
    FROM recycles r
    WHERE r.at >= $1 AND r.at < $2
)
SELECT dim, play, count(*),
       count(*) FILTER (WHERE back),
       count(*) FILTER (WHERE back AND won),
       count(*) FILTER (WHERE back AND lost),
       count(*) FILTER (WHERE back AND again)
FROM fate
GROUP BY 1, 2`

// enrichmentWait is true for a transition row l into mql that had to wait
// for an enrichment field (see Leakage).
const enrichmentWait = `(l.kind = 'transition' AND l.to_stage = 'mql' AND (
    l.why LIKE '%waiting for%'
    OR (NOT EXISTS (SELECT 1 FROM ledger h WHERE h.kind = 'transition' AND h.lead_id = l.lead_id
                      AND h.to_stage = 'handoff' AND h.at = l.at)
        AND NOT EXISTS (SELECT 1 FROM ledger a WHERE a.kind = 'alert' AND a.lead_id = l.lead_id
                      AND a.data->>'kind' = 'routing_failed' AND a.at = l.at))))`

// QueryEnrichment: MQL transitions in the period that waited for a field.
const QueryEnrichment = `
SELECT {{dim}} AS dim, count(*)
FROM ledger l
WHERE ` + enrichmentWait + `
  AND l.at >= $1 AND l.at < $2
GROUP BY 1`
