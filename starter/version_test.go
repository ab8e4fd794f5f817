package main

import (
	"strings"
	"testing"
)

// `starter version` prints the build as the environment resolves it, and
// refuses a build ID the worker would refuse.
func TestVersionCommand(t *testing.T) {
	t.Setenv("LEADFLOW_BUILD_ID", "v7")
	t.Setenv("LEADFLOW_DEPLOYMENT_NAME", "leadflow-eu")
	t.Setenv("LEADFLOW_WORKER_VERSIONING", "on")
	ta := newTestApp(t, nil)
	if code := ta.run(t, "version"); code != exitOK {
		t.Fatalf("version: exit %d", code)
	}
	for _, want := range []string{"deployment:   leadflow-eu\n", "build ID:     v7 (LEADFLOW_BUILD_ID)\n", "version:      leadflow-eu:v7\n", "versioning:   on\n", "temporal sdk: "} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	t.Setenv("LEADFLOW_BUILD_ID", "v7 final")
	if code := ta.run(t, "version"); code != exitUsage || !strings.Contains(ta.errOut.String(), `LEADFLOW_BUILD_ID: build ID "v7 final"`) {
		t.Fatalf("a bad build ID: exit %d, stderr %q; want 2 naming it", code, ta.errOut)
	}
	if code := ta.run(t, "version", "extra"); code != exitUsage {
		t.Fatalf("an argument: exit %d, want 2", code)
	}
}
