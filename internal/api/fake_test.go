package api_test

import (
	"context"
	"errors"
	"fmt"
	. "github.com/leadflow/leadflow/internal/api"
	"sync"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

var errUnavailable = errors.New("temporal: unavailable")

// fakeLeads stands in for Temporal. Like the workflow, it ignores an event id
// it has already applied to a lead.
type fakeLeads struct {
	mu       sync.Mutex
	calls    int                        // Deliver calls, applied or not
	applied  map[string][]lead.Event    // per lead, in application order
	seen     map[string]map[string]bool // per lead: event ids applied
	inFlight map[string]int             // per lead: concurrent Deliver calls
	overlap  bool                       // two Delivers for one lead ran at once
	// failOn, when set, is asked before each Deliver (n counts from 1).
	failOn func(n int, leadID string, ev lead.Event) error
	delay  time.Duration
	// closed leads' workflows have completed (merged): Deliver refuses them
	// with ErrLeadClosed, as Temporal does under ALLOW_DUPLICATE_FAILED_ONLY.
	closed map[string]bool

	views   map[string]lead.View
	explain map[string]lead.Explanation
	updates []fakeUpdate
	// updateErr, when set, is returned by Update; queryErr by Query;
	// isOpenErr by IsOpen.
	updateErr error
	queryErr  error
	isOpenErr error
	readyErr  error
	opened    []string // IsOpen calls
}

type fakeUpdate struct {
	LeadID, Name, UpdateID string
	Req                    any
}

func newFakeLeads() *fakeLeads {
	return &fakeLeads{
		applied: map[string][]lead.Event{}, seen: map[string]map[string]bool{},
		inFlight: map[string]int{}, views: map[string]lead.View{}, explain: map[string]lead.Explanation{},
		closed: map[string]bool{},
	}
}

func (f *fakeLeads) Deliver(ctx context.Context, leadID string, ev lead.Event) error {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.inFlight[leadID]++
	if f.inFlight[leadID] > 1 {
		f.overlap = true
	}
	fail := f.failOn
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight[leadID]--
		f.mu.Unlock()
	}()
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if fail != nil {
		if err := fail(n, leadID, ev); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed[leadID] {
		return fmt.Errorf("deliver event %s to lead/%s: %w", ev.ID, leadID, ErrLeadClosed)
	}
	if f.seen[leadID] == nil {
		f.seen[leadID] = map[string]bool{}
	}
	if !f.seen[leadID][ev.ID] {
		f.seen[leadID][ev.ID] = true
		f.applied[leadID] = append(f.applied[leadID], ev)
	}
	return nil
}

func (f *fakeLeads) Update(_ context.Context, leadID, name, updateID string, req any) (lead.View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, fakeUpdate{leadID, name, updateID, req})
	if f.updateErr != nil {
		return lead.View{}, f.updateErr
	}
	v, ok := f.views[leadID]
	if !ok {
		return lead.View{}, fmt.Errorf("update %s of lead %s: %w", name, leadID, ErrNotFound)
	}
	return v, nil
}

func (f *fakeLeads) Query(_ context.Context, leadID, name string, out any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queryErr != nil {
		return f.queryErr
	}
	switch o := out.(type) {
	case *lead.View:
		v, ok := f.views[leadID]
		if !ok {
			return ErrNotFound
		}
		*o = v
	case *lead.Explanation:
		x, ok := f.explain[leadID]
		if !ok {
			return ErrNotFound
		}
		*o = x
	default:
		return fmt.Errorf("query %s: unexpected out %T", name, out)
	}
	return nil
}

func (f *fakeLeads) Ready(context.Context) error { return f.readyErr }

// IsOpen (api.OpenLeads): a lead with a view that is not closed.
func (f *fakeLeads) IsOpen(ctx context.Context, leadID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened = append(f.opened, leadID)
	if _, ok := ctx.Deadline(); !ok {
		return false, errors.New("fakeLeads: IsOpen called without a deadline")
	}
	if f.isOpenErr != nil {
		return false, f.isOpenErr
	}
	_, ok := f.views[leadID]
	return ok && !f.closed[leadID], nil
}

// appliedIDs returns a lead's applied event ids in order.
func (f *fakeLeads) appliedIDs(leadID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, ev := range f.applied[leadID] {
		ids = append(ids, ev.ID)
	}
	return ids
}

func (f *fakeLeads) totalApplied() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, evs := range f.applied {
		n += len(evs)
	}
	return n
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
