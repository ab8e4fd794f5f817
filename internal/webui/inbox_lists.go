package webui

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
)

// The inbox's two lists come from the leads' own state, not from tasks:
// the rep's leads in handoff (open handoffs) and in sal (accepted), as
// they last published it (Config.States: the store's lead_states), most
// urgent first (lead.CompareUrgency), at most MaxInboxItems each. Each
// shown lead is then asked its live state (the workflow's state query:
// the truth right after an accept or reject, which the published state
// may not show yet) by a pool of InboxQueryConcurrency goroutines, each
// query bounded by inboxQueryTimeout and the page by stateTimeout; the
// live stage decides the list. A lead whose query fails shows its
// published state, marked; once one query of a page has failed for want
// of a worker or of Temporal, the rest of the page uses the published
// states straight away, so a page without workers costs one query
// deadline, not one per lead.
const (
	InboxQueryConcurrency = 8
	MaxInboxItems         = 50
	inboxQueryTimeout     = 3 * time.Second
	stateTimeout          = 10 * time.Second
	// openCheckTimeout bounds the check that a reject's duplicateOf is open.
	openCheckTimeout = 3 * time.Second
)

// LeadStates is the last state each lead published (store.States): where
// the inbox's lists come from.
type LeadStates interface {
	RepLeads(ctx context.Context, ownerID string, stage lead.Stage, now time.Time, limit int) ([]store.PublishedState, int, error)
}

type kv struct{ Key, Value string }

// inboxItem is one lead of either list.
type inboxItem struct {
	Rep                    string // whose inbox: the forms' rep
	LeadID, Stage, OwnerID string
	// Who the rep calls (view.contact).
	Name, Company, JobTitle string
	// The score decayed to now; Breakdown adds up to Score.
	Score, Fit, Intent int
	Breakdown          []lead.ScoreItem
	// The SLA in force (open handoffs).
	DueAt    time.Time
	DueText  string
	Overdue  bool
	Breached bool
	SLAKind  string
	// TouchedAt is the rep's first touch in this handoff.
	TouchedAt   time.Time
	TouchedText string
	// Accepted leads: since when, and when the lead goes stale.
	SALSince  time.Time
	StaleAt   time.Time
	StaleText string
	StalePast bool
	// From the lead's open handoff task, when it has one.
	TaskTitle string
	WhyNow    string
	Timeline  []lead.TimelineItem
	Campaign  []kv
	Missing   []string
	StateErr  string
	// Stale: no worker answered; the state is the one the lead last
	// published, at PublishedAt.
	Stale       bool
	PublishedAt time.Time
	CanAct      bool // in handoff: accept, reject
	CanTouch    bool // in handoff and not touched yet
	// Fresh idempotency keys: a double-submitted form is one update.
	AcceptID, RejectID, TouchID string
	Reasons                     []reasonOpt
	Form                        rejectForm
	Error                       string // why the last action on this lead failed
	ErrorFor                    string // accept, reject or touch
	// Unavailable: the action failed for want of a worker, Temporal or
	// the database, not because it broke a rule; submitting the kept form
	// again (same request ID) is safe.
	Unavailable bool

	view lead.View // what the lists are ordered by
}

// inboxLists is what loadLists found.
type inboxLists struct {
	Open, Accepted             []inboxItem
	HiddenOpen, HiddenAccepted int  // beyond MaxInboxItems, not shown
	Stale                      bool // some items show a published, not live, state
}

// all is every item of both lists, to update in place.
func (l *inboxLists) all() []*inboxItem {
	out := make([]*inboxItem, 0, len(l.Open)+len(l.Accepted))
	for i := range l.Open {
		out = append(out, &l.Open[i])
	}
	for i := range l.Accepted {
		out = append(out, &l.Accepted[i])
	}
	return out
}

// loadLists builds the rep's two lists.
func (u *UI) loadLists(ctx context.Context, rep string) (inboxLists, error) {
	now := u.cfg.Now()
	var out inboxLists
	open, totalOpen, err := u.cfg.States.RepLeads(ctx, rep, lead.StageHandoff, now, MaxInboxItems)
	if err != nil {
		return out, err
	}
	accepted, totalAccepted, err := u.cfg.States.RepLeads(ctx, rep, lead.StageSAL, now, MaxInboxItems)
	if err != nil {
		return out, err
	}
	out.HiddenOpen, out.HiddenAccepted = totalOpen-len(open), totalAccepted-len(accepted)
	tasks, err := u.cfg.Tasks.OpenTasks(ctx, rep)
	if err != nil {
		return out, err
	}
	byLead := map[string]store.Task{}
	for _, t := range tasks { // the latest open task of each lead
		if prev, ok := byLead[t.LeadID]; !ok || t.CreatedAt.After(prev.CreatedAt) {
			byLead[t.LeadID] = t
		}
	}
	cands := append(open, accepted...)
	items := make([]inboxItem, len(cands))
	qctx, cancel := context.WithTimeout(ctx, stateTimeout)
	defer cancel()
	var (
		next         atomic.Int64 // the next lead to load
		skipTemporal atomic.Bool  // a query failed: the rest use the published state
		wg           sync.WaitGroup
	)
	for range min(InboxQueryConcurrency, len(cands)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(cands) {
					return
				}
				items[i] = u.item(qctx, rep, cands[i], byLead[cands[i].View.LeadID], now, &skipTemporal)
			}
		})
	}
	wg.Wait()
	for _, it := range items {
		if it.OwnerID != rep { // reassigned since it published
			continue
		}
		switch lead.Stage(it.Stage) {
		case lead.StageHandoff:
			out.Open = append(out.Open, it)
		case lead.StageSAL:
			out.Accepted = append(out.Accepted, it)
		default:
			continue // rejected, merged…: nothing left to act on
		}
		out.Stale = out.Stale || it.Stale
	}
	byUrgency := func(a, b inboxItem) int { return lead.CompareUrgency(a.view, b.view, now) }
	slices.SortStableFunc(out.Open, byUrgency)
	slices.SortStableFunc(out.Accepted, byUrgency)
	return out, nil
}

// item is one lead: its live state (the state query, bounded by
// inboxQueryTimeout) unless skipTemporal is set, else, or when the query
// fails, the state it published (ps).
func (u *UI) item(ctx context.Context, rep string, ps store.PublishedState, t store.Task, now time.Time, skipTemporal *atomic.Bool) inboxItem {
	leadID := ps.View.LeadID
	it := inboxItem{Rep: rep, LeadID: leadID, TaskTitle: t.Title,
		AcceptID: newID("ui-accept"), RejectID: newID("ui-reject"), TouchID: newID("ui-touch")}
	if c := t.Context; c != nil {
		it.WhyNow, it.Timeline, it.Missing, it.Campaign = c.WhyNow, c.Timeline, c.Missing, campaign(c)
	}
	var v lead.View
	var err error
	if skipTemporal.Load() {
		err = errSkipped
	} else {
		qctx, cancel := context.WithTimeout(ctx, inboxQueryTimeout)
		err = u.leads.Query(qctx, leadID, lead.QueryState, &v)
		cancel()
	}
	switch {
	case err == nil:
		it.fill(v, now)
	case errors.Is(err, api.ErrNotFound):
		it.fill(ps.View, now)
		it.StateErr = "leadflow has no such lead any more; this is the state it last published"
		it.CanAct, it.CanTouch = false, false
	default:
		if !errors.Is(err, errSkipped) {
			skipTemporal.Store(true)
			u.log.Warn("webui: lead state; the rest of the page uses the published states", zap.String("leadId", leadID), zap.Error(err))
		}
		it.fill(ps.View, now)
		it.Stale, it.PublishedAt = true, ps.PublishedAt
	}
	return it
}

// errSkipped: the page already saw a state query fail.
var errSkipped = errors.New("skipped: an earlier state query of the page failed")

// fill takes what the rep sees from the lead's state v, as of now.
func (it *inboxItem) fill(v lead.View, now time.Time) {
	it.view = v
	it.Stage, it.OwnerID = string(v.Stage), v.OwnerID
	if c := v.Contact; c != nil {
		it.Name, it.Company, it.JobTitle = c.Name, c.Company, c.Title
	}
	sc := v.Score.DecayedTo(now)
	it.Score, it.Fit, it.Intent, it.Breakdown = sc.Total, sc.Fit, sc.Intent, sc.Breakdown
	if v.SLA != nil && !v.SLA.DueAt.IsZero() {
		it.DueAt, it.SLAKind, it.Breached = v.SLA.DueAt, v.SLA.Kind, v.SLA.Breached
		it.DueText, it.Overdue = relative(v.SLA.DueAt, now, "due in ", "overdue by ")
	}
	if v.FirstTouchAt != nil {
		it.TouchedAt = *v.FirstTouchAt
		it.TouchedText = fmtDuration(now.Sub(it.TouchedAt)) + " ago"
	}
	if s := v.SAL; s != nil {
		it.SALSince, it.StaleAt = s.Since, s.StaleAt
		if !s.StaleAt.IsZero() {
			it.StaleText, it.StalePast = relative(s.StaleAt, now, "stale in ", "stale for ")
		}
	}
	it.CanAct = v.Stage == lead.StageHandoff
	it.CanTouch = it.CanAct && v.FirstTouchAt == nil
}

// relative is "due in 1h" before at, "overdue by 5m" (past true) after.
func relative(at, now time.Time, before, after string) (text string, past bool) {
	if d := at.Sub(now); d >= 0 {
		return before + fmtDuration(d), false
	}
	return after + fmtDuration(now.Sub(at)), true
}

func campaign(c *actions.HandoffContext) []kv {
	keys := make([]string, 0, len(c.Campaign))
	for k := range c.Campaign {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		out = append(out, kv{k, c.Campaign[k]})
	}
	return out
}
