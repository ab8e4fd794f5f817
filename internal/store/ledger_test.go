package store_test

import (
	"testing"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func TestRecordIdempotent(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	at := date("2026-11-23T10:00:00Z")
	batch := []actions.LedgerEntry{
		{Key: "lead/L1/evt-1", LeadID: "L1", Kind: actions.LedgerEvent, At: at, Source: "website"},
		{Key: "lead/L1/t1", LeadID: "L1", Kind: actions.LedgerTransition, At: at, From: lead.StageLead, To: lead.StageMQL,
			Why: "score 55 >= 50", Segment: "mid-market", PolicyVersion: "2026-11-22.1"},
		{Key: "lead/L1/fb1", LeadID: "L1", Kind: actions.LedgerFeedback, At: at,
			Data: map[string]any{"outcome": "rejected", "reason": "timing"}},
	}
	for range 2 {
		if err := s.Ledger().Record(t.Context(), batch); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM ledger`); n != 3 {
		t.Errorf("rows = %d, want 3", n)
	}
	// The same key again, even with other content, is the first fact.
	dup := batch[2]
	dup.Data = map[string]any{"outcome": "accepted"}
	if err := s.Ledger().Record(t.Context(), []actions.LedgerEntry{dup}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM ledger WHERE data->>'outcome' = 'rejected' AND data->>'reason' = 'timing'`); n != 1 {
		t.Errorf("first feedback kept = %d, want 1", n)
	}
	// Absent dimensions are NULL, absent data is {}.
	if n := count(t, s, `SELECT count(*) FROM ledger WHERE key = 'lead/L1/evt-1' AND segment IS NULL AND from_stage IS NULL AND data = '{}'::jsonb`); n != 1 {
		t.Errorf("event row not stored with NULL dimensions and {} data")
	}
	if n := count(t, s, `SELECT count(*) FROM ledger WHERE key = 'lead/L1/t1' AND from_stage = 'lead' AND to_stage = 'mql' AND segment = 'mid-market'`); n != 1 {
		t.Errorf("transition columns not stored")
	}
	// Append-only.
	if _, err := s.Pool().Exec(t.Context(), `UPDATE ledger SET why = 'edited' WHERE key = 'lead/L1/t1'`); err == nil {
		t.Errorf("UPDATE ledger succeeded; want append-only error")
	}
}

// One batch is one transaction: a failing entry leaves none of the batch.
func TestRecordBatchIsAtomic(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	at := date("2026-11-23T10:00:00Z")
	batch := []actions.LedgerEntry{
		{Key: "k1", LeadID: "L1", Kind: actions.LedgerEvent, At: at},
		// Postgres jsonb refuses \u0000: the second insert fails in the database.
		{Key: "k2", LeadID: "L1", Kind: actions.LedgerEvent, At: at, Data: map[string]any{"bad": "a\x00b"}},
		{Key: "k3", LeadID: "L1", Kind: actions.LedgerEvent, At: at},
	}
	if err := s.Ledger().Record(t.Context(), batch); err == nil {
		t.Fatal("Record with a bad entry succeeded")
	}
	if n := count(t, s, `SELECT count(*) FROM ledger`); n != 0 {
		t.Errorf("rows after failed batch = %d, want 0", n)
	}
	if err := s.Ledger().Record(t.Context(), []actions.LedgerEntry{{Key: "", LeadID: "L1", Kind: "event", At: at}}); err == nil {
		t.Error("empty key accepted")
	}
}
