package metrics

// QueryCohort: the leads that first entered the funnel ("" → lead) in the
// period, and how many of them ever reached each stage, up to $3 (now).
const QueryCohort = `
WITH cohort AS (
    SELECT DISTINCT ON (l.lead_id) l.lead_id, {{dim}} AS dim
    FROM ledger l
    WHERE l.kind = 'transition' AND l.from_stage IS NULL AND l.to_stage = 'lead'
      AND l.at >= $1 AND l.at < $2
    ORDER BY l.lead_id, l.at, l.key
)
SELECT c.dim, t.to_stage, count(DISTINCT c.lead_id)
FROM cohort c
JOIN ledger t ON t.kind = 'transition' AND t.lead_id = c.lead_id AND t.to_stage IS NOT NULL AND t.at <= $3
GROUP BY 1, 2`

// QueryFlow: transitions into each stage in the period (a move within a
// stage, such as a reassignment inside handoff, is not one), and how many
// were the lead's first entry into that stage; the rest are re-entries
// (after a recycle or a return from disqualified).
const QueryFlow = `
WITH t AS (
    SELECT l.at, l.to_stage, l.lead_id, l.key,
           row_number() OVER (PARTITION BY l.lead_id, l.to_stage ORDER BY l.at, ` + seqExpr + `, l.key) AS nth
    FROM ledger l
    WHERE l.kind = 'transition' AND l.to_stage IS NOT NULL
      AND l.from_stage IS DISTINCT FROM l.to_stage AND l.at < $2
)
SELECT {{dim}} AS dim, t.to_stage, count(*), count(*) FILTER (WHERE t.nth = 1)
FROM t JOIN ledger l ON l.key = t.key
WHERE t.at >= $1
GROUP BY 1, 2`

// cohortRows turns the stages reached by a cohort into the funnel steps
// (FunnelStages) and the cohort's recycled count.
func cohortRows(reached map[string]int) ([]StageCount, int) {
	out := make([]StageCount, len(FunnelStages))
	for i, st := range FunnelStages {
		out[i] = StageCount{Stage: st, Leads: reached[st]}
		if i > 0 {
			out[i].Rate = ratio(out[i].Leads, out[i-1].Leads)
		}
	}
	return out, reached["recycle"]
}

// flowRows lists the flow of every stage, funnel stages first.
func flowRows(flow map[string]FlowCount) []FlowCount {
	out := make([]FlowCount, 0, len(FlowStages))
	for _, st := range FlowStages {
		f := flow[st]
		f.Stage = st
		f.Again = f.Transitions - f.New
		out = append(out, f)
	}
	return out
}
