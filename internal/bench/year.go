package bench

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/workflows"
)

// historyLimit is the run length every run must stay under.
const historyLimit = 4096

// staticPolicy satisfies workflows.PolicySource for the replayer: the
// policy a history ran under is read from its own markers on replay.
type staticPolicy struct{ p *policy.Policy }

func (s staticPolicy) Current() *policy.Policy { return s.p }

// year feeds one lead YearEvents events whose occurredAt spread over the
// past year, then reads every run of its chain from the server: length,
// carried state, and a replay of each with the worker's registration.
func (b *bench) year(ctx context.Context) error {
	n := b.o.Counts.YearEvents
	id := "BYEAR-" + b.runID
	wid := lead.WorkflowID(id)
	start := time.Now().Add(-365 * 24 * time.Hour)
	step := 365 * 24 * time.Hour / time.Duration(n)
	var sent atomic.Int64
	stop := b.progress("one lead, a year of events", func() string { return fmt.Sprintf("%d/%d events sent", sent.Load(), n) })
	first := lowIntent(id, start)
	batch := []lead.Event{first}
	for i := 1; i < n; i++ {
		batch = append(batch, plainEvent(id, i, start.Add(time.Duration(i)*step)))
		if len(batch) == api.MaxBatchEvents || i == n-1 {
			if err := b.post.post(ctx, batch...); err != nil {
				stop()
				return err
			}
			sent.Add(int64(len(batch)))
			batch = batch[:0]
		}
	}
	_, err := b.waitSettled(ctx, []string{wid}, 15*time.Minute)
	stop()
	if err != nil {
		return err
	}
	runs, err := b.chain(ctx, wid)
	if err != nil {
		return err
	}
	p, err := policy.Load(b.policy)
	if err != nil {
		return err
	}
	var longest, events int
	var carried []int
	var replayTime time.Duration
	for i, h := range runs {
		evs := h.GetEvents()
		longest, events = max(longest, len(evs)), events+len(evs)
		if last := evs[len(evs)-1]; last.GetEventType() == enums.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
			carried = append(carried, proto.Size(last.GetWorkflowExecutionContinuedAsNewEventAttributes().GetInput()))
		}
		keys, err := b.cfg.CodecKeys()
		if err != nil {
			return err
		}
		cdc, err := codec.New(keys)
		if err != nil {
			return err
		}
		dc := codec.DataConverter(cdc)
		r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: codec.FailureConverter(dc)})
		if err != nil {
			return err
		}
		r.RegisterWorkflowWithOptions(workflows.New(workflows.Config{Policies: staticPolicy{p}}).LeadWorkflow,
			workflow.RegisterOptions{Name: lead.WorkflowType})
		t0 := time.Now()
		if err := r.ReplayWorkflowHistory(temporalx.NewLogger(zap.NewNop()), h); err != nil {
			return fmt.Errorf("replay run %d of %d of %s: %w", i+1, len(runs), wid, err)
		}
		replayTime += time.Since(t0)
	}
	b.report.Add(Row{Figure: fmt.Sprintf("one lead, %d events over a year: runs, longest run (history events)", n),
		Leadflow: fmt.Sprintf("%d run(s), longest %d", len(runs), longest), Target: fmt.Sprintf("every run < %d", historyLimit),
		Verdict: AtMost(float64(longest), historyLimit-1, " events")})
	cs := "no Continue-As-New"
	if len(carried) > 0 {
		slices.Sort(carried)
		cs = fmt.Sprintf("median %.1f KiB, max %.1f KiB (%d hand-overs)", float64(carried[len(carried)/2])/1024,
			float64(carried[len(carried)-1])/1024, len(carried))
	}
	b.report.Add(Row{Figure: "carried state per run (Continue-As-New input payload)", Leadflow: cs})
	b.report.Add(Row{Figure: "every run's history replays (worker.NewWorkflowReplayer, the worker's registration)",
		Leadflow: fmt.Sprintf("%d/%d replayed; %.1f ms per 1,000 history events", len(runs), len(runs),
			float64(replayTime.Microseconds())/1000/(float64(events)/1000))})
	return nil
}

// chain returns every run of workflowID oldest first, walking back from the
// current run through each start event's previous run.
func (b *bench) chain(ctx context.Context, workflowID string) ([]*historypb.History, error) {
	var runs []*historypb.History
	runID := ""
	for {
		h, err := b.history(ctx, workflowID, runID)
		if err != nil {
			return nil, err
		}
		runs = append(runs, h)
		prev := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if prev == "" {
			break
		}
		runID = prev
	}
	slices.Reverse(runs)
	return runs, nil
}

// history reads one run's whole history from the server.
func (b *bench) history(ctx context.Context, workflowID, runID string) (*historypb.History, error) {
	it := b.c.GetWorkflowHistory(ctx, workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("read history of %s run %q: %w", workflowID, runID, err)
		}
		h.Events = append(h.Events, ev)
	}
	if len(h.Events) == 0 {
		return nil, fmt.Errorf("history of %s run %q is empty", workflowID, runID)
	}
	return h, nil
}
