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
	err = s.Ledger().Record(t.Context(), []actions.LedgerEntry{
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
	// The report is metrics.ComputeAt's, every number (the dashboard's
	// parity test holds the dashboard to the same function).
	want, err := metrics.ComputeAt(t.Context(), s.Pool(), rep.Period, metrics.BySegment, rep.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	if got, exp := mustJSON(t, rep.Rows), mustJSON(t, want.Rows); got != exp {
		t.Errorf("report rows %s\nwant (metrics.ComputeAt) %s", got, exp)
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

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
