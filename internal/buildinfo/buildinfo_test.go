package buildinfo

import (
	"errors"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Deps: []*debug.Module{
			{Path: "go.temporal.io/api", Version: "v1.64.1"},
			{Path: "go.temporal.io/sdk", Version: "v1.50.0"},
		},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "1a3de8f0123456789abcdef0123456789abcdef0"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	got := FromBuildInfo(bi)
	want := Info{Revision: "1a3de8f0123456789abcdef0123456789abcdef0", Modified: true, GoVersion: "go1.26.8", SDKVersion: "v1.50.0"}
	if got != want {
		t.Fatalf("FromBuildInfo = %+v, want %+v", got, want)
	}
	if got := FromBuildInfo(nil); got != (Info{}) {
		t.Fatalf("FromBuildInfo(nil) = %+v, want zero", got)
	}
	replaced := &debug.BuildInfo{Deps: []*debug.Module{{Path: "go.temporal.io/sdk", Version: "v1.50.0", Replace: &debug.Module{Path: "../sdk", Version: "v1.51.0-dev"}}}}
	if got := FromBuildInfo(replaced).SDKVersion; got != "v1.51.0-dev" {
		t.Fatalf("replaced SDK version = %q, want the replacement's", got)
	}
}

func TestDefaultBuildID(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Info
		want string
	}{
		{"clean commit", Info{Revision: "1a3de8f0123456789abcdef0123456789abcdef0"}, "1a3de8f01234"},
		{"dirty tree", Info{Revision: "1a3de8f0123456789abcdef0123456789abcdef0", Modified: true}, "1a3de8f01234+dirty"},
		{"short revision kept whole", Info{Revision: "abc"}, "abc"},
		{"no stamp", Info{GoVersion: "go1.26.8"}, ""},
		{"no stamp, modified ignored", Info{Modified: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.DefaultBuildID(); got != tc.want {
				t.Fatalf("DefaultBuildID = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	stamped := Info{Revision: "1a3de8f0123456789abcdef0123456789abcdef0"}
	for _, tc := range []struct {
		name           string
		in             Info
		deployment, id string
		want           Version
		wantErr        string // substring; "" for none
	}{
		{name: "defaults from VCS", in: stamped,
			want: Version{DeploymentName: "leadflow", BuildID: "1a3de8f01234", FromVCS: true}},
		{name: "override wins over VCS", in: stamped, deployment: "leadflow-eu", id: "v2.3.0",
			want: Version{DeploymentName: "leadflow-eu", BuildID: "v2.3.0"}},
		{name: "override without VCS", id: "2026-12-01.1",
			want: Version{DeploymentName: "leadflow", BuildID: "2026-12-01.1"}},
		{name: "neither", wantErr: "set LEADFLOW_BUILD_ID",
			want: Version{DeploymentName: "leadflow", FromVCS: true}},
		{name: "bad build ID", in: stamped, id: "v2 final", wantErr: `build ID "v2 final": character ' '`},
		{name: "slash in build ID", id: "feature/x", wantErr: "character '/'"},
		{name: "reserved build ID", id: "__unversioned__", wantErr: "reserved"},
		{name: "too long build ID", id: strings.Repeat("a", MaxLen+1), wantErr: "at most 128"},
		{name: "longest build ID", id: strings.Repeat("a", MaxLen),
			want: Version{DeploymentName: "leadflow", BuildID: strings.Repeat("a", MaxLen)}},
		{name: "dot in deployment name", in: stamped, deployment: "lead.flow", wantErr: `deployment name "lead.flow": character '.'`},
		{name: "both bad, both reported", deployment: "a b", id: "c d", wantErr: "deployment name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(tc.in, tc.deployment, tc.id)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Resolve: %v", err)
				}
				if got != tc.want {
					t.Fatalf("Resolve = %+v, want %+v", got, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Resolve error = %v, want one containing %q", err, tc.wantErr)
			}
			if tc.want != (Version{}) && got != tc.want {
				t.Fatalf("Resolve = %+v, want %+v", got, tc.want)
			}
		})
	}
	_, err := Resolve(Info{}, "", "")
	if !errors.Is(err, ErrNoBuildID) {
		t.Fatalf("Resolve with nothing: %v, want ErrNoBuildID", err)
	}
	_, err = Resolve(Info{}, "a b", "c d")
	if err == nil || !strings.Contains(err.Error(), "deployment name") || !strings.Contains(err.Error(), "build ID") {
		t.Fatalf("both bad: %v, want both named", err)
	}
}

func TestReport(t *testing.T) {
	in := Info{Revision: "1a3de8f0123456789abcdef0123456789abcdef0", GoVersion: "go1.26.8", SDKVersion: "v1.50.0"}
	v, err := Resolve(in, "", "")
	got := Report(v, err, in, "on")
	for _, want := range []string{
		"deployment:   leadflow\n",
		"build ID:     1a3de8f01234 (VCS stamp)\n",
		"version:      leadflow:1a3de8f01234\n",
		"commit:       1a3de8f0123456789abcdef0123456789abcdef0 (modified: false)\n",
		"versioning:   on\n",
		"go:           go1.26.8\n",
		"temporal sdk: v1.50.0\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Report lacks %q:\n%s", want, got)
		}
	}
	v, err = Resolve(Info{}, "", "")
	got = Report(v, err, Info{}, "off")
	if !strings.Contains(got, "build ID:     invalid: no build ID") || !strings.Contains(got, "go:           unknown") || strings.Contains(got, "commit:") {
		t.Errorf("Report without a stamp:\n%s", got)
	}
	v, err = Resolve(in, "", "v9")
	if got := Report(v, err, in, "off"); !strings.Contains(got, "build ID:     v9 (LEADFLOW_BUILD_ID)") {
		t.Errorf("Report with an override:\n%s", got)
	}
}
