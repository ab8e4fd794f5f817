package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/leadflow/leadflow/internal/bench"
)

const benchDetail = `
Starts a Temporal dev server (in memory, eager activities on; or connects to
--temporal-address), a fresh Postgres database beside --database-url, the
leadflow worker and serve, and a floor of minimal Temporal workflows on the
same server. Runs speed-to-lead, event and new-lead throughput, history
events per event, one lead fed a year of events, open leads with SLA timers
due together, and the decision-path benchmark; prints a progress line every
few seconds and one markdown table (docs/benchmarks.md explains it).
--quick (the default) is every scenario at small counts, for CI; --full is
the counts of the issue, for the record. Run from the source tree.`

func cmdBench(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	full := fs.Bool("full", false, "the counts for the record (default: --quick)")
	quick := fs.Bool("quick", false, "every scenario at small counts, a few minutes (the default)")
	record := fs.Bool("record", false, "append the table to docs/benchmarks.md")
	repo := fs.String("repo", ".", "the leadflow source `dir`: directory file, commit, Go benchmarks, docs")
	addr := fs.String("temporal-address", "", "use this Temporal server instead of starting a dev server")
	cli := fs.String("temporal-cli", "", "the temporal CLI (default: $LEADFLOW_TEMPORAL_CLI, the cached pinned CLI, else PATH)")
	dbURL := fs.String("database-url", "", "Postgres `URL` whose server gets a fresh database (default DATABASE_URL, else postgres@127.0.0.1:5432)")
	workerBin := fs.String("worker-bin", "", "the worker binary (default: worker beside starter, else go build ./worker)")
	openLeads := fs.Int("open-leads", 0, "override the open-leads count")
	timerLeads := fs.Int("timer-leads", 0, "override how many of them have SLA steps due together")
	note := fs.String("note", "", "a note printed with the table (e.g. the machine was shared)")
	if _, err := parseArgs(c, fs, args, 0, 0); err != nil {
		return err
	}
	if *full && *quick {
		return usagef(c, "--full and --quick exclude each other")
	}
	counts := bench.Quick
	if *full {
		counts = bench.Full
	}
	if *openLeads < 0 || *timerLeads < 0 {
		return usagef(c, "--open-leads and --timer-leads must not be negative")
	}
	if *openLeads > 0 {
		counts.OpenLeads = *openLeads
	}
	if *timerLeads > 0 {
		counts.TimerLeads = *timerLeads
	}
	counts.TimerLeads = min(counts.TimerLeads, counts.OpenLeads)
	if *dbURL == "" {
		*dbURL = os.Getenv("DATABASE_URL")
	}
	if *dbURL == "" {
		*dbURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the starter binary: %w", err)
	}
	tmp, err := os.MkdirTemp("", "leadflow-bench-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if *workerBin == "" {
		if *workerBin, err = findWorker(ctx, self, *repo, tmp); err != nil {
			return err
		}
	}
	if *addr == "" && *cli == "" {
		if *cli, err = temporalCLI(); err != nil {
			return err
		}
	}
	o := bench.Options{Counts: counts, TemporalAddress: *addr, TemporalCLI: *cli, DatabaseURL: *dbURL,
		WorkerBin: *workerBin, StarterBin: self, RepoDir: *repo, Note: *note, Out: a.stdout,
		Command: strings.TrimSpace("starter bench " + strings.Join(args, " "))}
	r, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout)
	if err := r.WriteMarkdown(a.stdout); err != nil {
		return err
	}
	if *record {
		path := filepath.Join(*repo, "docs", "benchmarks.md")
		if err := bench.Record(path, r); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "\nappended to %s\n", path)
	}
	return nil
}

// findWorker is the worker binary beside starter, else one built from the
// source tree into dir.
func findWorker(ctx context.Context, self, repo, dir string) (string, error) {
	beside := filepath.Join(filepath.Dir(self), "worker")
	if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() {
		return beside, nil
	}
	out := filepath.Join(dir, "worker")
	build := exec.CommandContext(ctx, "go", "build", "-o", out, "./worker")
	build.Dir = repo
	if b, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("no worker beside %s and `go build ./worker` in %s failed: %w\n%s", self, repo, err, b)
	}
	return out, nil
}

// temporalCLI finds the CLI where the tests look (internal/testenv):
// $LEADFLOW_TEMPORAL_CLI, the pinned one in the user cache, else PATH.
func temporalCLI() (string, error) {
	if p := os.Getenv("LEADFLOW_TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	if dir, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(dir, "leadflow", "bin", "temporal-v1.5.1")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	return "", errors.New("temporal CLI not found: run `make temporal-cli`, or pass --temporal-cli or --temporal-address")
}
