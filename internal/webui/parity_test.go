package webui_test

import (
	"encoding/json"
	"fmt"
	"html/template"
	"reflect"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/webui"
	"github.com/leadflow/leadflow/internal/webui/webuitest"
)

// The dashboard and `starter report` show the same numbers for the same
// period: the dashboard's data is metrics.ComputeAt's Row (every metric,
// shown or not, as `starter report --format json` prints it), and the page
// prints the numbers it shows as the report's table does.
func TestDashboardAgreesWithReport(t *testing.T) {
	t.Parallel()
	const token = "parity-token"
	e := setup(t, token)
	webuitest.Ledger(t, e.st)
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		from, to time.Time
		now      time.Time
	}{
		{day(16), day(23), now},     // one week, L4's deadline pending
		{day(16), day(30), now},     // two weeks
		{day(16), day(23), day(30)}, // a week later: every fact in
		{day(18), day(21), day(30)}, // part of a week
		{day(1), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), day(30)}, // a month
	} {
		t.Run(fmt.Sprintf("%s..%s@%s", c.from.Format("01-02"), c.to.Format("01-02"), c.now.Format("01-02")), func(t *testing.T) {
			p := webui.Period{From: c.from, To: c.to}
			d, err := webui.StoreData{Metrics: e.st.Metrics(), States: e.st.States(), Now: func() time.Time { return c.now }}.Dashboard(t.Context(), p)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := metrics.ComputeAt(t.Context(), e.st.Pool(), metrics.Period{From: p.From, To: p.To}, metrics.ByAll, c.now)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.M, rep.Rows[0]) {
				dj, _ := json.Marshal(d.M)
				rj, _ := json.Marshal(rep.Rows[0])
				t.Errorf("dashboard %s\nreport    %s", dj, rj)
			}
		})
	}

	// What the page shows for the week, as of noon on 11-22, is the
	// report's Row formatted as the report formats it.
	rep, err := metrics.ComputeAt(t.Context(), e.st.Pool(), metrics.Period{From: day(16), To: day(23)}, metrics.ByAll, now)
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Rows[0]
	shown := []string{
		`<strong id="acceptance">` + metrics.Percent(r.AcceptanceRate) + `</strong>`,
		fmt.Sprintf("(%d of %d decided handoffs accepted; %d of %d handoffs pending)", r.Accepted, r.Accepted+r.Rejected, r.Pending, r.HandedOff),
		`id="ttft-p50">` + metrics.HumanSeconds(r.TTFTBusiness.P50) + `<`, `id="ttft-p90">` + metrics.HumanSeconds(r.TTFTBusiness.P90) + `<`,
		`id="ttft-max">` + metrics.HumanSeconds(r.TTFTBusiness.Max) + `<`,
		`id="speed-p50">` + metrics.HumanSeconds(r.SpeedToLead.P50) + `<`, `id="speed-p90">` + metrics.HumanSeconds(r.SpeedToLead.P90) + `<`,
		fmt.Sprintf(`<strong id="untouched">%d</strong> handoffs not touched yet`, r.Untouched),
		fmt.Sprintf(`<strong id="sla-met">%d</strong>`, r.FirstTouchSLA.Met), fmt.Sprintf(`<strong id="sla-breached">%d</strong>`, r.FirstTouchSLA.Breached),
		fmt.Sprintf(`<strong id="sla-pending">%d</strong>`, r.FirstTouchSLA.Pending), `<strong id="sla-rate">` + metrics.Percent(r.FirstTouchSLA.Rate) + `</strong>`,
	}
	for _, s := range r.Cohort {
		shown = append(shown, fmt.Sprintf(`data-stage="%s">%d<`, s.Stage, s.Leads))
	}
	for _, f := range r.Flow {
		shown = append(shown, fmt.Sprintf(`data-flow="%s">%d<`, f.Stage, f.Transitions), fmt.Sprintf(`data-again="%s">%d<`, f.Stage, f.Again))
	}
	for _, ra := range r.AcceptanceByRep {
		shown = append(shown, fmt.Sprintf(`<th scope="row">%s</th><td class="num">%d</td><td class="num">%d</td><td class="num">%d</td><td class="num">%s</td>`,
			ra.Rep, ra.Accepted, ra.Rejected, ra.Pending, metrics.Percent(ra.Rate)))
	}
	for _, ts := range r.SLAByTrigger {
		shown = append(shown, fmt.Sprintf(`<th scope="row">%s</th><td class="num">%d</td><td class="num">%d</td><td class="num">%d</td>`,
			ts.Trigger, ts.SLA.Met, ts.SLA.Breached, ts.SLA.Pending))
	}
	for _, b := range r.TTFTHistogram {
		shown = append(shown, fmt.Sprintf(`<th scope="row">%s</th><td class="num">%d</td>`, template.HTMLEscapeString(b.Label()), b.Count))
	}
	want(t, e.do(t, req{path: "/ui/dashboard?from=2026-11-16&to=2026-11-23", bearer: token}), 200, shown...)
}
