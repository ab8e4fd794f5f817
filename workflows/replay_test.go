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

	"github.com/leadflow/leadflow/internal/lead"
)

// Every recorded history (testdata/histories, written by `make
// record-histories` from runs on a real dev server) must replay without a
// nondeterminism error against the current code. A change to the workflow
// that breaks one needs a workflow.GetVersion gate, not a re-recording.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("expected the recorded histories in testdata/histories, found %d", len(files))
	}
	src, err := os.ReadFile("testdata/policy-fast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
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
