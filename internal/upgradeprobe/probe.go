// Package upgradeprobe is a test-only workflow for the upgrade test
// (internal/e2e, TestRollingUpgrade): a long-lived workflow that stands in
// for a changed lead workflow across a deploy. The worker registers it
// only when built with `-tags upgradeprobe`; no production binary has it.
//
// Revision 1 is "the previous release". Revision 2 ("the new release")
// adds one command per step — an extra timer — behind workflow.GetVersion,
// as docs/upgrading.md says every change to a command sequence must be:
// a run that started on revision 1 replays its old steps and keeps the old
// sequence for the rest of its life (GetVersion answers DefaultVersion
// for it), and a run started on revision 2 takes the new one.
//
// Why a probe and not a change to LeadWorkflow: the two builds of the test
// are one code base, and the lead workflow's code must be the one every
// build ships. The probe is registered beside it, on the same task queue
// and deployment version, so it moves between builds exactly as the leads
// do, and its change is a real command-sequence change that fails with a
// nondeterminism error without its gate.
package upgradeprobe

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// Names the test uses.
const (
	WorkflowName = "UpgradeProbe"
	SignalStep   = "step"   // payload: "next" or "done"
	QueryResult  = "result" // answers Result
	ChangeID     = "probe-extra-timer"
	StepNext     = "next"
	StepDone     = "done"
	stepTimer    = 10 * time.Millisecond
)

// Result is what a run did.
type Result struct {
	Revision    int              `json:"revision"` // of the code answering
	Steps       int              `json:"steps"`
	ExtraTimers int              `json:"extraTimers"` // revision 2's added command
	Version     workflow.Version `json:"version"`     // GetVersion's answer (-1: DefaultVersion)
}

// Workflow is revision's code.
func Workflow(revision int) func(workflow.Context) (Result, error) {
	return func(ctx workflow.Context) (Result, error) {
		res := Result{Revision: revision, Version: workflow.DefaultVersion}
		if err := workflow.SetQueryHandler(ctx, QueryResult, func() (Result, error) { return res, nil }); err != nil {
			return res, err
		}
		ch := workflow.GetSignalChannel(ctx, SignalStep)
		for {
			var step string
			ch.Receive(ctx, &step)
			if step == StepDone {
				return res, nil
			}
			res.Steps++
			if err := workflow.Sleep(ctx, stepTimer); err != nil {
				return res, err
			}
			if revision < 2 {
				continue
			}
			// The change: one more timer per step, for runs that start on
			// revision 2 only.
			res.Version = workflow.GetVersion(ctx, ChangeID, workflow.DefaultVersion, 1)
			if res.Version == 1 {
				if err := workflow.Sleep(ctx, stepTimer); err != nil {
					return res, err
				}
				res.ExtraTimers++
			}
		}
	}
}
