// Package repchange carries a rep change (away, back, deactivated, a bulk
// reassignment) to the rep's open leads at once: it lists the leads the rep
// owns from Temporal visibility and sends each the update that applies,
// several at a time, collecting one Outcome per lead.
//
// Every request ID is derived from the change and the lead, so running a
// command again sends the same IDs, which the lead applies at most once.
// The listing is eventually consistent: a lead whose owner changed a moment
// ago may be listed under its old owner (or be missing); the leads
// themselves decide (a lead the rep no longer owns answers its state and
// changes nothing), and a bulk reassignment checks the owner first.
package repchange

import (
	"context"
	"fmt"
	"sync"

	"github.com/leadflow/leadflow/internal/lead"
)

// Leads is what a rep change needs of Temporal (temporalx.LeadClient).
type Leads interface {
	// OwnedBy lists the IDs of the running leads owned by repID in one of
	// stages, from visibility.
	OwnedBy(ctx context.Context, repID string, stages []lead.Stage) ([]string, error)
	// Update runs the named update with updateID as its dedup key.
	Update(ctx context.Context, leadID, name, updateID string, req any) (lead.View, error)
	// Query runs a query on the lead into out.
	Query(ctx context.Context, leadID, name string, out any) error
}

// Stages the changes look at.
var (
	// HandoffStages: away and back concern untouched handoffs only.
	HandoffStages = []lead.Stage{lead.StageHandoff}
	// OpenStages: every stage in which a lead has an owner.
	OpenStages = []lead.Stage{lead.StageMQL, lead.StageHandoff, lead.StageSAL, lead.StageOpportunity, lead.StageCustomer}
)

// DefaultConcurrency is how many updates are in flight at once.
const DefaultConcurrency = 8

// Mover sends rep changes to leads.
type Mover struct {
	Leads Leads
	// Concurrency bounds the updates in flight (0: DefaultConcurrency).
	Concurrency int
}

// Outcome is what one lead did with the change.
type Outcome struct {
	LeadID string
	// From is the owner the lead was listed under (the rep changed).
	From string
	// View is the lead after the update (zero when Err is set, or in a
	// dry run).
	View lead.View
	// Kind says what happened; Detail says more for Stays and Error.
	Kind   Kind
	Detail string
	Err    error
}

// Kind is the class of an Outcome.
type Kind string

// Outcome kinds.
const (
	Moved     Kind = "moved"      // the lead has another owner now
	Paused    Kind = "paused"     // its SLA clock is paused while the rep is away
	Resumed   Kind = "resumed"    // a paused clock runs again (rep back)
	Stays     Kind = "stays"      // the lead keeps its owner (Detail: why)
	WouldMove Kind = "would move" // a dry run
	Failed    Kind = "error"      // the update failed (Err); nothing was changed by it
)

// each sends one update per lead, at most m.Concurrency at a time, and
// returns the outcomes in the order of ids.
func (m *Mover) each(ctx context.Context, ids []string, send func(ctx context.Context, id string) Outcome) []Outcome {
	n := m.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	out := make([]Outcome, len(ids))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			out[i] = Outcome{LeadID: id, Kind: Failed, Err: fmt.Errorf("lead %s: not sent: %w", id, ctx.Err())}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = send(ctx, id)
		}()
	}
	wg.Wait()
	return out
}

// list lists the rep's leads in stages, saying what failed.
func (m *Mover) list(ctx context.Context, repID string, stages []lead.Stage) ([]string, error) {
	ids, err := m.Leads.OwnedBy(ctx, repID, stages)
	if err != nil {
		return nil, fmt.Errorf("list the leads of %s: %w", repID, err)
	}
	return ids, nil
}

// update sends one update and classifies the answer.
func (m *Mover) update(ctx context.Context, id, from, name, reqID string, req any, classify func(lead.View) (Kind, string)) Outcome {
	v, err := m.Leads.Update(ctx, id, name, reqID, req)
	if err != nil {
		return Outcome{LeadID: id, From: from, Kind: Failed, Err: err}
	}
	k, detail := classify(v)
	return Outcome{LeadID: id, From: from, View: v, Kind: k, Detail: detail}
}
