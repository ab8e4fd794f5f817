package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMainRefusesShortSecrets runs the worker's main in a child process
// (this test binary, re-executed with envWorkerMain set) with a short
// LEADFLOW_ID_KEY: it must exit 2 naming the variable, before it tries
// to reach Postgres or Temporal.
func TestMainRefusesShortSecrets(t *testing.T) {
	if os.Getenv(envWorkerMain) == "1" {
		main()
		return
	}
	// Bounded: a worker that does not refuse retries Temporal for ever.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMainRefusesShortSecrets$")
	cmd.Env = append(os.Environ(), envWorkerMain+"=1",
		"LEADFLOW_ID_KEY=short", "LEADFLOW_INSECURE_DEMO=",
		"LEADFLOW_POLICY=../deploy/policy.yaml", "TEMPORAL_ADDRESS=127.0.0.1:1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("worker with a 5-byte LEADFLOW_ID_KEY: %v, want exit 2; output %s", err, out)
	}
	if !strings.Contains(string(out), "LEADFLOW_ID_KEY is 5 bytes: secrets must be at least 32 bytes") {
		t.Errorf("output does not name the short secret: %s", out)
	}
}
