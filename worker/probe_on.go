//go:build upgradeprobe

package main

import (
	"strconv"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/upgradeprobe"
)

// upgradeProbeRevision is set by the upgrade test's build:
// -ldflags "-X main.upgradeProbeRevision=2" (internal/upgradeprobe).
var upgradeProbeRevision = "1"

// buildHooks registers the upgrade test's probe workflow beside the lead
// workflow, on the same worker and deployment version.
func buildHooks() hooks {
	rev, err := strconv.Atoi(upgradeProbeRevision)
	if err != nil {
		panic("upgradeProbeRevision " + upgradeProbeRevision + ": " + err.Error())
	}
	return hooks{register: func(r worker.Registry) {
		r.RegisterWorkflowWithOptions(upgradeprobe.Workflow(rev),
			workflow.RegisterOptions{Name: upgradeprobe.WorkflowName, VersioningBehavior: workflow.VersioningBehaviorAutoUpgrade})
	}}
}
