package store_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func snapshot(leadID string, seq int64, at time.Time, stage lead.Stage) actions.StateSnapshot {
	return actions.StateSnapshot{LeadID: leadID, Seq: seq, At: at, View: lead.View{
		LeadID: leadID, Stage: stage, OwnerID: "rep-7", PolicyVersion: "p1",
		Score:   lead.ScoreView{Total: 65, Breakdown: []lead.ScoreItem{{Rule: "quote_request", Points: 40, EventID: "evt-1"}}},
		Effects: []lead.EffectView{{Key: "crm/task/1", Kind: "crm.task", Status: lead.EffectRunning, Attempts: 2, Since: at}},
	}}
}

func TestPublishStateKeepsTheNewest(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	t0 := date("2026-11-23T10:00:00Z")

	if _, _, found, err := s.States().LastState(ctx, "L1"); err != nil || found {
		t.Fatalf("LastState before any publish: found=%v err=%v", found, err)
	}
	if err := s.States().PublishState(ctx, snapshot("L1", 2, t0, lead.StageHandoff)); err != nil {
		t.Fatal(err)
	}
	v, at, found, err := s.States().LastState(ctx, "L1")
	if err != nil || !found || !at.Equal(t0) || v.Stage != lead.StageHandoff || v.OwnerID != "rep-7" ||
		len(v.Effects) != 1 || v.Effects[0].Attempts != 2 || len(v.Score.Breakdown) != 1 {
		t.Fatalf("LastState = %+v, %v, %v, %v", v, at, found, err)
	}
	// A late retry of an older write, and the same seq again with other
	// content, change nothing.
	for _, old := range []actions.StateSnapshot{
		snapshot("L1", 1, t0.Add(-time.Minute), lead.StageMQL),
		snapshot("L1", 2, t0.Add(time.Minute), lead.StageSAL),
	} {
		if err := s.States().PublishState(ctx, old); err != nil {
			t.Fatalf("publish seq %d: %v", old.Seq, err)
		}
		if v, at, _, _ := s.States().LastState(ctx, "L1"); v.Stage != lead.StageHandoff || !at.Equal(t0) {
			t.Errorf("after seq %d: stage %s at %v, want handoff at %v", old.Seq, v.Stage, at, t0)
		}
	}
	// A newer one replaces it.
	if err := s.States().PublishState(ctx, snapshot("L1", 3, t0.Add(time.Hour), lead.StageSAL)); err != nil {
		t.Fatal(err)
	}
	if v, at, _, _ := s.States().LastState(ctx, "L1"); v.Stage != lead.StageSAL || !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("after seq 3: stage %s at %v", v.Stage, at)
	}
	// Other leads are their own rows.
	if _, _, found, _ := s.States().LastState(ctx, "L2"); found {
		t.Error("L2 found")
	}
	if n := count(t, s, `SELECT count(*) FROM lead_states`); n != 1 {
		t.Errorf("rows = %d, want 1", n)
	}
}

func TestPublishStateStoresNoEdgeMarks(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	at := date("2026-11-23T10:00:00Z")
	snap := snapshot("L1", 1, at, lead.StageHandoff)
	snap.View.Stale, snap.View.PublishedAt = true, &at
	snap.View.LeadID = ""
	if err := s.States().PublishState(t.Context(), snap); err != nil {
		t.Fatal(err)
	}
	v, _, _, err := s.States().LastState(t.Context(), "L1")
	if err != nil || v.Stale || v.PublishedAt != nil || v.LeadID != "L1" {
		t.Errorf("stored view %+v, %v", v, err)
	}
}

func TestPublishStateInvalid(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	at := date("2026-11-23T10:00:00Z")
	other := snapshot("L1", 1, at, lead.StageLead)
	other.View.LeadID = "L2"
	for name, snap := range map[string]actions.StateSnapshot{
		"no lead":       snapshot("", 1, at, lead.StageLead),
		"no time":       snapshot("L1", 1, time.Time{}, lead.StageLead),
		"view of other": other,
	} {
		if err := s.States().PublishState(t.Context(), snap); !errors.Is(err, store.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM lead_states`); n != 0 {
		t.Errorf("rows = %d", n)
	}
}

// Writes racing in any order leave the highest seq.
func TestPublishStateConcurrent(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	at := date("2026-11-23T10:00:00Z")
	const n = 40
	seqs := rand.Perm(n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, seq := range seqs {
		wg.Go(func() {
			errs[i] = s.States().PublishState(t.Context(), snapshot("L1", int64(seq+1), at.Add(time.Duration(seq)*time.Second), lead.StageHandoff))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, got, _, err := s.States().LastState(t.Context(), "L1"); err != nil || !got.Equal(at.Add((n-1)*time.Second)) {
		t.Errorf("published at %v (%v), want the seq-%d snapshot's %v", got, err, n, at.Add((n-1)*time.Second))
	}
}
