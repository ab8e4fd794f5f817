package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/policy"
)

const reportDetail = `
Computes the metrics of internal/metrics from the ledger in DATABASE_URL for
the days --from to --to (both inclusive, YYYY-MM-DD), one column (table) or
row (json, csv) per value of --by. Days run midnight to midnight in the
policy's time zone (LEADFLOW_POLICY; UTC when it cannot be loaded).
Without --from/--to: the last full week, Monday to Sunday, before today.
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
	if !slices.Contains([]string{"table", "json", "csv"}, *format) {
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
	rep, err := metrics.Compute(ctx, st.Pool(), period, *by)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return renderReport(a.stdout, rep, loc, *format)
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

func renderReport(w io.Writer, rep metrics.Report, loc *time.Location, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write([]string{"by", "key", "metric", "value"}); err != nil {
			return err
		}
		for _, r := range rep.Rows {
			for _, kv := range csvMetrics(r) {
				if err := cw.Write([]string{rep.By, r.Key, kv[0], kv[1]}); err != nil {
					return err
				}
			}
		}
		cw.Flush()
		return cw.Error()
	}
	return renderTable(w, rep, loc)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// csvMetrics lists a row's numbers, raw, in a fixed order.
func csvMetrics(r metrics.Row) [][2]string {
	i := strconv.Itoa
	out := [][2]string{
		{"handed_off", i(r.HandedOff)}, {"accepted", i(r.Accepted)}, {"rejected", i(r.Rejected)},
		{"acceptance_rate", num(r.AcceptanceRate)},
	}
	for _, rc := range r.RejectionReasons {
		out = append(out, [2]string{"rejected." + rc.Reason, i(rc.Count)}, [2]string{"rejected." + rc.Reason + ".share", num(rc.Share)})
	}
	for _, d := range []struct {
		name string
		d    metrics.Dist
	}{{"ttft", r.TTFT}, {"ttft_business", r.TTFTBusiness}} {
		out = append(out, [2]string{d.name + ".n", i(d.d.N)}, [2]string{d.name + ".p50_seconds", num(d.d.P50)},
			[2]string{d.name + ".p90_seconds", num(d.d.P90)}, [2]string{d.name + ".max_seconds", num(d.d.Max)})
	}
	out = append(out,
		[2]string{"first_touch_sla.met", i(r.FirstTouchSLA.Met)}, [2]string{"first_touch_sla.total", i(r.FirstTouchSLA.Total)},
		[2]string{"first_touch_sla.rate", num(r.FirstTouchSLA.Rate)},
		[2]string{"acceptance_sla.met", i(r.AcceptanceSLA.Met)}, [2]string{"acceptance_sla.total", i(r.AcceptanceSLA.Total)},
		[2]string{"acceptance_sla.rate", num(r.AcceptanceSLA.Rate)},
		[2]string{"sla_breaches", i(r.Breaches)}, [2]string{"escalations", i(r.Escalations)}, [2]string{"reassignments", i(r.Reassignments)})
	for _, s := range r.Funnel {
		out = append(out, [2]string{"reached." + s.Stage, i(s.Leads)}, [2]string{"reached." + s.Stage + ".rate", num(s.Rate)})
	}
	for _, v := range r.Velocity {
		out = append(out, [2]string{"days_in." + v.Stage + ".median", num(v.MedianDays)}, [2]string{"days_in." + v.Stage + ".stays", i(v.Stays)})
	}
	out = append(out,
		[2]string{"opportunities_created", i(r.Pipeline.Count)}, [2]string{"opportunities_created.amount", num(r.Pipeline.Amount)},
		[2]string{"won", i(r.Won.Count)}, [2]string{"won.amount", num(r.Won.Amount)})
	for _, rc := range r.Recycles {
		p := "recycled." + rc.Play
		out = append(out, [2]string{p, i(rc.Recycled)}, [2]string{p + ".back_to_mql", i(rc.BackToMQL)},
			[2]string{p + ".won", i(rc.Won)}, [2]string{p + ".lost", i(rc.Lost)}, [2]string{p + ".recycled_again", i(rc.RecycledAgain)})
	}
	return append(out, [2]string{"waited_for_enrichment", i(r.WaitedEnrichment)})
}

// tableLine is one metric across the columns.
type tableLine struct {
	label string
	cell  func(metrics.Row) string
}

const none = "–"

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
	itoa := func(f func(metrics.Row) int) func(metrics.Row) string {
		return func(r metrics.Row) string { return strconv.Itoa(f(r)) }
	}
	dist := func(f func(metrics.Row) metrics.Dist, pick func(metrics.Dist) float64) func(metrics.Row) string {
		return func(r metrics.Row) string {
			if f(r).N == 0 {
				return none
			}
			return metrics.HumanSeconds(pick(f(r)))
		}
	}
	share := func(f func(metrics.Row) metrics.Share) func(metrics.Row) string {
		return func(r metrics.Row) string {
			s := f(r)
			if s.Total == 0 {
				return none
			}
			return fmt.Sprintf("%s (%d/%d)", metrics.Percent(s.Rate), s.Met, s.Total)
		}
	}
	raw := func(r metrics.Row) metrics.Dist { return r.TTFT }
	biz := func(r metrics.Row) metrics.Dist { return r.TTFTBusiness }
	p50 := func(d metrics.Dist) float64 { return d.P50 }
	p90 := func(d metrics.Dist) float64 { return d.P90 }
	mx := func(d metrics.Dist) float64 { return d.Max }
	lines := []tableLine{
		{"Handed off", itoa(func(r metrics.Row) int { return r.HandedOff })},
		{"Accepted", func(r metrics.Row) string {
			if r.HandedOff == 0 {
				return strconv.Itoa(r.Accepted)
			}
			return fmt.Sprintf("%d (%s)", r.Accepted, metrics.Percent(r.AcceptanceRate))
		}},
		{"Rejected", itoa(func(r metrics.Row) int { return r.Rejected })},
	}
	for _, reason := range union(rep.Rows, func(r metrics.Row) []string {
		var out []string
		for _, rc := range r.RejectionReasons {
			out = append(out, rc.Reason)
		}
		return out
	}) {
		lines = append(lines, tableLine{"  " + reason, func(r metrics.Row) string {
			for _, rc := range r.RejectionReasons {
				if rc.Reason == reason {
					return fmt.Sprintf("%d (%s)", rc.Count, metrics.Percent(rc.Share))
				}
			}
			return none
		}})
	}
	lines = append(lines,
		tableLine{"First touches", itoa(func(r metrics.Row) int { return r.TTFT.N })},
		tableLine{"  TTFT p50", dist(raw, p50)},
		tableLine{"  TTFT p90", dist(raw, p90)},
		tableLine{"  TTFT max", dist(raw, mx)},
		tableLine{"  TTFT p50, business hours", dist(biz, p50)},
		tableLine{"  TTFT p90, business hours", dist(biz, p90)},
		tableLine{"  TTFT max, business hours", dist(biz, mx)},
		tableLine{"First-touch SLA met", share(func(r metrics.Row) metrics.Share { return r.FirstTouchSLA })},
		tableLine{"Acceptance SLA met", share(func(r metrics.Row) metrics.Share { return r.AcceptanceSLA })},
		tableLine{"SLA breaches", itoa(func(r metrics.Row) int { return r.Breaches })},
		tableLine{"Escalations", itoa(func(r metrics.Row) int { return r.Escalations })},
		tableLine{"Reassignments", itoa(func(r metrics.Row) int { return r.Reassignments })},
	)
	for i, stage := range metrics.FunnelStages {
		lines = append(lines, tableLine{"Reached " + stage, func(r metrics.Row) string {
			s := r.Funnel[i]
			if i == 0 || r.Funnel[i-1].Leads == 0 {
				return strconv.Itoa(s.Leads)
			}
			return fmt.Sprintf("%d (%s)", s.Leads, metrics.Percent(s.Rate))
		}})
	}
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
	for _, play := range union(rep.Rows, func(r metrics.Row) []string {
		var out []string
		for _, rc := range r.Recycles {
			out = append(out, rc.Play)
		}
		return out
	}) {
		find := func(r metrics.Row) (metrics.Recycle, bool) {
			for _, rc := range r.Recycles {
				if rc.Play == play {
					return rc, true
				}
			}
			return metrics.Recycle{}, false
		}
		lines = append(lines,
			tableLine{"Recycled, play " + play, func(r metrics.Row) string {
				if rc, ok := find(r); ok {
					return strconv.Itoa(rc.Recycled)
				}
				return none
			}},
			tableLine{"  back as MQL / won / lost / again", func(r metrics.Row) string {
				if rc, ok := find(r); ok {
					return fmt.Sprintf("%d / %d / %d / %d", rc.BackToMQL, rc.Won, rc.Lost, rc.RecycledAgain)
				}
				return none
			}},
		)
	}
	lines = append(lines, tableLine{"Waited for enrichment", itoa(func(r metrics.Row) int { return r.WaitedEnrichment })})

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

// union is the sorted set of names f gives over the rows.
func union(rows []metrics.Row, f func(metrics.Row) []string) []string {
	var out []string
	for _, r := range rows {
		for _, n := range f(r) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}
