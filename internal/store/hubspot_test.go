package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func TestHubSpotObjectLifecycle(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	t0 := date("2026-11-23T15:00:00Z")

	o, fresh, err := s.HubSpot().BeginHubSpotObject(ctx, "lead/L-1:task:1", "task", t0)
	if err != nil || !fresh || o.ObjectID != "" || o.Attempts != 1 || !o.PendingSince.Equal(t0) {
		t.Fatalf("first begin = %+v, %v, %v", o, fresh, err)
	}
	o, fresh, err = s.HubSpot().BeginHubSpotObject(ctx, "lead/L-1:task:1", "task", t0.Add(time.Second))
	if err != nil || fresh || !o.PendingSince.Equal(t0) {
		t.Fatalf("second begin = %+v, %v, %v; want the pending row", o, fresh, err)
	}
	// Too young to claim.
	if _, ok, err := s.HubSpot().ClaimHubSpotObject(ctx, o.Key, "task", t0, t0.Add(time.Second)); err != nil || ok {
		t.Fatalf("claim of a young row = %v, %v", ok, err)
	}
	at := t0.Add(time.Minute)
	attempt, ok, err := s.HubSpot().ClaimHubSpotObject(ctx, o.Key, "task", at.Add(-30*time.Second), at)
	if err != nil || !ok || attempt != 2 {
		t.Fatalf("claim = %d, %v, %v", attempt, ok, err)
	}
	// Only one claim wins.
	if _, ok, _ := s.HubSpot().ClaimHubSpotObject(ctx, o.Key, "task", at.Add(-30*time.Second), at); ok {
		t.Fatal("second claim of the same attempt won")
	}
	// A stale attempt's release does nothing; the current one's does.
	if err := s.HubSpot().ReleaseHubSpotObject(ctx, o.Key, 1); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.HubSpot().HubSpotObjectByKey(ctx, o.Key); !got.PendingSince.Equal(at) {
		t.Fatalf("stale release changed pending_since to %v", got.PendingSince)
	}
	if err := s.HubSpot().ReleaseHubSpotObject(ctx, o.Key, 2); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.HubSpot().HubSpotObjectByKey(ctx, o.Key); got.PendingSince.Year() != 1970 {
		t.Fatalf("released pending_since = %v", got.PendingSince)
	}
	id, err := s.HubSpot().RecordHubSpotObject(ctx, o.Key, "1001", at)
	if err != nil || id != "1001" {
		t.Fatalf("record = %q, %v", id, err)
	}
	// The first recorded ID wins.
	if id, err := s.HubSpot().RecordHubSpotObject(ctx, o.Key, "1002", at); err != nil || id != "1001" {
		t.Fatalf("second record = %q, %v", id, err)
	}
	if o, fresh, err := s.HubSpot().BeginHubSpotObject(ctx, o.Key, "task", at); err != nil || fresh || o.ObjectID != "1001" {
		t.Fatalf("begin after record = %+v, %v, %v", o, fresh, err)
	}
	if _, err := s.HubSpot().RecordHubSpotObject(ctx, "nope", "1", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("record unknown key: %v", err)
	}
	if _, _, err := s.HubSpot().BeginHubSpotObject(ctx, "", "task", at); !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("empty key: %v", err)
	}
}

func TestHubSpotContacts(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	if _, ok, err := s.HubSpot().HubSpotContact(ctx, "L-1"); err != nil || ok {
		t.Fatalf("unknown lead: %v, %v", ok, err)
	}
	for _, m := range [][2]string{{"L-1", "501"}, {"L-2", "501"}, {"L-1", "501"}} {
		if err := s.HubSpot().RememberHubSpotContact(ctx, m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if id, ok, err := s.HubSpot().HubSpotContact(ctx, "L-1"); err != nil || !ok || id != "501" {
		t.Fatalf("L-1 = %q, %v, %v", id, ok, err)
	}
	if lead, ok, err := s.HubSpot().LeadForHubSpotContact(ctx, "501"); err != nil || !ok || lead != "L-1" {
		t.Errorf("lead of 501 = %q, %v, %v; want the first remembered", lead, ok, err)
	}
	if err := s.HubSpot().RememberHubSpotContact(ctx, "L-1", "777"); err != nil {
		t.Fatal(err)
	}
	if id, _, _ := s.HubSpot().HubSpotContact(ctx, "L-1"); id != "777" {
		t.Errorf("after a merge L-1 = %q", id)
	}
	if err := s.HubSpot().RememberHubSpotContact(ctx, "L-3", ""); !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("empty contact: %v", err)
	}
}

// The CRM identities of reps survive import and load.
func TestDirectoryRepCRMFields(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	want := parseDir(t, `
reps:
  - { id: rep-1, name: Dana, manager: mgr-1, timezone: America/New_York, email: dana@acme.io, hubspot_owner_id: 41629779 }
  - { id: mgr-1, name: Chris, timezone: America/New_York, email: chris@acme.io }
  - { id: q, name: Queue, manager: mgr-1, timezone: UTC }
pools:
  p: { strategy: round_robin, members: [rep-1], fallback: q }
`)
	if err := s.Directory().ImportDirectory(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Directory().Directory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sameDirectory(t, got, want)
	if r := got.Reps["rep-1"]; r.Email != "dana@acme.io" || r.HubSpotOwnerID != "41629779" {
		t.Errorf("rep-1 = %+v", r)
	}
	// Removing the fields in the file removes them in the store.
	r := want.Reps["rep-1"]
	r.Email, r.HubSpotOwnerID = "", ""
	want.Reps["rep-1"] = r
	if err := s.Directory().ImportDirectory(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Directory().Directory(t.Context())
	sameDirectory(t, got, want)
}

// Owner writes are found by contact, owner and time; old ones are pruned.
func TestHubSpotOwnerWrites(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	t0 := date("2026-11-23T15:00:00Z")
	old := t0.Add(-31 * 24 * time.Hour)
	for _, w := range []struct {
		contact, owner string
		at             time.Time
	}{{"501", "7001", old}, {"501", "7001", t0}, {"501", "7001", t0}, {"502", "7002", t0},
		{"503", "7001", t0}, {"503", "7002", t0.Add(10 * time.Second)}} {
		if err := s.HubSpot().RecordHubSpotOwnerWrite(ctx, w.contact, w.owner, w.at); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		contact, owner string
		from, to       time.Time
		want           bool
	}{
		{"501", "7001", t0.Add(-time.Minute), t0.Add(time.Minute), true},
		{"501", "7001", t0.Add(time.Second), t0.Add(time.Minute), false},  // out of the window
		{"501", "7002", t0.Add(-time.Minute), t0.Add(time.Minute), false}, // another owner
		{"502", "7002", t0, t0, true},
		{"501", "7001", old.Add(-time.Minute), old.Add(time.Minute), false}, // pruned by the later write
		// Only the latest write counts: 7001 then 7002; 7001 set again later
		// in HubSpot is a change, not the first write's echo.
		{"503", "7001", t0.Add(-time.Minute), t0.Add(time.Minute), false},
		{"503", "7002", t0.Add(-time.Minute), t0.Add(time.Minute), true},
		{"503", "7001", t0.Add(-time.Minute), t0.Add(5 * time.Second), true}, // the echo of the first, before the second
	} {
		got, err := s.HubSpot().HubSpotOwnerWritten(ctx, c.contact, c.owner, c.from, c.to)
		if err != nil || got != c.want {
			t.Errorf("written(%s, %s, %v..%v) = %v, %v; want %v", c.contact, c.owner, c.from, c.to, got, err, c.want)
		}
	}
	if err := s.HubSpot().RecordHubSpotOwnerWrite(ctx, "", "7001", t0); !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("empty contact: %v", err)
	}
}
