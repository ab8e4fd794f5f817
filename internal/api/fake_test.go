package api_test

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/webui/webuitest"
)

var errUnavailable = errors.New("temporal: unavailable")

// newLeads is the shared api.Leads double in pass-through mode: the edge's
// tests check what reaches the port, not the workflow's rules.
func newLeads() *webuitest.Leads {
	l := webuitest.NewLeads()
	l.PassThrough = true
	return l
}

// fakeMerges is one hop of the merges table; err stands for Postgres down.
type fakeMerges struct {
	mu    sync.Mutex
	into  map[string]string
	err   error
	calls int
}

func newFakeMerges() *fakeMerges { return &fakeMerges{into: map[string]string{}} }

func (m *fakeMerges) set(from, to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.into[from] = to
}

func (m *fakeMerges) MergedInto(_ context.Context, leadID string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.err != nil {
		return "", false, m.err
	}
	to, ok := m.into[leadID]
	return to, ok, nil
}

type fakeReceipts struct {
	mu    sync.Mutex
	seen  map[string]bool
	err   error // Postgres down
	calls int
}

func (r *fakeReceipts) Record(_ context.Context, eventID, _ string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return false, r.err
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[eventID] {
		return false, nil
	}
	r.seen[eventID] = true
	return true, nil
}

// fakeStates is the published states of store.LastState.
type fakeStates struct {
	mu     sync.Mutex
	states map[string]lead.View
	at     map[string]time.Time
	err    error
	calls  int
}

func (f *fakeStates) LastState(ctx context.Context, leadID string) (lead.View, time.Time, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return lead.View{}, time.Time{}, false, f.err
	}
	if _, ok := ctx.Deadline(); !ok {
		return lead.View{}, time.Time{}, false, errors.New("fakeStates: LastState called without a deadline")
	}
	v, ok := f.states[leadID]
	return v, f.at[leadID], ok, nil
}
