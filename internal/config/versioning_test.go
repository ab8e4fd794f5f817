package config

import (
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/buildinfo"
)

func TestVersioning(t *testing.T) {
	stamped := buildinfo.Info{Revision: "0123456789abcdef0123456789abcdef01234567"}
	for _, tc := range []struct {
		name     string
		in       buildinfo.Info
		env      map[string]string
		want     Versioning // BuildIDErr compared as nil / non-nil
		wantErr  string     // read's error, "" for none
		checkErr string     // ForWorker's, "" for none
	}{
		{name: "default off, from VCS", in: stamped,
			want: Versioning{Mode: "off", Version: buildinfo.Version{DeploymentName: "leadflow", BuildID: "0123456789ab", FromVCS: true}}},
		{name: "off without a stamp is fine", env: map[string]string{},
			want: Versioning{Mode: "off", Version: buildinfo.Version{DeploymentName: "leadflow", FromVCS: true}, BuildIDErr: buildinfo.ErrNoBuildID}},
		{name: "on with overrides", env: map[string]string{EnvWorkerVersioning: "ON", EnvBuildID: "v2", EnvDeploymentName: "leadflow-eu"},
			want: Versioning{Mode: "on", Version: buildinfo.Version{DeploymentName: "leadflow-eu", BuildID: "v2"}}},
		{name: "on without a build ID", env: map[string]string{EnvWorkerVersioning: "on"},
			want:     Versioning{Mode: "on", Version: buildinfo.Version{DeploymentName: "leadflow", FromVCS: true}, BuildIDErr: buildinfo.ErrNoBuildID},
			checkErr: "LEADFLOW_WORKER_VERSIONING=on needs a build ID: no build ID"},
		{name: "bad mode", in: stamped, env: map[string]string{EnvWorkerVersioning: "yes"}, wantErr: `LEADFLOW_WORKER_VERSIONING="yes": must be on or off`},
		{name: "bad build ID even when off", in: stamped, env: map[string]string{EnvBuildID: "a/b"}, wantErr: "LEADFLOW_BUILD_ID: build ID \"a/b\""},
		{name: "bad deployment name", in: stamped, env: map[string]string{EnvDeploymentName: "x.y"}, wantErr: "LEADFLOW_DEPLOYMENT_NAME: deployment name \"x.y\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			get := func(name, def string) string {
				if v := strings.TrimSpace(tc.env[name]); v != "" {
					return v
				}
				return def
			}
			var v Versioning
			err := joinErrs(v.read(get, tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("read error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if v.Mode != tc.want.Mode || v.Version != tc.want.Version || (v.BuildIDErr == nil) != (tc.want.BuildIDErr == nil) {
				t.Fatalf("read = %+v, want %+v", v, tc.want)
			}
			err = v.check()
			if tc.checkErr == "" && err != nil || tc.checkErr != "" && (err == nil || !strings.Contains(err.Error(), tc.checkErr)) {
				t.Fatalf("check = %v, want %q", err, tc.checkErr)
			}
		})
	}
}

// The worker refuses versioning without a build ID; serve does not care.
func TestVersioningForWorker(t *testing.T) {
	c, err := FromLookup(lookupMap(map[string]string{EnvWorkerVersioning: "on", EnvBuildID: "v1", EnvCodec: "off"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ForWorker(); err != nil {
		t.Fatalf("ForWorker with a build ID: %v", err)
	}
	c.Versioning.BuildIDErr = buildinfo.ErrNoBuildID
	if err := c.ForWorker(); err == nil || !strings.Contains(err.Error(), EnvWorkerVersioning) {
		t.Fatalf("ForWorker without a build ID: %v", err)
	}
}

func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error() + "\n")
	}
	return &strErr{b.String()}
}

type strErr struct{ s string }

func (e *strErr) Error() string { return e.s }
