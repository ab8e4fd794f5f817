package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/metrics"
)

// goldenReport is a small hand-made report by segment.
func goldenReport() metrics.Report {
	cohort := func(n ...int) []metrics.StageCount {
		out := make([]metrics.StageCount, len(metrics.FunnelStages))
		for i, s := range metrics.FunnelStages {
			out[i] = metrics.StageCount{Stage: s, Leads: n[i]}
			if i > 0 && n[i-1] > 0 {
				out[i].Rate = float64(n[i]) / float64(n[i-1])
			}
		}
		return out
	}
	// flow takes transitions and re-entries per FlowStages.
	flow := func(n ...int) []metrics.FlowCount {
		out := make([]metrics.FlowCount, len(metrics.FlowStages))
		for i, s := range metrics.FlowStages {
			out[i] = metrics.FlowCount{Stage: s, Transitions: n[2*i], New: n[2*i] - n[2*i+1], Again: n[2*i+1]}
		}
		return out
	}
	hist := func(n ...int) []metrics.Bucket {
		out := make([]metrics.Bucket, len(metrics.TTFTBuckets)+1)
		for i := range out {
			if i > 0 {
				out[i].LoSeconds = metrics.TTFTBuckets[i-1].Seconds()
			}
			if i < len(metrics.TTFTBuckets) {
				out[i].HiSeconds = metrics.TTFTBuckets[i].Seconds()
			}
			out[i].Count = n[i]
		}
		return out
	}
	week := func(s metrics.SLA) []metrics.WeekSLA {
		return []metrics.WeekSLA{{From: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), SLA: s}}
	}
	midSLA := metrics.SLA{Met: 1, Breached: 1, Rate: 0.5}
	smbSLA := metrics.SLA{Met: 1, Pending: 1, Rate: 1}
	return metrics.Report{
		Period: metrics.Period{From: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		AsOf:   time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC),
		By:     metrics.BySegment,
		Rows: []metrics.Row{
			{
				Key: "mid", HandedOff: 2, Accepted: 1, Rejected: 1, AcceptanceRate: 0.5,
				AcceptanceByRep:    []metrics.RepAcceptance{{Rep: "r2", Accepted: 1, Rejected: 1, Rate: 0.5}},
				RejectionReasons:   []metrics.ReasonCount{{Reason: "bad_fit", Count: 1, Share: 1}},
				RejectionsBySource: []metrics.Rejections{{Key: "ads", Total: 1, Reasons: []metrics.ReasonCount{{Reason: "bad_fit", Count: 1, Share: 1}}}},
				RejectionsByOffer:  []metrics.Rejections{{Key: "demo_request", Total: 1, Reasons: []metrics.ReasonCount{{Reason: "bad_fit", Count: 1, Share: 1}}}},
				TTFT:               metrics.Dist{N: 1, P50: 237600, P90: 237600, Max: 237600},
				TTFTBusiness:       metrics.Dist{N: 1, P50: 7200, P90: 7200, Max: 7200},
				TTFTHistogram:      hist(0, 0, 0, 0, 1, 0, 0, 0),
				Via:                []metrics.ViaCount{{Via: "touch", Count: 1}, {Via: "accept", Count: 0}, {Via: "reject", Count: 0}},
				Untouched:          1,
				SpeedToLead:        metrics.Dist{N: 2, P50: 30, P90: 54, Max: 60},
				FirstTouchSLA:      midSLA,
				SLAByTrigger:       []metrics.TriggerSLA{{Trigger: "demo_request", SLA: midSLA}},
				SLAWeeks:           week(midSLA),
				OwnerClock:         metrics.Share{Met: 1, Total: 1, Rate: 1},
				AcceptanceSLA:      metrics.Share{Met: 1, Total: 2, Rate: 0.5},
				Breaches:           1, Escalations: 1, Reassignments: 1,
				Cohort:   cohort(2, 2, 2, 2, 1, 1),
				Flow:     flow(2, 0, 2, 0, 2, 0, 2, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0),
				Velocity: []metrics.StageDays{{Stage: "handoff", Stays: 2, MedianDays: 3}, {Stage: "sal", Stays: 1, MedianDays: 0.125}},
				Pipeline: metrics.Money{Count: 1},
				Won:      metrics.Money{Count: 1, Priced: 1, Amount: 1000},
				Recycles: []metrics.Recycle{{Play: "no_response", Recycled: 1, BackToMQL: 1, Won: 1}},
			},
			{
				Key: "smb", HandedOff: 3, Accepted: 1, Rejected: 1, Pending: 1, AcceptanceRate: 0.5,
				AcceptanceByRep:    []metrics.RepAcceptance{{Rep: "r1", Accepted: 1, Rejected: 1, Pending: 1, Rate: 0.5}},
				RejectionReasons:   []metrics.ReasonCount{{Reason: "timing", Count: 1, Share: 1}},
				RejectionsBySource: []metrics.Rejections{{Key: "web / spring", Total: 1, Reasons: []metrics.ReasonCount{{Reason: "timing", Count: 1, Share: 1}}}},
				RejectionsByOffer:  []metrics.Rejections{{Key: "pricing_visits", Total: 1, Reasons: []metrics.ReasonCount{{Reason: "timing", Count: 1, Share: 1}}}},
				TTFT:               metrics.Dist{N: 2, P50: 8100, P90: 13140, Max: 14400},
				TTFTBusiness:       metrics.Dist{N: 2, P50: 8100, P90: 13140, Max: 14400},
				TTFTHistogram:      hist(0, 0, 1, 0, 1, 0, 0, 0),
				Via:                []metrics.ViaCount{{Via: "touch", Count: 1}, {Via: "accept", Count: 0}, {Via: "reject", Count: 1}},
				Untouched:          1,
				SpeedToLead:        metrics.Dist{N: 3, P50: 120, P90: 3240, Max: 3600},
				FirstTouchSLA:      smbSLA,
				SLAByTrigger:       []metrics.TriggerSLA{{Trigger: "quote_request", SLA: smbSLA}},
				SLAWeeks:           week(smbSLA),
				Cohort:             cohort(4, 4, 3, 1, 1, 0),
				CohortRecycled:     1,
				Flow:               flow(5, 1, 5, 1, 4, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0),
				Velocity:           []metrics.StageDays{{Stage: "lead", Stays: 3, MedianDays: 1.0 / 24}},
				Pipeline:           metrics.Money{Count: 1, Priced: 1, Amount: 12500.5},
				Recycles:           []metrics.Recycle{},
				WaitedEnrichment:   1,
			},
		},
	}
}

// The golden files are the goldenReport rendered; a change to them is a
// change to what people read, so look at the diff.
func TestReportGolden(t *testing.T) {
	for _, format := range []string{"table", "csv", "json"} {
		var b bytes.Buffer
		if err := Render(&b, goldenReport(), time.UTC, format); err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata", "report."+format))
		if err != nil {
			t.Fatal(err)
		}
		if b.String() != string(want) {
			t.Errorf("%s:\n%s\nwant:\n%s", format, b.String(), want)
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	if err := Render(&bytes.Buffer{}, goldenReport(), time.UTC, "xml"); err == nil {
		t.Error("format xml: no error")
	}
}
