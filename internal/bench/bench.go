// Package bench is `starter bench`: leadflow measured end to end on a
// Temporal dev server and Postgres, beside a floor of minimal Temporal
// workflows run in the same run on the same server, so every figure can be
// read against what the server itself costs on this (possibly busy) machine.
package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/temporalx"
)

// Counts sizes every scenario.
type Counts struct {
	SpeedRates    []int         // leads per second of the speed-to-lead runs
	SpeedDuration time.Duration // how long each rate is sent
	SignalLeads   int           // existing leads the event throughput is spread over
	Signals       int           // events sent to them
	NewLeads      int           // new-lead throughput
	PlainEvents   int           // one-at-a-time events counted for history per event
	YearEvents    int           // events of the one long-lived lead
	OpenLeads     int           // leads kept open at once
	TimerLeads    int           // of those, handoffs whose SLA steps fall due together
	Concurrency   int           // senders of the throughput runs
	DecisionTime  string        // -benchtime of the decision-path benchmark
}

// Quick is every scenario at a few minutes' size: for CI, not for figures.
var Quick = Counts{SpeedRates: []int{5, 20, 50}, SpeedDuration: 2 * time.Second, SignalLeads: 5, Signals: 60,
	NewLeads: 30, PlainEvents: 5, YearEvents: 300, OpenLeads: 200, TimerLeads: 100, Concurrency: 8, DecisionTime: "100x"}

// Full is the counts the issue names (OpenLeads may be lowered with a flag
// where 100,000 does not finish in reasonable time).
var Full = Counts{SpeedRates: []int{5, 20, 50}, SpeedDuration: 20 * time.Second, SignalLeads: 20, Signals: 2000,
	NewLeads: 1000, PlainEvents: 20, YearEvents: 10000, OpenLeads: 100000, TimerLeads: 10000, Concurrency: 16, DecisionTime: "1s"}

// Options say what to run against.
type Options struct {
	Counts Counts
	// TemporalAddress connects to a running server; "" starts a dev server
	// with TemporalCLI.
	TemporalAddress string
	TemporalCLI     string
	// DatabaseURL is a Postgres URL whose server gets a fresh database.
	DatabaseURL string
	WorkerBin   string // the leadflow worker binary
	StarterBin  string // the starter binary (runs `serve`)
	// RepoDir is the source tree: directory file, git commit, the
	// decision-path Go benchmark.
	RepoDir string
	Command string // as typed, for the table
	Note    string // shown under the table, e.g. that the machine is shared
	Out     io.Writer
	// Progress is how often a progress line is printed (default 5s).
	Progress time.Duration
}

// bench is one run's state.
type bench struct {
	o       Options
	c       client.Client
	cfg     config.Config // how the bench itself reaches Temporal (with the codec)
	st      *store.DB
	post    *poster
	floor   *floor
	worker  *proc
	serve   *proc
	srv     *devServer
	srvPID  int
	dir     string
	policy  string // path of the policy file the worker runs on
	runID   string // keeps this run's lead IDs apart from any other's
	report  Report
	newRate float64 // leadflow new leads/s, to size the open-leads phase
	// handoffIDs are speed-to-lead leads, whose histories are counted.
	handoffIDs []string
	// eventLeads are the event-throughput leads, settled.
	eventLeads []string
}

// Run runs every scenario and returns the table.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Progress <= 0 {
		o.Progress = 5 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Counts.TimerLeads > o.Counts.OpenLeads {
		return nil, fmt.Errorf("counts: timer leads (%d) exceed open leads (%d)", o.Counts.TimerLeads, o.Counts.OpenLeads)
	}
	dir, err := os.MkdirTemp("", "leadflow-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, dir: dir, floor: newFloor(), runID: fmt.Sprintf("r%x", time.Now().UnixNano()%0xffffff)}
	defer func() {
		if err == nil {
			_ = os.RemoveAll(dir)
		} else {
			fmt.Fprintf(o.Out, "bench: logs kept in %s\n", dir)
		}
	}()
	stop, err := b.setUp(ctx)
	defer stop()
	if err != nil {
		return nil, err
	}
	scenarios := []struct {
		name string
		run  func(context.Context) error
	}{
		{"speed-to-lead", b.speed},
		{"event throughput", b.eventThroughput},
		{"new-lead throughput", b.newLeadThroughput},
		{"history per event", b.historyPerEvent},
		{"a year of events on one lead", b.year},
		{"open leads and SLA timers", b.openLeads},
		{"decision path", b.decisions},
		{"alerts", b.alerts},
	}
	for _, s := range scenarios {
		fmt.Fprintf(o.Out, "bench: %s …\n", s.name)
		start := time.Now()
		if err = s.run(ctx); err != nil {
			err = fmt.Errorf("%s: %w", s.name, err)
			return nil, b.withLogs(err)
		}
		fmt.Fprintf(o.Out, "bench: %s done in %s\n", s.name, time.Since(start).Round(time.Second))
	}
	return &b.report, nil
}

// withLogs adds what the processes said last when a scenario failed.
func (b *bench) withLogs(err error) error {
	var parts []string
	for _, p := range []*proc{b.worker, b.serve} {
		if p != nil {
			parts = append(parts, fmt.Sprintf("--- %s log (%s), last lines:\n%s", p.name, p.log, tail(p.log, 15)))
		}
	}
	return fmt.Errorf("%w\n%s", err, strings.Join(parts, "\n"))
}

// setUp starts (or connects to) the server, makes the database, starts the
// worker, serve and the floor's worker. stop undoes what was done.
func (b *bench) setUp(ctx context.Context) (stop func(), err error) {
	var undo []func()
	stop = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	o := b.o
	addr := o.TemporalAddress
	temporalVersion := "external server at " + addr
	if addr == "" {
		if b.srv, err = startDevServer(ctx, o.TemporalCLI, b.dir); err != nil {
			return stop, err
		}
		undo = append(undo, b.srv.stop)
		addr, b.srvPID = b.srv.addr, b.srv.pid()
		temporalVersion = fmt.Sprintf("CLI %s (%s), dev server in memory, eager activities on",
			filepath.Base(o.TemporalCLI), commandOutput(o.TemporalCLI, "--version"))
	}
	b.report.Env = environment(o, temporalVersion)
	b.report.Env.Counts = o.Counts.String()

	cfg := config.Config{TemporalAddress: addr, Namespace: lead.DefaultNamespace, Codec: config.Codec{Keys: codecKeys}}
	b.cfg = cfg
	if err := poll(ctx, 60*time.Second, "the Temporal server to answer", func() (bool, error) {
		dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		c, derr := temporalx.Dial(dctx, cfg, zap.NewNop(), nil)
		if derr != nil {
			return false, nil
		}
		b.c = c
		return true, nil
	}); err != nil {
		return stop, err
	}
	undo = append(undo, b.c.Close)
	if err := temporalx.EnsureSearchAttributes(ctx, b.c, lead.DefaultNamespace); err != nil {
		return stop, fmt.Errorf("search attributes: %w", err)
	}

	dbURL, dbName, err := freshDatabase(o.DatabaseURL)
	if err != nil {
		return stop, err
	}
	if err := store.EnsureDatabase(ctx, dbURL); err != nil {
		return stop, fmt.Errorf("create database %s: %w", dbName, err)
	}
	undo = append(undo, func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dropDatabase(dctx, o.DatabaseURL, dbName); err != nil {
			fmt.Fprintf(o.Out, "bench: %v\n", err)
		}
	})
	if b.st, err = store.Open(ctx, dbURL); err != nil {
		return stop, err
	}
	undo = append(undo, b.st.Close)
	if err := b.st.Migrate(ctx); err != nil {
		return stop, fmt.Errorf("migrate: %w", err)
	}
	dir, err := directory.Load(filepath.Join(o.RepoDir, "deploy", "directory.yaml"))
	if err != nil {
		return stop, err
	}
	if err := b.st.Directory().ImportDirectory(ctx, dir); err != nil {
		return stop, fmt.Errorf("import directory: %w", err)
	}
	b.policy = filepath.Join(b.dir, "policy.yaml")
	if err := writePolicy(b.policy, alwaysPolicy()); err != nil {
		return stop, err
	}

	httpPort, err := freePort()
	if err != nil {
		return stop, err
	}
	metricsPort, err := freePort()
	if err != nil {
		return stop, err
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", httpPort)
	env := append(os.Environ(),
		config.EnvTemporalAddress+"="+addr,
		config.EnvTemporalNamespace+"="+lead.DefaultNamespace,
		"DATABASE_URL="+dbURL,
		config.EnvPolicy+"="+b.policy,
		config.EnvWebhookSecret+"="+webhookSecret,
		config.EnvIDKey+"="+idKey,
		config.EnvCodecKeys+"="+codecKeys,
		// One sender drives every lead: the edge's per-source limit would
		// measure itself, not leadflow.
		config.EnvEventsRate+"=100000", config.EnvEventsBurst+"=100000",
		config.EnvHTTPAddr+"="+httpAddr,
		config.EnvMetricsAddr+"="+fmt.Sprintf("127.0.0.1:%d", metricsPort),
		config.EnvAPIToken+"=",
		config.EnvLogLevel+"=warn",
	)
	if b.worker, err = startProc("worker", b.dir, o.WorkerBin, env); err != nil {
		return stop, err
	}
	undo = append(undo, b.worker.stop)
	if b.serve, err = startProc("serve", b.dir, o.StarterBin, env, "serve"); err != nil {
		return stop, err
	}
	undo = append(undo, b.serve.stop)
	b.post = &poster{url: "http://" + httpAddr, client: &http.Client{Timeout: time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	if err := poll(ctx, 90*time.Second, "worker and serve to be ready", func() (bool, error) {
		for _, p := range []*proc{b.worker, b.serve} {
			if p.exited() {
				return false, fmt.Errorf("%s exited during start-up; log:\n%s", p.name, tail(p.log, 20))
			}
		}
		for _, u := range []string{b.post.url + "/readyz", fmt.Sprintf("http://127.0.0.1:%d/readyz", metricsPort)} {
			resp, err := http.Get(u)
			if err != nil {
				return false, nil
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		return stop, err
	}

	fw := worker.New(b.c, floorQueue, worker.Options{})
	b.floor.register(fw)
	if err := fw.Start(); err != nil {
		return stop, fmt.Errorf("start the floor's worker: %w", err)
	}
	undo = append(undo, fw.Stop)
	return stop, nil
}

// String lists the counts for the table.
func (c Counts) String() string {
	return fmt.Sprintf("speed-to-lead %v leads/s × %s each; %d events over %d existing leads; %d new leads; "+
		"%d one-at-a-time events; %d events on one lead; %d open leads of which %d with SLA steps due together; %d senders",
		c.SpeedRates, c.SpeedDuration, c.Signals, c.SignalLeads, c.NewLeads, c.PlainEvents, c.YearEvents,
		c.OpenLeads, c.TimerLeads, c.Concurrency)
}

// poll calls cond every 100ms until it holds, fails, or within passes.
func poll(ctx context.Context, within time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(within)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", within, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// progress prints status() every Options.Progress until stop is called
// (stop may be called more than once).
func (b *bench) progress(name string, status func() string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(b.o.Progress)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(b.o.Out, "bench:   %s, %s in: %s\n", name, time.Since(start).Round(time.Second), status())
			}
		}
	})
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// settled is whether a workflow has nothing left to do now: no workflow
// task and no activity pending (a timer may be). It returns the history
// length too.
func (b *bench) settled(ctx context.Context, workflowID string) (bool, int64, error) {
	d, err := b.c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return false, 0, fmt.Errorf("describe %s: %w", workflowID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	open := info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	busy := open && (d.GetPendingWorkflowTask() != nil || len(d.GetPendingActivities()) > 0)
	return !busy, info.GetHistoryLength(), nil
}

// waitSettled waits for every workflow of ids to settle and returns their
// history lengths.
func (b *bench) waitSettled(ctx context.Context, ids []string, within time.Duration) ([]int64, error) {
	lengths := make([]int64, len(ids))
	deadline := time.Now().Add(within)
	for i, id := range ids {
		for {
			// An error (a describe racing the start) is retried until the
			// deadline, then reported.
			ok, n, err := b.settled(ctx, id)
			if err == nil && ok {
				lengths[i] = n
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("workflow %s not settled after %s (last error: %v)", id, within, err)
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return lengths, nil
}
