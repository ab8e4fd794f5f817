package store_test

import (
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// Receipts are their own port over the DB's pool and clock: a duplicate
// event ID is reported as such, and the receipt is dated by the DB's clock.
func TestReceipts(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	s := storetest.Open(t, store.WithClock(func() time.Time { return at }))
	r := s.Receipts()
	for i, want := range []bool{true, false, false} {
		if got, err := r.Record(t.Context(), "evt-1", "L1"); err != nil || got != want {
			t.Errorf("Record #%d = %v, %v; want %v", i, got, err, want)
		}
	}
	if got, err := s.Receipts().Record(t.Context(), "evt-2", "L1"); err != nil || !got {
		t.Errorf("evt-2 = %v, %v", got, err)
	}
	if n := count(t, s, `SELECT count(*) FROM event_receipts`); n != 2 {
		t.Errorf("receipts = %d, want 2", n)
	}
	if n := count(t, s, `SELECT count(*) FROM event_receipts WHERE received_at = $1`, at); n != 2 {
		t.Errorf("receipts dated by the DB's clock = %d, want 2", n)
	}
	if _, err := r.Record(t.Context(), "", "L1"); err == nil {
		t.Error("an empty event ID was recorded")
	}
}
