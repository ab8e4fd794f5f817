package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

// envWorkerMain makes the test binary run main instead of the tests.
const envWorkerMain = "LEADFLOW_TEST_RUN_WORKER_MAIN"

// The worker binary refuses to start without codec keys (or with malformed
// ones): exit 2 and a message saying what to set. main runs in a child
// process (this test binary, re-executed) so its os.Exit is observable.
func TestMainRefusesWithoutCodecKeys(t *testing.T) {
	if os.Getenv(envWorkerMain) == "1" {
		main()
		return
	}
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"no keys", nil, []string{"LEADFLOW_CODEC_KEYS or LEADFLOW_CODEC_KEYS_FILE is required by the worker", "LEADFLOW_CODEC=off"}},
		{"a short key", []string{"LEADFLOW_CODEC_KEYS=k1:c2hvcnQ="}, []string{`LEADFLOW_CODEC_KEYS: key "k1": 5 bytes after base64 decoding, AES-256 needs 32`}},
		{"a missing key file", []string{"LEADFLOW_CODEC_KEYS_FILE=/nonexistent/keys"}, []string{"LEADFLOW_CODEC_KEYS_FILE: read key file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMainRefusesWithoutCodecKeys$")
			cmd.Env = append(withoutCodecEnv(os.Environ()), envWorkerMain+"=1",
				// Where it would go next: never reached.
				"TEMPORAL_ADDRESS=127.0.0.1:1", "DATABASE_URL=postgres://postgres@127.0.0.1:1/none?sslmode=disable")
			cmd.Env = append(cmd.Env, tc.env...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("worker exited with %v; want exit status 2\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func withoutCodecEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "LEADFLOW_CODEC") {
			out = append(out, kv)
		}
	}
	return out
}

// LEADFLOW_CODEC=off: the worker runs without keys (run logs the warning;
// temporalx tests its text) and its payloads are plain.
func testCodecOff(t *testing.T, srv *testenv.DevServer) {
	ready := make(chan struct{})
	r := startWorker(t, srv, map[string]string{"LEADFLOW_CODEC": "off", "LEADFLOW_CODEC_KEYS": ""}, hooks{ready: ready})
	r.waitReady(t, ready)
	importDirectory(t, r)
	raw := srv.RawClient(t) // no codec, like the worker
	leads := temporalx.NewLeadClient(raw, r.cfg.TaskQueue)
	ev := lead.Event{ID: "off-1", LeadID: "OFF-1", Type: lead.EventFormSubmit, OccurredAt: time.Now().UTC(), Source: "website",
		Attributes: map[string]any{"form": "quote_request"},
		Profile:    &lead.Profile{Email: "off@initech.com", Domain: "initech.com", Country: "US", Employees: 400}}
	if err := leads.Deliver(t.Context(), "OFF-1", ev); err != nil {
		t.Fatal(err)
	}
	// The worker runs the lead: its state query answers, scored.
	eventually(t, 30*time.Second, "the plain lead is scored", func() bool {
		var v lead.View
		return leads.Query(t.Context(), "OFF-1", lead.QueryState, &v) == nil && v.LeadID == "OFF-1" && v.Score.Total > 0
	})
	found := false
	for _, e := range history(t, raw, lead.WorkflowID("OFF-1")) {
		if a := e.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
			found = strings.Contains(string(a.GetInput().GetPayloads()[0].GetData()), "off@initech.com")
		}
	}
	if !found {
		t.Error("with LEADFLOW_CODEC=off the signal payload should be plain JSON")
	}
}
