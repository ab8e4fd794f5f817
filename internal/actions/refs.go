package actions

import "context"

// Typed activity references. Each activity is one value that carries its
// registered name and, in its type, its input and output: the workflow
// calls it through workflows/' helpers (execute, perform, fetch), which
// take the input and give back the output of exactly these types, and
// activities/ registers an implementation bound with Bind, which accepts
// only a function of the activity's signature. A payload that does not
// match on either side does not compile. The names are kept explicit
// (never taken from a Go function name), because they are in every
// recorded history and must not change when code is renamed.
//
// This package imports nothing of Temporal: it is the contract, and pure
// packages (internal/policydiff) read its types. The Temporal calls that
// use a reference live in workflows/activity.go and activities/register.go.
//
// Three shapes, so that every activity keeps the signature its histories
// were recorded with (a result of struct{} or an added input would change
// the payloads):
//   - Ref[I, O]: func(context.Context, I) (O, error)
//   - Proc[I]:   func(context.Context, I) error
//   - Source[O]: func(context.Context) (O, error)

// Ref is an activity taking I and returning O.
type Ref[I, O any] struct{ Name string }

// Bind pairs an implementation with the activity's name.
func (r Ref[I, O]) Bind(fn func(context.Context, I) (O, error)) Binding {
	return Binding{Name: r.Name, Fn: fn}
}

// Proc is an activity taking I and returning only an error.
type Proc[I any] struct{ Name string }

// Bind pairs an implementation with the activity's name.
func (r Proc[I]) Bind(fn func(context.Context, I) error) Binding {
	return Binding{Name: r.Name, Fn: fn}
}

// Source is an activity with no input returning O.
type Source[O any] struct{ Name string }

// Bind pairs an implementation with the activity's name.
func (r Source[O]) Bind(fn func(context.Context) (O, error)) Binding {
	return Binding{Name: r.Name, Fn: fn}
}

// Binding is an implementation under its activity's registered name, its
// signature checked by Bind; a worker registers it as it is.
type Binding struct {
	Name string
	Fn   any
}
