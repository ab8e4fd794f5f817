package store_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// Every CRM write, called twice with one key (a retried activity), leaves
// one row and the first result.
func TestCRMIdempotent(t *testing.T) {
	t.Parallel()
	clk := &clock{t: date("2026-11-23T17:00:00Z")}
	s := storetest.Open(t, store.WithClock(clk.Now))
	ctx := t.Context()

	t.Run("AssignOwner", func(t *testing.T) {
		first := actions.AssignOwnerInput{Key: "lead/L1/assign-1", LeadID: "L1", OwnerID: "rep-7", Why: "na_west: rep-7"}
		for range 2 {
			if err := s.CRM().AssignOwner(ctx, first); err != nil {
				t.Fatal(err)
			}
		}
		if owner, ok, err := s.CRM().Owner(ctx, "L1"); err != nil || !ok || owner != "rep-7" {
			t.Errorf("owner = %q %v %v", owner, ok, err)
		}
		second := actions.AssignOwnerInput{Key: "lead/L1/assign-2", LeadID: "L1", OwnerID: "rep-8", Previous: "rep-7", Why: "SLA reassign"}
		if err := s.CRM().AssignOwner(ctx, second); err != nil {
			t.Fatal(err)
		}
		// A late retry of the first assignment does not undo the second.
		if err := s.CRM().AssignOwner(ctx, first); err != nil {
			t.Fatal(err)
		}
		if owner, _, _ := s.CRM().Owner(ctx, "L1"); owner != "rep-8" {
			t.Errorf("owner after replay = %q, want rep-8", owner)
		}
		as, err := s.CRM().OwnerAssignments(ctx, "L1")
		if err != nil || len(as) != 2 || as[1].Previous != "rep-7" || as[0].Why != "na_west: rep-7" {
			t.Errorf("assignments = %+v, %v", as, err)
		}
		if _, ok, _ := s.CRM().Owner(ctx, "nobody"); ok {
			t.Error("owner of unknown lead")
		}
	})

	t.Run("CreateTask", func(t *testing.T) {
		due := date("2026-11-23T17:05:00Z")
		in := actions.TaskInput{Key: "lead/L1/task-1", LeadID: "L1", OwnerID: "rep-7", Kind: actions.TaskHandoff,
			Title: "Call Acme: quote request", DueAt: due,
			Context: &actions.HandoffContext{WhyNow: "quote request", Score: lead.ScoreView{Total: 65, Fit: 20, Intent: 45},
				Campaign: map[string]string{"utm_campaign": "q4-pricing"}, PolicyVersion: "2026-11-22.1"}}
		ref1, err := s.CRM().CreateTask(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		in.Title = "changed on retry"
		ref2, err := s.CRM().CreateTask(ctx, in)
		if err != nil || ref2 != ref1 || ref1.TaskID == "" {
			t.Errorf("retry ref = %+v, %v; want %+v", ref2, err, ref1)
		}
		tasks, err := s.CRM().Tasks(ctx, "L1")
		if err != nil || len(tasks) != 1 {
			t.Fatalf("tasks = %+v, %v", tasks, err)
		}
		got := tasks[0]
		if got.ID != ref1.TaskID || got.Title != "Call Acme: quote request" || !got.DueAt.Equal(due) ||
			!reflect.DeepEqual(got.Context.Campaign, in.Context.Campaign) || got.Context.Score.Total != 65 || !got.CompletedAt.IsZero() {
			t.Errorf("task = %+v", got)
		}
		open, err := s.CRM().OpenTasks(ctx, "rep-7")
		if err != nil || len(open) != 1 {
			t.Errorf("open tasks = %+v, %v", open, err)
		}
		if err := s.CRM().CompleteTask(ctx, ref1.TaskID, "rep-7"); err != nil {
			t.Fatal(err)
		}
		if err := s.CRM().CompleteTask(ctx, ref1.TaskID, "rep-8"); err != nil {
			t.Errorf("second completion: %v", err)
		}
		tasks, _ = s.CRM().Tasks(ctx, "L1")
		if tasks[0].CompletedBy != "rep-7" || !tasks[0].CompletedAt.Equal(clk.Now()) {
			t.Errorf("completed task = %+v", tasks[0])
		}
		if open, _ := s.CRM().OpenTasks(ctx, "rep-7"); len(open) != 0 {
			t.Errorf("open tasks after completion = %d", len(open))
		}
		for _, id := range []string{"999999", "x"} {
			if err := s.CRM().CompleteTask(ctx, id, "rep-7"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("complete %s: %v, want ErrNotFound", id, err)
			}
		}
	})

	t.Run("PostNote", func(t *testing.T) {
		for range 2 {
			if err := s.CRM().PostNote(ctx, actions.NoteInput{Key: "lead/L1/note-1", LeadID: "L1", Body: "Rejected: timing"}); err != nil {
				t.Fatal(err)
			}
		}
		notes, err := s.CRM().Notes(ctx, "L1")
		if err != nil || len(notes) != 1 || notes[0].Body != "Rejected: timing" {
			t.Errorf("notes = %+v, %v", notes, err)
		}
	})

	t.Run("Notify", func(t *testing.T) {
		in := actions.NotifyInput{Key: "lead/L1/sla-1", LeadID: "L1", To: "mgr-2", Kind: "escalate", OwnerID: "rep-7", Body: "not touched in 15m"}
		for range 2 {
			if err := s.CRM().Notify(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		ns, err := s.CRM().Notifications(ctx, "L1")
		if err != nil || len(ns) != 1 || ns[0].To != "mgr-2" || ns[0].OwnerID != "rep-7" || ns[0].Kind != "escalate" {
			t.Errorf("notifications = %+v, %v", ns, err)
		}
	})

	t.Run("RaiseAlert", func(t *testing.T) {
		in := actions.AlertInput{Key: "lead/L1/alert-1", LeadID: "L1", Kind: "no_owner", Message: "everyone excluded"}
		for range 2 {
			if err := s.CRM().RaiseAlert(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		as, err := s.CRM().Alerts(ctx, "L1")
		if err != nil || len(as) != 1 || as[0].Message != "everyone excluded" || !as[0].AcknowledgedAt.IsZero() {
			t.Errorf("alerts = %+v, %v", as, err)
		}
	})

	t.Run("SetLifecycleStage", func(t *testing.T) {
		first := actions.StageInput{Key: "lead/L1/stage-1", LeadID: "L1", Stage: lead.StageHandoff}
		for range 2 {
			if err := s.CRM().SetLifecycleStage(ctx, first); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.CRM().StageChanges(ctx, "L1"); err != nil || n != 1 {
			t.Errorf("stage changes = %d, %v; want 1", n, err)
		}
		if err := s.CRM().SetLifecycleStage(ctx, actions.StageInput{Key: "lead/L1/stage-2", LeadID: "L1", Stage: lead.StageSAL}); err != nil {
			t.Fatal(err)
		}
		if err := s.CRM().SetLifecycleStage(ctx, first); err != nil { // late retry
			t.Fatal(err)
		}
		if st, ok, err := s.CRM().LifecycleStage(ctx, "L1"); err != nil || !ok || st != lead.StageSAL {
			t.Errorf("stage = %q %v %v; want sal", st, ok, err)
		}
	})

	t.Run("EmptyKey", func(t *testing.T) {
		if err := s.CRM().PostNote(ctx, actions.NoteInput{LeadID: "L1", Body: "x"}); !errors.Is(err, store.ErrInvalidInput) {
			t.Errorf("empty key: %v", err)
		}
	})
}
