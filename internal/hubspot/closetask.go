package hubspot

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/store"
)

// TaskStatusCompleted is the hs_task_status of a closed task. HubSpot's
// tasks API documents COMPLETED and NOT_STARTED; there is no "cancelled",
// so a cancelled task is COMPLETED with its outcome at the head of its body
// and a note on the contact.
const TaskStatusCompleted = "COMPLETED"

// CloseTask closes the task created under in.TaskKey: hs_task_status
// COMPLETED and, at the head of hs_task_body, "Completed: <reason>" or
// "Cancelled: <reason>". A cancelled task also gets a note on the contact,
// "Task closed: <reason>", exactly once per in.Key. Safe to repeat: a task
// already closed this way is not written again, and the note is a keyed
// create.
func (c *CRM) CloseTask(ctx context.Context, in actions.CloseTaskInput) error {
	if err := validClose(in); err != nil {
		return err
	}
	id, err := c.taskOf(ctx, in.TaskKey)
	if err != nil {
		return err
	}
	op := "close HubSpot task " + id + " (" + in.TaskKey + ")"
	cur, err := c.client.GetObject(ctx, Tasks, id, "hs_task_subject", "hs_task_body", "hs_task_status")
	if err != nil {
		return closeError(op, id, in.TaskKey, err)
	}
	head := outcomeLine(in)
	props := map[string]string{}
	if cur.Properties["hs_task_status"] != TaskStatusCompleted {
		props["hs_task_status"] = TaskStatusCompleted
	}
	// The head's text, not its markup: HubSpot's editor may rewrite tags.
	if body := cur.Properties["hs_task_body"]; !strings.Contains(body, esc(head)) {
		props["hs_task_body"] = "<p><strong>" + esc(head) + "</strong></p>" + body
	}
	if len(props) > 0 {
		if err := c.client.UpdateObject(ctx, Tasks, id, props); err != nil {
			return closeError(op, id, in.TaskKey, err)
		}
	}
	if in.Outcome != actions.TaskCancelled {
		return nil
	}
	contact, err := c.contact(ctx, in.LeadID, in.Email)
	if err != nil {
		return err
	}
	body := paragraphs("Task closed: " + closeReason(in))
	if s := strings.TrimSpace(cur.Properties["hs_task_subject"]); s != "" {
		body += "<p>" + esc("Task: "+s) + "</p>"
	}
	_, err = c.createOnce(ctx, in.Key, KindNote, map[string]string{
		"hs_note_body": body + footer(in.LeadID, ""),
		"hs_timestamp": Millis(c.clock.Now()),
	}, contact)
	return err
}

func validClose(in actions.CloseTaskInput) error {
	switch {
	case in.Key == "":
		return invalid(actions.ErrInvalidInput, store.ErrInvalidInput, "close task of lead %s: empty key", in.LeadID)
	case in.TaskKey == "":
		return invalid(actions.ErrInvalidInput, store.ErrInvalidInput, "close task of lead %s: empty taskKey", in.LeadID)
	case in.Outcome != actions.TaskCompleted && in.Outcome != actions.TaskCancelled:
		return invalid(actions.ErrInvalidInput, store.ErrInvalidInput, "close task %s of lead %s: outcome %q is not %s or %s",
			in.TaskKey, in.LeadID, in.Outcome, actions.TaskCompleted, actions.TaskCancelled)
	}
	return nil
}

func closeReason(in actions.CloseTaskInput) string {
	if r := strings.TrimSpace(in.Reason); r != "" {
		return r
	}
	return in.Outcome
}

// outcomeLine heads a closed task's body: "Cancelled: reassigned to rep-8".
func outcomeLine(in actions.CloseTaskInput) string {
	word := "Completed"
	if in.Outcome == actions.TaskCancelled {
		word = "Cancelled"
	}
	if r := strings.TrimSpace(in.Reason); r != "" {
		return word + ": " + r
	}
	return word + " by leadflow"
}

// taskOf is the HubSpot ID of the task created under key: the one recorded
// in Postgres, else (an attempt that created it and died before recording
// it) the one HubSpot's search finds by the key.
func (c *CRM) taskOf(ctx context.Context, key string) (string, error) {
	row, ok, err := c.ledger.HubSpotObjectByKey(ctx, key)
	if err != nil {
		return "", err
	}
	if ok && row.ObjectID != "" {
		return row.ObjectID, nil
	}
	id, found, err := c.findByKey(ctx, KindTask, key)
	if err != nil {
		return "", ActivityError("search HubSpot for the task of "+key, err)
	}
	if found {
		if ok {
			return c.ledger.RecordHubSpotObject(ctx, key, id, c.clock.Now())
		}
		return id, nil
	}
	// A create may have happened too recently for the search to show it.
	if staleBefore := c.clock.Now().Add(-c.indexLag); ok && row.PendingSince.After(staleBefore) {
		return "", unconfirmed(KindTask, key, row.PendingSince.Sub(staleBefore))
	}
	return "", invalid(ErrRejected, store.ErrInvalidInput, "close task %s: no HubSpot task was created under this key", key)
}

// closeError is ActivityError with a message of its own for a task that is
// gone (deleted in HubSpot): no retry brings it back.
func closeError(op, id, key string, err error) error {
	if IsNotFound(err) {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: HubSpot has no task %s any more (deleted in HubSpot?)", op, id),
			ErrRejected, fmt.Errorf("task of %s: %w (%w)", key, err, store.ErrInvalidInput))
	}
	return ActivityError(op, err)
}
