package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/leadflow/leadflow/internal/buildinfo"
)

// Worker Deployment versioning (docs/upgrading.md).
const (
	EnvWorkerVersioning = "LEADFLOW_WORKER_VERSIONING"
	EnvDeploymentName   = "LEADFLOW_DEPLOYMENT_NAME"
	EnvBuildID          = "LEADFLOW_BUILD_ID"

	VersioningOff = "off"
	VersioningOn  = "on"
)

// Versioning says which Worker Deployment version the worker polls as.
type Versioning struct {
	// Mode is VersioningOff (the default: an unversioned worker, every
	// worker takes every task, as before versioning existed) or VersioningOn
	// (the worker polls as Version; the server sends it only the tasks of
	// the deployment's current or ramping version and of workflows pinned
	// to it).
	Mode string
	// Version is the deployment name and build ID, resolved even when off
	// (the worker logs it; `worker --version` prints it). Its BuildID is ""
	// when neither LEADFLOW_BUILD_ID nor the binary's VCS stamp gives one.
	Version buildinfo.Version
	// BuildIDErr is why there is no valid build ID (nil when there is one):
	// an error only for a worker with Mode on (ForWorker).
	BuildIDErr error
}

// On reports whether the worker polls as a deployment version.
func (v Versioning) On() bool { return v.Mode == VersioningOn }

// VersioningFromLookup reads the three variables alone, for `starter
// version` and `worker --version`, which print them without needing the
// rest of a valid configuration.
func VersioningFromLookup(lookup func(string) (string, bool)) (Versioning, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	var v Versioning
	errs := v.read(get, buildinfo.Runtime())
	return v, errors.Join(errs...)
}

func (v *Versioning) read(get func(name, def string) string, in buildinfo.Info) []error {
	var errs []error
	v.Mode = strings.ToLower(get(EnvWorkerVersioning, VersioningOff))
	switch v.Mode {
	case VersioningOff, VersioningOn:
	default:
		errs = append(errs, fmt.Errorf("%s=%q: must be on or off", EnvWorkerVersioning, v.Mode))
	}
	name, id := get(EnvDeploymentName, ""), get(EnvBuildID, "")
	v.Version, v.BuildIDErr = buildinfo.Resolve(in, name, id)
	// An override that is set but invalid is always a mistake; a missing
	// stamp matters only to a versioned worker.
	if name != "" {
		if err := buildinfo.ValidateDeploymentName(name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvDeploymentName, err))
		}
	}
	if id != "" {
		if err := buildinfo.ValidateBuildID(id); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvBuildID, err))
		}
	}
	return errs
}

// check is what a worker needs: a build ID when versioning is on.
func (v Versioning) check() error {
	if v.On() && v.BuildIDErr != nil {
		return fmt.Errorf("%s=on needs a build ID: %w", EnvWorkerVersioning, v.BuildIDErr)
	}
	return nil
}
