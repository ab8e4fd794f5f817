package api

import (
	"context"
	"errors"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// Leads is what the HTTP API needs from Temporal. internal/temporalx
// implements it over a Temporal client; tests of the HTTP edge may use a fake.
type Leads interface {
	// Deliver hands one event to the lead's workflow, starting the workflow
	// if it does not exist or ended other than by completing (SignalWithStart,
	// ALLOW_DUPLICATE_FAILED_ONLY). It returns only once Temporal has durably
	// accepted the signal. A lead whose workflow completed (merged) is an
	// error wrapping ErrLeadClosed: the caller redirects to the survivor.
	Deliver(ctx context.Context, leadID string, ev lead.Event) error
	// Update runs the named update (accept, reject, reassign, retryEffects)
	// and returns the lead state. A refusal (the validator's, or a rule the
	// handler found broken) is *Refused; no such lead is ErrNotFound; not
	// taken or not finished in time, or a handler's lead.ErrTypeUnavailable,
	// is *Unavailable.
	Update(ctx context.Context, leadID, name, updateID string, req any) (lead.View, error)
	// Query runs a query (state, explain) into out. No such lead is
	// ErrNotFound; no answer in time is *Unavailable.
	Query(ctx context.Context, leadID, name string, out any) error
	// Ready reports whether Temporal is reachable.
	Ready(ctx context.Context) error
}

// OpenLeads is an optional extension of Leads (temporalx.LeadClient has
// it): with it, a reject that names duplicateOf is checked before the
// update is sent, so a rep cannot merge a lead into one that does not exist
// or has closed.
type OpenLeads interface {
	// IsOpen reports whether the lead's workflow exists and is running; a
	// missing or closed lead is false with no error.
	IsOpen(ctx context.Context, leadID string) (bool, error)
}

// ErrNotFound: leadflow has no such lead.
var ErrNotFound = errors.New("lead not found")

// ErrLeadClosed is what Deliver returns (wrapped) when the lead's workflow
// has completed: a LeadWorkflow completes successfully only when it was
// merged, so its events go to the surviving lead (Merges).
var ErrLeadClosed = errors.New("the lead's workflow has completed (merged)")

// Unavailable is a request Temporal could not take or answer in time: no
// worker took the update or answered the query, Temporal itself did not
// answer, or the workflow could not reach a dependency (an update handler's
// lead.ErrTypeUnavailable). The HTTP edge answers 503 with Retry-After and
// Message, which says which. Nothing was applied, except for an update
// that timed out after a worker took it, which the worker still finishes:
// a retry with the same id returns that outcome, never applies it twice.
type Unavailable struct {
	Message string // for the caller
	Err     error  // the cause, for the log
}

func (e *Unavailable) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + ": " + e.Err.Error()
}

func (e *Unavailable) Unwrap() error { return e.Err }

// Refused is a validator's or handler's refusal of an update: the caller's
// request broke a rule. The message says which.
type Refused struct{ Message string }

func (e *Refused) Error() string { return e.Message }

// Merges tells where a merged lead's events now go. The edge asks only
// when Deliver reports the lead closed (ErrLeadClosed).
type Merges interface {
	// MergedInto returns the surviving lead of a merged lead, if any.
	MergedInto(ctx context.Context, leadID string) (string, bool, error)
}

// Receipts remembers which event IDs were delivered, so a batch can report
// duplicates. Record is called only after delivery succeeded; it returns
// true when the ID was new. A failure only costs the duplicates count: the
// event is counted accepted (see deliverLead).
type Receipts interface {
	Record(ctx context.Context, eventID, leadID string) (bool, error)
}

// States is the last state each lead published (Postgres, written by the
// worker: store.States implements it). GET /v1/leads/{leadId} serves it,
// marked stale, when the workflow's state query cannot be answered.
type States interface {
	// LastState returns the lead's last published state and when it was
	// published; found is false when it never published one.
	LastState(ctx context.Context, leadID string) (v lead.View, publishedAt time.Time, found bool, err error)
}
