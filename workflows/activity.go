package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
)

// The workflow's side of internal/actions' typed references: the only
// place the workflows schedule an activity. Each helper takes the input
// and gives back the output of the reference's own types, so a call that
// does not fit its activity does not compile. The options (timeouts,
// retries, task queue) are the context's, as with workflow.ExecuteActivity.

// result is the pending output of a Ref or Source.
type result[O any] struct{ f workflow.Future }

// Get waits for the output.
func (r result[O]) Get(ctx workflow.Context) (O, error) {
	var out O
	err := r.f.Get(ctx, &out)
	return out, err
}

// outcome is the pending end of a Proc.
type outcome struct{ f workflow.Future }

// Get waits for the activity to finish.
func (o outcome) Get(ctx workflow.Context) error { return o.f.Get(ctx, nil) }

// execute schedules a Ref.
func execute[I, O any](ctx workflow.Context, r actions.Ref[I, O], in I) result[O] {
	return result[O]{workflow.ExecuteActivity(ctx, r.Name, in)}
}

// executeLocal runs a Ref as a local activity.
func executeLocal[I, O any](ctx workflow.Context, r actions.Ref[I, O], in I) result[O] {
	return result[O]{workflow.ExecuteLocalActivity(ctx, r.Name, in)}
}

// perform schedules a Proc.
func perform[I any](ctx workflow.Context, r actions.Proc[I], in I) outcome {
	return outcome{workflow.ExecuteActivity(ctx, r.Name, in)}
}

// performLocal runs a Proc as a local activity.
func performLocal[I any](ctx workflow.Context, r actions.Proc[I], in I) outcome {
	return outcome{workflow.ExecuteLocalActivity(ctx, r.Name, in)}
}

// fetch schedules a Source.
func fetch[O any](ctx workflow.Context, r actions.Source[O]) result[O] {
	return result[O]{workflow.ExecuteActivity(ctx, r.Name)}
}
