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

	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/policy"
)

const reportDetail = `
Computes the metrics of internal/metrics from the ledger in DATABASE_URL for
the days --from to --to (both inclusive, YYYY-MM-DD), one column (table) or
row (json, csv) per value of --by. Days run midnight to midnight in the
policy's time zone (LEADFLOW_POLICY; UTC when it cannot be loaded).
Without --from/--to: the last full week, Monday to Sunday, before today.
The numbers are as of now: what is not decided or due yet shows as pending.
Definitions, with worked examples: docs/metrics.md.
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
	rep, err := metrics.ComputeAt(ctx, st.Pool(), period, *by, a.now())
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
	var out [][2]string
	add := func(kv ...string) {
		for j := 0; j+1 < len(kv); j += 2 {
			out = append(out, [2]string{kv[j], kv[j+1]})
		}
	}
	add("handed_off", i(r.HandedOff), "accepted", i(r.Accepted), "rejected", i(r.Rejected), "pending", i(r.Pending),
		"acceptance_rate", num(r.AcceptanceRate))
	for _, ra := range r.AcceptanceByRep {
		p := "rep." + ra.Rep
		add(p+".accepted", i(ra.Accepted), p+".rejected", i(ra.Rejected), p+".pending", i(ra.Pending), p+".acceptance_rate", num(ra.Rate))
	}
	for _, rc := range r.RejectionReasons {
		add("rejected."+rc.Reason, i(rc.Count), "rejected."+rc.Reason+".share", num(rc.Share))
	}
	for _, g := range []struct {
		name string
		rs   []metrics.Rejections
	}{{"rejected_by_source.", r.RejectionsBySource}, {"rejected_by_offer.", r.RejectionsByOffer}} {
		for _, rj := range g.rs {
			add(g.name+rj.Key, i(rj.Total))
			for _, rc := range rj.Reasons {
				add(g.name+rj.Key+"."+rc.Reason, i(rc.Count))
			}
		}
	}
	for _, d := range []struct {
		name string
		d    metrics.Dist
	}{{"ttft", r.TTFT}, {"ttft_business", r.TTFTBusiness}, {"speed_to_lead", r.SpeedToLead}} {
		add(d.name+".n", i(d.d.N), d.name+".p50_seconds", num(d.d.P50), d.name+".p90_seconds", num(d.d.P90), d.name+".max_seconds", num(d.d.Max))
	}
	add("untouched", i(r.Untouched), "speed_to_lead.unknown", i(r.SpeedUnknown))
	for _, v := range r.Via {
		add("first_contact_via."+v.Via, i(v.Count))
	}
	for _, b := range r.TTFTHistogram {
		add("ttft_business.bucket."+num(b.LoSeconds), i(b.Count))
	}
	sla := func(p string, s metrics.SLA) {
		add(p+".met", i(s.Met), p+".breached", i(s.Breached), p+".pending", i(s.Pending), p+".rate", num(s.Rate))
	}
	sla("first_touch_sla", r.FirstTouchSLA)
	add("first_touch_sla.unknown", i(r.FirstTouchSLA.Unknown))
	for _, ts := range r.SLAByTrigger {
		sla("first_touch_sla.trigger."+ts.Trigger, ts.SLA)
	}
	for _, w := range r.SLAWeeks {
		sla("first_touch_sla.week."+w.From.Format("2006-01-02"), w.SLA)
	}
	add("owner_clock_sla.met", i(r.OwnerClock.Met), "owner_clock_sla.total", i(r.OwnerClock.Total), "owner_clock_sla.rate", num(r.OwnerClock.Rate),
		"acceptance_sla.met", i(r.AcceptanceSLA.Met), "acceptance_sla.total", i(r.AcceptanceSLA.Total), "acceptance_sla.rate", num(r.AcceptanceSLA.Rate),
		"sla_breaches", i(r.Breaches), "escalations", i(r.Escalations), "reassignments", i(r.Reassignments))
	for _, s := range r.Cohort {
		add("cohort."+s.Stage, i(s.Leads), "cohort."+s.Stage+".rate", num(s.Rate))
	}
	add("cohort.recycled", i(r.CohortRecycled))
	for _, f := range r.Flow {
		add("flow."+f.Stage, i(f.Transitions), "flow."+f.Stage+".new", i(f.New), "flow."+f.Stage+".again", i(f.Again))
	}
	for _, v := range r.Velocity {
		add("days_in."+v.Stage+".median", num(v.MedianDays), "days_in."+v.Stage+".stays", i(v.Stays))
	}
	add("opportunities_created", i(r.Pipeline.Count), "opportunities_created.amount", num(r.Pipeline.Amount),
		"won", i(r.Won.Count), "won.amount", num(r.Won.Amount))
	for _, rc := range r.Recycles {
		p := "recycled." + rc.Play
		add(p, i(rc.Recycled), p+".back_to_mql", i(rc.BackToMQL), p+".won", i(rc.Won), p+".lost", i(rc.Lost), p+".recycled_again", i(rc.RecycledAgain))
	}
	add("waited_for_enrichment", i(r.WaitedEnrichment))
	return out
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
