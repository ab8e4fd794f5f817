//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/testenv"
)

const (
	webhookSecret = "chaos-webhook-secret-0123456789abcdef" // 32+ bytes, as serve requires
	// fastPolicy: second-long SLAs on a 24x7 calendar (first touch for a
	// quote request 4 s: remind at 2 s, escalate at 4 s, reassign at 6 s).
	fastPolicy = repoRoot + "/workflows/testdata/policy-fast.yaml"
)

// slowPolicy is the fast policy with hour-long SLAs and SAL staleness: no
// ladder step or stale-SAL play moves a lead while a scenario counts.
func slowPolicy(t testing.TB) string {
	t.Helper()
	src, err := os.ReadFile(fastPolicy)
	if err != nil {
		t.Fatal(err)
	}
	slow := strings.NewReplacer("within: 4s", "within: 1h", "within: 8s", "within: 2h", "within: 10s", "within: 3h", "sal_stale_after: 20s", "sal_stale_after: 4h").Replace(string(src))
	p := filepath.Join(t.TempDir(), "policy-slow.yaml")
	if err := os.WriteFile(p, []byte(slow), 0o644); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	short := pol.SLA.Acceptance.Within.D() < time.Hour || pol.SLA.SALStaleAfter.D() < time.Hour
	for _, w := range pol.SLA.FirstTouch {
		short = short || w.Within.D() < time.Hour
	}
	if short {
		t.Fatalf("%s changed: the slow copy still has second-long SLAs", fastPolicy)
	}
	return p
}

type stackConfig struct {
	policy     string   // the policy file (LEADFLOW_POLICY)
	env        []string // more env for the worker and serve
	persistent bool     // the dev server keeps its state in a file
	// directory edits deploy/directory.yaml before it is imported.
	directory func(*directory.Directory)
}

// stack is one leadflow deployment of the suite's own: Postgres, a dev
// server, the worker and `starter serve`, each a separate process the test
// can stop, kill and start again.
type stack struct {
	t      testing.TB
	pg     *pgCluster
	srv    *devServer
	dbURL  string
	st     *store.DB
	env    []string
	base   string
	policy *policy.Policy
	tc     client.Client

	worker *proc
	serve  *proc
	// workerStarts counts worker starts (for waiting on the log line).
	workerStarts int
}

func newStack(t testing.TB, cfg stackConfig) *stack {
	t.Helper()
	s := &stack{t: t}
	s.pg = startPostgres(t)
	s.srv = startDevServer(t, cfg.persistent)
	s.dbURL = s.pg.URL("leadflow")
	pol, err := policy.Load(cfg.policy)
	if err != nil {
		t.Fatal(err)
	}
	s.policy = pol
	abs, err := filepath.Abs(cfg.policy)
	if err != nil {
		t.Fatal(err)
	}
	ports, err := freePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	s.base = "http://" + httpAddr
	s.env = append(os.Environ(),
		"TEMPORAL_ADDRESS="+s.srv.Address,
		"TEMPORAL_NAMESPACE="+lead.DefaultNamespace,
		"LEADFLOW_TASK_QUEUE="+lead.TaskQueue,
		"DATABASE_URL="+s.dbURL,
		"LEADFLOW_POLICY="+abs,
		"LEADFLOW_WEBHOOK_SECRET="+webhookSecret,
		"LEADFLOW_ID_KEY=chaos-id-key-0123456789abcdef-012345",
		testenv.CodecEnv(),
		"LEADFLOW_HTTP_ADDR="+httpAddr,
		fmt.Sprintf("LEADFLOW_METRICS_ADDR=127.0.0.1:%d", ports[1]),
		"LEADFLOW_API_TOKEN=",
		// The scenarios run side by side from one address, and sendRetry
		// treats anything but 202 and 503 as a failure: the per-source rate
		// limit (tested in internal/api) must not be one of the faults.
		"LEADFLOW_EVENTS_RATE=1000", "LEADFLOW_EVENTS_BURST=1000",
		// The fake HubSpot has no portal limit to keep: the SaaS queue is not
		// throttled, so the drain after an outage measures leadflow, not the
		// default 3/s (tested in internal/e2e TestTwoWorkersKeepThePortalsLimit).
		"LEADFLOW_SAAS_RATE=0",
	)
	s.env = append(s.env, cfg.env...)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := store.EnsureDatabase(ctx, s.dbURL); err != nil {
		t.Fatal(err)
	}
	if s.st, err = store.Open(ctx, s.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.st.Close)
	if err := s.st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	dir, err := directory.Load(repoRoot + "/deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.directory != nil {
		cfg.directory(dir)
	}
	if err := s.st.Directory().ImportDirectory(ctx, dir); err != nil {
		t.Fatal(err)
	}
	s.tc = s.srv.client(t)
	s.startWorker()
	s.waitWorker(60 * time.Second)
	s.serve = s.start("serve", filepath.Join(binDir, "starter"), "serve")
	s.mustWait("starter serve ready", 60*time.Second, 100*time.Millisecond, func() bool {
		code, _, err := s.do(http.MethodGet, "/readyz", nil, 5*time.Second)
		return err == nil && code == http.StatusOK
	})
	return s
}

// ---- processes ----

// proc is one run of a binary; its log is kept beside the test's others.
type proc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	log    string
}

func (s *stack) start(name, bin string, args ...string) *proc {
	s.t.Helper()
	p := &proc{name: name, log: logPath(s.t, name+".log"), exited: make(chan struct{})}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = s.env
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		s.t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.exited) }()
	s.t.Cleanup(func() {
		first := !p.done()
		p.stop()
		if first && s.t.Failed() {
			s.t.Logf("last lines of the %s log %s:\n%s", name, p.log, tail(p.log, 12))
		}
	})
	return p
}

func (p *proc) done() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// kill is kill -9: no graceful shutdown, in-flight tasks are abandoned.
func (p *proc) kill() {
	if p.done() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// stop is a graceful stop: SIGTERM, SIGKILL after 15 s.
func (p *proc) stop() {
	if p.done() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.kill()
	}
}

func (s *stack) startWorker() {
	s.t.Helper()
	s.workerStarts++
	s.worker = s.start("worker", filepath.Join(binDir, "worker"))
}

// waitWorker waits until the current worker logged "worker running" (it
// polls its task queue). The log is shared by every run of the worker.
func (s *stack) waitWorker(within time.Duration) bool {
	s.t.Helper()
	want := s.workerStarts
	return s.waitFor("worker running", within, 100*time.Millisecond, func() bool {
		b, _ := os.ReadFile(s.worker.log)
		return bytes.Count(b, []byte(`"worker running"`)) >= want
	})
}

// ---- waiting ----

// waitFor polls cond every `every` until it holds or within passes; it
// reports whether it held. The number of polls is bounded by within/every.
func (s *stack) waitFor(what string, within, every time.Duration, cond func() bool) bool {
	s.t.Helper()
	return poll(within, every, cond)
}

func (s *stack) mustWait(what string, within, every time.Duration, cond func() bool) {
	s.t.Helper()
	if !poll(within, every, cond) {
		s.t.Fatalf("timed out after %s waiting for %s", within, what)
	}
}

func poll(within, every time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().Add(every).After(deadline) {
			return cond()
		}
		time.Sleep(every)
	}
}

// ---- HTTP ----

var httpc = &http.Client{}

// do sends a request with a timeout and returns status and body; err is a
// transport error (refused connection, timeout).
func (s *stack) do(method, path string, body []byte, timeout time.Duration) (int, []byte, error) {
	code, _, out, err := s.doHeader(method, path, body, nil, timeout)
	return code, out, err
}

func (s *stack) doHeader(method, path string, body []byte, hdr http.Header, timeout time.Duration) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out, err
}

// post sends a signed batch once.
func (s *stack) post(events ...lead.Event) (int, []byte, error) {
	body, err := json.Marshal(map[string]any{"events": events})
	if err != nil {
		s.t.Fatal(err)
	}
	hdr := http.Header{}
	hdr.Set(api.SignatureHeader, api.Sign([]byte(webhookSecret), time.Now(), body))
	code, _, out, err := s.doHeader(http.MethodPost, "/v1/events", body, hdr, 20*time.Second)
	return code, out, err
}

// send posts a batch that must be accepted now.
func (s *stack) send(events ...lead.Event) {
	s.t.Helper()
	code, body, err := s.post(events...)
	if err != nil || code != http.StatusAccepted {
		s.t.Fatalf("POST /v1/events: %d %s %v", code, body, err)
	}
}

// sendRetry posts a batch as an integration does: again after a 503 or a
// transport error, every `every`, for at most within. It returns when the
// batch was accepted and how many attempts it took.
func (s *stack) sendRetry(within, every time.Duration, events ...lead.Event) (time.Time, int, error) {
	deadline := time.Now().Add(within)
	var last error
	for attempt := 1; ; attempt++ {
		code, body, err := s.post(events...)
		switch {
		case err == nil && code == http.StatusAccepted:
			return time.Now(), attempt, nil
		case err == nil && code != http.StatusServiceUnavailable:
			return time.Time{}, attempt, fmt.Errorf("POST /v1/events: %d %s", code, body)
		case err != nil:
			last = err
		default:
			last = fmt.Errorf("%d %s", code, bytes.TrimSpace(body))
		}
		if time.Now().Add(every).After(deadline) {
			return time.Time{}, attempt, fmt.Errorf("not accepted within %s: %v", within, last)
		}
		time.Sleep(every)
	}
}

// state is GET /v1/leads/{id}.
func (s *stack) state(id string) (lead.View, int, error) {
	var v lead.View
	code, body, err := s.do(http.MethodGet, "/v1/leads/"+id, nil, 10*time.Second)
	if err == nil && code == http.StatusOK {
		err = json.Unmarshal(body, &v)
	}
	return v, code, err
}

// waitStage polls the lead's state every `every` until cond holds.
func (s *stack) waitStage(id string, within, every time.Duration, cond func(lead.View) bool) (lead.View, bool) {
	var v lead.View
	ok := poll(within, every, func() bool {
		got, code, err := s.state(id)
		if err != nil || code != http.StatusOK {
			return false
		}
		v = got
		return cond(got)
	})
	return v, ok
}

// update posts accept/reject/reassign; it returns the status, headers,
// body and how long the answer took.
func (s *stack) update(id, name string, req any, timeout time.Duration) (int, http.Header, []byte, time.Duration, error) {
	body, _ := json.Marshal(req)
	t0 := time.Now()
	code, hdr, out, err := s.doHeader(http.MethodPost, "/v1/leads/"+id+"/"+name, body, nil, timeout)
	return code, hdr, out, time.Since(t0), err
}

// ---- events ----

func quote(id, leadID string, p *lead.Profile) lead.Event {
	return lead.Event{ID: id, LeadID: leadID, Type: lead.EventFormSubmit, OccurredAt: time.Now().UTC(), Source: "website",
		Attributes: map[string]any{"form": "quote_request", "utm_campaign": "q4-pricing"}, Profile: p}
}

func emailOpen(id, leadID string, p *lead.Profile) lead.Event {
	return lead.Event{ID: id, LeadID: leadID, Type: lead.EventEmailOpen, OccurredAt: time.Now().UTC(), Source: "email",
		Attributes: map[string]any{"campaign": "q4-pricing"}, Profile: p}
}

// westCoast is a lead the na_west rule routes to the na-west-sdrs pool.
func westCoast(email string) *lead.Profile {
	return &lead.Profile{Email: email, Company: "Acme", Domain: "acme.io", Country: "US", Region: "CA",
		Employees: 250, Industry: "insurance", Title: "VP Sales"}
}

// inHandoffOrLater: the lead has been handed off (it may have moved on).
func inHandoffOrLater(v lead.View) bool {
	switch v.Stage {
	case lead.StageHandoff, lead.StageSAL, lead.StageOpportunity, lead.StageCustomer:
		return true
	case lead.StageRecycle, lead.StageLead:
		// Handed off, accepted, then recycled by the stale-SAL play (the
		// fast policy's 20 s), and after its cool-off a lead waiting for
		// new intent: past its handoff all the same.
		return v.RecycleCount > 0
	}
	return false
}

// ---- Postgres reads ----

func (s *stack) count(query string, args ...any) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	err := s.st.Pool().QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

// slaStep is one sla_step ledger row, with the time its rung was due.
type slaStep struct {
	LeadID    string
	Kind      string // first_touch | acceptance
	Step      int
	Action    string
	At        time.Time // when the workflow took the step
	Scheduled time.Time // when the rung was due
	Late      time.Duration
}

// slaSteps reads the ladder steps the ledger holds for the leads. A rung
// of SLA kind k is due at start + at×within; the row carries the clock's
// dueAt (start + within), so due = dueAt + (at−1)×within on the suite's
// 24x7 calendars.
func (s *stack) slaSteps(ids []string) ([]slaStep, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := s.st.Pool().Query(ctx, `
SELECT lead_id, at, data->>'sla', (data->>'step')::int, data->>'action', (data->>'dueAt')::timestamptz,
       (data->>'scheduledAt')::timestamptz
FROM ledger WHERE kind = 'sla_step' AND lead_id = ANY($1) AND data ? 'dueAt' ORDER BY at`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []slaStep
	for rows.Next() {
		var st slaStep
		var due time.Time
		var scheduled *time.Time
		if err := rows.Scan(&st.LeadID, &st.At, &st.Kind, &st.Step, &st.Action, &due, &scheduled); err != nil {
			return nil, err
		}
		if scheduled != nil {
			// The workflow records when the rung was due: a lead handed
			// off again on its score (after a recycle) has the default SLA,
			// not the quote request's.
			st.Scheduled = *scheduled
			st.Late = st.At.Sub(st.Scheduled)
			out = append(out, st)
			continue
		}
		within, err := s.within(st.Kind)
		if err != nil {
			return nil, err
		}
		if st.Step < 0 || st.Step >= len(s.policy.SLA.Ladder) {
			return nil, fmt.Errorf("sla_step row of %s: step %d not in the policy's ladder", st.LeadID, st.Step)
		}
		frac := s.policy.SLA.Ladder[st.Step].At
		st.Scheduled = due.Add(time.Duration((frac - 1) * float64(within)))
		st.Late = st.At.Sub(st.Scheduled)
		out = append(out, st)
	}
	return out, rows.Err()
}

// within is the SLA of a kind for the suite's leads (all quote requests).
func (s *stack) within(kind string) (time.Duration, error) {
	switch kind {
	case lead.SLAFirstTouch:
		for _, w := range s.policy.SLA.FirstTouch {
			if w.When != nil && strings.Contains(w.When.Expr, "quote_request") {
				return w.Within.D(), nil
			}
		}
		return 0, errors.New("the policy has no first-touch SLA for quote requests")
	case lead.SLAAcceptance:
		return s.policy.SLA.Acceptance.Within.D(), nil
	}
	return 0, fmt.Errorf("unknown SLA kind %q", kind)
}

// ---- figures ----

// stats summarises durations: n, p50, p90, max.
func stats(ds []time.Duration) string {
	if len(ds) == 0 {
		return "n=0"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("n=%d p50=%s p90=%s max=%s", len(s), ms(q(0.5)), ms(q(0.9)), ms(s[len(s)-1]))
}

// ms rounds a duration for figures: milliseconds under 10 s, else 0.1 s.
func ms(d time.Duration) time.Duration {
	if d < 10*time.Second && d > -10*time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// watcher follows leads until each satisfies cond: one goroutine per lead
// polling its state every `every` until the deadline, at most 8 requests
// at a time (a query can take seconds while a workflow task is busy).
type watcher struct {
	s        *stack
	cond     func(lead.View) bool
	every    time.Duration
	deadline time.Time
	sem      chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	seen     map[string]time.Time
}

func (s *stack) watch(deadline time.Time, every time.Duration, cond func(lead.View) bool) *watcher {
	return &watcher{s: s, cond: cond, every: every, deadline: deadline, sem: make(chan struct{}, 8), seen: map[string]time.Time{}}
}

func (w *watcher) add(id string) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for time.Now().Before(w.deadline) {
			w.sem <- struct{}{}
			v, code, err := w.s.state(id)
			<-w.sem
			if err == nil && code == http.StatusOK && w.cond(v) {
				w.mu.Lock()
				w.seen[id] = time.Now()
				w.mu.Unlock()
				return
			}
			time.Sleep(min(w.every, time.Until(w.deadline)))
		}
	}()
}

// when is when the lead was first seen satisfying cond (zero: not yet).
func (w *watcher) when(id string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[id]
}

// wait returns once every lead was seen or the deadline passed.
func (w *watcher) wait() { w.wg.Wait() }

// states reads the leads' states, 8 at a time.
func (s *stack) states(ids []string) map[string]lead.View {
	out := map[string]lead.View{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if v, code, err := s.state(id); err == nil && code == http.StatusOK {
				mu.Lock()
				out[id] = v
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}
