package webui_test

import (
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/webui"
	"github.com/leadflow/leadflow/internal/webui/webuitest"
)

// The dashboard and `starter report` (internal/metrics) must show the same
// numbers for the same period: acceptance, time to first touch in business
// hours, first-touch SLA adherence and rejection reasons by source.
func TestDashboardAgreesWithReport(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	webuitest.Ledger(t, st)
	p := webui.Period{From: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	d, err := webui.StoreData{Store: st}.Dashboard(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := metrics.Compute(t.Context(), st.Pool(), metrics.Period{From: p.From, To: p.To}, metrics.ByAll)
	if err != nil {
		t.Fatal(err)
	}
	all := rep.Rows[0]
	if d.HandedOff != all.HandedOff || d.Accepted != all.Accepted {
		t.Errorf("acceptance: dashboard %d of %d, report %d of %d", d.Accepted, d.HandedOff, all.Accepted, all.HandedOff)
	}
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	if d.TTFT.N != all.TTFTBusiness.N || d.TTFT.P50 != sec(all.TTFTBusiness.P50) || d.TTFT.P90 != sec(all.TTFTBusiness.P90) || d.TTFT.Max != sec(all.TTFTBusiness.Max) {
		t.Errorf("TTFT: dashboard %+v, report %+v", d.TTFT, all.TTFTBusiness)
	}
	var met, total int
	for _, w := range d.Weeks {
		met += w.Met
		total += w.Total
	}
	if met != all.FirstTouchSLA.Met || total != all.FirstTouchSLA.Total {
		t.Errorf("first-touch SLA: dashboard %d/%d, report %d/%d", met, total, all.FirstTouchSLA.Met, all.FirstTouchSLA.Total)
	}
	dash := map[string]int{}
	for _, sc := range d.Funnel {
		dash[sc.Stage] = sc.Leads
	}
	for _, sc := range all.Funnel {
		if n, shown := dash[sc.Stage]; shown && n != sc.Leads {
			t.Errorf("funnel %s: dashboard %d, report %d", sc.Stage, n, sc.Leads)
		}
	}
	bySource, err := metrics.Compute(t.Context(), st.Pool(), metrics.Period{From: p.From, To: p.To}, metrics.BySource)
	if err != nil {
		t.Fatal(err)
	}
	report := map[string]map[string]int{}
	for _, row := range bySource.Rows {
		for _, rc := range row.RejectionReasons {
			if report[row.Key] == nil {
				report[row.Key] = map[string]int{}
			}
			report[row.Key][rc.Reason] = rc.Count
		}
	}
	for _, sr := range d.Rejections {
		for reason, n := range sr.Reasons {
			if n != report[sr.Source][reason] {
				t.Errorf("rejections %s/%s: dashboard %d, report %d", sr.Source, reason, n, report[sr.Source][reason])
			}
		}
	}
}
