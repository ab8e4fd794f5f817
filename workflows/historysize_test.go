package workflows

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/testenv"
)

// History size on a real dev server, in events (never wall-clock time):
// what a new low-intent lead, a plain event and a burst of events cost.
// The bench (internal/bench) reports the same counts beside its floor.
func TestHistoryEventCounts(t *testing.T) {
	srv := testenv.StartDevServer(t, testenv.DevServerOptions{})
	c := srv.RawClient(t)
	src, err := os.ReadFile("../deploy/policy.yaml") // the shipped cadence: first touch a week in
	if err != nil {
		t.Fatal(err)
	}
	f := newFakes(exampleDirectory(t))
	start := func(queue string) {
		w := worker.New(c, queue, worker.Options{})
		w.RegisterWorkflowWithOptions(New(Config{Policies: staticPolicy{mustPolicy(string(src))}}).LeadWorkflow,
			workflow.RegisterOptions{Name: lead.WorkflowType})
		f.register(w)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	start("counts")
	d := &devLeads{t: t, c: c, queue: "counts"}

	t.Run("a new low-intent lead", func(t *testing.T) {
		id := "hc-new"
		d.send(id, ev("n1", lead.EventEmailOpen, nil))
		h := d.settled(id)
		// started, signal, one workflow task, the policy marker, one upsert,
		// the first touch's timer, the ledger write: no remote call before
		// the first touch is due.
		if n := len(h.Events); n > 12 {
			t.Errorf("a new lead took %d history events, want at most 12:\n%s", n, kinds(h))
		}
		if n := count(h, enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED); n != 0 {
			t.Errorf("%d activities for a new low-intent lead, want none:\n%s", n, kinds(h))
		}
	})

	t.Run("a plain event, one at a time", func(t *testing.T) {
		id := "hc-new"
		before := len(d.settled(id).Events)
		for i := 0; i < 3; i++ {
			d.send(id, ev(fmt.Sprintf("p%d", i), lead.EventWebPageView, map[string]any{"category": "blog"}))
			h := d.settled(id)
			added := h.Events[before:]
			if len(added) > 4 {
				t.Errorf("plain event %d added %d history events, want at most 4 (signal + one workflow task):\n%s", i, len(added), kinds(&historypb.History{Events: added}))
			}
			before = len(h.Events)
		}
	})

	t.Run("a burst is one workflow task", func(t *testing.T) {
		// Signals that arrive while no worker polls are all in the lead's
		// next workflow task: one ledger write and one upsert for all.
		id, queue := "hc-burst", "counts-burst"
		b := &devLeads{t: t, c: c, queue: queue}
		// Each event moves the score (+20, −10, …; never up to the MQL
		// threshold): handled one per task, each would upsert LeadScore.
		for i := 0; i < 6; i++ {
			cat := "pricing"
			if i%2 == 1 {
				cat = "careers"
			}
			b.send(id, ev(fmt.Sprintf("b%d", i), lead.EventWebPageView, map[string]any{"category": cat}))
		}
		start(queue)
		h := b.settled(id)
		for _, k := range []struct {
			typ  enums.EventType
			want int
		}{
			{enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, 6},
			{enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 1},
			{enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, 1},
		} {
			if n := count(h, k.typ); n != k.want {
				t.Errorf("%s: %d, want %d:\n%s", k.typ, n, k.want, kinds(h))
			}
		}
		if n := markers(h, "LocalActivity"); n != 1 {
			t.Errorf("%d local-activity markers (ledger writes), want 1:\n%s", n, kinds(h))
		}
	})
}

type devLeads struct {
	t     *testing.T
	c     client.Client
	queue string
}

func (d *devLeads) send(id string, e lead.Event) {
	d.t.Helper()
	e.LeadID = id
	if e.OccurredAt.IsZero() {
		e.OccurredAt = time.Now().UTC()
	}
	_, err := d.c.SignalWithStartWorkflow(context.Background(), lead.WorkflowID(id), lead.SignalEvent, e,
		client.StartWorkflowOptions{ID: lead.WorkflowID(id), TaskQueue: d.queue}, lead.WorkflowType, Input{LeadID: id})
	if err != nil {
		d.t.Fatal(err)
	}
}

// settled waits (bounded) until the lead has no workflow task and no
// activity pending and has handled every signal, and returns its history.
func (d *devLeads) settled(id string) *historypb.History {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		desc, err := d.c.DescribeWorkflowExecution(context.Background(), lead.WorkflowID(id), "")
		if err != nil {
			d.t.Fatal(err)
		}
		h := d.history(id)
		last := h.Events[len(h.Events)-1].EventType
		if desc.PendingWorkflowTask == nil && len(desc.PendingActivities) == 0 && last != enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED {
			return h
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s did not settle within 30s:\n%s", id, kinds(h))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *devLeads) history(id string) *historypb.History {
	d.t.Helper()
	it := d.c.GetWorkflowHistory(context.Background(), lead.WorkflowID(id), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			d.t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

func count(h *historypb.History, typ enums.EventType) int {
	n := 0
	for _, e := range h.Events {
		if e.EventType == typ {
			n++
		}
	}
	return n
}

func markers(h *historypb.History, name string) int {
	n := 0
	for _, e := range h.Events {
		if a := e.GetMarkerRecordedEventAttributes(); a != nil && a.MarkerName == name {
			n++
		}
	}
	return n
}

// kinds lists a history's events, one a line, for failure messages.
func kinds(h *historypb.History) string {
	var b strings.Builder
	for _, e := range h.Events {
		fmt.Fprintf(&b, "  %3d %s", e.EventId, e.EventType)
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			b.WriteString(" " + a.ActivityType.Name)
		}
		if a := e.GetMarkerRecordedEventAttributes(); a != nil {
			b.WriteString(" " + a.MarkerName)
		}
		b.WriteString("\n")
	}
	return b.String()
}
