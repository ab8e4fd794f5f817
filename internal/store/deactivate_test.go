package store_test

import (
	"errors"
	"testing"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func TestDeactivateRep(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	if err := s.Directory().ImportDirectory(t.Context(), loadDir(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.Directory().DeactivateRep(t.Context(), "rep-2"); err != nil {
		t.Fatal(err)
	}
	d, err := s.Directory().Directory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Reps["rep-2"]; ok {
		t.Error("rep-2 still in the directory after deactivation")
	}
	if n := count(t, s, `SELECT count(*) FROM reps WHERE id = 'rep-2' AND NOT active`); n != 1 {
		t.Error("rep-2 not kept as an inactive row")
	}
	// Routing over rep-2's pool picks rep-1 every time.
	at := date("2026-11-23T17:00:00Z")
	for _, key := range []string{"a", "b", "c"} {
		dec, err := s.Directory().Route(t.Context(), actions.RouteInput{Key: key, LeadID: "L" + key, At: at,
			Rules: []routing.Rule{{Name: "inbound", Pool: "inbound-sdrs"}}})
		if err != nil || dec.OwnerID != "rep-1" {
			t.Fatalf("route %s: %+v, %v (want rep-1: rep-2 is inactive)", key, dec, err)
		}
	}
	// A manual reassignment to them is refused too.
	if _, err := s.Directory().Route(t.Context(), actions.RouteInput{Key: "m", LeadID: "Lm", At: at, ForceOwner: "rep-2"}); !errors.Is(err, store.ErrUnknownRep) {
		t.Errorf("force owner rep-2: %v, want ErrUnknownRep", err)
	}
	for _, rep := range []string{"rep-2", "rep-404"} {
		if err := s.Directory().DeactivateRep(t.Context(), rep); !errors.Is(err, store.ErrUnknownRep) {
			t.Errorf("deactivate %s: %v, want ErrUnknownRep", rep, err)
		}
	}
	for rep, want := range map[string][2]bool{"rep-2": {true, false}, "rep-1": {true, true}, "rep-404": {false, false}} {
		if known, active, err := s.Directory().RepStatus(t.Context(), rep); err != nil || known != want[0] || active != want[1] {
			t.Errorf("RepStatus(%s) = %v, %v, %v; want known %v, active %v", rep, known, active, err, want[0], want[1])
		}
	}
	// A file that lists them makes them active again.
	if err := s.Directory().ImportDirectory(t.Context(), loadDir(t)); err != nil {
		t.Fatal(err)
	}
	if d, _ = s.Directory().Directory(t.Context()); d.Reps["rep-2"].ID != "rep-2" {
		t.Error("re-import did not make rep-2 active again")
	}
}
