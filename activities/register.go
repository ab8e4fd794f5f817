package activities

import (
	"go.temporal.io/sdk/activity"

	"github.com/leadflow/leadflow/internal/actions"
)

// Registry is what a worker (or a test environment) offers.
type Registry interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// register registers each binding under its activity's name: the only
// place activities/ names an activity to Temporal (actions' Bind has
// checked each implementation's signature).
func register(r Registry, bs ...actions.Binding) {
	for _, b := range bs {
		r.RegisterActivityWithOptions(b.Fn, activity.RegisterOptions{Name: b.Name})
	}
}
