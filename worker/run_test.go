package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

// The worker tests share one dev server (the machine is small); each runs
// its own worker, on its own task queue and database.
func TestWorker(t *testing.T) {
	srv := testenv.StartDevServer(t, testenv.DevServerOptions{})
	t.Run("runs leads on a real server and Postgres", func(t *testing.T) { testRunsLeads(t, srv) })
	t.Run("readyz names postgres when it is down", func(t *testing.T) { testReadyzNamesPostgres(t, srv) })
	t.Run("running activities finish on SIGTERM", func(t *testing.T) { testStopLetsActivitiesFinish(t, srv) })
	t.Run("a fatal error stops the worker and fails run", func(t *testing.T) { testFatalError(t, srv) })
	t.Run("the ladder's reminder is emailed", func(t *testing.T) { testEmailsTheLadder(t, srv) })
	t.Run("an SMTP server down at start is a warning", func(t *testing.T) { testUnreachableSMTPIsAWarning(t, srv) })
	t.Run("codec off runs without keys", func(t *testing.T) { testCodecOff(t, srv) })
	t.Run("payloads reach Temporal encrypted", func(t *testing.T) { testPayloadsEncrypted(t, srv) })
	t.Run("the weekly report's schedule and workflow", func(t *testing.T) { testWeeklyReport(t, srv) })
	t.Run("a policy activated mid-lead is adopted once and kept", func(t *testing.T) { testPolicyRollout(t, srv) })
}

// running is a worker started by startWorker.
type running struct {
	cfg     config.Config
	metrics string // base URL of the metrics listener
	cancel  context.CancelFunc
	done    chan error // run's result
}

// startWorker runs the worker as main does, with env over the test
// defaults, and returns without waiting for it to start. Cleanup stops it
// and, unless the test took run's result itself, expects nil.
func startWorker(t *testing.T, srv *testenv.DevServer, env map[string]string, hk hooks) *running {
	t.Helper()
	vars := map[string]string{
		"TEMPORAL_ADDRESS":    srv.Address,
		"LEADFLOW_TASK_QUEUE": "tq-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()),
		"LEADFLOW_POLICY":     "../workflows/testdata/policy-fast.yaml",
		"LEADFLOW_CODEC_KEYS": testenv.CodecKeys,
	}
	for k, v := range env {
		vars[k] = v
	}
	if _, ok := vars["DATABASE_URL"]; !ok {
		vars["DATABASE_URL"] = storetest.NewDB(t)
	}
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hk.metricsLn = ln
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cfg: cfg, metrics: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx, cfg, testenv.TestLogger(t, 0), hk) }()
	t.Cleanup(func() {
		cancel()
		// Closed when the test took run's result itself.
		if err, ok := <-r.done; ok && err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	return r
}

// stop cancels run (SIGTERM) and returns its result.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		close(r.done)
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("the worker did not stop within 60s")
		return nil
	}
}

// waitReady waits for the worker to poll.
func (r *running) waitReady(t *testing.T, ready <-chan struct{}) {
	t.Helper()
	select {
	case <-ready:
	case err := <-r.done:
		close(r.done)
		t.Fatalf("worker did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("worker did not start within 60s")
	}
}

func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(r.metrics + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The worker, wired as in production, on a real dev server and a fresh
// Postgres database: a quote request becomes a handoff with an owner, a task
// in the built-in CRM, a ledger trail and search attributes. /healthz and
// /readyz answer 200 once it polls.
func testRunsLeads(t *testing.T, srv *testenv.DevServer) {
	ready := make(chan struct{})
	r := startWorker(t, srv, nil, hooks{ready: ready})
	r.waitReady(t, ready)
	ctx := t.Context()
	if code, body := r.get(t, "/readyz"); code != http.StatusOK || !strings.Contains(body, `"status":"ready"`) {
		t.Fatalf("/readyz once polling: %d %s", code, body)
	}
	if code, _ := r.get(t, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}

	st, err := store.Open(ctx, r.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	importDirectoryInto(t, st)

	c := srv.Client(t)
	leads := temporalx.NewLeadClient(c, r.cfg.TaskQueue)
	ev := lead.Event{ID: "w-evt-1", LeadID: "W-1", Type: lead.EventFormSubmit, OccurredAt: time.Now().UTC(), Source: "website",
		Attributes: map[string]any{"form": "demo_request"},
		Profile:    &lead.Profile{Email: "kim@initech.com", Company: "Initech", Domain: "initech.com", Country: "US", Employees: 400}}
	if err := leads.Deliver(ctx, "W-1", ev); err != nil {
		t.Fatal(err)
	}
	// The handoff's CRM calls are effects: the lead is in handoff first,
	// its task exists once the effect has run. (policy-fast reassigns an
	// untouched lead every few seconds: the first task is rep-7's.)
	var v lead.View
	eventually(t, 30*time.Second, "the lead is handed off", func() bool {
		return leads.Query(ctx, "W-1", lead.QueryState, &v) == nil && v.Stage == lead.StageHandoff
	})
	// initech.com is rep-7's account.
	if v.OwnerID != "rep-7" {
		t.Fatalf("lead: %+v", v)
	}
	var tasks []store.Task
	eventually(t, 30*time.Second, "the handoff task is created", func() bool {
		tasks, err = st.CRM().Tasks(ctx, "W-1")
		return err == nil && len(tasks) > 0
	})
	if tasks[0].OwnerID != "rep-7" || tasks[0].Kind != "handoff" || tasks[0].Context == nil {
		t.Fatalf("tasks: %+v", tasks)
	}
	// The owner in the CRM: another effect of the handoff, run beside the task's.
	var owner string
	var found bool
	eventually(t, 30*time.Second, "the CRM owner is set", func() bool {
		owner, found, err = st.CRM().Owner(ctx, "W-1")
		return err == nil && found
	})
	if owner != "rep-7" {
		t.Fatalf("CRM owner: %q", owner)
	}
	// The update path through the worker: a wrong rep is refused, the owner accepts.
	if _, err := leads.Update(ctx, "W-1", lead.UpdateAccept, "acc-x", lead.AcceptRequest{ID: "acc-x", RepID: "rep-8"}); err == nil {
		t.Fatal("accept by rep-8 should be refused")
	} else if r, ok := err.(*api.Refused); !ok || r.Message == "" {
		t.Fatalf("want *api.Refused, got %T %v", err, err)
	}
	v, err = leads.Update(ctx, "W-1", lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"})
	if err != nil || v.Stage != lead.StageSAL {
		t.Fatalf("accept: %+v %v", v, err)
	}
	// Search attributes are visible to operators.
	resp, err := c.DescribeWorkflowExecution(ctx, lead.WorkflowID("W-1"), "")
	if err != nil {
		t.Fatal(err)
	}
	fields := resp.WorkflowExecutionInfo.SearchAttributes.GetIndexedFields()
	// (No LeadTerritory: the account_owner rule names none; no SLADueAt: accepted.)
	for _, name := range []string{lead.SALeadStage, lead.SALeadOwner, lead.SALeadSegment, lead.SAPolicyVersion, lead.SALeadScore, lead.SASLABreached, lead.SANurtureSuppressed} {
		if _, ok := fields[name]; !ok {
			t.Errorf("search attribute %s not set; have %v", name, keys(fields))
		}
	}
}

// With DATABASE_URL on a closed port the worker stays up: /healthz 200,
// /readyz 503 naming postgres (and the worker, which cannot start without
// it) but not temporal, which it reached. It keeps retrying until stopped.
func testReadyzNamesPostgres(t *testing.T, srv *testenv.DevServer) {
	retried := make(chan struct{})
	temporalUp := make(chan struct{})
	var once1, once2 sync.Once
	hk := hooks{
		retrying: func(dep string, _ error) {
			if dep == depPostgres {
				once1.Do(func() { close(retried) })
			}
		},
		connected: func(dep string) {
			if dep == depTemporal {
				once2.Do(func() { close(temporalUp) })
			}
		},
	}
	r := startWorker(t, srv, map[string]string{"DATABASE_URL": "postgres://postgres@" + closedAddr(t) + "/leadflow?sslmode=disable"}, hk)
	for _, ch := range []chan struct{}{retried, temporalUp} {
		select {
		case <-ch:
		case err := <-r.done:
			close(r.done)
			t.Fatalf("run returned while Postgres is down: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("no connection attempt within 30s")
		}
	}
	code, body := r.get(t, "/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz: %d %s, want 503", code, body)
	}
	var rb readyBody
	if err := json.Unmarshal([]byte(body), &rb); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	if !slices.Equal(rb.Failed, []string{depWorker, depPostgres}) || rb.Status != "down" ||
		!strings.Contains(rb.Error, "postgres") || !strings.HasPrefix(rb.Worker, "starting") {
		t.Errorf("/readyz body %+v, want failed [worker postgres], the worker starting", rb)
	}
	if code, _ := r.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while Postgres is down: %d, want 200 (alive)", code)
	}
	if err := r.stop(t); err != nil {
		t.Errorf("stopping a worker that waits for Postgres: %v, want nil", err)
	}
}

const (
	slowWorkflowName = "test.SlowWorkflow"
	slowActivityName = "test.slow"
)

// slowActivity stands for a CRM call in flight when SIGTERM comes: once the
// worker is stopping it needs another second of work. It reports whether
// its context was cancelled before it was done.
type slowActivity struct {
	started   chan struct{}
	once      sync.Once
	cancelled chan error
}

func (a *slowActivity) run(ctx context.Context) (string, error) {
	a.once.Do(func() { close(a.started) })
	select {
	case <-activity.GetWorkerStopChannel(ctx):
	case <-ctx.Done():
		a.cancelled <- ctx.Err()
		return "", ctx.Err()
	}
	work := time.NewTimer(time.Second)
	defer work.Stop()
	select {
	case <-work.C:
		return "finished", nil
	case <-ctx.Done():
		a.cancelled <- context.Cause(ctx)
		return "", ctx.Err()
	}
}

func slowWorkflow(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out string
	err := workflow.ExecuteActivity(ctx, slowActivityName).Get(ctx, &out)
	return out, err
}

// SIGTERM while an activity runs: the worker stops polling, the activity
// keeps its context and finishes, its completion reaches Temporal, and
// only then does run return. (Without WorkerStopTimeout the SDK cancels the
// activity's context at once.)
func testStopLetsActivitiesFinish(t *testing.T, srv *testenv.DevServer) {
	act := &slowActivity{started: make(chan struct{}), cancelled: make(chan error, 2)}
	ready := make(chan struct{})
	r := startWorker(t, srv, nil, hooks{ready: ready, register: func(reg worker.Registry) {
		reg.RegisterWorkflowWithOptions(slowWorkflow, workflow.RegisterOptions{Name: slowWorkflowName})
		reg.RegisterActivityWithOptions(act.run, activity.RegisterOptions{Name: slowActivityName})
	}})
	if r.cfg.WorkerStopTimeout != config.DefaultWorkerStopTimeout {
		t.Fatalf("WorkerStopTimeout %s, want the default %s", r.cfg.WorkerStopTimeout, config.DefaultWorkerStopTimeout)
	}
	r.waitReady(t, ready)
	c := srv.Client(t)
	ctx := t.Context()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "slow-1", TaskQueue: r.cfg.TaskQueue}, slowWorkflowName)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-act.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the activity did not start within 30s")
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("run after SIGTERM: %v", err)
	}
	select {
	case err := <-act.cancelled:
		t.Fatalf("the running activity was cancelled on stop (%v): WorkerStopTimeout does not hold", err)
	default:
	}
	// Its completion is in the workflow's history.
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	completed := false
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
			// The result is encrypted in the history: decoded as the client would.
			var res string
			completed = codec.DataConverter(testenv.Codec(t)).FromPayloads(a.GetResult(), &res) == nil && strings.Contains(res, "finished")
		}
	}
	if !completed {
		t.Error("no ActivityTaskCompleted with the activity's result in the history: its completion was lost on stop")
	}
}

// A fatal error (here: the namespace is gone, as the SDK would report it)
// makes run stop the worker and return the error, so main exits 1 and the
// supervisor restarts the process.
func testFatalError(t *testing.T, srv *testenv.DevServer) {
	onFatal := make(chan func(error), 1)
	ready := make(chan struct{})
	r := startWorker(t, srv, nil, hooks{ready: ready, options: func(o *worker.Options) {
		if o.OnFatalError == nil {
			t.Error("the worker has no OnFatalError")
			return
		}
		onFatal <- o.OnFatalError
	}})
	r.waitReady(t, ready)
	var fire func(error)
	select {
	case fire = <-onFatal:
	default:
		t.Fatal("the options hook did not see OnFatalError")
	}
	fire(serviceerror.NewNamespaceNotFound("default"))
	var err error
	select {
	case err = <-r.done:
		close(r.done)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of a fatal error")
	}
	if _, ok := errors.AsType[*serviceerror.NamespaceNotFound](err); !ok || !strings.Contains(err.Error(), "fatal") {
		t.Fatalf("run returned %v, want the fatal NamespaceNotFound", err)
	}
}

// eventually polls cond (an external system's state: there is no event to
// wait on) until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not within %s", what, timeout)
		}
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
