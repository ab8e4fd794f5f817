package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/buildinfo"
	"github.com/leadflow/leadflow/internal/config"
)

func TestDeploymentOptions(t *testing.T) {
	ver := buildinfo.Version{DeploymentName: "leadflow", BuildID: "b1"}
	for _, tc := range []struct {
		name string
		v    config.Versioning
		want worker.DeploymentOptions
	}{
		{"off with a build ID: unversioned, build reported", config.Versioning{Mode: "off", Version: ver},
			worker.DeploymentOptions{Version: worker.WorkerDeploymentVersion{DeploymentName: "leadflow", BuildID: "b1"}}},
		{"on", config.Versioning{Mode: "on", Version: ver},
			worker.DeploymentOptions{UseVersioning: true, Version: worker.WorkerDeploymentVersion{DeploymentName: "leadflow", BuildID: "b1"}}},
		{"off without a build ID: as before versioning", config.Versioning{Mode: "off", Version: buildinfo.Version{DeploymentName: "leadflow"}, BuildIDErr: buildinfo.ErrNoBuildID},
			worker.DeploymentOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deploymentOptions(tc.v); got != tc.want {
				t.Fatalf("deploymentOptions = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// fakeDeployment is a deployment whose routing the test sets; the first
// failSet SetCurrentVersion calls fail as the server does before it has
// seen the version's pollers.
type fakeDeployment struct {
	current  *worker.WorkerDeploymentVersion
	failSet  int
	sets     []string
	token    []byte
	describe error
}

func (f *fakeDeployment) Describe(context.Context, client.WorkerDeploymentDescribeOptions) (client.WorkerDeploymentDescribeResponse, error) {
	if f.describe != nil {
		return client.WorkerDeploymentDescribeResponse{}, f.describe
	}
	return client.WorkerDeploymentDescribeResponse{ConflictToken: f.token,
		Info: client.WorkerDeploymentInfo{RoutingConfig: client.WorkerDeploymentRoutingConfig{CurrentVersion: f.current}}}, nil
}

func (f *fakeDeployment) SetCurrentVersion(_ context.Context, o client.WorkerDeploymentSetCurrentVersionOptions) (client.WorkerDeploymentSetCurrentVersionResponse, error) {
	if string(o.ConflictToken) != string(f.token) {
		return client.WorkerDeploymentSetCurrentVersionResponse{}, errors.New("conflict token not passed")
	}
	f.sets = append(f.sets, o.BuildID)
	if f.failSet > 0 {
		f.failSet--
		return client.WorkerDeploymentSetCurrentVersionResponse{}, serviceerror.NewFailedPrecondition("no pollers seen yet")
	}
	f.current = &worker.WorkerDeploymentVersion{DeploymentName: "leadflow", BuildID: o.BuildID}
	return client.WorkerDeploymentSetCurrentVersionResponse{}, nil
}

func TestPromoteFirst(t *testing.T) {
	on := config.Versioning{Mode: "on", Version: buildinfo.Version{DeploymentName: "leadflow", BuildID: "b2"}}
	log := zap.NewNop()
	ctx := t.Context()

	// First deploy: no current version; the server refuses twice (pollers
	// not seen yet), then takes it.
	f := &fakeDeployment{failSet: 2, token: []byte("t1")}
	if err := promoteFirst(ctx, f, on, log, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if f.current == nil || f.current.BuildID != "b2" || strings.Join(f.sets, ",") != "b2,b2,b2" {
		t.Fatalf("first deploy: current %+v after sets %v; want b2 current after 3 tries", f.current, f.sets)
	}

	// A later deploy: another version is current; the worker leaves it.
	f = &fakeDeployment{current: &worker.WorkerDeploymentVersion{DeploymentName: "leadflow", BuildID: "b1"}}
	if err := promoteFirst(ctx, f, on, log, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if f.current.BuildID != "b1" || len(f.sets) != 0 {
		t.Fatalf("later deploy changed the current version: %+v, sets %v", f.current, f.sets)
	}

	// Versioning off: nothing asked.
	f = &fakeDeployment{describe: errors.New("must not be called")}
	if err := promoteFirst(ctx, f, config.Versioning{Mode: "off"}, log, time.Second); err != nil {
		t.Fatal(err)
	}

	// A server that never sees the pollers: the worker gives up, saying why.
	f = &fakeDeployment{failSet: 1 << 30}
	err := promoteFirst(ctx, f, on, log, 1500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "gave up") || !strings.Contains(err.Error(), "leadflow:b2") {
		t.Fatalf("never promoted: %v", err)
	}

	// Any other error (permission denied) is not retried.
	f = &fakeDeployment{describe: serviceerror.NewPermissionDenied("no", "")}
	if err := promoteFirst(ctx, f, on, log, time.Minute); err == nil || !strings.Contains(err.Error(), "make version leadflow:b2 current") {
		t.Fatalf("permission denied: %v", err)
	}
}

// worker --version prints the build; a bad override exits 2 naming it.
func TestPrintVersion(t *testing.T) {
	t.Setenv(config.EnvBuildID, "v7")
	t.Setenv(config.EnvWorkerVersioning, "")
	var out, errOut strings.Builder
	if code := printVersion(&out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"deployment:   leadflow\n", "build ID:     v7 (LEADFLOW_BUILD_ID)\n", "versioning:   off\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	t.Setenv(config.EnvWorkerVersioning, "maybe")
	out.Reset()
	if code := printVersion(&out, &errOut); code != 2 || !strings.Contains(errOut.String(), "LEADFLOW_WORKER_VERSIONING") {
		t.Fatalf("bad mode: exit %d, stderr %q", code, errOut.String())
	}
	if !isVersionFlag("--version") || isVersionFlag("-test.run=^TestX$") {
		t.Fatal("isVersionFlag: only the version flag")
	}
}
