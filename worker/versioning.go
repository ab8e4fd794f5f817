package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/config"
)

// deploymentOptions are the worker's Worker Deployment options. Off with a
// build ID: an unversioned worker that still tells the server its build,
// so each workflow's BuildIds search attribute lists the builds that ran
// it ("unversioned:<build ID>"; docs/upgrading.md, section 6). Off without
// one: no deployment options, as before versioning existed.
func deploymentOptions(v config.Versioning) worker.DeploymentOptions {
	if v.Version.BuildID == "" || v.BuildIDErr != nil {
		return worker.DeploymentOptions{}
	}
	return worker.DeploymentOptions{
		UseVersioning: v.On(),
		Version:       worker.WorkerDeploymentVersion{DeploymentName: v.Version.DeploymentName, BuildID: v.Version.BuildID},
	}
}

// How long a versioned worker waits for the server to see its pollers
// before it can make its version current on a first deploy.
const (
	promoteTimeout = 2 * time.Minute
	promoteBackoff = time.Second
)

// deploymentClient is the part of the SDK's worker deployment client
// promoteFirst uses (a seam for tests).
type deploymentClient interface {
	Describe(ctx context.Context, options client.WorkerDeploymentDescribeOptions) (client.WorkerDeploymentDescribeResponse, error)
	SetCurrentVersion(ctx context.Context, options client.WorkerDeploymentSetCurrentVersionOptions) (client.WorkerDeploymentSetCurrentVersionResponse, error)
}

// promoteFirst makes a versioned worker's version current when its
// deployment has no current version: the first versioned deploy, when
// nothing else would run its workflows (a versioned worker gets no new
// workflow until its version is current or ramping). Any later deploy is
// the operator's to ramp and promote (docs/upgrading.md): the worker
// only says what is current.
//
// The conflict token of the describe makes the promotion lose to any
// change made in between (another worker of the same first deploy, or an
// operator); that loss is success. The server refuses a version whose
// pollers it has not seen yet, so that answer is retried until timeout.
func promoteFirst(ctx context.Context, h deploymentClient, v config.Versioning, log *zap.Logger, timeout time.Duration) error {
	if !v.On() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	me := v.Version.BuildID
	for {
		err := promoteOnce(ctx, h, me, log)
		if err == nil {
			return nil
		}
		var fp *serviceerror.FailedPrecondition
		var nf *serviceerror.NotFound
		retry := errors.As(err, &fp) || errors.As(err, &nf)
		if !retry {
			return fmt.Errorf("make version %s current: %w", v.Version, err)
		}
		log.Info("waiting for the server to see this version's pollers before making it current", zap.Error(err))
		t := time.NewTimer(promoteBackoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("make version %s current (first deploy): gave up after %s: %w", v.Version, timeout, err)
		case <-t.C:
		}
	}
}

func promoteOnce(ctx context.Context, h deploymentClient, me string, log *zap.Logger) error {
	d, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	if err != nil {
		// NotFound: the deployment exists once the server has seen a
		// poller of it; retried.
		return err
	}
	if cur := d.Info.RoutingConfig.CurrentVersion; cur != nil {
		fields := []zap.Field{zap.String("current", cur.BuildID), zap.String("this", me)}
		if ramp := d.Info.RoutingConfig.RampingVersion; ramp != nil {
			fields = append(fields, zap.String("ramping", ramp.BuildID), zap.Float32("rampPercentage", d.Info.RoutingConfig.RampingVersionPercentage))
		}
		if cur.BuildID == me {
			log.Info("worker deployment: this version is current", fields...)
		} else {
			log.Warn("worker deployment: another version is current; this worker gets new and auto-upgrading workflows only once an operator ramps or promotes it (docs/upgrading.md)", fields...)
		}
		return nil
	}
	_, err = h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: me, ConflictToken: d.ConflictToken})
	if err == nil {
		log.Info("worker deployment had no current version: made this one current (first deploy)", zap.String("buildId", me))
	}
	return err
}
