package bench

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/testenv"
)

// tiny is every scenario at the smallest counts that still exercise it.
var tiny = Counts{SpeedRates: []int{5}, SpeedDuration: time.Second, SignalLeads: 2, Signals: 10, NewLeads: 5,
	PlainEvents: 2, YearEvents: 40, OpenLeads: 12, TimerLeads: 6, Concurrency: 4, DecisionTime: "1x"}

// TestTinyBenchEndToEnd runs the whole bench against a real dev server,
// Postgres, and the real worker and serve binaries. It asserts that every
// scenario produced its figures, never how fast they are.
func TestTinyBenchEndToEnd(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./worker", "./starter")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build worker and starter: %v\n%s", err, out)
	}
	var log strings.Builder
	r, err := Run(t.Context(), Options{Counts: tiny, TemporalCLI: testenv.TemporalCLI(t), DatabaseURL: storetest.ServerURL(),
		WorkerBin: filepath.Join(bin, "worker"), StarterBin: filepath.Join(bin, "starter"), RepoDir: "../..",
		Command: "go test ./internal/bench", Out: &log, Progress: time.Second})
	t.Log(log.String())
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	if err := r.WriteMarkdown(&table); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + table.String())
	figures := map[string]Row{}
	for _, row := range r.Rows {
		if row.Leadflow == "" {
			t.Errorf("row %q has no leadflow figure", row.Figure)
		}
		figures[row.Figure] = row
	}
	find := func(prefix string) Row {
		t.Helper()
		for f, row := range figures {
			if strings.HasPrefix(f, prefix) {
				return row
			}
		}
		t.Errorf("no row %q in %d rows", prefix, len(r.Rows))
		return Row{}
	}
	for _, p := range []string{"speed-to-lead p50 at 5 leads/s", "event throughput", "new-lead throughput",
		"history events per plain event", "history events per handoff"} {
		if row := find(p); p != "history events per handoff" && (row.Floor == "" || row.Ratio == "") {
			t.Errorf("%q has no floor or ratio: %+v", p, row)
		}
	}
	if row := find("every run's history replays"); !strings.HasPrefix(row.Leadflow, "1/1 replayed") {
		t.Errorf("replay: %+v", row)
	}
	if row := find("SLA step lateness, 6 steps"); row.Verdict == "" {
		t.Errorf("lateness: %+v", row)
	}
	find("12 open leads (100,000 not run: see counts): worker RSS")
	if row := find("decision path"); !strings.Contains(row.Leadflow, "allocs/op") {
		t.Errorf("decision path: %+v", row)
	}
	find("lead alerts raised")
	find("of which the POST /v1/events answer")
	if !strings.Contains(log.String(), "bench:   ") {
		t.Errorf("no progress line printed:\n%s", log.String())
	}
}
