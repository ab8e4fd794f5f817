package api

import (
	"context"
	"errors"

	"github.com/leadflow/leadflow/internal/lead"
)

// Leads is what the HTTP API needs from Temporal. internal/temporalx
// implements it over a Temporal client; tests of the HTTP edge may use a fake.
type Leads interface {
	// Deliver hands one event to the lead's workflow, starting the workflow
	// if it does not exist (SignalWithStart). It returns only once Temporal
	// has durably accepted the signal.
	Deliver(ctx context.Context, leadID string, ev lead.Event) error
	// Update runs the named update (accept, reject, reassign) and returns the
	// lead state. A validator refusal is returned as *Refused.
	Update(ctx context.Context, leadID, name, updateID string, req any) (lead.View, error)
	// Query runs a query (state, explain) into out.
	Query(ctx context.Context, leadID, name string, out any) error
	// Ready reports whether Temporal is reachable.
	Ready(ctx context.Context) error
}

// ErrNotFound: leadflow has no such lead.
var ErrNotFound = errors.New("lead not found")

// Refused is a validator's or handler's refusal of an update: the caller's
// request broke a rule. The message says which.
type Refused struct{ Message string }

func (e *Refused) Error() string { return e.Message }

// Merges tells where a merged lead's events now go.
type Merges interface {
	// MergedInto returns the surviving lead of a merged lead, if any.
	MergedInto(ctx context.Context, leadID string) (string, bool, error)
}

// Receipts remembers which event IDs were delivered, so a batch can report
// duplicates. Record is called only after delivery succeeded; it returns
// true when the ID was new.
type Receipts interface {
	Record(ctx context.Context, eventID, leadID string) (bool, error)
}
