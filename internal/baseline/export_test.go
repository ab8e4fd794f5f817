package baseline

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/testenv"
	"github.com/leadflow/leadflow/workflows"
)

type fixedPolicy struct{ p *policy.Policy }

func (f fixedPolicy) Current() *policy.Policy { return f.p }

// leadWorkflow is the real lead workflow on the fast test policy.
func leadWorkflow(t *testing.T) func(workflow.Context, workflows.Input) error {
	t.Helper()
	src, err := os.ReadFile("../../workflows/testdata/policy-fast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse("policy-fast.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return workflows.New(workflows.Config{Policies: fixedPolicy{p}}).LeadWorkflow
}

// okActivity answers every activity a new lead calls (the ledger, nurture).
func okActivity(context.Context, map[string]any) (map[string]any, error) {
	return map[string]any{"sent": true}, nil
}

// The export of a server whose payloads are encrypted, as the demo's are:
// decoded with the codec (nested payloads too), the lead histories are
// plain, sealed with the stages they show, and replay with no key against
// the lead workflow; without the codec nothing is sealed.
func TestExportDecodesAndSeals(t *testing.T) {
	srv := testenv.StartDevServer(t, testenv.DevServerOptions{})
	enc := srv.Client(t) // the worker and the HTTP edge encrypt, as in the demo
	w := worker.New(enc, "export-test", worker.Options{})
	w.RegisterWorkflowWithOptions(leadWorkflow(t), workflow.RegisterOptions{Name: lead.WorkflowType})
	for _, name := range []string{actions.Record, actions.NurtureEnroll, actions.NurtureSend} {
		w.RegisterActivityWithOptions(okActivity, activity.RegisterOptions{Name: name})
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, id := range []string{"x-1", "x-2"} {
		ev := lead.Event{ID: "e1", LeadID: id, Type: lead.EventEmailOpen, OccurredAt: time.Now().UTC(),
			Profile: &lead.Profile{Email: "pat@secret.example", Company: "Smallco", Country: "US"}}
		_, err := enc.SignalWithStartWorkflow(ctx, lead.WorkflowID(id), lead.SignalEvent, ev,
			client.StartWorkflowOptions{ID: lead.WorkflowID(id), TaskQueue: "export-test"}, lead.WorkflowType, workflows.Input{LeadID: id})
		if err != nil {
			t.Fatal(err)
		}
	}
	raw := srv.RawClient(t)
	// Visibility trails the leads: wait until both are listed in stage lead.
	inLead := `WorkflowType = "` + lead.WorkflowType + `" AND ` + lead.SALeadStage + ` = "lead"`
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := raw.CountWorkflow(ctx, countRequest(inLead))
		if err == nil && n.GetCount() == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("visibility: %v, %v", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// One closed lead, one open.
	if err := enc.CancelWorkflow(ctx, lead.WorkflowID("x-1"), ""); err != nil {
		t.Fatal(err)
	}
	_ = enc.GetWorkflow(ctx, lead.WorkflowID("x-1"), "").Get(ctx, nil)

	root := t.TempDir()
	plain := filepath.Join(root, "v0.1.0", "plain")
	if _, err := Export(ctx, raw, ExportOptions{Dir: plain, Release: "v0.1.0", Queries: []string{inLead}}); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("export without the codec: want a refusal of encrypted payloads, got %v", err)
	}
	if _, err := os.Stat(plain); err == nil {
		t.Fatal("a refused export left its directory")
	}

	dir := filepath.Join(root, "v0.1.0", "demo")
	n, err := Export(ctx, raw, ExportOptions{Dir: dir, Release: "v0.1.0", Queries: StageQueries(lead.WorkflowType), Decoder: testenv.Codec(t)})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("exported %d histories, want 2", n)
	}
	if err := Verify(dir); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != "export" || m.Release != "v0.1.0" {
		t.Errorf("manifest %+v", m)
	}
	names, err := Histories(dir)
	if err != nil || len(names) != 2 {
		t.Fatalf("histories %v, %v", names, err)
	}
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, name := range names {
		if got := m.Histories[name].Claims; len(got) != 1 || got[0] != "stage:lead" {
			t.Errorf("%s claims %v, want [stage:lead]", name, got)
		}
		h, err := ReadHistory(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		signal := h.GetEvents()[1].GetWorkflowExecutionSignaledEventAttributes().GetInput().GetPayloads()[0]
		if !strings.Contains(string(signal.GetData()), "pat@secret.example") {
			t.Errorf("%s: the event is not in the file in plain JSON: %s", name, signal)
		}
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(leadWorkflow(t), workflow.RegisterOptions{Name: lead.WorkflowType})
		if err := r.ReplayWorkflowHistoryFromJSONFile(logger, filepath.Join(dir, name)); err != nil {
			t.Fatalf("replay %s without a key: %v", name, err)
		}
	}
	if _, err := Export(ctx, raw, ExportOptions{Dir: dir, Release: "v0.1.0", Queries: StageQueries(lead.WorkflowType), Decoder: testenv.Codec(t)}); err == nil {
		t.Fatal("an export into an existing directory: not refused")
	}
}
