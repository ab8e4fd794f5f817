//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/sim"
	"github.com/leadflow/leadflow/internal/testenv"
	"github.com/leadflow/leadflow/workflows"
)

// c. A simulated stream of leads (internal/sim's generator: fast-track,
// warm, cold, unsubscribed and student journeys, late enrichment; reps
// accept the leads the plan says they accept) while the worker is killed
// with SIGKILL 20 times and restarted each time, and the dev server is
// restarted once on its database file: no lead lost, each in the stage its
// journey ends in, no failed workflow, exactly one owner assignment and one
// handoff task per handoff, and every history replays against this tree's
// workflow code.
func testWorkerKills(t *testing.T) {
	r := newReport(t, "c worker-kill-20")
	const (
		kills  = 20
		nLeads = 40
	)
	// A worker lives 1–4 s after it polls (a fixed pseudo-random sequence),
	// so the kills land in every phase of the leads' work.
	rng := rand.New(rand.NewPCG(20, 26))
	interval := func() time.Duration { return time.Second + time.Duration(rng.Int64N(int64(3*time.Second))) }
	s := newStack(t, stackConfig{policy: slowPolicy(t), persistent: true})
	start := time.Now()
	plan, err := sim.Generate(sim.Config{Leads: nLeads, Rate: 1, Seed: 20261201, RunID: "chaos", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	expect := map[string]lead.Stage{}
	var accepting []string
	type due struct {
		at time.Duration
		ev lead.Event
	}
	var stream []due
	for i := range plan.Leads {
		l := &plan.Leads[i]
		expect[l.ID] = expectedStage(l)
		if expect[l.ID] == lead.StageSAL {
			accepting = append(accepting, l.ID)
		}
		for _, e := range l.Events {
			stream = append(stream, due{e.At, e.Event})
		}
	}
	slices.SortStableFunc(stream, func(a, b due) int { return int(a.at - b.at) })
	counts := map[lead.Stage]int{}
	for _, st := range expect {
		counts[st]++
	}
	r.fig("stream", "%d leads, %d events over %s; expected %v", nLeads, len(stream), stream[len(stream)-1].at.Round(time.Second), counts)

	// The sender: every event at its time, batched per 100 ms, each batch
	// retried on 503 or a refused connection (the dev server's restart).
	var sent503, sendFailed, slowest atomic.Int64
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		for i := 0; i < len(stream); {
			time.Sleep(time.Until(start.Add(stream[i].at)))
			j := i
			var batch []lead.Event
			for j < len(stream) && stream[j].at <= time.Since(start)+100*time.Millisecond {
				batch = append(batch, stream[j].ev)
				j++
			}
			t0 := time.Now()
			_, attempts, err := s.sendRetry(2*time.Minute, time.Second, batch...)
			sent503.Add(int64(attempts - 1))
			if d := int64(time.Since(t0)); d > slowest.Load() {
				slowest.Store(d)
			}
			if err != nil {
				sendFailed.Add(int64(len(batch)))
				t.Errorf("batch of %d events never accepted: %v", len(batch), err)
			}
			i = j
		}
	}()

	// The killer: kill -9 a while after the worker polls, restart
	// at once; after the 6th kill (mid-stream), restart the dev server under
	// the running worker.
	var selfExits, notReady int
	var serverDown time.Duration
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		for k := 1; k <= kills; k++ {
			time.Sleep(interval())
			if s.worker.done() {
				selfExits++
			}
			s.worker.kill()
			s.startWorker()
			if !s.waitWorker(20 * time.Second) {
				notReady++
			}
			if k == 6 { // mid-stream
				t0 := time.Now()
				s.srv.Stop()
				s.srv.Start()
				serverDown = time.Since(t0)
			}
		}
	}()

	// Reps and the watch: every second, each lead not yet where its
	// journey ends is read; a lead the plan has accepted is accepted by its
	// owner once in handoff (one request in flight per lead, retried on
	// 503 or timeout with the same id).
	var inflight sync.Map
	var acceptTries atomic.Int64
	at := map[string]bool{}
	allThere := func() bool { return len(at) == len(expect) }
	stormEnd := time.Time{}
	deadline := start.Add(10 * time.Minute) // replaced by stormEnd + 150 s
	for time.Now().Before(deadline) {
		select {
		case <-killerDone:
			if stormEnd.IsZero() {
				stormEnd = time.Now()
				deadline = stormEnd.Add(150 * time.Second)
			}
		default:
		}
		senderFinished := false
		select {
		case <-senderDone:
			senderFinished = true
		default:
		}
		for _, l := range plan.Leads {
			if at[l.ID] {
				continue
			}
			v, code, err := s.state(l.ID)
			if err != nil || code != http.StatusOK {
				continue
			}
			if v.Stage == expect[l.ID] && senderFinished {
				at[l.ID] = true
			}
			if expect[l.ID] == lead.StageSAL && v.Stage == lead.StageHandoff && v.OwnerID != "" {
				id, owner := l.ID, v.OwnerID
				if _, busy := inflight.LoadOrStore(id, true); !busy {
					go func() {
						defer inflight.Delete(id)
						acceptTries.Add(1)
						_, _, _, _, _ = s.update(id, lead.UpdateAccept, lead.AcceptRequest{ID: id + "-accept", RepID: owner}, 15*time.Second)
					}()
				}
			}
		}
		if !stormEnd.IsZero() && allThere() {
			break
		}
		time.Sleep(time.Second)
	}
	<-senderDone
	if stormEnd.IsZero() {
		<-killerDone
		stormEnd = time.Now()
	}
	settled := time.Since(stormEnd)
	r.fig("kills", "%d kill -9 (worker exited by itself %d times, not polling within 20 s after a start %d times); dev server restart took %s", kills, selfExits, notReady, ms(serverDown))
	r.fig("sender", "%d refused attempts (503 or no connection) retried, %d events never accepted, slowest batch accepted in %s",
		sent503.Load(), sendFailed.Load(), ms(time.Duration(slowest.Load())))
	r.fig("settle", "%d of %d leads where their journey ends %s after the last kill; %d accept requests for %d accepting leads", len(at), len(expect), ms(settled), acceptTries.Load(), len(accepting))

	// 1. No lead lost: every lead exists, in its expected stage.
	var wrong []string
	for _, l := range plan.Leads {
		v, code, err := s.state(l.ID)
		if err != nil || code != http.StatusOK || v.Stage != expect[l.ID] {
			wrong = append(wrong, fmt.Sprintf("%s(%s): %d %s want %s %v", l.ID, l.Journey, code, v.Stage, expect[l.ID], err))
		}
	}
	r.fig("leads_lost_or_misplaced", "%d of %d", len(wrong), len(expect))
	r.check(len(wrong) == 0, "leads missing or not in their expected stage: %s", strings.Join(wrong, "; "))

	// 2. No failed workflow.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	execs, err := s.listWorkflows(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]int{}
	var bad []string
	for _, e := range execs {
		st := e.GetStatus().String()
		status[st]++
		if e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED &&
			e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
			bad = append(bad, e.GetExecution().GetWorkflowId()+" "+st)
		}
	}
	r.fig("workflows", "%v", status)
	r.check(len(bad) == 0, "workflows that did not run on: %v", bad)

	// 3. One owner assignment and one handoff task per handoff, none for
	// the leads that were never handed off.
	var dup []string
	for _, l := range plan.Leads {
		want := 0
		if st := expect[l.ID]; st == lead.StageHandoff || st == lead.StageSAL {
			want = 1
		}
		a, _ := s.count(`SELECT count(*) FROM owner_assignments WHERE lead_id = $1`, l.ID)
		tk, _ := s.count(`SELECT count(*) FROM tasks WHERE lead_id = $1 AND kind = 'handoff'`, l.ID)
		if a != want || tk != want {
			dup = append(dup, fmt.Sprintf("%s: %d assignments, %d tasks (want %d)", l.ID, a, tk, want))
		}
	}
	r.fig("assignment_task_mismatches", "%d", len(dup))
	r.check(len(dup) == 0, "handoffs without exactly one owner assignment and task: %s", strings.Join(dup, "; "))

	// 4. Every history replays against this tree's workflow code.
	replayed, cut, failed := s.replayAll(ctx, execs)
	r.fig("replays", "%d histories replayed, %d failed", replayed, len(failed))
	r.fig("work_cut_by_kills", "%d workflow tasks timed out, %d activities needed more than one attempt", cut.workflowTasks, cut.activities)
	r.check(len(failed) == 0 && replayed > 0, "histories that do not replay: %s", strings.Join(failed, "; "))
}

// expectedStage is where a simulated lead's marketing journey ends when no
// rep acts except to accept the leads the plan accepts (SLAs are hours long).
func expectedStage(l *sim.Lead) lead.Stage {
	switch {
	case l.ExpectHandoff() && l.Outcome.Action == sim.Accept:
		return lead.StageSAL
	case l.ExpectHandoff():
		return lead.StageHandoff
	case (l.Journey == sim.FastTrack || l.Journey == sim.Warm) && l.Profile.Country == "":
		return lead.StageMQL // qualified, waiting for enrichment of the country
	default:
		return lead.StageLead
	}
}

// listWorkflows lists every execution matching query ("" = all).
func (s *stack) listWorkflows(ctx context.Context, query string) ([]*workflowExecution, error) {
	var out []*workflowExecution
	var token []byte
	for page := 0; page < 100; page++ {
		resp, err := s.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: lead.DefaultNamespace, Query: query, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list workflows: %w", err)
		}
		out = append(out, resp.GetExecutions()...)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
	return nil, fmt.Errorf("list workflows: more than 100 pages")
}

// replayAll replays every LeadWorkflow history with the workflow registered
// as the worker registers it (the policy comes from the history's own
// marker; the one given here only satisfies the constructor).
// timeouts counts what the histories show of work a killed worker left
// behind: workflow tasks that timed out, activities that needed a retry.
type timeouts struct{ workflowTasks, activities int }

func (s *stack) replayAll(ctx context.Context, execs []*workflowExecution) (int, timeouts, []string) {
	// The histories are encrypted: the replayer decodes as the worker does.
	dc := codec.DataConverter(testenv.Codec(s.t))
	rep, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: codec.FailureConverter(dc)})
	if err != nil {
		return 0, timeouts{}, []string{err.Error()}
	}
	leads := workflows.New(workflows.Config{Policies: staticPolicy{s.policy}})
	rep.RegisterWorkflowWithOptions(leads.LeadWorkflow, workflow.RegisterOptions{Name: lead.WorkflowType})
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	n := 0
	var cut timeouts
	var failed []string
	for _, e := range execs {
		if e.GetType().GetName() != lead.WorkflowType {
			continue
		}
		wid, rid := e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()
		hist := &historypb.History{}
		it := s.tc.GetWorkflowHistory(ctx, wid, rid, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var err error
		for it.HasNext() {
			var ev *historypb.HistoryEvent
			if ev, err = it.Next(); err != nil {
				break
			}
			hist.Events = append(hist.Events, ev)
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
				cut.workflowTasks++
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				if ev.GetActivityTaskStartedEventAttributes().GetAttempt() > 1 {
					cut.activities++
				}
			}
		}
		if err == nil {
			err = rep.ReplayWorkflowHistory(logger, hist)
		}
		n++
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s/%s: %v", wid, rid, err))
		}
	}
	return n, cut, failed
}

type staticPolicy struct{ p *policy.Policy }

func (s staticPolicy) Current() *policy.Policy { return s.p }

type workflowExecution = workflowpb.WorkflowExecutionInfo
