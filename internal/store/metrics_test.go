package store_test

import (
	"reflect"
	"testing"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	tr := func(key, id, at string, from, to lead.Stage) actions.LedgerEntry {
		return actions.LedgerEntry{Key: key, LeadID: id, Kind: actions.LedgerTransition, At: date(at), From: from, To: to,
			Segment: "mid-market", Source: "website"}
	}
	fb := func(key, id, at, outcome, reason string) actions.LedgerEntry {
		d := map[string]any{"outcome": outcome}
		if reason != "" {
			d["reason"] = reason
		}
		return actions.LedgerEntry{Key: key, LeadID: id, Kind: actions.LedgerFeedback, At: date(at), Source: "website", Data: d}
	}
	touch := func(key, id, at string, business int, met bool) actions.LedgerEntry {
		return actions.LedgerEntry{Key: key, LeadID: id, Kind: actions.LedgerTouch, At: date(at),
			Data: map[string]any{"ttftSeconds": business * 2, "ttftBusinessSeconds": business, "slaMet": met}}
	}
	entries := []actions.LedgerEntry{
		// L1: handed off, touched in 30 min, accepted, opportunity.
		tr("L1/t0", "L1", "2026-11-16T09:00:00Z", lead.StageLead, lead.StageMQL),
		tr("L1/t1", "L1", "2026-11-16T10:00:00Z", lead.StageMQL, lead.StageHandoff),
		touch("L1/ft", "L1", "2026-11-16T10:30:00Z", 1800, true),
		fb("L1/fb", "L1", "2026-11-16T11:00:00Z", "accepted", ""),
		tr("L1/t2", "L1", "2026-11-16T11:00:00Z", lead.StageHandoff, lead.StageSAL),
		tr("L1/t3", "L1", "2026-11-19T11:00:00Z", lead.StageSAL, lead.StageOpportunity),
		// L2: handed off, reassigned (not a new handoff), rejected bad_fit.
		tr("L2/t1", "L2", "2026-11-17T10:00:00Z", lead.StageMQL, lead.StageHandoff),
		tr("L2/t2", "L2", "2026-11-17T11:00:00Z", lead.StageHandoff, lead.StageHandoff),
		touch("L2/ft", "L2", "2026-11-17T11:00:00Z", 3600, true),
		fb("L2/fb", "L2", "2026-11-17T12:00:00Z", "rejected", "bad_fit"),
		// L3: rejected (timing), recycled, handed off again, accepted the second time.
		tr("L3/t1", "L3", "2026-11-18T10:00:00Z", lead.StageMQL, lead.StageHandoff),
		touch("L3/ft1", "L3", "2026-11-18T12:00:00Z", 7200, false),
		fb("L3/fb1", "L3", "2026-11-18T13:00:00Z", "rejected", "timing"),
		tr("L3/t2", "L3", "2026-11-19T10:00:00Z", lead.StageHandoff, lead.StageRecycle),
		tr("L3/t3", "L3", "2026-11-20T10:00:00Z", lead.StageMQL, lead.StageHandoff),
		touch("L3/ft2", "L3", "2026-11-20T10:10:00Z", 600, true),
		fb("L3/fb2", "L3", "2026-11-21T10:00:00Z", "accepted", ""),
		tr("L3/t4", "L3", "2026-11-21T10:00:00Z", lead.StageHandoff, lead.StageSAL),
		// L4: handed off on the window's last day, touched and accepted after it.
		tr("L4/t1", "L4", "2026-11-22T23:00:00Z", lead.StageMQL, lead.StageHandoff),
		touch("L4/ft", "L4", "2026-11-23T01:00:00Z", 14400, false),
		fb("L4/fb", "L4", "2026-11-24T09:00:00Z", "accepted", ""),
		// L5: handed off before the window; its feedback inside does not count.
		tr("L5/t1", "L5", "2026-11-10T10:00:00Z", lead.StageMQL, lead.StageHandoff),
		fb("L5/fb0", "L5", "2026-11-12T10:00:00Z", "rejected", "competitor"),
		fb("L5/fb", "L5", "2026-11-17T10:00:00Z", "accepted", ""),
		// Another kind, ignored by these numbers.
		{Key: "L1/r", LeadID: "L1", Kind: actions.LedgerRouting, At: date("2026-11-16T10:00:00Z"),
			Data: map[string]any{"rule": "na_west", "pool": "na-west-sdrs", "fallback": false}},
	}
	if err := s.Ledger().Record(t.Context(), entries); err != nil {
		t.Fatal(err)
	}
	from, to := date("2026-11-16T00:00:00Z"), date("2026-11-23T00:00:00Z")

	stages, err := s.Metrics().StageCounts(t.Context(), from, to)
	want := map[string]int{"mql": 1, "handoff": 4, "sal": 2, "recycle": 1, "opportunity": 1}
	if err != nil || !reflect.DeepEqual(stages, want) {
		t.Errorf("StageCounts = %v, %v; want %v", stages, err, want)
	}

	pipe, err := s.Metrics().Pipeline(t.Context(), from, to)
	if wantPipe := []store.PipelineRow{{Segment: "mid-market", Source: "website", Leads: 1}}; err != nil || !reflect.DeepEqual(pipe, wantPipe) {
		t.Errorf("Pipeline = %+v, %v; want %+v", pipe, err, wantPipe)
	}
}
