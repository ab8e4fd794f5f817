// Package crm is the port leadflow's CRM side effects go through. The
// built-in CRM is internal/store (Postgres); HubSpot is another adapter.
// Every method is idempotent by its input's Key.
package crm

import (
	"context"

	"github.com/leadflow/leadflow/internal/actions"
)

// CRM receives owner changes, tasks, notes, notifications, alerts and
// lifecycle stages.
type CRM interface {
	AssignOwner(ctx context.Context, in actions.AssignOwnerInput) error
	CreateTask(ctx context.Context, in actions.TaskInput) (actions.TaskRef, error)
	// CloseTask completes or cancels the task created under in.TaskKey;
	// closing a closed task again changes nothing (the first close stands).
	CloseTask(ctx context.Context, in actions.CloseTaskInput) error
	PostNote(ctx context.Context, in actions.NoteInput) error
	Notify(ctx context.Context, in actions.NotifyInput) error
	RaiseAlert(ctx context.Context, in actions.AlertInput) error
	SetLifecycleStage(ctx context.Context, in actions.StageInput) error
}
