// Package activities holds leadflow's activities: thin adapters, each one
// call into the directory/ledger store, the CRM or the nurture system, under
// the names of internal/actions. Bad input becomes a non-retryable error;
// everything else is retried by the policy the workflow sets.
package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/crm"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/store"
)

// Router picks an owner in one Postgres transaction (store.Directory).
type Router interface {
	Route(ctx context.Context, in actions.RouteInput) (routing.Decision, error)
}

// Ledger appends ledger entries (store.Ledger).
type Ledger interface {
	Record(ctx context.Context, entries []actions.LedgerEntry) error
}

// States keeps each lead's published state (store.States).
type States interface {
	PublishState(ctx context.Context, snap actions.StateSnapshot) error
}

// Merges records merged leads and follows their chains (store.Merges).
type Merges interface {
	RecordMerge(ctx context.Context, from, to string) error
	MergedInto(ctx context.Context, leadID string) (string, bool, error)
}

// Signaller delivers events to a running lead's workflow (the merge
// forwarding). It never starts one: a survivor must be an open lead.
type Signaller interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// Notifier delivers a notification to the people it names (internal/notify's
// Dispatcher): Slack, email.
type Notifier interface {
	Dispatch(ctx context.Context, in actions.NotifyInput) error
}

// maxMergeHops bounds how far a chain of merges is followed.
const maxMergeHops = 8

// Activities are the activity implementations.
type Activities struct {
	Router   Router
	Ledger   Ledger
	States   States
	Merges   Merges
	CRM      crm.CRM
	Nurture  nurture.Nurture
	Temporal Signaller
	// Notifier, when set, delivers each notification after the CRM has
	// filed it; nil: the CRM's record is all (no channel configured).
	Notifier  Notifier
	TaskQueue string
	Metrics   *Metrics
}

// Register registers every activity under its contract name, bound
// through the typed references: an implementation whose signature drifts
// from the contract does not compile.
func (a *Activities) Register(r Registry) {
	register(r,
		actions.Directory.Route.Bind(a.Route),
		actions.Ledger.Record.Bind(a.Record),
		actions.CRM.AssignOwner.Bind(a.AssignOwner),
		actions.CRM.CreateTask.Bind(a.CreateTask),
		actions.CRM.CloseTask.Bind(a.CloseTask),
		actions.CRM.PostNote.Bind(a.PostNote),
		actions.CRM.Notify.Bind(a.Notify),
		actions.CRM.RaiseAlert.Bind(a.RaiseAlert),
		actions.CRM.SetLifecycleStage.Bind(a.SetLifecycleStage),
		actions.Nurture.Enroll.Bind(a.NurtureEnroll),
		actions.Nurture.Pause.Bind(a.NurturePause),
		actions.Nurture.Send.Bind(a.NurtureSend),
		actions.Nurture.Stop.Bind(a.NurtureStop),
		actions.Leads.ForwardEvents.Bind(a.ForwardEvents),
	)
}

// classify turns adapter errors that no retry can fix into non-retryable
// application errors with the contract's error types.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	// An adapter that already decided (non-retryable, or a retry delay from
	// Retry-After) returns an application error: Temporal reads only the
	// outermost error, so it must not be wrapped.
	if _, ok := errors.AsType[*temporal.ApplicationError](err); ok {
		return err
	}
	switch {
	case errors.Is(err, store.ErrUnknownRep), errors.Is(err, routing.ErrUnknownRep):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v", op, err), actions.ErrUnknownRep, err)
	case errors.Is(err, store.ErrUnknownPool):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v", op, err), actions.ErrUnknownPool, err)
	case errors.Is(err, store.ErrInvalidInput), errors.Is(err, routing.ErrNoOwner):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v", op, err), actions.ErrInvalidInput, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Route picks the lead's owner in one Postgres transaction.
func (a *Activities) Route(ctx context.Context, in actions.RouteInput) (routing.Decision, error) {
	d, err := a.Router.Route(ctx, in)
	if err == nil {
		a.Metrics.routed(d)
	}
	return d, classify("route lead "+in.LeadID, err)
}

// Record writes ledger entries, then the lead's state as of them (what the
// HTTP edge serves when no worker can answer). Both are idempotent.
func (a *Activities) Record(ctx context.Context, in actions.RecordInput) error {
	if err := a.Ledger.Record(ctx, in.Entries); err != nil {
		return classify("record ledger", err)
	}
	if in.State != nil {
		return classify("publish state of "+in.State.LeadID, a.States.PublishState(ctx, *in.State))
	}
	return nil
}

// AssignOwner sets the owner in the CRM.
func (a *Activities) AssignOwner(ctx context.Context, in actions.AssignOwnerInput) error {
	return classify("assign owner of "+in.LeadID, a.CRM.AssignOwner(ctx, in))
}

// CreateTask creates a rep's task in the CRM.
func (a *Activities) CreateTask(ctx context.Context, in actions.TaskInput) (actions.TaskRef, error) {
	ref, err := a.CRM.CreateTask(ctx, in)
	if err == nil {
		a.Metrics.task(in.Kind)
	}
	return ref, classify("create "+in.Kind+" task for "+in.LeadID, err)
}

// CloseTask completes or cancels a rep's task in the CRM.
func (a *Activities) CloseTask(ctx context.Context, in actions.CloseTaskInput) error {
	return classify("close task "+in.TaskKey+" ("+in.Outcome+")", a.CRM.CloseTask(ctx, in))
}

// PostNote posts a note on the lead's CRM record.
func (a *Activities) PostNote(ctx context.Context, in actions.NoteInput) error {
	return classify("post note on "+in.LeadID, a.CRM.PostNote(ctx, in))
}

// Notify tells a rep or a manager: the CRM files it first (the record the
// inbox shows), then the Notifier delivers it on every channel. The CRM
// write is idempotent by key, so a retry after a held or failed delivery
// files nothing twice.
func (a *Activities) Notify(ctx context.Context, in actions.NotifyInput) error {
	op := "notify " + in.To + " about " + in.LeadID
	if err := a.CRM.Notify(ctx, in); err != nil {
		return classify(op, err)
	}
	if a.Notifier == nil {
		return nil
	}
	return classify(op, a.Notifier.Dispatch(ctx, in))
}

// RaiseAlert raises an alert for ops.
func (a *Activities) RaiseAlert(ctx context.Context, in actions.AlertInput) error {
	err := a.CRM.RaiseAlert(ctx, in)
	if err == nil {
		a.Metrics.alert(in.Kind)
	}
	return classify("raise alert on "+in.LeadID, err)
}

// SetLifecycleStage mirrors the stage into the CRM.
func (a *Activities) SetLifecycleStage(ctx context.Context, in actions.StageInput) error {
	return classify("set lifecycle stage of "+in.LeadID, a.CRM.SetLifecycleStage(ctx, in))
}

// NurtureEnroll puts the lead on a track.
func (a *Activities) NurtureEnroll(ctx context.Context, in actions.EnrollInput) error {
	return classify("enroll "+in.LeadID+" in "+in.Track, a.Nurture.Enroll(ctx, in))
}

// NurturePause pauses the lead's nurture.
func (a *Activities) NurturePause(ctx context.Context, in actions.PauseInput) error {
	return classify("pause nurture of "+in.LeadID, a.Nurture.Pause(ctx, in))
}

// NurtureStop takes the lead off nurture.
func (a *Activities) NurtureStop(ctx context.Context, in actions.StopInput) error {
	return classify("stop nurture of "+in.LeadID, a.Nurture.Stop(ctx, in))
}

// NurtureSend sends one touch if the guard, re-checked now, allows it.
func (a *Activities) NurtureSend(ctx context.Context, in actions.SendInput) (actions.SendResult, error) {
	if in.Enroll != nil {
		if err := a.Nurture.Enroll(ctx, *in.Enroll); err != nil {
			return actions.SendResult{}, classify("enroll "+in.LeadID+" in "+in.Enroll.Track, err)
		}
	}
	res, err := a.Nurture.Send(ctx, in)
	if err == nil {
		a.Metrics.send(res)
	}
	return res, classify("send nurture touch to "+in.LeadID, err)
}

// ForwardEvents records the merge (so later events for the merged lead go
// to the survivor) and hands the merged lead's events to the survivor. The
// survivor must be an open lead: a survivor that was itself merged is
// followed along its chain; one that does not run (never existed, or was
// closed) is refused, never started, so no phantom lead appears. The events
// carry derived IDs: a retry delivers nothing twice.
func (a *Activities) ForwardEvents(ctx context.Context, in actions.ForwardInput) error {
	if !lead.ValidLeadID(in.To) {
		return classify("forward events", fmt.Errorf("survivor %q: %w", in.To, store.ErrInvalidInput))
	}
	if err := a.Merges.RecordMerge(ctx, in.From, in.To); err != nil {
		return classify(fmt.Sprintf("record merge %s into %s", in.From, in.To), err)
	}
	to := in.To
	for _, ev := range in.Events {
		for hop := 0; ; hop++ {
			ev.LeadID = to
			err := a.Temporal.SignalWorkflow(ctx, lead.WorkflowID(to), "", lead.SignalEvent, ev)
			if err == nil {
				break
			}
			if _, notRunning := errors.AsType[*serviceerror.NotFound](err); !notRunning {
				return fmt.Errorf("forward event %s to %s: %w", ev.ID, to, err)
			}
			next, merged, lerr := a.Merges.MergedInto(ctx, to)
			if lerr != nil {
				return fmt.Errorf("forward event %s: %s is not running; look up its merge: %w", ev.ID, to, lerr)
			}
			if !merged || hop >= maxMergeHops || next == in.From {
				return temporal.NewNonRetryableApplicationError(
					fmt.Sprintf("forward events of %s: survivor %s is not an open lead; nothing forwarded from event %s on", in.From, to, ev.ID),
					actions.ErrInvalidInput, err)
			}
			to = next
		}
	}
	return nil
}
