// Package buildinfo names the build a binary is: the Worker Deployment
// version (deployment name and build ID) the worker polls as, and what
// `starter version` and `worker --version` print. The build ID defaults to
// the binary's VCS stamp (the commit, "+dirty" when the tree had changes);
// an image built without .git (the Dockerfile) is given one by
// LEADFLOW_BUILD_ID. Pure: the caller reads the environment (internal/config)
// and the runtime's build info (Runtime).
package buildinfo

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
)

// DefaultDeploymentName is the Worker Deployment every leadflow worker of a
// namespace belongs to unless LEADFLOW_DEPLOYMENT_NAME says otherwise.
const DefaultDeploymentName = "leadflow"

// sdkModule is the Temporal Go SDK, whose version Info reports.
const sdkModule = "go.temporal.io/sdk"

// shortRevision is how many hex digits of the commit a default build ID
// keeps: unique in any real repository, short enough to read in the UI.
const shortRevision = 12

// MaxLen bounds a build ID and a deployment name (the server's limit on
// each is 255 bytes; a name this long is a mistake, not a version).
const MaxLen = 128

// Info is what a binary knows of its own build.
type Info struct {
	Revision   string // vcs.revision: the full commit hash; "" without VCS info
	Modified   bool   // vcs.modified: built from a tree with uncommitted changes
	GoVersion  string // the toolchain, e.g. go1.26.8
	SDKVersion string // the Temporal Go SDK module version, e.g. v1.50.0
}

// FromBuildInfo extracts Info from the runtime's build information (nil:
// none, e.g. a binary built without module support).
func FromBuildInfo(bi *debug.BuildInfo) Info {
	if bi == nil {
		return Info{}
	}
	in := Info{GoVersion: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		if d.Path == sdkModule {
			in.SDKVersion = d.Version
			if d.Replace != nil {
				in.SDKVersion = d.Replace.Version
			}
		}
	}
	return in
}

// Runtime is this binary's Info.
func Runtime() Info {
	bi, _ := debug.ReadBuildInfo()
	return FromBuildInfo(bi)
}

// DefaultBuildID is the build ID the VCS stamp gives: the short commit,
// with "+dirty" for a modified tree; "" when the binary has no stamp (go
// test binaries, -buildvcs=false, a build outside the repository).
func (in Info) DefaultBuildID() string {
	if in.Revision == "" {
		return ""
	}
	id := in.Revision
	if len(id) > shortRevision {
		id = id[:shortRevision]
	}
	if in.Modified {
		id += "+dirty"
	}
	return id
}

// ErrNoBuildID is returned by Resolve when neither the override nor the VCS
// stamp gives a build ID.
var ErrNoBuildID = errors.New("no build ID: this binary has no VCS stamp (built outside git, or with -buildvcs=false); set LEADFLOW_BUILD_ID")

// Version is a worker's Worker Deployment version.
type Version struct {
	DeploymentName string
	BuildID        string
	// FromVCS says the build ID came from the binary's stamp, not an override.
	FromVCS bool
}

// String is the version as Temporal's visibility records it
// (TemporalWorkerDeploymentVersion): name:buildID.
func (v Version) String() string { return v.DeploymentName + ":" + v.BuildID }

// Resolve picks the deployment name and build ID: each override when set,
// else DefaultDeploymentName and in's DefaultBuildID. Both are validated.
func Resolve(in Info, deploymentName, buildID string) (Version, error) {
	v := Version{DeploymentName: deploymentName, BuildID: buildID}
	if v.DeploymentName == "" {
		v.DeploymentName = DefaultDeploymentName
	}
	if v.BuildID == "" {
		v.BuildID, v.FromVCS = in.DefaultBuildID(), true
	}
	var errs []error
	if err := ValidateDeploymentName(v.DeploymentName); err != nil {
		errs = append(errs, err)
	}
	if v.BuildID == "" {
		errs = append(errs, ErrNoBuildID)
	} else if err := ValidateBuildID(v.BuildID); err != nil {
		errs = append(errs, err)
	}
	return v, errors.Join(errs...)
}

// ValidateBuildID accepts 1–MaxLen bytes of letters, digits and . _ - +
// (a commit, a semver, "abc123+dirty"); anything else would be awkward in a
// CLI argument or a visibility query, and the server reserves
// "__unversioned__".
func ValidateBuildID(id string) error {
	return validate("build ID", id, "._-+")
}

// ValidateDeploymentName accepts 1–MaxLen bytes of letters, digits, _ and -:
// the server reserves "." (it separates name and build ID).
func ValidateDeploymentName(name string) error {
	return validate("deployment name", name, "_-")
}

func validate(what, s, punct string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", what)
	case len(s) > MaxLen:
		return fmt.Errorf("%s %q is %d bytes long (at most %d)", what, s, len(s), MaxLen)
	case strings.HasPrefix(s, "__"):
		return fmt.Errorf("%s %q: names starting with __ are reserved by Temporal", what, s)
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(punct, r)
		if !ok {
			return fmt.Errorf("%s %q: character %q at byte %d is not allowed (letters, digits and %s only)", what, s, r, i, punct)
		}
	}
	return nil
}

// Report is what `starter version` and `worker --version` print: one
// "key: value" line each. err is Resolve's (the build ID line then says why
// there is none); versioning is the worker's LEADFLOW_WORKER_VERSIONING.
func Report(v Version, err error, in Info, versioning string) string {
	var b strings.Builder
	source := "LEADFLOW_BUILD_ID"
	if v.FromVCS {
		source = "VCS stamp"
	}
	buildID := v.BuildID + " (" + source + ")"
	if err != nil {
		buildID = "invalid: " + strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	fmt.Fprintf(&b, "deployment:   %s\n", v.DeploymentName)
	fmt.Fprintf(&b, "build ID:     %s\n", buildID)
	if err == nil {
		fmt.Fprintf(&b, "version:      %s\n", v)
	}
	if in.Revision != "" {
		fmt.Fprintf(&b, "commit:       %s (modified: %t)\n", in.Revision, in.Modified)
	}
	fmt.Fprintf(&b, "versioning:   %s\n", versioning)
	fmt.Fprintf(&b, "go:           %s\n", orUnknown(in.GoVersion))
	fmt.Fprintf(&b, "temporal sdk: %s\n", orUnknown(in.SDKVersion))
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
