package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadflow/leadflow/internal/metrics"
)

// tableLine is one metric across the columns ("" cell func: a heading).
type tableLine struct {
	label string
	cell  func(metrics.Row) string
}

const none = "–"

// cells helpers: each turns a Row into one cell.
func itoaCell(f func(metrics.Row) int) func(metrics.Row) string {
	return func(r metrics.Row) string { return strconv.Itoa(f(r)) }
}

func distCell(f func(metrics.Row) metrics.Dist, pick func(metrics.Dist) float64) func(metrics.Row) string {
	return func(r metrics.Row) string {
		if f(r).N == 0 {
			return none
		}
		return metrics.HumanSeconds(pick(f(r)))
	}
}

func shareCell(f func(metrics.Row) metrics.Share) func(metrics.Row) string {
	return func(r metrics.Row) string {
		s := f(r)
		if s.Total == 0 {
			return none
		}
		return fmt.Sprintf("%s (%d/%d)", metrics.Percent(s.Rate), s.Met, s.Total)
	}
}

// slaCountsCell is "met / breached / pending".
func slaCountsCell(s metrics.SLA) string {
	if s.Met+s.Breached+s.Pending == 0 {
		return none
	}
	return fmt.Sprintf("%d / %d / %d", s.Met, s.Breached, s.Pending)
}

func renderTable(w io.Writer, rep metrics.Report, loc *time.Location) error {
	last := rep.Period.To.In(loc).AddDate(0, 0, -1)
	title := fmt.Sprintf("leadflow report %s – %s (%s)", rep.Period.From.In(loc).Format("2006-01-02"), last.Format("2006-01-02"), loc)
	if rep.By != "" {
		title += ", by " + rep.By
	}
	if len(rep.Rows) == 0 {
		_, err := fmt.Fprintf(w, "%s\n\nno activity in the period\n", title)
		return err
	}
	header := []string{""}
	for _, r := range rep.Rows {
		switch {
		case rep.By == "":
			header = append(header, "all")
		case r.Key == "":
			header = append(header, "(none)")
		default:
			header = append(header, r.Key)
		}
	}
	var lines []tableLine
	for _, section := range [][]tableLine{acceptanceLines(rep), firstTouchLines(rep), slaLines(rep), funnelLines(), outcomeLines(rep)} {
		lines = append(lines, section...)
	}
	cells := [][]string{header}
	for _, l := range lines {
		row := []string{l.label}
		for _, r := range rep.Rows {
			row = append(row, l.cell(r))
		}
		cells = append(cells, row)
	}
	widths := make([]int, len(header))
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	b.WriteString(title + "\n\n")
	for _, row := range cells {
		var line strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i == 0 {
				line.WriteString(c + pad)
			} else {
				line.WriteString("  " + pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// acceptanceLines: the handoffs of the period and how Sales decided them.
func acceptanceLines(rep metrics.Report) []tableLine {
	lines := []tableLine{
		{"Handed off", itoaCell(func(r metrics.Row) int { return r.HandedOff })},
		{"  accepted (of decided)", func(r metrics.Row) string {
			if r.Accepted+r.Rejected == 0 {
				return strconv.Itoa(r.Accepted)
			}
			return fmt.Sprintf("%d (%s)", r.Accepted, metrics.Percent(r.AcceptanceRate))
		}},
		{"  rejected", itoaCell(func(r metrics.Row) int { return r.Rejected })},
		{"  pending", itoaCell(func(r metrics.Row) int { return r.Pending })},
	}
	lines = append(lines, keyedLines(rep.Rows, "  rep %s accepted / rejected / pending",
		func(r metrics.Row) []metrics.RepAcceptance { return r.AcceptanceByRep },
		func(ra metrics.RepAcceptance) string { return ra.Rep },
		func(ra metrics.RepAcceptance) string {
			return fmt.Sprintf("%d / %d / %d", ra.Accepted, ra.Rejected, ra.Pending)
		})...)
	lines = append(lines, keyedLines(rep.Rows, "Rejected, reason %s",
		func(r metrics.Row) []metrics.ReasonCount { return r.RejectionReasons },
		func(rc metrics.ReasonCount) string { return rc.Reason },
		func(rc metrics.ReasonCount) string {
			return fmt.Sprintf("%d (%s)", rc.Count, metrics.Percent(rc.Share))
		})...)
	for _, g := range []struct {
		label string
		f     func(metrics.Row) []metrics.Rejections
	}{{"Rejected, source %s", func(r metrics.Row) []metrics.Rejections { return r.RejectionsBySource }},
		{"Rejected, offer %s", func(r metrics.Row) []metrics.Rejections { return r.RejectionsByOffer }}} {
		lines = append(lines, keyedLines(rep.Rows, g.label, g.f,
			func(rj metrics.Rejections) string { return rj.Key },
			func(rj metrics.Rejections) string { return strconv.Itoa(rj.Total) })...)
	}
	return lines
}

// keyedLines is one line per key that list gives in any row (label has a
// %s for it), cell of the row's item with that key, none without one.
func keyedLines[T any](rows []metrics.Row, label string, list func(metrics.Row) []T, key func(T) string, cell func(T) string) []tableLine {
	var lines []tableLine
	for _, k := range union(rows, func(r metrics.Row) []string {
		var out []string
		for _, x := range list(r) {
			out = append(out, key(x))
		}
		return out
	}) {
		lines = append(lines, tableLine{fmt.Sprintf(label, orDash(k)), func(r metrics.Row) string {
			for _, x := range list(r) {
				if key(x) == k {
					return cell(x)
				}
			}
			return none
		}})
	}
	return lines
}

// firstTouchLines: time to first touch and speed-to-lead, side by side.
func firstTouchLines(rep metrics.Report) []tableLine {
	raw := func(r metrics.Row) metrics.Dist { return r.TTFT }
	biz := func(r metrics.Row) metrics.Dist { return r.TTFTBusiness }
	speed := func(r metrics.Row) metrics.Dist { return r.SpeedToLead }
	p50 := func(d metrics.Dist) float64 { return d.P50 }
	p90 := func(d metrics.Dist) float64 { return d.P90 }
	mx := func(d metrics.Dist) float64 { return d.Max }
	lines := []tableLine{
		{"First touched", itoaCell(func(r metrics.Row) int { return r.TTFT.N })},
		{"  via touch / accept / reject", func(r metrics.Row) string {
			n := map[string]int{}
			for _, v := range r.Via {
				n[v.Via] = v.Count
			}
			return fmt.Sprintf("%d / %d / %d", n[metrics.ViaTouch], n[metrics.ViaAccept], n[metrics.ViaReject])
		}},
		{"  not touched yet", itoaCell(func(r metrics.Row) int { return r.Untouched })},
		{"  TTFT p50", distCell(raw, p50)},
		{"  TTFT p90", distCell(raw, p90)},
		{"  TTFT max", distCell(raw, mx)},
		{"  TTFT p50, business hours", distCell(biz, p50)},
		{"  TTFT p90, business hours", distCell(biz, p90)},
		{"  TTFT max, business hours", distCell(biz, mx)},
	}
	if len(rep.Rows) > 0 {
		for i, b := range rep.Rows[0].TTFTHistogram {
			lines = append(lines, tableLine{"  TTFT " + b.Label() + ", business hours", func(r metrics.Row) string {
				if i < len(r.TTFTHistogram) {
					return strconv.Itoa(r.TTFTHistogram[i].Count)
				}
				return none
			}})
		}
	}
	return append(lines,
		tableLine{"Speed-to-lead p50", distCell(speed, p50)},
		tableLine{"Speed-to-lead p90", distCell(speed, p90)},
		tableLine{"Speed-to-lead max", distCell(speed, mx)},
		tableLine{"  no signal in the ledger", itoaCell(func(r metrics.Row) int { return r.SpeedUnknown })},
	)
}

// slaLines: deadlines that fell in the period.
func slaLines(rep metrics.Report) []tableLine {
	sla := func(r metrics.Row) metrics.SLA { return r.FirstTouchSLA }
	lines := []tableLine{
		{"First-touch SLA met (deadlines in period)", func(r metrics.Row) string {
			s := sla(r)
			if s.Met+s.Breached == 0 {
				return none
			}
			return fmt.Sprintf("%s (%d/%d)", metrics.Percent(s.Rate), s.Met, s.Met+s.Breached)
		}},
		{"  breached", itoaCell(func(r metrics.Row) int { return sla(r).Breached })},
		{"  pending", itoaCell(func(r metrics.Row) int { return sla(r).Pending })},
		{"  deadline not in the ledger", itoaCell(func(r metrics.Row) int { return sla(r).Unknown })},
	}
	lines = append(lines, keyedLines(rep.Rows, "  trigger %s met / breached / pending",
		func(r metrics.Row) []metrics.TriggerSLA { return r.SLAByTrigger },
		func(ts metrics.TriggerSLA) string { return ts.Trigger },
		func(ts metrics.TriggerSLA) string { return slaCountsCell(ts.SLA) })...)
	if len(rep.Rows) > 0 && len(rep.Rows[0].SLAWeeks) > 1 {
		for i, wk := range rep.Rows[0].SLAWeeks {
			lines = append(lines, tableLine{"  week of " + wk.From.Format("2006-01-02") + " met / breached / pending", func(r metrics.Row) string {
				if i >= len(r.SLAWeeks) {
					return none
				}
				return slaCountsCell(r.SLAWeeks[i].SLA)
			}})
		}
	}
	return append(lines,
		tableLine{"Owner's clock after reassignment", shareCell(func(r metrics.Row) metrics.Share { return r.OwnerClock })},
		tableLine{"Acceptance SLA met", shareCell(func(r metrics.Row) metrics.Share { return r.AcceptanceSLA })},
		tableLine{"SLA breaches", itoaCell(func(r metrics.Row) int { return r.Breaches })},
		tableLine{"Escalations", itoaCell(func(r metrics.Row) int { return r.Escalations })},
		tableLine{"Reassignments", itoaCell(func(r metrics.Row) int { return r.Reassignments })},
	)
}

// funnelLines: the cohort of new leads, then the flow of the period.
func funnelLines() []tableLine {
	var lines []tableLine
	for i, stage := range metrics.FunnelStages {
		label := "  reached " + stage
		if i == 0 {
			label = "Cohort: new leads"
		}
		lines = append(lines, tableLine{label, func(r metrics.Row) string {
			if i >= len(r.Cohort) {
				return none
			}
			s := r.Cohort[i]
			if i == 0 || r.Cohort[i-1].Leads == 0 {
				return strconv.Itoa(s.Leads)
			}
			return fmt.Sprintf("%d (%s)", s.Leads, metrics.Percent(s.Rate))
		}})
	}
	lines = append(lines, tableLine{"  recycled", itoaCell(func(r metrics.Row) int { return r.CohortRecycled })})
	lines = append(lines, tableLine{"Flow: into stage (new + again)", func(metrics.Row) string { return "" }})
	for i, stage := range metrics.FlowStages {
		lines = append(lines, tableLine{"  " + stage, func(r metrics.Row) string {
			if i >= len(r.Flow) {
				return none
			}
			f := r.Flow[i]
			return fmt.Sprintf("%d (%d + %d)", f.Transitions, f.New, f.Again)
		}})
	}
	return lines
}

// outcomeLines: velocity, pipeline, recycles, enrichment.
func outcomeLines(rep metrics.Report) []tableLine {
	var lines []tableLine
	for _, stage := range metrics.VelocityStages {
		lines = append(lines, tableLine{"Median time in " + stage, func(r metrics.Row) string {
			for _, v := range r.Velocity {
				if v.Stage == stage {
					return metrics.HumanDays(v.MedianDays)
				}
			}
			return none
		}})
	}
	money := func(m metrics.Money) string {
		if m.Priced == 0 {
			return strconv.Itoa(m.Count)
		}
		return fmt.Sprintf("%d (%s)", m.Count, metrics.Amount(m.Amount))
	}
	lines = append(lines,
		tableLine{"Opportunities created", func(r metrics.Row) string { return money(r.Pipeline) }},
		tableLine{"Won", func(r metrics.Row) string { return money(r.Won) }},
	)
	// Two lines per play, in the same (sorted) order.
	plays := func(r metrics.Row) []metrics.Recycle { return r.Recycles }
	play := func(rc metrics.Recycle) string { return rc.Play }
	counts := keyedLines(rep.Rows, "Recycled, play %s", plays, play, func(rc metrics.Recycle) string { return strconv.Itoa(rc.Recycled) })
	fates := keyedLines(rep.Rows, "%s", plays, play, func(rc metrics.Recycle) string {
		return fmt.Sprintf("%d / %d / %d / %d", rc.BackToMQL, rc.Won, rc.Lost, rc.RecycledAgain)
	})
	for i := range counts {
		lines = append(lines, counts[i], tableLine{"  back as MQL / won / lost / again", fates[i].cell})
	}
	return append(lines, tableLine{"Waited for enrichment", itoaCell(func(r metrics.Row) int { return r.WaitedEnrichment })})
}
