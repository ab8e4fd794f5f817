package store_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func sameDirectory(t *testing.T, got, want *directory.Directory) {
	t.Helper()
	if !reflect.DeepEqual(got.Reps, want.Reps) {
		t.Errorf("reps:\n got %+v\nwant %+v", got.Reps, want.Reps)
	}
	if !reflect.DeepEqual(got.Pools, want.Pools) {
		t.Errorf("pools:\n got %+v\nwant %+v", got.Pools, want.Pools)
	}
	if !reflect.DeepEqual(got.Accounts, want.Accounts) {
		t.Errorf("accounts:\n got %+v\nwant %+v", got.Accounts, want.Accounts)
	}
	if !reflect.DeepEqual(got.Away, want.Away) {
		t.Errorf("away:\n got %+v\nwant %+v", got.Away, want.Away)
	}
}

func TestImportDirectoryRoundTrip(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	want := loadDir(t)
	if err := s.Directory().ImportDirectory(t.Context(), want); err != nil {
		t.Fatalf("ImportDirectory: %v", err)
	}
	got, err := s.Directory().Directory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sameDirectory(t, got, want)
	if err := got.Validate(); err != nil {
		t.Errorf("loaded directory does not validate: %v", err)
	}
	// Importing again is the same directory.
	if err := s.Directory().ImportDirectory(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Directory().Directory(t.Context())
	sameDirectory(t, got, want)
}

// A re-import replaces the directory but keeps today's load and the
// rotation; reps that left the file are inactive, not deleted.
func TestReimportKeepsRoutingState(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	if err := s.Directory().ImportDirectory(t.Context(), loadDir(t)); err != nil {
		t.Fatal(err)
	}
	at := date("2026-11-23T17:00:00Z")
	for i, key := range []string{"a", "b", "c"} {
		d, err := s.Directory().Route(t.Context(), actions.RouteInput{Key: key, LeadID: "L" + key, At: at,
			Rules: []routing.Rule{{Name: "inbound", Pool: "inbound-sdrs"}}})
		if err != nil || d.NextCursor != int64(i+1) {
			t.Fatalf("route %s: %+v, %v", key, d, err)
		}
	}
	smaller := parseDir(t, `
reps:
  - { id: rep-1, name: Dana Whitfield, manager: mgr-1, timezone: America/New_York, capacity_per_day: 5 }
  - { id: rep-2, name: Luis Ortega, manager: mgr-1, timezone: America/Chicago }
  - { id: mgr-1, name: Chris Doyle, timezone: America/New_York }
  - { id: queue-inbound, name: Inbound queue, manager: mgr-1, timezone: America/New_York }
pools:
  inbound-sdrs: { strategy: round_robin, members: [rep-2, rep-1], fallback: queue-inbound }
accounts:
  - { domain: Initech.com, owner: rep-1, name: Initech }
`)
	if err := s.Directory().ImportDirectory(t.Context(), smaller); err != nil {
		t.Fatal(err)
	}
	got, err := s.Directory().Directory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sameDirectory(t, got, smaller)
	if _, ok := got.Reps["rep-9"]; ok {
		t.Error("rep-9 still in the directory")
	}
	if n := count(t, s, `SELECT count(*) FROM reps WHERE id = 'rep-9' AND NOT active`); n != 1 {
		t.Error("rep-9 not kept as inactive")
	}
	if n := count(t, s, `SELECT cursor FROM pool_cursor WHERE pool = 'inbound-sdrs'`); n != 3 {
		t.Errorf("cursor after re-import = %d, want 3", n)
	}
	if n := count(t, s, `SELECT coalesce(sum(assigned), 0) FROM rep_load`); n != 3 {
		t.Errorf("load after re-import = %d, want 3", n)
	}
	if a, ok := got.Account("sales@INITECH.com"); !ok || a.Domain != "Initech.com" || a.Owner != "rep-1" {
		t.Errorf("account = %+v, %v", a, ok)
	}
	// An invalid directory is refused and changes nothing.
	bad := &directory.Directory{Reps: map[string]directory.Rep{"x": {ID: "x"}}}
	if err := s.Directory().ImportDirectory(t.Context(), bad); !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("invalid import: %v, want ErrInvalidInput", err)
	}
	got, _ = s.Directory().Directory(t.Context())
	sameDirectory(t, got, smaller)
}

func TestSetAwayClearAway(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	if err := s.Directory().ImportDirectory(t.Context(), loadDir(t)); err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	la, _ := time.LoadLocation("America/Los_Angeles")

	err := s.Directory().SetAway(t.Context(), "rep-404", "2026-11-20", "2026-11-30")
	if !errors.Is(err, store.ErrUnknownRep) || !strings.Contains(err.Error(), "rep-404") {
		t.Errorf("unknown rep: %v, want ErrUnknownRep naming rep-404", err)
	}
	for _, tc := range [][2]string{{"2026-11-31", "2026-12-01"}, {"2026-12-02", "2026-12-01"}, {"tomorrow", "2026-12-01"}} {
		if err := s.Directory().SetAway(t.Context(), "rep-1", tc[0], tc[1]); !errors.Is(err, store.ErrInvalidInput) {
			t.Errorf("SetAway %v: %v, want ErrInvalidInput", tc, err)
		}
	}
	for range 2 { // repeatable
		if err := s.Directory().SetAway(t.Context(), "rep-1", "2026-11-20", "2026-11-30"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Directory().SetAway(t.Context(), "rep-1", "2026-12-10", "2026-12-12"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM away WHERE rep_id = 'rep-1'`); n != 2 {
		t.Errorf("rep-1 away rows = %d, want 2", n)
	}
	d, _ := s.Directory().Directory(t.Context())
	if !d.IsAway("rep-1", time.Date(2026, 11, 25, 12, 0, 0, 0, ny)) {
		t.Error("rep-1 not away on 11-25")
	}

	// Back on the 25th (10:00 New York): the range now ends on the 24th;
	// the December holiday stays.
	if err := s.Directory().ClearAway(t.Context(), "rep-1", time.Date(2026, 11, 25, 10, 0, 0, 0, ny)); err != nil {
		t.Fatal(err)
	}
	d, _ = s.Directory().Directory(t.Context())
	var rep1 []directory.Away
	for _, a := range d.Away {
		if a.RepID == "rep-1" {
			rep1 = append(rep1, a)
		}
	}
	want := []directory.Away{{RepID: "rep-1", From: "2026-12-10", To: "2026-12-12"}, {RepID: "rep-1", From: "2026-11-20", To: "2026-11-24"}}
	if !reflect.DeepEqual(rep1, want) {
		t.Errorf("rep-1 away after ClearAway = %+v, want %+v", rep1, want)
	}
	if d.IsAway("rep-1", time.Date(2026, 11, 25, 12, 0, 0, 0, ny)) || !d.IsAway("rep-1", time.Date(2026, 11, 24, 12, 0, 0, 0, ny)) {
		t.Error("IsAway wrong after ClearAway")
	}

	// The rep's local day decides: 05:00 UTC on the 26th is still the 25th
	// in Los Angeles, the first day of rep-8's range, which then goes.
	if err := s.Directory().SetAway(t.Context(), "rep-8", "2026-11-25", "2026-11-27"); err != nil {
		t.Fatal(err)
	}
	if err := s.Directory().ClearAway(t.Context(), "rep-8", date("2026-11-26T05:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM away WHERE rep_id = 'rep-8'`); n != 0 {
		t.Errorf("rep-8 away rows = %d, want 0", n)
	}
	d, _ = s.Directory().Directory(t.Context())
	if d.IsAway("rep-8", time.Date(2026, 11, 26, 9, 0, 0, 0, la)) {
		t.Error("rep-8 still away")
	}
	// Clearing a rep who is not away is a no-op; an unknown rep is an error.
	if err := s.Directory().ClearAway(t.Context(), "rep-8", date("2026-11-26T05:00:00Z")); err != nil {
		t.Error(err)
	}
	if err := s.Directory().ClearAway(t.Context(), "rep-404", date("2026-11-26T05:00:00Z")); !errors.Is(err, store.ErrUnknownRep) {
		t.Errorf("ClearAway unknown: %v", err)
	}
	// The file's own away range survived all this.
	if !d.IsAway("rep-2", date("2026-12-25T18:00:00Z")) {
		t.Error("rep-2's holiday from the file is gone")
	}
}
