package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// A person's Slack ID survives the import, in the directory and in Person.
func TestSlackIDRoundTrip(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	if err := s.Directory().ImportDirectory(ctx, parseDir(t, `
reps:
  - { id: rep-1, timezone: UTC, email: dana@example.com, slack: U024BE7LH }
  - { id: rep-2, timezone: UTC }
pools:
  p: { strategy: round_robin, members: [rep-1], fallback: rep-2 }
`)); err != nil {
		t.Fatal(err)
	}
	d, err := s.Directory().Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Reps["rep-1"]; got.Slack != "U024BE7LH" || got.Email != "dana@example.com" {
		t.Errorf("directory rep-1 = %+v", got)
	}
	p, ok, err := s.Deliveries().Person(ctx, "rep-1")
	if err != nil || !ok || p.Slack != "U024BE7LH" || p.Timezone != "UTC" {
		t.Errorf("Person(rep-1) = %+v, %t, %v", p, ok, err)
	}
	if p, ok, err := s.Deliveries().Person(ctx, "rep-2"); err != nil || !ok || p.Slack != "" {
		t.Errorf("Person(rep-2) = %+v, %t, %v", p, ok, err)
	}
	if _, ok, err := s.Deliveries().Person(ctx, "rep-404"); err != nil || ok {
		t.Errorf("Person(rep-404) = %t, %v; want not found", ok, err)
	}
}

// Two notifications claimed at once for a recipient with one slot left:
// exactly one is sent, the other held (the per-recipient lock).
func TestClaimDeliveryRateLimitUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	first := store.Delivery{Key: "k0", Channel: "email", Recipient: "rep-1", LeadID: "L-0", Kind: "remind"}
	if c, err := s.Deliveries().ClaimDelivery(ctx, first, 2, time.Hour, now.Add(-30*time.Minute)); err != nil || c.Status != store.ClaimSend {
		t.Fatalf("first claim %+v, %v", c, err)
	}
	for round := range 5 {
		var wg sync.WaitGroup
		got := make([]store.Claim, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				d := store.Delivery{Key: string(rune('a'+round)) + string(rune('0'+i)), Channel: "email", Recipient: "rep-1", LeadID: "L-1", Kind: "remind"}
				got[i], errs[i] = s.Deliveries().ClaimDelivery(ctx, d, 2+round, time.Hour, now)
			})
		}
		wg.Wait()
		sent, held := 0, 0
		for i, c := range got {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			switch c.Status {
			case store.ClaimSend:
				sent++
			case store.ClaimHeld:
				held++
				if !c.RetryAt.Equal(now.Add(30 * time.Minute)) {
					t.Errorf("held until %s; want when k0 leaves the hour", c.RetryAt)
				}
			}
		}
		if sent != 1 || held != 1 {
			t.Fatalf("round %d: sent %d held %d; want one of each", round, sent, held)
		}
	}
}

// A delivered row is kept by Release (only a failed claim is dropped) and
// is Done on the next claim, whatever the limit.
func TestClaimDeliveryDoneAndRelease(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	now := time.Now()
	d := store.Delivery{Key: "k1", Channel: "slack", Recipient: "rep-1", LeadID: "L-1", Kind: "handoff"}
	if _, err := s.Deliveries().ClaimDelivery(ctx, d, 0, time.Hour, now); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliveries().MarkDelivered(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliveries().ReleaseDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Deliveries().ClaimDelivery(ctx, d, 1, time.Hour, now); err != nil || c.Status != store.ClaimDone {
		t.Fatalf("claim after delivery %+v, %v; want done", c, err)
	}
	failed := store.Delivery{Key: "k2", Channel: "slack", Recipient: "rep-1", LeadID: "L-1", Kind: "handoff"}
	if _, err := s.Deliveries().ClaimDelivery(ctx, failed, 0, time.Hour, now); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliveries().ReleaseDelivery(ctx, failed); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM notification_deliveries`); n != 1 {
		t.Errorf("%d rows; want the delivered one only", n)
	}
	if _, err := s.Deliveries().ClaimDelivery(ctx, store.Delivery{Key: "k3", Channel: "slack"}, 0, time.Hour, now); err == nil {
		t.Error("a delivery without a recipient should be refused")
	}
}
