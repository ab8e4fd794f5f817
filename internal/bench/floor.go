package bench

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/lead"
)

// The floor: the least a Temporal workflow can do for each of leadflow's
// jobs, run on the same server in the same run, so leadflow's figures can
// be read against what the server itself costs on this machine.
const (
	floorQueue  = "bench-floor"
	floorSignal = "event"
	floorSA     = "BenchFloorStage"

	floorNoop   = "FloorNoopReceiver"
	floorThree  = "FloorThreeLocal"
	floorEntity = "FloorOpenEntity"
)

// floor holds the floor's activities; done hears when a FloorThreeLocal's
// third local activity has run (the floor's speed-to-lead).
type floor struct {
	mu   sync.Mutex
	done map[string]chan time.Time
}

func newFloor() *floor { return &floor{done: map[string]chan time.Time{}} }

func (f *floor) register(w worker.Registry) {
	w.RegisterWorkflowWithOptions(noopReceiver, workflow.RegisterOptions{Name: floorNoop})
	w.RegisterWorkflowWithOptions(threeLocal, workflow.RegisterOptions{Name: floorThree})
	w.RegisterWorkflowWithOptions(openEntity, workflow.RegisterOptions{Name: floorEntity})
	w.RegisterActivityWithOptions(f.Step, activity.RegisterOptions{Name: "FloorStep"})
	w.RegisterActivityWithOptions(f.Last, activity.RegisterOptions{Name: "FloorLast"})
}

// expect returns the channel FloorLast reports workflowID on.
func (f *floor) expect(workflowID string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	f.mu.Lock()
	f.done[workflowID] = ch
	f.mu.Unlock()
	return ch
}

// Step does nothing: the floor measures the server and SDK, not work.
func (f *floor) Step(context.Context, lead.Event) error { return nil }

// Last reports its workflow as done.
func (f *floor) Last(ctx context.Context, _ lead.Event) error {
	id := activity.GetInfo(ctx).WorkflowExecution.ID
	f.mu.Lock()
	ch := f.done[id]
	delete(f.done, id)
	f.mu.Unlock()
	if ch != nil {
		ch <- time.Now()
	}
	return nil
}

// noopReceiver takes signals and does nothing with them, forever.
func noopReceiver(ctx workflow.Context) error {
	ch := workflow.GetSignalChannel(ctx, floorSignal)
	for {
		var ev lead.Event
		ch.Receive(ctx, &ev)
	}
}

func localCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3}})
}

// threeLocal takes one signal and runs three local activities on it.
func threeLocal(ctx workflow.Context) error {
	var ev lead.Event
	workflow.GetSignalChannel(ctx, floorSignal).Receive(ctx, &ev)
	lctx := localCtx(ctx)
	for _, name := range []string{"FloorStep", "FloorStep", "FloorLast"} {
		if err := workflow.ExecuteLocalActivity(lctx, name, ev).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// openEntity is the minimal open lead: a signal, one local activity, one
// activity, one search attribute upsert, then a timer that keeps it open.
func openEntity(ctx workflow.Context) error {
	var ev lead.Event
	workflow.GetSignalChannel(ctx, floorSignal).Receive(ctx, &ev)
	if err := workflow.ExecuteLocalActivity(localCtx(ctx), "FloorStep", ev).Get(ctx, nil); err != nil {
		return err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.ExecuteActivity(actx, "FloorStep", ev).Get(ctx, nil); err != nil {
		return err
	}
	key := temporal.NewSearchAttributeKeyKeyword(floorSA)
	if err := workflow.UpsertTypedSearchAttributes(ctx, key.ValueSet("open")); err != nil {
		return err
	}
	return workflow.Sleep(ctx, 30*24*time.Hour)
}
