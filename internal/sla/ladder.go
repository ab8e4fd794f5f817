package sla

import (
	"time"

	"github.com/leadflow/leadflow/internal/policy"
)

// Step is one rung of an SLA ladder, scheduled.
type Step struct {
	Index  int       // position in the policy's ladder, so a workflow can record which rungs fired
	At     time.Time // when the rung fires: start + At×within in business time
	Action string    // policy.ActionRemind, ActionEscalate or ActionReassign
}

// Ladder schedules each rung of steps for an SLA of within that started at
// start. Steps keep the policy's order (ascending by At, as the policy
// requires); each At is a fraction of within, so 1.0 is the deadline itself.
func Ladder(c *Calendar, start time.Time, within policy.Duration, steps []policy.LadderStep) []Step {
	out := make([]Step, len(steps))
	for i, s := range steps {
		out[i] = Step{Index: i, At: c.AddFraction(start, within, s.At), Action: s.Action}
	}
	return out
}
