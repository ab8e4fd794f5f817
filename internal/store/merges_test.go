package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func TestMerges(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	for _, m := range [][2]string{{"a", "b"}, {"b", "c"}, {"a", "b"}} {
		if err := s.Merges().RecordMerge(ctx, m[0], m[1]); err != nil {
			t.Fatalf("merge %v: %v", m, err)
		}
	}
	for _, tc := range []struct {
		id, want string
		ok       bool
	}{{"a", "c", true}, {"b", "c", true}, {"c", "", false}, {"zzz", "", false}} {
		if got, ok, err := s.Merges().MergedInto(ctx, tc.id); err != nil || got != tc.want || ok != tc.ok {
			t.Errorf("MergedInto(%s) = %q %v %v; want %q %v", tc.id, got, ok, err, tc.want, tc.ok)
		}
	}
	for _, m := range [][2]string{{"c", "a"}, {"c", "b"}, {"c", "c"}, {"", "x"}} {
		if err := s.Merges().RecordMerge(ctx, m[0], m[1]); !errors.Is(err, store.ErrInvalidInput) {
			t.Errorf("merge %v: %v, want ErrInvalidInput", m, err)
		}
	}
	// A long chain is followed for at most MaxMergeHops.
	for i := range 12 {
		if err := s.Merges().RecordMerge(ctx, fmt.Sprint("l", i), fmt.Sprint("l", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, err := s.Merges().MergedInto(ctx, "l0"); err != nil || !ok || got != fmt.Sprint("l", store.MaxMergeHops) {
		t.Errorf("MergedInto(l0) = %q %v %v; want l%d", got, ok, err, store.MaxMergeHops)
	}
}
