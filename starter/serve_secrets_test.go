package main

import (
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/testenv"
)

// TestServeRefusesShortSecrets: serve exits 2 naming each secret under 32
// bytes, before it connects to anything; LEADFLOW_INSECURE_DEMO=1 lets it
// past the check (it then fails later, on the unreachable Temporal).
func TestServeRefusesShortSecrets(t *testing.T) {
	env := map[string]string{
		config.EnvWebhookSecret: "short-secret",
		config.EnvIDKey:         testIDKey,
		config.EnvAPIToken:      "tok",
		config.EnvDatabaseURL:   "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1",
		config.EnvCodecKeys:     testenv.CodecKeys,
	}
	ta := newTestApp(t, env)
	if code := ta.run(t, "serve"); code != exitUsage {
		t.Fatalf("serve with short secrets: exit %d, want %d; stderr %s", code, exitUsage, ta.errOut)
	}
	msg := ta.errOut.String()
	for _, want := range []string{"LEADFLOW_WEBHOOK_SECRET is 12 bytes", "LEADFLOW_API_TOKEN is 3 bytes", "LEADFLOW_INSECURE_DEMO=1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "LEADFLOW_ID_KEY is") {
		t.Errorf("stderr %q names the 32-byte ID key", msg)
	}

	env[config.EnvInsecureDemo] = "1"
	demo := newTestApp(t, env)
	if code := demo.run(t, "serve"); code != exitFailure {
		t.Fatalf("serve with the demo flag: exit %d, want %d (past the secrets check, failing on Postgres); stderr %s", code, exitFailure, demo.errOut)
	}
	if log := demo.errOut.String(); !strings.Contains(log, "LEADFLOW_INSECURE_DEMO is set") || strings.Contains(log, "bytes: secrets must be") {
		t.Errorf("serve log with the demo flag: want the warning and no refusal, got %s", log)
	}
}
