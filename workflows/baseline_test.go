package workflows

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/leadflow/leadflow/internal/baseline"
)

// envNoGit lets the gate run on a tree without its git history (a source
// tarball), on the manifests alone; it must be set on purpose, so a CI
// clone that lost its history fails instead of passing on less.
const envNoGit = "LEADFLOW_BASELINE_NO_GIT"

// The baseline is frozen: every release directory matches its manifest
// (the same files, the same SHA-256, each history still showing the paths
// it claims), and no committed history was changed after the commit that
// added it. There must be at least one release: an empty baseline fails.
func TestBaselineSealed(t *testing.T) {
	dirs, err := baseline.Dirs(historiesRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		name, _ := filepath.Rel(historiesRoot, d)
		t.Run(name, func(t *testing.T) {
			if err := baseline.Verify(d); err != nil {
				t.Fatal(err)
			}
		})
	}
	err = baseline.CheckGit(context.Background(), historiesRoot)
	switch {
	case errors.Is(err, baseline.ErrNoGitHistory) && os.Getenv(envNoGit) == "1":
		t.Logf("%v; %s=1: checked against the manifests only", err, envNoGit)
	case errors.Is(err, baseline.ErrNoGitHistory):
		t.Fatalf("%v: the gate needs the repository's history to see a rewritten baseline (set %s=1 on a tree that has none)", err, envNoGit)
	case err != nil:
		t.Fatal(err)
	}
}
