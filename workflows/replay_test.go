package workflows

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/baseline"
	"github.com/leadflow/leadflow/internal/lead"
)

// historiesRoot holds one sealed directory per release (internal/baseline).
const historiesRoot = "testdata/histories"

// Every release's baseline (testdata/histories/<release>/, recorded by
// `make record-histories RELEASE=…` and `make export-histories`) must replay
// without a nondeterminism error against the current code. A change to the
// workflow that breaks one needs a workflow.GetVersion gate, never a
// re-recording: a release directory is never rewritten (TestBaselineSealed).
func TestReplayRecordedHistories(t *testing.T) {
	dirs, err := baseline.Dirs(historiesRoot)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, d := range dirs {
		names, err := baseline.Histories(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			files = append(files, filepath.Join(d, n))
		}
	}
	if len(files) == 0 {
		t.Fatalf("no history in the release directories %v", dirs)
	}
	// Histories from before the first release, at the top of the directory,
	// replay too while they are there; nothing depends on them.
	pre, err := filepath.Glob(filepath.Join(historiesRoot, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, pre...)
	src, err := os.ReadFile("testdata/policy-fast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, f := range files {
		name, _ := filepath.Rel(historiesRoot, f)
		t.Run(name, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			// The policy and the history cap the histories ran under come
			// from their own recorded markers: this policy only satisfies the
			// constructor, and this cap (below most histories' length) would
			// change their decisions if the workflow read it on replay.
			leads := New(Config{Policies: staticPolicy{mustPolicy(string(src))}, HistoryCap: 60})
			r.RegisterWorkflowWithOptions(leads.LeadWorkflow, workflow.RegisterOptions{Name: lead.WorkflowType})
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
