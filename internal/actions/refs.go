package actions

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"
)

// Typed activity references. Each activity is one value that carries its
// registered name and, in its type, its input and output: the workflow
// calls it with Execute and reads a typed result, activities/ registers it
// with Register and a function of exactly that signature. A payload that
// does not match on either side does not compile. The names are kept
// explicit (never taken from a Go function name), because they are in
// every recorded history and must not change when code is renamed.
//
// Three shapes, so that every activity keeps the signature its histories
// were recorded with (a result of struct{} or an added input would change
// the payloads):
//   - Ref[I, O]: func(context.Context, I) (O, error)
//   - Proc[I]:   func(context.Context, I) error
//   - Source[O]: func(context.Context) (O, error)

// Registry is what a worker (or a test environment) offers to register
// activities with.
type Registry interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// Ref is an activity taking I and returning O.
type Ref[I, O any] struct{ Name string }

// Register registers fn under the reference's name.
func (r Ref[I, O]) Register(reg Registry, fn func(context.Context, I) (O, error)) {
	reg.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: r.Name})
}

// Execute schedules the activity with the context's activity options.
func (r Ref[I, O]) Execute(ctx workflow.Context, in I) Future[O] {
	return Future[O]{workflow.ExecuteActivity(ctx, r.Name, in)}
}

// ExecuteLocal runs the activity as a local activity with the context's
// local activity options.
func (r Ref[I, O]) ExecuteLocal(ctx workflow.Context, in I) Future[O] {
	return Future[O]{workflow.ExecuteLocalActivity(ctx, r.Name, in)}
}

// Proc is an activity taking I and returning only an error.
type Proc[I any] struct{ Name string }

// Register registers fn under the reference's name.
func (r Proc[I]) Register(reg Registry, fn func(context.Context, I) error) {
	reg.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: r.Name})
}

// Execute schedules the activity with the context's activity options.
func (r Proc[I]) Execute(ctx workflow.Context, in I) Done {
	return Done{workflow.ExecuteActivity(ctx, r.Name, in)}
}

// ExecuteLocal runs the activity as a local activity with the context's
// local activity options.
func (r Proc[I]) ExecuteLocal(ctx workflow.Context, in I) Done {
	return Done{workflow.ExecuteLocalActivity(ctx, r.Name, in)}
}

// Source is an activity with no input returning O.
type Source[O any] struct{ Name string }

// Register registers fn under the reference's name.
func (r Source[O]) Register(reg Registry, fn func(context.Context) (O, error)) {
	reg.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: r.Name})
}

// Execute schedules the activity with the context's activity options.
func (r Source[O]) Execute(ctx workflow.Context) Future[O] {
	return Future[O]{workflow.ExecuteActivity(ctx, r.Name)}
}

// Future is the pending result of a Ref or Source.
type Future[O any] struct{ f workflow.Future }

// Get waits for the result.
func (f Future[O]) Get(ctx workflow.Context) (O, error) {
	var out O
	err := f.f.Get(ctx, &out)
	return out, err
}

// Done is the pending outcome of a Proc.
type Done struct{ f workflow.Future }

// Get waits for the activity to finish.
func (d Done) Get(ctx workflow.Context) error { return d.f.Get(ctx, nil) }
