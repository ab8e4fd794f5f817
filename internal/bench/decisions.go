package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
)

// benchLine matches BenchmarkDecisionsPerLead's result line.
var benchLine = regexp.MustCompile(`(?m)^BenchmarkDecisionsPerLead\S*\s+\d+\s+([\d.]+) ns/op\s+(\d+) B/op\s+(\d+) allocs/op`)

// decisions runs the Go benchmark of the pure decision path per lead
// (internal/benchmarks: scoring + routing + SLA), which needs the source
// tree and the go command.
func (b *bench) decisions(ctx context.Context) error {
	fig := "decision path per lead (scoring + routing + SLA), `BenchmarkDecisionsPerLead`"
	if _, err := os.Stat(filepath.Join(b.o.RepoDir, "go.mod")); err != nil {
		b.report.Add(Row{Figure: fig, Leadflow: "not run: no source tree at " + b.o.RepoDir})
		return nil
	}
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkDecisionsPerLead$", "-benchmem",
		"-benchtime", b.o.Counts.DecisionTime, "./internal/benchmarks")
	cmd.Dir = b.o.RepoDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go test -bench DecisionsPerLead: %w\n%s", err, out)
	}
	m := benchLine.FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("no BenchmarkDecisionsPerLead result in:\n%s", out)
	}
	b.report.Add(Row{Figure: fig, Leadflow: fmt.Sprintf("%s ns/op, %s B/op, %s allocs/op", m[1], m[2], m[3])})
	return nil
}
