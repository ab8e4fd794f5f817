// Package metrics computes the numbers Sales and Marketing review every week
// from the Postgres ledger (internal/store, table ledger), with plain SQL:
// no counters that drift. Every number is something a person can recompute
// by hand from the ledger rows; docs/metrics.md works an example of each.
// The dashboard (internal/webui), `starter report` and the weekly
// governance report all call Compute: one definition each.
//
// Definitions (a period is the half-open window [From, To); "now" is when
// the numbers are computed, and no fact after it counts):
//
//   - A handoff is a transition into handoff from another stage (a
//     reassignment inside handoff is not a new one). Its facts are the
//     lead's rows from the handoff up to its next handoff (QueryHandoffFacts).
//   - First-touch SLA: every handoff whose first deadline (data.slaDueAt of
//     the handoff transition) fell in the period. Met: the first contact
//     came by the deadline. Breached: it came late, or none came by the
//     deadline. Pending: none yet, and the deadline is after the period's
//     end or now, whichever is earlier. Rate = met / (met + breached). A
//     reassignment does not restart it: the breach stays on the handoff.
//     Unknown: handoffs made in the period whose deadline the ledger does
//     not hold (rows written before the handoff transition carried it, and
//     not touched: a touched old handoff takes its first_touch row's
//     slaDueAt, the clock it was judged on then).
//   - Current owner's clock (OwnerClock): of the handoffs above, those
//     first contacted after a reassignment (first_touch data.owners > 1)
//     with data.ownerMet: met on the owner's own first-touch clock. A
//     separate measure; it never changes the SLA above.
//   - SLA by trigger: the same, per handoff data.trigger (the rule or fast
//     track that made it an MQL).
//   - Time to first touch: over the handoffs made in the period, the first
//     rep contact's first_touch row (a touch; or the accept or reject when
//     no touch came first: data.via), data.ttftSeconds and
//     data.ttftBusinessSeconds; p50 and p90 interpolated between ranks
//     (as percentile_cont), max the largest. Untouched: handoffs of the
//     period with no first contact by now (open, not dropped).
//   - Speed-to-lead: over the handoffs made in the period, from the signal
//     to the handoff (owner assigned; the notification is enqueued in the
//     same workflow step). The signal is the event the lead's workflow
//     received last (data.receivedAt; at for rows without it) at or before
//     the lead's latest transition into mql at or before the handoff.
//     Unknown: no such event row.
//   - Acceptance: over the handoffs made in the period, the first feedback
//     row of each (even after the period, up to now): accepted, rejected,
//     or pending (none yet). Rate = accepted / (accepted + rejected). Per
//     rep: the rep who decided (data.repId); a pending one counts for its
//     current owner (the latest routing row).
//   - Rejection reasons: the rejected handoffs above by data.reason; by
//     source (the handoff's journey, "source / campaign") and by offer (the
//     handoff's trigger, else the form of its signal).
//   - Acceptance SLA: accepted feedback rows in the period; met when no
//     sla_step row of the same lead and cycle (data.cycle) for the
//     acceptance SLA with data.breached = true is at or before the
//     acceptance.
//   - Breaches: distinct SLA clocks with a breached step in the period (a
//     clock is the sla_step key without its trailing step index);
//     escalations and reassignments: sla_step rows with data.action escalate
//     and reassign.
//   - Funnel, cohort: the leads whose first entry ("" → lead) was in the
//     period, and how many of them ever reached (by now) each of lead, mql,
//     handoff, sal, opportunity, customer; each rate is a step's count over
//     the previous step's. Recycled: how many of them were ever recycled.
//   - Funnel, flow: transitions into each stage in the period; New is a
//     lead's first entry into that stage, Again a re-entry (a recycled
//     lead's return to lead and its later MQLs and handoffs).
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
// Rows written before the ledger carried these facts (handoff deadline and
// trigger, one first_touch row per handoff with via) are computed as they
// are: an old first_touch row was written only for a touch (via touch) and
// its deadline was the owner's clock at the touch.
//
// Dimensions: the dimension value of a fact is taken from the ledger row
// the fact is (the handoff transition for every handoff-based number, the
// lead's first transition for the cohort, ...). pool is the data.pool of
// the lead's latest routing row at or before that row; source is
// "source / campaign" (the journey).
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

// FunnelStages are the steps of the cohort funnel, in order.
var FunnelStages = []string{"lead", "mql", "handoff", "sal", "opportunity", "customer"}

// FlowStages are the stages flow is counted for: the funnel, then the side
// stages.
var FlowStages = []string{"lead", "mql", "handoff", "sal", "opportunity", "customer", "recycle", "disqualified", "merged"}

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
	// AsOf is "now" for the numbers: no fact after it counts.
	AsOf time.Time `json:"asOf"`
	By   string    `json:"by"`
	Rows []Row     `json:"rows"`
}

// Row is the numbers of one dimension value (Key; "" when by is "" or the
// rows had no value). The package comment defines each.
type Row struct {
	Key string `json:"key"`
	// Handoffs made in the period and how they were decided.
	HandedOff          int             `json:"handedOff"`
	Accepted           int             `json:"accepted"`
	Rejected           int             `json:"rejected"`
	Pending            int             `json:"pending"`
	AcceptanceRate     float64         `json:"acceptanceRate"`
	AcceptanceByRep    []RepAcceptance `json:"acceptanceByRep"`
	RejectionReasons   []ReasonCount   `json:"rejectionReasons"`
	RejectionsBySource []Rejections    `json:"rejectionsBySource"`
	RejectionsByOffer  []Rejections    `json:"rejectionsByOffer"`
	// Time to first touch of the handoffs made in the period.
	TTFT          Dist       `json:"ttft"`
	TTFTBusiness  Dist       `json:"ttftBusiness"`
	TTFTHistogram []Bucket   `json:"ttftHistogram"`
	Via           []ViaCount `json:"via"`
	Untouched     int        `json:"untouched"`
	SpeedToLead   Dist       `json:"speedToLead"`
	SpeedUnknown  int        `json:"speedToLeadUnknown"`
	// Handoffs whose first deadline fell in the period.
	FirstTouchSLA SLA          `json:"firstTouchSla"`
	SLAByTrigger  []TriggerSLA `json:"firstTouchSlaByTrigger"`
	SLAWeeks      []WeekSLA    `json:"firstTouchSlaByWeek"`
	OwnerClock    Share        `json:"ownerClockAfterReassignment"`
	AcceptanceSLA Share        `json:"acceptanceSla"`
	Breaches      int          `json:"breaches"`
	Escalations   int          `json:"escalations"`
	Reassignments int          `json:"reassignments"`
	// Cohort: leads that first entered in the period, and how far they got.
	Cohort         []StageCount `json:"cohort"`
	CohortRecycled int          `json:"cohortRecycled"`
	// Flow: transitions into each stage in the period.
	Flow             []FlowCount `json:"flow"`
	Velocity         []StageDays `json:"velocity"`
	Pipeline         Money       `json:"pipeline"`
	Won              Money       `json:"won"`
	Recycles         []Recycle   `json:"recycles"`
	WaitedEnrichment int         `json:"waitedForEnrichment"`
}

// ReasonCount is one rejection reason.
type ReasonCount struct {
	Reason string  `json:"reason"`
	Count  int     `json:"count"`
	Share  float64 `json:"share"`
}

// Rejections are the rejections of one source or offer, by reason.
type Rejections struct {
	Key     string        `json:"key"`
	Total   int           `json:"total"`
	Reasons []ReasonCount `json:"reasons"`
}

// RepAcceptance is one rep's decided and pending handoffs.
type RepAcceptance struct {
	Rep      string  `json:"rep"`
	Accepted int     `json:"accepted"`
	Rejected int     `json:"rejected"`
	Pending  int     `json:"pending"`
	Rate     float64 `json:"rate"`
}

// Dist is a distribution of durations in seconds.
type Dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50Seconds"`
	P90 float64 `json:"p90Seconds"`
	Max float64 `json:"maxSeconds"`
}

// Bucket is one histogram bar, [LoSeconds, HiSeconds) (HiSeconds 0: no
// upper bound).
type Bucket struct {
	LoSeconds float64 `json:"loSeconds"`
	HiSeconds float64 `json:"hiSeconds"`
	Count     int     `json:"count"`
}

// ViaCount is how many first contacts came through one way (ViaTouch, ...).
type ViaCount struct {
	Via   string `json:"via"`
	Count int    `json:"count"`
}

// Share is "met out of total".
type Share struct {
	Met   int     `json:"met"`
	Total int     `json:"total"`
	Rate  float64 `json:"rate"`
}

// SLA is how the deadlines that fell in a period went. Rate is met /
// (met + breached); pending ones are not judged yet.
type SLA struct {
	Met      int     `json:"met"`
	Breached int     `json:"breached"`
	Pending  int     `json:"pending"`
	Unknown  int     `json:"unknown,omitempty"`
	Rate     float64 `json:"rate"`
}

// TriggerSLA is the first-touch SLA of one trigger.
type TriggerSLA struct {
	Trigger string `json:"trigger"`
	SLA     SLA    `json:"sla"`
}

// WeekSLA is the first-touch SLA of the deadlines in [From, To).
type WeekSLA struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	SLA  SLA       `json:"sla"`
}

// StageCount is one funnel step: leads that reached Stage and the rate from
// the previous step (0 for the first step and when the previous is 0).
type StageCount struct {
	Stage string  `json:"stage"`
	Leads int     `json:"leads"`
	Rate  float64 `json:"rate"`
}

// FlowCount is the transitions into one stage: New first entries, Again
// re-entries.
type FlowCount struct {
	Stage       string `json:"stage"`
	Transitions int    `json:"transitions"`
	New         int    `json:"new"`
	Again       int    `json:"again"`
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
