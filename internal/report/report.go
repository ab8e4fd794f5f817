// Package report renders a metrics.Report as `starter report` prints it:
// a table for a terminal, JSON (the metrics.Report itself) or long-form CSV.
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/leadflow/leadflow/internal/metrics"
)

// Formats are the values Render's format takes.
var Formats = []string{"table", "json", "csv"}

// Render writes rep in format (table, json or csv); days and the title are
// in loc. Any other format is an error.
func Render(w io.Writer, rep metrics.Report, loc *time.Location, format string) error {
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
	case "table":
		return renderTable(w, rep, loc)
	}
	return fmt.Errorf("report format %q: want one of %v", format, Formats)
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

// orDash shows an empty key as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
