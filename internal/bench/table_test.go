package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sampleReport() *Report {
	r := &Report{Env: Environment{CPU: "Test CPU", Cores: "2", RAM: "4.0 GiB", Go: "go1.26", Temporal: "CLI v1.5.1",
		Commit: "abc1234", Command: "starter bench --quick", Date: "2026-12-01 10:00 UTC", Counts: "tiny", Note: "shared"}}
	r.Add(Row{Figure: "speed-to-lead p50", Leadflow: "20.0 ms", Floor: "10.0 ms", Ratio: "2.00×", Target: "≤ 2× floor", Verdict: "met"})
	r.Add(Row{Figure: "a | pipe\nand newline", Leadflow: "1"})
	return r
}

func TestWriteMarkdown(t *testing.T) {
	var b strings.Builder
	if err := sampleReport().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"### 2026-12-01 10:00 UTC — `starter bench --quick`\n",
		"- machine: Test CPU, 2 cores, 4.0 GiB RAM\n",
		"- versions: go1.26, Temporal CLI v1.5.1, leadflow abc1234\n",
		"- counts: tiny\n", "- note: shared\n",
		"| figure | leadflow | floor | ratio | target | verdict |\n|---|---|---|---|---|---|\n",
		"| speed-to-lead p50 | 20.0 ms | 10.0 ms | 2.00× | ≤ 2× floor | met |\n",
		"| a \\| pipe and newline | 1 |  |  |  |  |\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Every table line has the same number of unescaped cells.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "|") {
			if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != 7 {
				t.Errorf("%d separators in %q", n, line)
			}
		}
	}
}

func TestRecordAppendsAndKeeps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	const old = "# Benchmarks\n\nearlier figures"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := Record(path, sampleReport()); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.HasPrefix(got, old+"\n") {
		t.Errorf("earlier content not kept:\n%s", got)
	}
	if n := strings.Count(got, recordHeading); n != 1 {
		t.Errorf("heading %d times, want once:\n%s", n, got)
	}
	if n := strings.Count(got, "| speed-to-lead p50 |"); n != 2 {
		t.Errorf("%d tables, want 2 (one per run)", n)
	}
}
