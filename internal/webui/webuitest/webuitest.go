// Package webuitest has fakes and fixtures for the web UI's tests (and the
// HTTP edge's and the starter command's): the one fake of the api.Leads
// port, which behaves like the lead workflow's accept/reject validator (or
// passes updates through), and helpers that put tasks and ledger rows in a
// real store.
package webuitest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
)

// Update is one Update call the fake applied.
type Update struct {
	LeadID, Name, UpdateID string
	Req                    any
}

// Leads is the one fake of api.Leads and api.OpenLeads, for the edge's,
// the web UI's and the starter command's tests. Accept and reject follow
// the contract's validator: only the current owner, only in handoff;
// reassign sets the owner; retryEffects answers the view as it is (or, with
// PassThrough, every update answers the view as it is). A repeated update
// ID returns the first result; an event ID the lead already has is
// ignored. A lead is open when it has a view, is not merged and not Closed.
//
// Set the exported fields before the fake is in use (or under its lock
// through the helpers): they are read under its mutex.
type Leads struct {
	mu      sync.Mutex
	Views   map[string]lead.View
	Updates []Update
	Events  map[string][]lead.Event // per lead, each event ID once, in order
	done    map[string]lead.View
	seen    map[string]map[string]bool // per lead: event IDs applied
	// Closed leads' workflows have completed (merged): Deliver refuses them
	// with api.ErrLeadClosed, as Temporal does, and they are not open.
	Closed map[string]bool
	// FailOn, when set, is asked before each Deliver is applied (n counts
	// every call from 1); its error is Deliver's. Delay holds each Deliver
	// first, so two for one lead would overlap if the caller let them.
	FailOn func(n int, leadID string, ev lead.Event) error
	Delay  time.Duration
	// PassThrough makes Update apply nothing: it records the call (failed
	// or not) and answers the lead's state, for tests of what reaches the
	// port rather than of the workflow's rules.
	PassThrough bool
	// ReadyErr is Ready's answer.
	ReadyErr error
	QueryErr error // returned by Query when set
	// Explain answers the explain query.
	Explain map[string]lead.Explanation
	// Refuse, when set, is every update's refusal (*api.Refused).
	Refuse string
	// UpdateErr, by update name (AnyUpdate: every update), is returned by
	// Update before anything is applied (e.g. an *api.Unavailable: no
	// worker took it).
	UpdateErr map[string]error
	// IsOpenErr is returned by IsOpen when set; Opened records its calls.
	IsOpenErr error
	Opened    []string
	// QueryGate, when not nil, holds every Query until it is closed;
	// QueryEntered, when not nil, hears each Query's lead ID as it starts.
	QueryGate    chan struct{}
	QueryEntered chan string
	// Now is the fake's clock (default time.Now): the time of a touch and
	// of an accept.
	Now func() time.Time
	// Publish, when set, hears every state the fake's lead moves to, as
	// the workflow publishes it (PublishTo sets it).
	Publish func(lead.View)
	// Arrive, when set, is the state a lead with none gets on its first
	// event (e.g. handed off at once); without it such an event is only
	// recorded.
	Arrive func(leadID string) lead.View
	// MoveStages makes events and rejects move the stage as the workflow
	// does: opportunity.created to opportunity, opportunity.won to
	// customer, opportunity.lost to recycle; a reject to disqualified
	// (bad_fit), merged (duplicate) or recycle (the other reasons).
	MoveStages  bool
	inFlight    int
	maxInFlight int
	queries     int
	calls       int            // Deliver calls, applied or not
	delivering  map[string]int // per lead: Deliver calls running
	overlap     bool           // two Delivers for one lead ran at once
}

// AnyUpdate is the UpdateErr key that fails every update.
const AnyUpdate = "*"

// SALStaleAfter is when the fake's accepted lead goes stale.
const SALStaleAfter = 7 * 24 * time.Hour

// NewLeads returns a fake with the given states.
func NewLeads(views ...lead.View) *Leads {
	f := &Leads{Views: map[string]lead.View{}, Events: map[string][]lead.Event{}, Explain: map[string]lead.Explanation{},
		done: map[string]lead.View{}, seen: map[string]map[string]bool{}, Closed: map[string]bool{},
		delivering: map[string]int{}}
	for _, v := range views {
		f.Views[v.LeadID] = v
	}
	return f
}

var (
	_ api.Leads     = (*Leads)(nil)
	_ api.OpenLeads = (*Leads)(nil)
)

// opportunityStage is where an opportunity event moves a lead (MoveStages).
var opportunityStage = map[string]lead.Stage{
	lead.EventOpportunityCreated: lead.StageOpportunity,
	lead.EventOpportunityWon:     lead.StageCustomer,
	lead.EventOpportunityLost:    lead.StageRecycle,
}

// rejectStage is where a reject moves a lead (MoveStages).
func rejectStage(r lead.Reason) lead.Stage {
	switch r {
	case lead.ReasonBadFit:
		return lead.StageDisqualified
	case lead.ReasonDuplicate:
		return lead.StageMerged
	}
	return lead.StageRecycle
}

// Deliver records the event once per ID (see Arrive and MoveStages). A rep.touch by the owner of a
// handoff not touched yet sets its FirstTouchAt, as the workflow does.
func (f *Leads) Deliver(ctx context.Context, leadID string, ev lead.Event) error {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.delivering[leadID]++
	if f.delivering[leadID] > 1 {
		f.overlap = true
	}
	fail, delay := f.FailOn, f.Delay
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.delivering[leadID]--
		f.mu.Unlock()
	}()
	if delay > 0 {
		time.Sleep(delay) // widens the window for an overlap, synchronises nothing
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
	if f.Closed[leadID] {
		return fmt.Errorf("deliver event %s to lead/%s: %w", ev.ID, leadID, api.ErrLeadClosed)
	}
	if f.seen[leadID][ev.ID] {
		return nil
	}
	if f.seen[leadID] == nil {
		f.seen[leadID] = map[string]bool{}
	}
	f.seen[leadID][ev.ID] = true
	f.Events[leadID] = append(f.Events[leadID], ev)
	v, ok := f.Views[leadID]
	if !ok && f.Arrive != nil {
		v, ok = f.Arrive(leadID), true
		f.Views[leadID] = v
		f.published(v)
	}
	if to, moves := opportunityStage[ev.Type]; ok && moves && f.MoveStages {
		v.Stage = to
		f.Views[leadID] = v
		f.published(v)
	}
	if ok && ev.Type == lead.EventRepTouch && v.Stage == lead.StageHandoff && v.OwnerID == ev.Attr("repId") && v.FirstTouchAt == nil {
		at := ev.OccurredAt
		v.FirstTouchAt = &at
		f.Views[leadID] = v
		f.published(v)
	}
	return nil
}

func (f *Leads) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// published tells Publish (under f.mu).
func (f *Leads) published(v lead.View) {
	if f.Publish != nil {
		f.Publish(v)
	}
}

// PublishTo publishes every view of f to s now, and every state a lead
// moves to from then on, as the workflow does (actions.StateSnapshot with
// a growing Seq).
func PublishTo(t testing.TB, s *store.DB, f *Leads) {
	t.Helper()
	var seq int64
	pub := func(v lead.View) {
		seq++
		if err := s.States().PublishState(context.Background(), actions.StateSnapshot{LeadID: v.LeadID, Seq: seq, At: f.now(), View: v}); err != nil {
			t.Errorf("publish the state of %s: %v", v.LeadID, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.Views {
		pub(v)
	}
	f.Publish = pub
}

// SetView replaces a lead's state (and publishes it), as a workflow
// change the test makes happen.
func (f *Leads) SetView(v lead.View) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Views[v.LeadID] = v
	f.published(v)
}

// Update applies accept and reject.
func (f *Leads) Update(_ context.Context, leadID, name, updateID string, req any) (lead.View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.PassThrough {
		f.Updates = append(f.Updates, Update{leadID, name, updateID, req})
	}
	if err := f.UpdateErr[name]; err != nil {
		return lead.View{}, err
	}
	if err := f.UpdateErr[AnyUpdate]; err != nil {
		return lead.View{}, err
	}
	if f.PassThrough {
		v, ok := f.Views[leadID]
		if !ok {
			return lead.View{}, fmt.Errorf("update %s of lead %s: %w", name, leadID, api.ErrNotFound)
		}
		return v, nil
	}
	if v, ok := f.done[updateID]; ok {
		return v, nil
	}
	if f.Refuse != "" {
		return lead.View{}, &api.Refused{Message: f.Refuse}
	}
	v, ok := f.Views[leadID]
	if !ok {
		return lead.View{}, api.ErrNotFound
	}
	var rep string
	switch r := req.(type) {
	case lead.AcceptRequest:
		rep = r.RepID
	case lead.RejectRequest:
		rep = r.RepID
	case lead.ReassignRequest:
		v.OwnerID = r.OwnerID
		return f.applied(leadID, name, updateID, req, v), nil
	case lead.RetryEffectsRequest:
		return f.applied(leadID, name, updateID, req, v), nil
	default:
		return lead.View{}, fmt.Errorf("fake: unexpected update %s %T", name, req)
	}
	if v.Stage != lead.StageHandoff {
		return lead.View{}, &api.Refused{Message: fmt.Sprintf("lead %s is in stage %s: %s needs handoff", leadID, v.Stage, name)}
	}
	if v.OwnerID != rep {
		return lead.View{}, &api.Refused{Message: fmt.Sprintf("%s is not the owner of lead %s (the owner is %s)", rep, leadID, v.OwnerID)}
	}
	switch name {
	case lead.UpdateAccept:
		v.Stage = lead.StageSAL
		now := f.now()
		v.SAL = &lead.SALView{Since: now, StaleAt: now.Add(SALStaleAfter)}
	case lead.UpdateReject:
		reason := req.(lead.RejectRequest).Reason
		v.Stage = lead.StageRecycle
		if f.MoveStages {
			v.Stage = rejectStage(reason)
		}
		if v.Stage == lead.StageRecycle {
			v.Play = &lead.PlayView{Name: string(reason), To: "recycle"}
		}
	}
	v.SLA = nil
	return f.applied(leadID, name, updateID, req, v), nil
}

// applied records an update that changed the lead to v (under f.mu).
func (f *Leads) applied(leadID, name, updateID string, req any, v lead.View) lead.View {
	f.Views[leadID] = v
	f.done[updateID] = v
	f.Updates = append(f.Updates, Update{leadID, name, updateID, req})
	f.published(v)
	return v
}

// Query answers state. It counts the queries in flight at once (see
// MaxInFlight); QueryGate holds them.
func (f *Leads) Query(ctx context.Context, leadID, name string, out any) error {
	f.mu.Lock()
	f.queries++
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	gate, entered := f.QueryGate, f.QueryEntered
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if entered != nil {
		entered <- leadID
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.QueryErr != nil {
		return f.QueryErr
	}
	if x, ok := out.(*lead.Explanation); ok && name == lead.QueryExplain {
		e, found := f.Explain[leadID]
		if !found {
			return api.ErrNotFound
		}
		*x = e
		return nil
	}
	v, ok := f.Views[leadID]
	if !ok {
		return api.ErrNotFound
	}
	p, ok := out.(*lead.View)
	if name != lead.QueryState || !ok {
		return fmt.Errorf("fake: unexpected query %s into %T", name, out)
	}
	*p = v
	return nil
}

// IsOpen reports whether the lead has a view, is not merged and not
// Closed. Its callers must bound it: without a deadline it is an error.
func (f *Leads) IsOpen(ctx context.Context, leadID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Opened = append(f.Opened, leadID)
	if _, ok := ctx.Deadline(); !ok {
		return false, fmt.Errorf("webuitest: IsOpen of %s called without a deadline", leadID)
	}
	if f.IsOpenErr != nil {
		return false, f.IsOpenErr
	}
	v, ok := f.Views[leadID]
	return ok && v.Stage != lead.StageMerged && !f.Closed[leadID], nil
}

// MaxInFlight is the most Query calls that ran at once.
func (f *Leads) MaxInFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInFlight
}

// Queries is how many Query calls there were.
func (f *Leads) Queries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries
}

// SetQueryErr sets QueryErr under the fake's lock.
func (f *Leads) SetQueryErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.QueryErr = err
}

// Ready answers ReadyErr.
func (f *Leads) Ready(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ReadyErr
}

// Calls is how many Deliver calls there were, applied or not.
func (f *Leads) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Overlap says whether two Deliver calls for one lead ever ran at once.
func (f *Leads) Overlap() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.overlap
}

// SetFailOn sets FailOn under the fake's lock (while it is in use).
func (f *Leads) SetFailOn(fail func(n int, leadID string, ev lead.Event) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.FailOn = fail
}

// EventIDs returns a lead's applied event IDs, in order.
func (f *Leads) EventIDs(leadID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, ev := range f.Events[leadID] {
		ids = append(ids, ev.ID)
	}
	return ids
}

// View returns a lead's current state.
func (f *Leads) View(leadID string) lead.View {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Views[leadID]
}

// AllViews returns a copy of every lead's current state.
func (f *Leads) AllViews() map[string]lead.View {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]lead.View, len(f.Views))
	for id, v := range f.Views {
		out[id] = v
	}
	return out
}

// AllUpdates returns a copy of the applied updates.
func (f *Leads) AllUpdates() []Update {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Update(nil), f.Updates...)
}

// EventCount is how many events were delivered (each ID once), all leads.
func (f *Leads) EventCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, evs := range f.Events {
		n += len(evs)
	}
	return n
}

// LeadEvents returns a copy of a lead's delivered events.
func (f *Leads) LeadEvents(leadID string) []lead.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]lead.Event(nil), f.Events[leadID]...)
}

// Handoff is a lead in handoff owned by rep with the score and SLA due
// time; its contact is "Contact <leadID>", VP Sales at Acme.
func Handoff(leadID, rep string, score int, due time.Time) lead.View {
	return lead.View{LeadID: leadID, Stage: lead.StageHandoff, OwnerID: rep, Segment: "mid-market",
		Contact: &lead.ContactView{Name: "Contact " + leadID, Company: "Acme", Title: "VP Sales"},
		Score: lead.ScoreView{Total: score, Fit: score / 2, Intent: score - score/2,
			Breakdown: []lead.ScoreItem{{Rule: "quote_request", Points: score - score/2}, {Rule: "fit:employees", Points: score / 2}}},
		SLA:           &lead.SLAView{Kind: lead.SLAFirstTouch, StartedAt: due.Add(-4 * time.Hour), DueAt: due},
		PolicyVersion: "test.1"}
}

// Reps imports a directory of just these reps (UTC, no pools) into s, so
// rep tokens can be minted for them.
func Reps(t testing.TB, s *store.DB, ids ...string) {
	t.Helper()
	d := &directory.Directory{Reps: map[string]directory.Rep{}}
	for _, id := range ids {
		d.Reps[id] = directory.Rep{ID: id, Name: "Rep " + id, Timezone: "UTC"}
	}
	if err := s.Directory().ImportDirectory(context.Background(), d); err != nil {
		t.Fatalf("import reps %v: %v", ids, err)
	}
}

// Task creates the open handoff task of a lead in s and returns its ID.
func Task(t testing.TB, s *store.DB, v lead.View, at time.Time) string {
	t.Helper()
	var due time.Time
	if v.SLA != nil {
		due = v.SLA.DueAt
	}
	ref, err := s.CRM().CreateTask(context.Background(), actions.TaskInput{
		Key: "task/" + v.LeadID, LeadID: v.LeadID, OwnerID: v.OwnerID, Kind: "handoff",
		Title: "New handoff: " + v.LeadID, DueAt: due,
		Context: &actions.HandoffContext{
			WhyNow: "Requested a quote for core after two pricing visits", Trigger: "form.submit",
			Score: v.Score, PolicyVersion: v.PolicyVersion, Segment: v.Segment,
			Timeline: []lead.TimelineItem{
				{At: at.Add(-2 * time.Hour), EventID: "e1-" + v.LeadID, Type: "web.page_view", Summary: "pricing"},
				{At: at.Add(-time.Hour), EventID: "e2-" + v.LeadID, Type: "form.submit", Summary: "quote_request"},
			},
			Campaign: map[string]string{"utm_campaign": "q4-pricing", "utm_source": "google"},
		},
	})
	if err != nil {
		t.Fatalf("create task of %s: %v", v.LeadID, err)
	}
	return ref.TaskID
}

// Ledger fills s with a known week (2026-11-16 to 2026-11-23), written as
// the workflow writes it: four new leads (L1..L4, one event each, L3 a
// second after its recycle) and five handoffs. L1 accepted (touched after
// 30 business minutes), L2 rejected bad_fit (website, demo_request, 1 h),
// L3 rejected timing (webinar, quote_request, touched after 2 h: its
// deadline breached), recycled and handed off again (webinar trigger,
// 10 min, accepted), L4 handed off Sunday 11-22 10:00, due Monday 10:00,
// touched Monday 09:00 and accepted 11-24. At noon on 11-22: first-touch
// deadlines met 3, breached 1 (week 1), L4 pending (week 2).
func Ledger(t testing.TB, s *store.DB) (from, to time.Time) {
	t.Helper()
	date := func(v string) time.Time {
		d, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	src := map[string]string{"L1": "website", "L2": "website", "L3": "webinar", "L4": "website"}
	n := 0
	row := func(kind, id, at string) actions.LedgerEntry {
		n++
		return actions.LedgerEntry{Key: fmt.Sprintf("%s/%s/%d", id, kind, n), LeadID: id, Kind: kind, At: date(at),
			Segment: "mid-market", Source: src[id]}
	}
	tr := func(id, at string, from, to lead.Stage) actions.LedgerEntry {
		e := row(actions.LedgerTransition, id, at)
		e.Key = fmt.Sprintf("lead/%s:transition:%d:%s:%s", id, n, from, to)
		e.From, e.To = from, to
		return e
	}
	handoff := func(id, at, owner, due, trigger string) actions.LedgerEntry {
		e := tr(id, at, lead.StageMQL, lead.StageHandoff)
		e.OwnerID = owner
		e.Data = map[string]any{"slaKind": "first_touch", "slaDueAt": date(due), "trigger": trigger}
		return e
	}
	event := func(id, at, typ string) actions.LedgerEntry {
		e := row(actions.LedgerEvent, id, at)
		e.Data = map[string]any{"eventId": e.Key, "type": typ, "receivedAt": date(at)}
		return e
	}
	fb := func(id, at, rep, outcome, reason string) actions.LedgerEntry {
		e := row(actions.LedgerFeedback, id, at)
		e.Data = map[string]any{"outcome": outcome, "repId": rep}
		if reason != "" {
			e.Data["reason"] = reason
		}
		return e
	}
	touch := func(id, at, handoffAt, rep, due string, business int) actions.LedgerEntry {
		e := row(actions.LedgerTouch, id, at)
		e.Data = map[string]any{"ttftSeconds": date(at).Sub(date(handoffAt)).Seconds(), "ttftBusinessSeconds": business,
			"via": "touch", "repId": rep, "owners": 1, "handoffAt": date(handoffAt),
			"slaDueAt": date(due), "slaMet": !date(at).After(date(due))}
		return e
	}
	entries := []actions.LedgerEntry{
		event("L1", "2026-11-16T08:00:00Z", "form.submit"),
		tr("L1", "2026-11-16T08:00:00Z", "", lead.StageLead),
		tr("L1", "2026-11-16T09:00:00Z", lead.StageLead, lead.StageMQL),
		handoff("L1", "2026-11-16T10:00:00Z", "r1", "2026-11-16T11:00:00Z", "quote_request"),
		touch("L1", "2026-11-16T10:30:00Z", "2026-11-16T10:00:00Z", "r1", "2026-11-16T11:00:00Z", 1800),
		fb("L1", "2026-11-16T11:00:00Z", "r1", "accepted", ""),
		tr("L1", "2026-11-16T11:00:00Z", lead.StageHandoff, lead.StageSAL),
		tr("L1", "2026-11-19T11:00:00Z", lead.StageSAL, lead.StageOpportunity),

		event("L2", "2026-11-17T09:00:00Z", "form.submit"),
		tr("L2", "2026-11-17T09:00:00Z", "", lead.StageLead),
		tr("L2", "2026-11-17T10:00:00Z", lead.StageLead, lead.StageMQL),
		handoff("L2", "2026-11-17T10:00:00Z", "r2", "2026-11-17T12:00:00Z", "demo_request"),
		touch("L2", "2026-11-17T11:00:00Z", "2026-11-17T10:00:00Z", "r2", "2026-11-17T12:00:00Z", 3600),
		fb("L2", "2026-11-17T12:00:00Z", "r2", "rejected", "bad_fit"),

		event("L3", "2026-11-18T09:00:00Z", "form.submit"),
		tr("L3", "2026-11-18T09:00:00Z", "", lead.StageLead),
		tr("L3", "2026-11-18T10:00:00Z", lead.StageLead, lead.StageMQL),
		handoff("L3", "2026-11-18T10:00:00Z", "r1", "2026-11-18T11:00:00Z", "quote_request"),
		touch("L3", "2026-11-18T12:00:00Z", "2026-11-18T10:00:00Z", "r1", "2026-11-18T11:00:00Z", 7200),
		fb("L3", "2026-11-18T13:00:00Z", "r1", "rejected", "timing"),
		tr("L3", "2026-11-18T13:00:00Z", lead.StageHandoff, lead.StageRecycle),
		tr("L3", "2026-11-20T09:00:00Z", lead.StageRecycle, lead.StageLead),
		event("L3", "2026-11-20T10:00:00Z", "webinar.attended"),
		tr("L3", "2026-11-20T10:00:00Z", lead.StageLead, lead.StageMQL),
		handoff("L3", "2026-11-20T10:00:00Z", "r2", "2026-11-20T11:00:00Z", "webinar"),
		touch("L3", "2026-11-20T10:10:00Z", "2026-11-20T10:00:00Z", "r2", "2026-11-20T11:00:00Z", 600),
		fb("L3", "2026-11-21T10:00:00Z", "r2", "accepted", ""),
		tr("L3", "2026-11-21T10:00:00Z", lead.StageHandoff, lead.StageSAL),

		event("L4", "2026-11-22T09:30:00Z", "form.submit"),
		tr("L4", "2026-11-22T09:30:00Z", "", lead.StageLead),
		tr("L4", "2026-11-22T10:00:00Z", lead.StageLead, lead.StageMQL),
		handoff("L4", "2026-11-22T10:00:00Z", "r1", "2026-11-23T10:00:00Z", "quote_request"),
		touch("L4", "2026-11-23T09:00:00Z", "2026-11-22T10:00:00Z", "r1", "2026-11-23T10:00:00Z", 0),
		fb("L4", "2026-11-24T09:00:00Z", "r1", "accepted", ""),
	}
	if err := s.Ledger().Record(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	return date("2026-11-16T00:00:00Z"), date("2026-11-23T00:00:00Z")
}
