package hubspot_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/hubspot/hubspottest"
	"github.com/leadflow/leadflow/internal/store"
)

// openTask creates the handoff task of a new contact's lead and returns the
// lead ID, the task key and the task's HubSpot ID.
func openTask(t *testing.T, e *env) (leadID, key, id string) {
	t.Helper()
	c := e.fake.AddContact(nil)
	leadID, key = "hs-"+c, "lead/hs-"+c+":handoff:1"
	ref, err := e.crm.CreateTask(t.Context(), handoffInput(key, leadID))
	if err != nil {
		t.Fatal(err)
	}
	return leadID, key, ref.TaskID
}

func task(t *testing.T, e *env, id string) hubspottest.Object {
	t.Helper()
	for _, o := range e.fake.Tasks() {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("no task %s", id)
	return hubspottest.Object{}
}

func closeInput(leadID, taskKey, outcome, reason string) actions.CloseTaskInput {
	return actions.CloseTaskInput{Key: taskKey + ":close", LeadID: leadID, TaskKey: taskKey, Outcome: outcome, Reason: reason}
}

// Accepted: the task is COMPLETED, its body says why, no note; a repeat
// writes nothing.
func TestCloseTaskCompleted(t *testing.T) {
	e := newEnv(t, nil)
	leadID, key, id := openTask(t, e)
	in := closeInput(leadID, key, actions.TaskCompleted, "accepted by rep-1")
	for range 2 {
		if err := e.crm.CloseTask(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	p := task(t, e, id).Properties
	if p["hs_task_status"] != "COMPLETED" {
		t.Errorf("status = %q", p["hs_task_status"])
	}
	body := p["hs_task_body"]
	if !strings.HasPrefix(body, "<p><strong>Completed: accepted by rep-1</strong></p>") || strings.Count(body, "Completed:") != 1 {
		t.Errorf("body head:\n%s", body)
	}
	if !strings.Contains(body, hubspot.KeyToken(key)) || !strings.Contains(body, "Requested a quote") {
		t.Errorf("the original body (and its key marker) is lost:\n%s", body)
	}
	if n := len(e.fake.Notes()); n != 0 {
		t.Errorf("notes = %d, want none for a completed task", n)
	}
	if n := e.fake.CountRequests("PATCH", "/crm/v3/objects/tasks/"); n != 1 {
		t.Errorf("task PATCHes = %d, want 1 (the repeat finds it closed)", n)
	}
}

// Reassigned: the task is COMPLETED (HubSpot has no cancelled status) and
// headed "Cancelled: …", and the contact gets one note saying why.
func TestCloseTaskCancelledPostsOneNote(t *testing.T) {
	e := newEnv(t, nil)
	leadID, key, id := openTask(t, e)
	in := closeInput(leadID, key, actions.TaskCancelled, "reassigned to rep-2")
	for range 3 {
		if err := e.crm.CloseTask(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	p := task(t, e, id).Properties
	if p["hs_task_status"] != "COMPLETED" || !strings.HasPrefix(p["hs_task_body"], "<p><strong>Cancelled: reassigned to rep-2</strong></p>") {
		t.Errorf("task = %s / %s", p["hs_task_status"], p["hs_task_body"])
	}
	notes := e.fake.Notes()
	if len(notes) != 1 {
		t.Fatalf("notes = %d, want 1", len(notes))
	}
	b := notes[0].Properties["hs_note_body"]
	for _, want := range []string{"<p>Task closed: reassigned to rep-2</p>", "Task: New quote request: Acme", "leadflow lead " + leadID, "leadflow-key: " + in.Key} {
		if !strings.Contains(b, want) {
			t.Errorf("note lacks %q:\n%s", want, b)
		}
	}
	if a := notes[0].Associations; len(a) != 1 || a[0].ToID != strings.TrimPrefix(leadID, "hs-") || a[0].TypeID != hubspot.AssocNoteToContact {
		t.Errorf("note associations = %+v", a)
	}
}

// The note was created and the answer lost: the retries find it by its key
// and never post a second one; the task is not patched again either.
func TestCloseTaskRetryAfterLostAnswer(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	leadID, key, id := openTask(t, e)
	in := closeInput(leadID, key, actions.TaskCancelled, "merged into L-9")
	e.fake.Inject(hubspottest.Fault{Kind: hubspottest.CrashAfterWrite, Method: "POST", Path: "/crm/v3/objects/notes"})
	wantRetryable(t, e.crm.CloseTask(ctx, in))
	if n := len(e.fake.Notes()); n != 1 {
		t.Fatalf("notes after the crash = %d, want 1", n)
	}
	wantType(t, e.crm.CloseTask(ctx, in), hubspot.ErrUnconfirmedCreate, false) // not in the index yet
	e.clk.Advance(10 * time.Second)
	if err := e.crm.CloseTask(ctx, in); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	if err := e.crm.CloseTask(ctx, in); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Notes()); n != 1 {
		t.Errorf("notes = %d, want exactly 1", n)
	}
	if n := e.fake.CountRequests("PATCH", "/crm/v3/objects/tasks/"+id); n != 1 {
		t.Errorf("task PATCHes = %d, want 1", n)
	}

	// The task's PATCH happened and its answer was lost: the retry sees it
	// closed and heads the body once.
	leadID, key, id = openTask(t, e)
	in = closeInput(leadID, key, actions.TaskCompleted, "accepted by rep-1")
	e.fake.Inject(hubspottest.Fault{Kind: hubspottest.CrashAfterWrite, Method: "PATCH", Path: "/crm/v3/objects/tasks/" + id})
	wantRetryable(t, e.crm.CloseTask(ctx, in))
	if err := e.crm.CloseTask(ctx, in); err != nil {
		t.Fatal(err)
	}
	if b := task(t, e, id).Properties["hs_task_body"]; strings.Count(b, "Completed: accepted by rep-1") != 1 {
		t.Errorf("body after the retry:\n%s", b)
	}
}

// 429 waits as Retry-After says; 5xx and timeouts are retried; each retry
// then closes the task.
func TestCloseTaskTransientFailures(t *testing.T) {
	e := newEnv(t, []hubspot.Option{hubspot.WithTimeout(300 * time.Millisecond)})
	ctx := t.Context()
	for _, f := range []hubspottest.Fault{
		{Kind: hubspottest.RateLimit, RetryAfter: 6 * time.Second, Method: "PATCH"},
		{Kind: hubspottest.ServerError, Method: "GET"},
		{Kind: hubspottest.Unavailable, Method: "PATCH"},
		{Kind: hubspottest.Slow, Delay: time.Minute, Method: "GET"},
	} {
		leadID, key, id := openTask(t, e)
		in := closeInput(leadID, key, actions.TaskCompleted, "accepted by rep-1")
		e.fake.Inject(f)
		err := e.crm.CloseTask(ctx, in)
		if f.Kind == hubspottest.RateLimit {
			wantType(t, err, hubspot.ErrRateLimited, false)
			if d := appError(t, err).NextRetryDelay(); d != 6*time.Second {
				t.Errorf("NextRetryDelay = %v, want 6s", d)
			}
		} else {
			wantRetryable(t, err)
		}
		if got := task(t, e, id).Properties["hs_task_status"]; got != "NOT_STARTED" {
			t.Errorf("fault %d: status = %q before the retry", f.Kind, got)
		}
		if err := e.crm.CloseTask(ctx, in); err != nil {
			t.Fatalf("fault %d: retry: %v", f.Kind, err)
		}
		if got := task(t, e, id).Properties["hs_task_status"]; got != "COMPLETED" {
			t.Errorf("fault %d: status = %q after the retry", f.Kind, got)
		}
	}
}

// A task deleted in HubSpot (404), a key no task was created under, bad
// input: non-retryable, with a message that says which.
func TestCloseTaskNotRetryable(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	leadID, key, id := openTask(t, e)
	e.fake.Delete(hubspot.Tasks, id)
	err := e.crm.CloseTask(ctx, closeInput(leadID, key, actions.TaskCancelled, "rejected: bad_fit"))
	wantType(t, err, hubspot.ErrRejected, true)
	if !strings.Contains(err.Error(), "HubSpot has no task "+id) || !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("404 error = %v", err)
	}
	if n := len(e.fake.Notes()); n != 0 {
		t.Errorf("a note was posted for a task that is gone: %d", n)
	}

	err = e.crm.CloseTask(ctx, closeInput(leadID, "lead/"+leadID+":handoff:9", actions.TaskCompleted, "accepted by rep-1"))
	wantType(t, err, hubspot.ErrRejected, true)
	if !strings.Contains(err.Error(), "no HubSpot task was created under this key") {
		t.Errorf("unknown key error = %v", err)
	}

	for _, in := range []actions.CloseTaskInput{
		{LeadID: leadID, TaskKey: key, Outcome: actions.TaskCompleted},
		{Key: "k", LeadID: leadID, Outcome: actions.TaskCompleted},
		{Key: "k", LeadID: leadID, TaskKey: key, Outcome: "abandoned"},
	} {
		wantType(t, e.crm.CloseTask(ctx, in), actions.ErrInvalidInput, true)
	}
}

// The task's create was never recorded (the worker died after HubSpot made
// it): the close finds it by its key once the search shows it.
func TestCloseTaskFindsUnrecordedTask(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	c := e.fake.AddContact(nil)
	leadID, key := "hs-"+c, "lead/hs-"+c+":handoff:1"
	e.fake.Inject(hubspottest.Fault{Kind: hubspottest.CrashAfterWrite, Method: "POST", Path: "/crm/v3/objects/tasks"})
	if _, err := e.crm.CreateTask(ctx, handoffInput(key, leadID)); err == nil {
		t.Fatal("create survived the crash")
	}
	in := closeInput(leadID, key, actions.TaskCompleted, "accepted by rep-1")
	wantType(t, e.crm.CloseTask(ctx, in), hubspot.ErrUnconfirmedCreate, false)
	e.clk.Advance(10 * time.Second) // the index (lag 5 s) shows it now
	if err := e.crm.CloseTask(ctx, in); err != nil {
		t.Fatal(err)
	}
	tasks := e.fake.Tasks()
	if len(tasks) != 1 || tasks[0].Properties["hs_task_status"] != "COMPLETED" {
		t.Fatalf("tasks = %+v", tasks)
	}
	if row, _, _ := e.store.HubSpot().HubSpotObjectByKey(ctx, key); row.ObjectID != tasks[0].ID {
		t.Errorf("the found task is not recorded: %+v", row)
	}
}
