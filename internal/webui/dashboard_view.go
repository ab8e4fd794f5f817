package webui

import (
	"fmt"
	"slices"
	"time"

	"github.com/leadflow/leadflow/internal/metrics"
)

// The dashboard page is built from metrics.Row only, and every number is
// formatted as `starter report` formats it (metrics.Percent,
// metrics.HumanSeconds), so the two read the same.

// slaRow is one line of an SLA table: a week or a trigger.
type slaRow struct {
	Label                  string
	Met, Breached, Pending int
	Pct                    string
}

// countRow is one source's or offer's rejections by reason.
type countRow struct {
	Key    string
	Counts []int
	Total  int
}

type repRow struct {
	Rep                         string
	Accepted, Rejected, Pending int
	Pct                         string
}

type stuckRow struct {
	LeadID, Stage, OwnerID, Deadline string
	DueAt                            time.Time
	Overdue                          string
	URL                              string
}

// distText is a distribution for people; "–" when empty.
type distText struct{ P50, P90, Max string }

type dashboardPage struct {
	page
	From, To   string // the form's values
	Period     Period
	D          Dashboard
	Acceptance string
	Decided    int
	Reps       []repRow
	Cohort     barChart
	TTFTChart  barChart
	TTFTBiz    distText
	TTFTRaw    distText
	Speed      distText
	Via        map[string]int
	SLA        slaRow
	WeeksChart barChart
	Weeks      []slaRow
	Triggers   []slaRow
	OwnerClock string
	ReasonCols []string
	Sources    []countRow
	Offers     []countRow
	Stuck      []stuckRow
}

func rate(r float64, judged int) string {
	if judged == 0 {
		return "–"
	}
	return metrics.Percent(r)
}

func toDistText(d metrics.Dist) distText {
	if d.N == 0 {
		return distText{"–", "–", "–"}
	}
	return distText{metrics.HumanSeconds(d.P50), metrics.HumanSeconds(d.P90), metrics.HumanSeconds(d.Max)}
}

func toSLARow(label string, s metrics.SLA) slaRow {
	return slaRow{Label: label, Met: s.Met, Breached: s.Breached, Pending: s.Pending, Pct: rate(s.Rate, s.Met+s.Breached)}
}

// fill lays out d's numbers.
func (pg *dashboardPage) fill(d Dashboard) {
	m := d.M
	pg.D = d
	pg.Decided = m.Accepted + m.Rejected
	pg.Acceptance = rate(m.AcceptanceRate, pg.Decided)
	for _, ra := range m.AcceptanceByRep {
		rep := ra.Rep
		if rep == "" {
			rep = "(none)"
		}
		pg.Reps = append(pg.Reps, repRow{Rep: rep, Accepted: ra.Accepted, Rejected: ra.Rejected, Pending: ra.Pending, Pct: rate(ra.Rate, ra.Accepted+ra.Rejected)})
	}

	var labels, texts []string
	var values []float64
	for _, s := range m.Cohort {
		labels, values, texts = append(labels, s.Stage), append(values, float64(s.Leads)), append(texts, fmt.Sprint(s.Leads))
	}
	pg.Cohort = newBarChart("cohort", "New leads of the period: how far they got", labels, values, texts, 0)

	labels, values, texts = nil, nil, nil
	for _, b := range m.TTFTHistogram {
		labels, values, texts = append(labels, b.Label()), append(values, float64(b.Count)), append(texts, fmt.Sprint(b.Count))
	}
	pg.TTFTChart = newBarChart("ttft", "Handoffs by time to first touch (business time)", labels, values, texts, 0)
	pg.TTFTBiz, pg.TTFTRaw, pg.Speed = toDistText(m.TTFTBusiness), toDistText(m.TTFT), toDistText(m.SpeedToLead)
	pg.Via = map[string]int{}
	for _, v := range m.Via {
		pg.Via[v.Via] = v.Count
	}

	pg.SLA = toSLARow("all", m.FirstTouchSLA)
	labels, values, texts = nil, nil, nil
	for _, wk := range m.SLAWeeks {
		lbl := wk.From.UTC().Format("Jan 2") + "–" + wk.To.Add(-time.Nanosecond).UTC().Format("Jan 2")
		row := toSLARow(lbl, wk.SLA)
		pg.Weeks = append(pg.Weeks, row)
		labels, values, texts = append(labels, lbl), append(values, 100*wk.SLA.Rate), append(texts, row.Pct+" of "+fmt.Sprint(row.Met+row.Breached))
	}
	pg.WeeksChart = newBarChart("weeks", "First-touch deadlines met, by week (of those judged)", labels, values, texts, 100)
	for _, ts := range m.SLAByTrigger {
		label := ts.Trigger
		if label == "" {
			label = "(none)"
		}
		pg.Triggers = append(pg.Triggers, toSLARow(label, ts.SLA))
	}
	if m.OwnerClock.Total > 0 {
		pg.OwnerClock = fmt.Sprintf("%s (%d of %d)", metrics.Percent(m.OwnerClock.Rate), m.OwnerClock.Met, m.OwnerClock.Total)
	}

	for _, g := range [][]metrics.Rejections{m.RejectionsBySource, m.RejectionsByOffer} {
		for _, rj := range g {
			for _, rc := range rj.Reasons {
				if !slices.Contains(pg.ReasonCols, rc.Reason) {
					pg.ReasonCols = append(pg.ReasonCols, rc.Reason)
				}
			}
		}
	}
	slices.Sort(pg.ReasonCols)
	pg.Sources = pg.countRows(m.RejectionsBySource)
	pg.Offers = pg.countRows(m.RejectionsByOffer)
}

// countRows puts each group's reasons in the ReasonCols columns, the
// largest group first.
func (pg *dashboardPage) countRows(groups []metrics.Rejections) []countRow {
	var out []countRow
	for _, rj := range groups {
		row := countRow{Key: rj.Key, Total: rj.Total}
		if row.Key == "" {
			row.Key = "(none)"
		}
		for _, c := range pg.ReasonCols {
			n := 0
			for _, rc := range rj.Reasons {
				if rc.Reason == c {
					n = rc.Count
				}
			}
			row.Counts = append(row.Counts, n)
		}
		out = append(out, row)
	}
	slices.SortStableFunc(out, func(a, b countRow) int { return b.Total - a.Total })
	return out
}
