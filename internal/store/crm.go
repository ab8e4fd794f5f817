package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

// CRM is the built-in CRM: owners, tasks, notes, notifications, alerts and
// lifecycle stages, each write idempotent by its key.
type CRM struct{ *conn }

// The built-in CRM: what a real CRM would hold for leadflow (owner, tasks,
// notes, notifications, alerts, lifecycle stage). Each write is idempotent
// by its key.

// AssignOwner records the assignment and makes OwnerID the lead's owner.
// The current owner changes only when the key is new, so a late retry of an
// older assignment cannot undo a newer one.
func (s CRM) AssignOwner(ctx context.Context, in actions.AssignOwnerInput) error {
	if err := requireKey("assign owner", in.Key, in.LeadID); err != nil {
		return err
	}
	if in.OwnerID == "" {
		return fmt.Errorf("assign owner lead %s: empty owner: %w", in.LeadID, ErrInvalidInput)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		tag, err := tx.Exec(ctx, `
INSERT INTO owner_assignments (key, lead_id, owner_id, previous, why, at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING`,
			in.Key, in.LeadID, in.OwnerID, nullable(in.Previous), in.Why, now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `
INSERT INTO lead_owner (lead_id, owner_id, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (lead_id) DO UPDATE SET owner_id = excluded.owner_id, updated_at = excluded.updated_at`,
			in.LeadID, in.OwnerID, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("assign owner lead %s to %s: %w", in.LeadID, in.OwnerID, err)
	}
	return nil
}

// Owner returns the lead's current owner.
func (s CRM) Owner(ctx context.Context, leadID string) (string, bool, error) {
	var owner string
	err := s.pool.QueryRow(ctx, `SELECT owner_id FROM lead_owner WHERE lead_id = $1`, leadID).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("owner of lead %s: %w", leadID, err)
	}
	return owner, true, nil
}

// OwnerAssignment is one AssignOwner call.
type OwnerAssignment struct {
	Key, LeadID, OwnerID, Previous, Why string
	At                                  time.Time
}

// OwnerAssignments returns the lead's assignments, oldest first.
func (s CRM) OwnerAssignments(ctx context.Context, leadID string) ([]OwnerAssignment, error) {
	rows, err := s.pool.Query(ctx, `
SELECT key, lead_id, owner_id, coalesce(previous, ''), why, at
FROM owner_assignments WHERE lead_id = $1 ORDER BY at, key`, leadID)
	if err != nil {
		return nil, fmt.Errorf("owner assignments of lead %s: %w", leadID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OwnerAssignment, error) {
		var a OwnerAssignment
		return a, r.Scan(&a.Key, &a.LeadID, &a.OwnerID, &a.Previous, &a.Why, &a.At)
	})
	if err != nil {
		return nil, fmt.Errorf("owner assignments of lead %s: %w", leadID, err)
	}
	return out, nil
}

// Task is a CRM task for a rep.
type Task struct {
	ID          string
	Key         string
	LeadID      string
	OwnerID     string
	Kind        string
	Title       string
	DueAt       time.Time // zero: no due date
	Context     *actions.HandoffContext
	CreatedAt   time.Time
	CompletedAt time.Time // zero while open
	CompletedBy string
	Outcome     string // actions.TaskCompleted or TaskCancelled once closed
	CloseReason string
}

// CreateTask creates the task once per key and returns its ID; a repeated
// key returns the first task's ID.
func (s CRM) CreateTask(ctx context.Context, in actions.TaskInput) (actions.TaskRef, error) {
	if err := requireKey("create task", in.Key, in.LeadID); err != nil {
		return actions.TaskRef{}, err
	}
	var ctxJSON []byte
	if in.Context != nil {
		var err error
		if ctxJSON, err = json.Marshal(in.Context); err != nil {
			return actions.TaskRef{}, fmt.Errorf("create task lead %s: context: %w", in.LeadID, err)
		}
	}
	var due *time.Time
	if !in.DueAt.IsZero() {
		due = &in.DueAt
	}
	var id int64
	// The no-op DO UPDATE makes RETURNING yield the existing row's id on a
	// repeated key, in one statement.
	err := s.pool.QueryRow(ctx, `
INSERT INTO tasks (key, lead_id, owner_id, kind, title, due_at, context, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (key) DO UPDATE SET key = excluded.key
RETURNING id`, in.Key, in.LeadID, in.OwnerID, in.Kind, in.Title, due, ctxJSON, s.now()).Scan(&id)
	if err != nil {
		return actions.TaskRef{}, fmt.Errorf("create task lead %s (key %s): %w", in.LeadID, in.Key, err)
	}
	return actions.TaskRef{TaskID: strconv.FormatInt(id, 10)}, nil
}

const selectTask = `
SELECT id, key, lead_id, owner_id, kind, title, due_at, context, created_at, completed_at, coalesce(completed_by, ''),
       coalesce(outcome, ''), coalesce(close_reason, '')
FROM tasks`

// Tasks returns the lead's tasks, oldest first.
func (s CRM) Tasks(ctx context.Context, leadID string) ([]Task, error) {
	out, err := s.tasks(ctx, selectTask+` WHERE lead_id = $1 ORDER BY id`, leadID)
	if err != nil {
		return nil, fmt.Errorf("tasks of lead %s: %w", leadID, err)
	}
	return out, nil
}

// OpenTasks returns the rep's open tasks, soonest due first.
func (s CRM) OpenTasks(ctx context.Context, ownerID string) ([]Task, error) {
	out, err := s.tasks(ctx, selectTask+` WHERE owner_id = $1 AND completed_at IS NULL ORDER BY due_at NULLS LAST, id`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("open tasks of %s: %w", ownerID, err)
	}
	return out, nil
}

func (s CRM) tasks(ctx context.Context, query string, arg string) ([]Task, error) {
	rows, err := s.pool.Query(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Task, error) {
		var t Task
		var id int64
		var due, done *time.Time
		var ctxJSON []byte
		if err := r.Scan(&id, &t.Key, &t.LeadID, &t.OwnerID, &t.Kind, &t.Title, &due, &ctxJSON, &t.CreatedAt, &done, &t.CompletedBy, &t.Outcome, &t.CloseReason); err != nil {
			return t, err
		}
		t.ID = strconv.FormatInt(id, 10)
		if due != nil {
			t.DueAt = *due
		}
		if done != nil {
			t.CompletedAt = *done
		}
		if ctxJSON != nil {
			t.Context = new(actions.HandoffContext)
			if err := json.Unmarshal(ctxJSON, t.Context); err != nil {
				return t, fmt.Errorf("task %s context: %w", t.ID, err)
			}
		}
		return t, nil
	})
}

// CompleteTask marks a task done by repID. Completing a done task again is
// a no-op (the first completion stands); an unknown task wraps ErrNotFound.
func (s CRM) CompleteTask(ctx context.Context, taskID, repID string) error {
	id, err := strconv.ParseInt(taskID, 10, 64)
	if err != nil {
		return fmt.Errorf("complete task %q: %w", taskID, ErrNotFound)
	}
	var exists bool
	err = s.pool.QueryRow(ctx, `
WITH done AS (
    UPDATE tasks SET completed_at = $3, completed_by = $2, outcome = 'completed', close_reason = 'done in the inbox'
    WHERE id = $1 AND completed_at IS NULL
    RETURNING id
)
SELECT EXISTS (SELECT 1 FROM done) OR EXISTS (SELECT 1 FROM tasks WHERE id = $1)`,
		id, nullable(repID), s.now()).Scan(&exists)
	if err != nil {
		return fmt.Errorf("complete task %s by %s: %w", taskID, repID, err)
	}
	if !exists {
		return fmt.Errorf("complete task %s: %w", taskID, ErrNotFound)
	}
	return nil
}

// CloseTask completes or cancels the task created under in.TaskKey, once:
// closing a closed task changes nothing (the first outcome stands). A task
// that does not exist is bad input (the workflow closes only tasks whose
// creation it saw confirmed).
func (s CRM) CloseTask(ctx context.Context, in actions.CloseTaskInput) error {
	if err := requireKey("close task", in.Key, in.LeadID); err != nil {
		return err
	}
	if in.Outcome != actions.TaskCompleted && in.Outcome != actions.TaskCancelled {
		return fmt.Errorf("close task %s of lead %s: outcome %q: %w", in.TaskKey, in.LeadID, in.Outcome, ErrInvalidInput)
	}
	var exists bool
	err := s.pool.QueryRow(ctx, `
WITH closed AS (
    UPDATE tasks SET completed_at = $2, completed_by = $3, outcome = $4, close_reason = $5
    WHERE key = $1 AND completed_at IS NULL
    RETURNING id
)
SELECT EXISTS (SELECT 1 FROM closed) OR EXISTS (SELECT 1 FROM tasks WHERE key = $1)`,
		in.TaskKey, s.now(), nullable(in.By), in.Outcome, in.Reason).Scan(&exists)
	if err != nil {
		return fmt.Errorf("close task %s of lead %s: %w", in.TaskKey, in.LeadID, err)
	}
	if !exists {
		return fmt.Errorf("close task %s of lead %s: no such task: %w", in.TaskKey, in.LeadID, ErrInvalidInput)
	}
	return nil
}

// Note is a note on a lead's record.
type Note struct {
	Key, LeadID, Body string
	At                time.Time
}

// PostNote adds the note once per key.
func (s CRM) PostNote(ctx context.Context, in actions.NoteInput) error {
	if err := requireKey("post note", in.Key, in.LeadID); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `
INSERT INTO notes (key, lead_id, body, at) VALUES ($1, $2, $3, $4)
ON CONFLICT (key) DO NOTHING`, in.Key, in.LeadID, in.Body, s.now()); err != nil {
		return fmt.Errorf("post note lead %s (key %s): %w", in.LeadID, in.Key, err)
	}
	return nil
}

// Notes returns the lead's notes, oldest first.
func (s CRM) Notes(ctx context.Context, leadID string) ([]Note, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, lead_id, body, at FROM notes WHERE lead_id = $1 ORDER BY id`, leadID)
	if err != nil {
		return nil, fmt.Errorf("notes of lead %s: %w", leadID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Note, error) {
		var n Note
		return n, r.Scan(&n.Key, &n.LeadID, &n.Body, &n.At)
	})
	if err != nil {
		return nil, fmt.Errorf("notes of lead %s: %w", leadID, err)
	}
	return out, nil
}

// Notification is a message to a rep or manager about a lead.
type Notification struct {
	Key, LeadID, To, Kind, OwnerID, Body string
	At                                   time.Time
}

// Notify records the notification once per key.
func (s CRM) Notify(ctx context.Context, in actions.NotifyInput) error {
	if err := requireKey("notify", in.Key, in.LeadID); err != nil {
		return err
	}
	if in.To == "" {
		return fmt.Errorf("notify lead %s: no recipient: %w", in.LeadID, ErrInvalidInput)
	}
	if _, err := s.pool.Exec(ctx, `
INSERT INTO notifications (key, lead_id, to_rep, kind, owner_id, body, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (key) DO NOTHING`, in.Key, in.LeadID, in.To, in.Kind, nullable(in.OwnerID), in.Body, s.now()); err != nil {
		return fmt.Errorf("notify %s about lead %s (key %s): %w", in.To, in.LeadID, in.Key, err)
	}
	return nil
}

// Notifications returns the lead's notifications, oldest first.
func (s CRM) Notifications(ctx context.Context, leadID string) ([]Notification, error) {
	rows, err := s.pool.Query(ctx, `
SELECT key, lead_id, to_rep, kind, coalesce(owner_id, ''), body, at
FROM notifications WHERE lead_id = $1 ORDER BY id`, leadID)
	if err != nil {
		return nil, fmt.Errorf("notifications of lead %s: %w", leadID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Notification, error) {
		var n Notification
		return n, r.Scan(&n.Key, &n.LeadID, &n.To, &n.Kind, &n.OwnerID, &n.Body, &n.At)
	})
	if err != nil {
		return nil, fmt.Errorf("notifications of lead %s: %w", leadID, err)
	}
	return out, nil
}

// Alert is something ops must look at.
type Alert struct {
	Key, LeadID, Kind, Message string
	At                         time.Time
	AcknowledgedAt             time.Time // zero while open
}

// RaiseAlert records the alert once per key.
func (s CRM) RaiseAlert(ctx context.Context, in actions.AlertInput) error {
	if err := requireKey("raise alert", in.Key, in.LeadID); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `
INSERT INTO alerts (key, lead_id, kind, message, at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (key) DO NOTHING`, in.Key, in.LeadID, in.Kind, in.Message, s.now()); err != nil {
		return fmt.Errorf("raise alert %s on lead %s (key %s): %w", in.Kind, in.LeadID, in.Key, err)
	}
	return nil
}

// Alerts returns the lead's alerts, oldest first.
func (s CRM) Alerts(ctx context.Context, leadID string) ([]Alert, error) {
	rows, err := s.pool.Query(ctx, `
SELECT key, lead_id, kind, message, at, acknowledged_at FROM alerts WHERE lead_id = $1 ORDER BY id`, leadID)
	if err != nil {
		return nil, fmt.Errorf("alerts of lead %s: %w", leadID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Alert, error) {
		var a Alert
		var ack *time.Time
		err := r.Scan(&a.Key, &a.LeadID, &a.Kind, &a.Message, &a.At, &ack)
		if ack != nil {
			a.AcknowledgedAt = *ack
		}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("alerts of lead %s: %w", leadID, err)
	}
	return out, nil
}

// SetLifecycleStage records the stage change once per key and, when the key
// is new, makes it the lead's current CRM stage.
func (s CRM) SetLifecycleStage(ctx context.Context, in actions.StageInput) error {
	if err := requireKey("set lifecycle stage", in.Key, in.LeadID); err != nil {
		return err
	}
	if in.Stage == "" {
		return fmt.Errorf("set lifecycle stage lead %s: empty stage: %w", in.LeadID, ErrInvalidInput)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		tag, err := tx.Exec(ctx, `
INSERT INTO stage_changes (key, lead_id, stage, at) VALUES ($1, $2, $3, $4)
ON CONFLICT (key) DO NOTHING`, in.Key, in.LeadID, string(in.Stage), now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `
INSERT INTO lead_stage (lead_id, stage, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (lead_id) DO UPDATE SET stage = excluded.stage, updated_at = excluded.updated_at`,
			in.LeadID, string(in.Stage), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("set lifecycle stage lead %s to %s: %w", in.LeadID, in.Stage, err)
	}
	return nil
}

// LifecycleStage returns the lead's current CRM stage.
func (s CRM) LifecycleStage(ctx context.Context, leadID string) (lead.Stage, bool, error) {
	var st string
	err := s.pool.QueryRow(ctx, `SELECT stage FROM lead_stage WHERE lead_id = $1`, leadID).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("lifecycle stage of lead %s: %w", leadID, err)
	}
	return lead.Stage(st), true, nil
}

// StageChanges counts the recorded stage changes of a lead.
func (s CRM) StageChanges(ctx context.Context, leadID string) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM stage_changes WHERE lead_id = $1`, leadID).Scan(&n); err != nil {
		return 0, fmt.Errorf("stage changes of lead %s: %w", leadID, err)
	}
	return n, nil
}
