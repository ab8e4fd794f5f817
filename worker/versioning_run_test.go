package main

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/testenv"
)

const echoWorkflowName = "VersioningEcho"

func echoWorkflow(_ workflow.Context, s string) (string, error) { return s, nil }

// The worker's deployment options on a real server: unversioned with a
// build ID, the build is recorded on the workflows it runs; versioned, a
// first deploy makes its own version current, so workflows run at all.
func TestWorkerVersioning(t *testing.T) {
	srv := testenv.StartDevServer(t, testenv.DevServerOptions{})
	c := srv.Client(t)
	register := hooks{register: func(reg worker.Registry) {
		reg.RegisterWorkflowWithOptions(echoWorkflow, workflow.RegisterOptions{Name: echoWorkflowName, VersioningBehavior: workflow.VersioningBehaviorAutoUpgrade})
	}}
	echo := func(t *testing.T, r *running, id string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: r.cfg.TaskQueue}, echoWorkflowName, "hi")
		if err != nil {
			t.Fatal(err)
		}
		var out string
		if err := run.Get(ctx, &out); err != nil || out != "hi" {
			t.Fatalf("%s: %q %v", id, out, err)
		}
	}
	listed := func(t *testing.T, query string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			n, err := c.CountWorkflow(t.Context(), &workflowservice.CountWorkflowExecutionsRequest{Query: query})
			if err == nil && n.GetCount() == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v %v after 30s; want 1 workflow", query, n.GetCount(), err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	t.Run("off with a build ID reports it", func(t *testing.T) {
		ready := make(chan struct{})
		hk := register
		hk.ready = ready
		r := startWorker(t, srv, map[string]string{"LEADFLOW_BUILD_ID": "unv-1", "LEADFLOW_DEPLOYMENT_NAME": "vt-off"}, hk)
		r.waitReady(t, ready)
		echo(t, r, "echo-off")
		listed(t, "WorkflowId = 'echo-off' AND BuildIds = 'unversioned:unv-1'")
	})

	t.Run("on: a first deploy makes its own version current", func(t *testing.T) {
		ready := make(chan struct{})
		hk := register
		hk.ready = ready
		r := startWorker(t, srv, map[string]string{"LEADFLOW_WORKER_VERSIONING": "on", "LEADFLOW_BUILD_ID": "v-on-1", "LEADFLOW_DEPLOYMENT_NAME": "vt-on"}, hk)
		r.waitReady(t, ready)
		d, err := c.WorkerDeploymentClient().GetHandle("vt-on").Describe(t.Context(), client.WorkerDeploymentDescribeOptions{})
		if err != nil || d.Info.RoutingConfig.CurrentVersion == nil || d.Info.RoutingConfig.CurrentVersion.BuildID != "v-on-1" {
			t.Fatalf("deployment vt-on once the worker is ready: %+v %v; want v-on-1 current", d.Info.RoutingConfig, err)
		}
		echo(t, r, "echo-on")
		listed(t, "WorkflowId = 'echo-on' AND TemporalWorkerDeploymentVersion = 'vt-on:v-on-1' AND TemporalWorkflowVersioningBehavior = 'AutoUpgrade'")
	})
}
