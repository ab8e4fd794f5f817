package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const (
	deployPolicy    = "../deploy/policy.yaml"
	deployDirectory = "../deploy/directory.yaml"
)

func TestPolicyCheckOK(t *testing.T) {
	ta := newTestApp(t, nil)
	if code := ta.run(t, "policy", "check", deployPolicy); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	ok := regexp.MustCompile(`^ok: version \S+ \(\d+ intent rules, \d+ fit rules, \d+ routing rules\)\n$`)
	if !ok.MatchString(ta.out.String()) {
		t.Errorf("stdout %q does not match %s", ta.out, ok)
	}

	if code := ta.run(t, "policy", "check", deployPolicy, "--directory", deployDirectory); code != exitOK {
		t.Fatalf("with --directory: exit %d", code)
	}
	if !strings.Contains(ta.out.String(), "has every pool the policy routes to") {
		t.Errorf("with --directory: stdout %q", ta.out)
	}
}

func TestPolicyCheckErrors(t *testing.T) {
	src, err := os.ReadFile(deployPolicy)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	broken := strings.Replace(string(src), "mql_threshold: 50", "mql_threshold: lots", 1)
	broken = strings.Replace(broken, "action: remind", "action: shout", 1)
	if broken == string(src) {
		t.Fatal("test fixture no longer matches deploy/policy.yaml")
	}
	if err := os.WriteFile(bad, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	ta := newTestApp(t, nil)
	if code := ta.run(t, "policy", "check", bad); code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if ta.out.Len() != 0 {
		t.Errorf("stdout should be empty on failure: %q", ta.out)
	}
	for _, want := range []string{`bad\.yaml:\d+: scoring\.mql_threshold`, `bad\.yaml:\d+: sla\.ladder`} {
		if !regexp.MustCompile(want).MatchString(ta.errOut.String()) {
			t.Errorf("stderr lacks %s:\n%s", want, ta.errOut)
		}
	}

	// Pools the directory does not have.
	pools := filepath.Join(dir, "pools.yaml")
	if err := os.WriteFile(pools, []byte(strings.Replace(string(src), "pool: inbound-sdrs", "pool: nobody-sdrs", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := ta.run(t, "policy", "check", pools, "--directory", deployDirectory); code != exitFailure {
		t.Fatalf("unknown pool: exit %d, want 1", code)
	}
	if !regexp.MustCompile(`pools\.yaml:\d+: .*nobody-sdrs`).MatchString(ta.errOut.String()) {
		t.Errorf("stderr does not name the pool with file:line:\n%s", ta.errOut)
	}

	// A broken directory is reported with its lines.
	badDir := filepath.Join(dir, "dir.yaml")
	if err := os.WriteFile(badDir, []byte("reps:\n  - { id: rep-1, name: A, timezone: Mars/Olympus }\npools: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := ta.run(t, "policy", "check", deployPolicy, "--directory", badDir); code != exitFailure {
		t.Fatalf("bad directory: exit %d, want 1", code)
	}
	if !regexp.MustCompile(`dir\.yaml:2:`).MatchString(ta.errOut.String()) {
		t.Errorf("stderr lacks dir.yaml:2:\n%s", ta.errOut)
	}

	if code := ta.run(t, "policy", "check", filepath.Join(dir, "missing.yaml")); code != exitFailure {
		t.Fatalf("missing file: exit %d, want 1", code)
	}
}
