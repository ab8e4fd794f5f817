package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// goldenReport is a small hand-made report by segment.
func goldenReport() metrics.Report {
	funnel := func(n ...int) []metrics.StageCount {
		out := make([]metrics.StageCount, len(metrics.FunnelStages))
		for i, s := range metrics.FunnelStages {
			out[i] = metrics.StageCount{Stage: s, Leads: n[i]}
			if i > 0 && n[i-1] > 0 {
				out[i].Rate = float64(n[i]) / float64(n[i-1])
			}
		}
		return out
	}
	return metrics.Report{
		Period: metrics.Period{From: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		By:     metrics.BySegment,
		Rows: []metrics.Row{
			{
				Key: "mid", HandedOff: 2, Accepted: 1, Rejected: 1, AcceptanceRate: 0.5,
				RejectionReasons: []metrics.ReasonCount{{Reason: "bad_fit", Count: 1, Share: 1}},
				TTFT:             metrics.Dist{N: 1, P50: 237600, P90: 237600, Max: 237600},
				TTFTBusiness:     metrics.Dist{N: 1, P50: 7200, P90: 7200, Max: 7200},
				FirstTouchSLA:    metrics.Share{Met: 1, Total: 1, Rate: 1},
				AcceptanceSLA:    metrics.Share{Met: 1, Total: 2, Rate: 0.5},
				Breaches:         1, Escalations: 1, Reassignments: 1,
				Funnel:   funnel(2, 2, 2, 1, 1),
				Velocity: []metrics.StageDays{{Stage: "handoff", Stays: 2, MedianDays: 3}, {Stage: "sal", Stays: 1, MedianDays: 0.125}},
				Pipeline: metrics.Money{Count: 1},
				Won:      metrics.Money{Count: 1, Priced: 1, Amount: 1000},
				Recycles: []metrics.Recycle{{Play: "no_response", Recycled: 1, BackToMQL: 1, Won: 1}},
			},
			{
				Key: "smb", HandedOff: 3, Accepted: 1, Rejected: 2, AcceptanceRate: 1.0 / 3,
				RejectionReasons: []metrics.ReasonCount{{Reason: "no_response", Count: 1, Share: 0.5}, {Reason: "timing", Count: 1, Share: 0.5}},
				TTFT:             metrics.Dist{N: 2, P50: 8100, P90: 13140, Max: 14400},
				TTFTBusiness:     metrics.Dist{N: 2, P50: 8100, P90: 13140, Max: 14400},
				FirstTouchSLA:    metrics.Share{Met: 1, Total: 2, Rate: 0.5},
				Funnel:           funnel(4, 4, 1, 1, 0),
				Velocity:         []metrics.StageDays{{Stage: "lead", Stays: 3, MedianDays: 1.0 / 24}},
				Pipeline:         metrics.Money{Count: 1, Priced: 1, Amount: 12500.5},
				Recycles:         []metrics.Recycle{},
				WaitedEnrichment: 1,
			},
		},
	}
}

const goldenTable = `leadflow report 2026-11-16 – 2026-11-22 (UTC), by segment

                                              mid            smb
Handed off                                      2              3
Accepted                                1 (50.0%)      1 (33.3%)
Rejected                                        1              2
  bad_fit                              1 (100.0%)              –
  no_response                                   –      1 (50.0%)
  timing                                        –      1 (50.0%)
First touches                                   1              2
  TTFT p50                                 2d 18h         2h 15m
  TTFT p90                                 2d 18h         3h 39m
  TTFT max                                 2d 18h             4h
  TTFT p50, business hours                     2h         2h 15m
  TTFT p90, business hours                     2h         3h 39m
  TTFT max, business hours                     2h             4h
First-touch SLA met                  100.0% (1/1)    50.0% (1/2)
Acceptance SLA met                    50.0% (1/2)              –
SLA breaches                                    1              0
Escalations                                     1              0
Reassignments                                   1              0
Reached lead                                    2              4
Reached mql                            2 (100.0%)     4 (100.0%)
Reached sal                            2 (100.0%)      1 (25.0%)
Reached opportunity                     1 (50.0%)     1 (100.0%)
Reached customer                       1 (100.0%)       0 (0.0%)
Median time in lead                             –             1h
Median time in mql                              –              –
Median time in handoff                         3d              –
Median time in sal                             3h              –
Median time in opportunity                      –              –
Median time in recycle                          –              –
Opportunities created                           1  1 (12,500.50)
Won                                     1 (1,000)              0
Recycled, play no_response                      1              –
  back as MQL / won / lost / again  1 / 1 / 0 / 0              –
Waited for enrichment                           0              1
`

const goldenCSV = `by,key,metric,value
segment,mid,handed_off,2
segment,mid,accepted,1
segment,mid,rejected,1
segment,mid,acceptance_rate,0.5
segment,mid,rejected.bad_fit,1
segment,mid,rejected.bad_fit.share,1
segment,mid,ttft.n,1
segment,mid,ttft.p50_seconds,237600
segment,mid,ttft.p90_seconds,237600
segment,mid,ttft.max_seconds,237600
segment,mid,ttft_business.n,1
segment,mid,ttft_business.p50_seconds,7200
segment,mid,ttft_business.p90_seconds,7200
segment,mid,ttft_business.max_seconds,7200
segment,mid,first_touch_sla.met,1
segment,mid,first_touch_sla.total,1
segment,mid,first_touch_sla.rate,1
segment,mid,acceptance_sla.met,1
segment,mid,acceptance_sla.total,2
segment,mid,acceptance_sla.rate,0.5
segment,mid,sla_breaches,1
segment,mid,escalations,1
segment,mid,reassignments,1
segment,mid,reached.lead,2
segment,mid,reached.lead.rate,0
segment,mid,reached.mql,2
segment,mid,reached.mql.rate,1
segment,mid,reached.sal,2
segment,mid,reached.sal.rate,1
segment,mid,reached.opportunity,1
segment,mid,reached.opportunity.rate,0.5
segment,mid,reached.customer,1
segment,mid,reached.customer.rate,1
segment,mid,days_in.handoff.median,3
segment,mid,days_in.handoff.stays,2
segment,mid,days_in.sal.median,0.125
segment,mid,days_in.sal.stays,1
segment,mid,opportunities_created,1
segment,mid,opportunities_created.amount,0
segment,mid,won,1
segment,mid,won.amount,1000
segment,mid,recycled.no_response,1
segment,mid,recycled.no_response.back_to_mql,1
segment,mid,recycled.no_response.won,1
segment,mid,recycled.no_response.lost,0
segment,mid,recycled.no_response.recycled_again,0
segment,mid,waited_for_enrichment,0
segment,smb,handed_off,3
segment,smb,accepted,1
segment,smb,rejected,2
segment,smb,acceptance_rate,0.3333333333333333
segment,smb,rejected.no_response,1
segment,smb,rejected.no_response.share,0.5
segment,smb,rejected.timing,1
segment,smb,rejected.timing.share,0.5
segment,smb,ttft.n,2
segment,smb,ttft.p50_seconds,8100
segment,smb,ttft.p90_seconds,13140
segment,smb,ttft.max_seconds,14400
segment,smb,ttft_business.n,2
segment,smb,ttft_business.p50_seconds,8100
segment,smb,ttft_business.p90_seconds,13140
segment,smb,ttft_business.max_seconds,14400
segment,smb,first_touch_sla.met,1
segment,smb,first_touch_sla.total,2
segment,smb,first_touch_sla.rate,0.5
segment,smb,acceptance_sla.met,0
segment,smb,acceptance_sla.total,0
segment,smb,acceptance_sla.rate,0
segment,smb,sla_breaches,0
segment,smb,escalations,0
segment,smb,reassignments,0
segment,smb,reached.lead,4
segment,smb,reached.lead.rate,0
segment,smb,reached.mql,4
segment,smb,reached.mql.rate,1
segment,smb,reached.sal,1
segment,smb,reached.sal.rate,0.25
segment,smb,reached.opportunity,1
segment,smb,reached.opportunity.rate,1
segment,smb,reached.customer,0
segment,smb,reached.customer.rate,0
segment,smb,days_in.lead.median,0.041666666666666664
segment,smb,days_in.lead.stays,3
segment,smb,opportunities_created,1
segment,smb,opportunities_created.amount,12500.5
segment,smb,won,0
segment,smb,won.amount,0
segment,smb,waited_for_enrichment,1
`

func TestReportGoldenTable(t *testing.T) {
	var b bytes.Buffer
	if err := renderReport(&b, goldenReport(), time.UTC, "table"); err != nil {
		t.Fatal(err)
	}
	if b.String() != goldenTable {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), goldenTable)
	}
}

func TestReportGoldenCSV(t *testing.T) {
	var b bytes.Buffer
	if err := renderReport(&b, goldenReport(), time.UTC, "csv"); err != nil {
		t.Fatal(err)
	}
	if b.String() != goldenCSV {
		t.Errorf("csv:\n%s\nwant:\n%s", b.String(), goldenCSV)
	}
}

func TestReportGoldenJSON(t *testing.T) {
	var b bytes.Buffer
	if err := renderReport(&b, goldenReport(), time.UTC, "json"); err != nil {
		t.Fatal(err)
	}
	if b.String() != goldenJSON {
		t.Errorf("json:\n%s\nwant:\n%s", b.String(), goldenJSON)
	}
}

const goldenJSON = `{
  "period": {
    "from": "2026-11-16T00:00:00Z",
    "to": "2026-11-23T00:00:00Z"
  },
  "by": "segment",
  "rows": [
    {
      "key": "mid",
      "handedOff": 2,
      "accepted": 1,
      "rejected": 1,
      "acceptanceRate": 0.5,
      "rejectionReasons": [
        {
          "reason": "bad_fit",
          "count": 1,
          "share": 1
        }
      ],
      "ttft": {
        "n": 1,
        "p50Seconds": 237600,
        "p90Seconds": 237600,
        "maxSeconds": 237600
      },
      "ttftBusiness": {
        "n": 1,
        "p50Seconds": 7200,
        "p90Seconds": 7200,
        "maxSeconds": 7200
      },
      "firstTouchSla": {
        "met": 1,
        "total": 1,
        "rate": 1
      },
      "acceptanceSla": {
        "met": 1,
        "total": 2,
        "rate": 0.5
      },
      "breaches": 1,
      "escalations": 1,
      "reassignments": 1,
      "funnel": [
        {
          "stage": "lead",
          "leads": 2,
          "rate": 0
        },
        {
          "stage": "mql",
          "leads": 2,
          "rate": 1
        },
        {
          "stage": "sal",
          "leads": 2,
          "rate": 1
        },
        {
          "stage": "opportunity",
          "leads": 1,
          "rate": 0.5
        },
        {
          "stage": "customer",
          "leads": 1,
          "rate": 1
        }
      ],
      "velocity": [
        {
          "stage": "handoff",
          "stays": 2,
          "medianDays": 3
        },
        {
          "stage": "sal",
          "stays": 1,
          "medianDays": 0.125
        }
      ],
      "pipeline": {
        "count": 1,
        "priced": 0,
        "amount": 0
      },
      "won": {
        "count": 1,
        "priced": 1,
        "amount": 1000
      },
      "recycles": [
        {
          "play": "no_response",
          "recycled": 1,
          "backToMql": 1,
          "won": 1,
          "lost": 0,
          "recycledAgain": 0
        }
      ],
      "waitedForEnrichment": 0
    },
    {
      "key": "smb",
      "handedOff": 3,
      "accepted": 1,
      "rejected": 2,
      "acceptanceRate": 0.3333333333333333,
      "rejectionReasons": [
        {
          "reason": "no_response",
          "count": 1,
          "share": 0.5
        },
        {
          "reason": "timing",
          "count": 1,
          "share": 0.5
        }
      ],
      "ttft": {
        "n": 2,
        "p50Seconds": 8100,
        "p90Seconds": 13140,
        "maxSeconds": 14400
      },
      "ttftBusiness": {
        "n": 2,
        "p50Seconds": 8100,
        "p90Seconds": 13140,
        "maxSeconds": 14400
      },
      "firstTouchSla": {
        "met": 1,
        "total": 2,
        "rate": 0.5
      },
      "acceptanceSla": {
        "met": 0,
        "total": 0,
        "rate": 0
      },
      "breaches": 0,
      "escalations": 0,
      "reassignments": 0,
      "funnel": [
        {
          "stage": "lead",
          "leads": 4,
          "rate": 0
        },
        {
          "stage": "mql",
          "leads": 4,
          "rate": 1
        },
        {
          "stage": "sal",
          "leads": 1,
          "rate": 0.25
        },
        {
          "stage": "opportunity",
          "leads": 1,
          "rate": 1
        },
        {
          "stage": "customer",
          "leads": 0,
          "rate": 0
        }
      ],
      "velocity": [
        {
          "stage": "lead",
          "stays": 3,
          "medianDays": 0.041666666666666664
        }
      ],
      "pipeline": {
        "count": 1,
        "priced": 1,
        "amount": 12500.5
      },
      "won": {
        "count": 0,
        "priced": 0,
        "amount": 0
      },
      "recycles": [],
      "waitedForEnrichment": 1
    }
  ]
}
`

// The command end to end: a ledger in a fresh database, the JSON output is
// metrics.Compute's, and usage errors exit 2.
func TestReportCommand(t *testing.T) {
	dbURL := storetest.NewDB(t)
	ta := newTestApp(t, map[string]string{"DATABASE_URL": dbURL, "LEADFLOW_POLICY": "../deploy/policy.yaml"})
	if code := ta.run(t, "db", "migrate"); code != exitOK {
		t.Fatalf("migrate: exit %d", code)
	}
	s, err := openStore(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The policy's zone is America/New_York: 2026-11-16 runs from 05:00 UTC.
	err = s.Record(t.Context(), []actions.LedgerEntry{
		{Key: "A:t", LeadID: "A", Kind: actions.LedgerTransition, At: time.Date(2026, 11, 16, 4, 0, 0, 0, time.UTC), From: lead.StageMQL, To: lead.StageHandoff, Segment: "smb"},
		{Key: "B:t", LeadID: "B", Kind: actions.LedgerTransition, At: time.Date(2026, 11, 16, 6, 0, 0, 0, time.UTC), From: lead.StageMQL, To: lead.StageHandoff, Segment: "smb"},
		{Key: "B:f", LeadID: "B", Kind: actions.LedgerFeedback, At: time.Date(2026, 11, 16, 7, 0, 0, 0, time.UTC), Segment: "smb", Data: map[string]any{"outcome": "accepted", "cycle": 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if code := ta.run(t, "report", "--from", "2026-11-16", "--to", "2026-11-22", "--by", "segment", "--format", "json"); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var rep metrics.Report
	if err := json.Unmarshal(ta.out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Key != "smb" || rep.Rows[0].HandedOff != 1 || rep.Rows[0].Accepted != 1 {
		t.Errorf("report = %+v; want smb: 1 handoff (B; A is on 11-15 in New York), accepted", rep.Rows)
	}
	if !rep.Period.From.Equal(time.Date(2026, 11, 16, 5, 0, 0, 0, time.UTC)) || !rep.Period.To.Equal(time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("period = %+v", rep.Period)
	}
	if code := ta.run(t, "report", "--from", "2026-11-16", "--to", "2026-11-22"); code != exitOK || !bytes.Contains(ta.out.Bytes(), []byte("leadflow report 2026-11-16 – 2026-11-22 (America/New_York)")) {
		t.Errorf("table: exit %d", code)
	}
	for _, bad := range [][]string{
		{"report", "--by", "colour"},
		{"report", "--format", "xml"},
		{"report", "--from", "2026-11-16"},
		{"report", "--from", "2026-11-22", "--to", "2026-11-16"},
		{"report", "--from", "16/11/2026", "--to", "2026-11-22"},
	} {
		if code := ta.run(t, bad...); code != exitUsage {
			t.Errorf("%v: exit %d; want %d", bad, code, exitUsage)
		}
	}
}
