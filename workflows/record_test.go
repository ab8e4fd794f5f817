//go:build record

package workflows

// Records a release's baseline: `make record-histories RELEASE=vX.Y.Z` runs
// every scenario below on a dev server (in-memory activity fakes, plain
// payloads) and seals their histories into testdata/histories/<release>/,
// a directory that must not exist yet and is never rewritten afterwards
// (internal/baseline). Each history is checked against the path it claims
// before it is written; the claims go into the manifest and are checked
// again by every `go test ./workflows`.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/baseline"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/testenv"
)

// envRelease names the release to record (the Makefile's RELEASE).
const envRelease = "LEADFLOW_RECORD_RELEASE"

// Task queues: one worker each, so a scenario's policy source or history
// cap never touches another's.
const (
	qMain    = "record"
	qCAN     = "record-can"     // history cap canCap: Continue-As-New within a scenario
	qPolicy  = "record-policy"  // a policy source the scenario switches
	qNurture = "record-nurture" // nurture tracks seconds apart
	canCap   = 60
)

func TestRecordHistories(t *testing.T) {
	release := os.Getenv(envRelease)
	if release == "" {
		t.Fatalf("%s is not set: make record-histories RELEASE=vX.Y.Z", envRelease)
	}
	bw, err := baseline.NewWriter(filepath.Join("testdata", "histories", release), release, "record")
	if err != nil {
		t.Fatal(err)
	}
	defer bw.Abort()

	srv := testenv.StartDevServer(t, testenv.DevServerOptions{})
	c := srv.RawClient(t) // plain payloads: the baseline replays without a key
	src, err := os.ReadFile("testdata/policy-fast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fast := mustPolicy(string(src))
	switching := &switchPolicy{p: fast}
	dir := exampleDirectory(t)
	fx := &faults{holds: map[string]*hold{}, refuse: map[string]int{}}
	for queue, cfg := range map[string]Config{
		qMain:    {Policies: staticPolicy{fast}},
		qCAN:     {Policies: staticPolicy{fast}, HistoryCap: canCap},
		qPolicy:  {Policies: switching},
		qNurture: {Policies: staticPolicy{mustPolicy(nurturePolicy(t, string(src)))}},
	} {
		// Fakes of its own per worker: the fake nurture counts every send
		// it saw against the frequency cap, whichever lead it was for.
		f := newFakes(dir)
		w := worker.New(c, queue, worker.Options{})
		w.RegisterWorkflowWithOptions(New(cfg).LeadWorkflow, workflow.RegisterOptions{Name: lead.WorkflowType})
		f.register(faultRegistry{reg: w, f: f, x: fx})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	t.Cleanup(fx.releaseAll) // before the workers stop: a held activity would keep Stop waiting

	rec := &recorder{c: c, w: bw, fx: fx, switching: switching, src: string(src)}
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				sc.run(rec.on(t, sc.queue))
			})
		}
	})
	if t.Failed() {
		return // nothing sealed: the deferred Abort drops what was written
	}
	if err := bw.Commit(); err != nil {
		t.Fatal(err)
	}
	t.Logf("sealed %d histories into testdata/histories/%s", bw.Len(), release)
}

// nurturePolicy is the fast policy with a default track of three touches
// three seconds apart, so a cadence plays out within the recording, and a
// frequency cap above what the two nurture scenarios send together.
func nurturePolicy(t *testing.T, src string) string {
	t.Helper()
	out := strings.Replace(src, `version: "fast-1"`, `version: "fast-1-nurture"`, 1)
	out = strings.Replace(out, "default:       { every: 7d,  steps: 8,", "default:       { every: 3s,  steps: 3,", 1)
	out = strings.Replace(out, "frequency_cap: { max: 3, per: 7d }", "frequency_cap: { max: 10, per: 7d }", 1)
	if !strings.Contains(out, "every: 3s") || !strings.Contains(out, "max: 10,") {
		t.Fatal("nurturePolicy: testdata/policy-fast.yaml no longer has the lines it edits")
	}
	return out
}

// switchPolicy is a policy source the policy-change scenario switches
// between two events, as a worker's reload would.
type switchPolicy struct {
	mu sync.Mutex
	p  *policy.Policy
}

func (s *switchPolicy) Current() *policy.Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

func (s *switchPolicy) set(p *policy.Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p = p
}

// faults are per-lead faults of the fakes: an activity that refuses (a 4xx)
// or is held until the scenario releases it. Per lead, because the
// scenarios run side by side on the same fakes.
type faults struct {
	mu     sync.Mutex
	holds  map[string]*hold // "<activity> <leadId>"
	refuse map[string]int
}

type hold struct {
	arrived, release chan struct{}
	once, done       sync.Once
}

func (x *faults) hold(name, leadID string) *hold {
	x.mu.Lock()
	defer x.mu.Unlock()
	h := &hold{arrived: make(chan struct{}), release: make(chan struct{})}
	x.holds[name+" "+leadID] = h
	return h
}

func (h *hold) free() { h.done.Do(func() { close(h.release) }) }

func (x *faults) releaseAll() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, h := range x.holds {
		h.free()
	}
}

func (x *faults) before(ctx context.Context, name, leadID string) error {
	x.mu.Lock()
	h, refused := x.holds[name+" "+leadID], x.refuse[name+" "+leadID] > 0
	if refused {
		x.refuse[name+" "+leadID]--
	}
	x.mu.Unlock()
	if refused {
		return temporal.NewNonRetryableApplicationError("injected refusal of "+name+": 400 bad request", actions.ErrInvalidInput, nil)
	}
	if h != nil {
		h.once.Do(func() { close(h.arrived) })
		select {
		case <-h.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// faultRegistry registers the fakes with faults in front of the
// activities the scenarios hold or refuse.
type faultRegistry struct {
	reg registry
	f   *fakes
	x   *faults
}

func (r faultRegistry) RegisterActivityWithOptions(a any, o activity.RegisterOptions) {
	switch o.Name {
	case actions.CreateTask:
		a = func(ctx context.Context, in actions.TaskInput) (actions.TaskRef, error) {
			if err := r.x.before(ctx, o.Name, in.LeadID); err != nil {
				return actions.TaskRef{}, err
			}
			return r.f.CreateTask(ctx, in)
		}
	case actions.ForwardEvents:
		a = func(ctx context.Context, in actions.ForwardInput) error {
			if err := r.x.before(ctx, o.Name, in.From); err != nil {
				return err
			}
			return r.f.Forward(ctx, in)
		}
	}
	r.reg.RegisterActivityWithOptions(a, o)
}

// recorder is what the scenarios share; rec is one scenario's view of it.
type recorder struct {
	c         client.Client
	w         *baseline.Writer
	wmu       sync.Mutex
	fx        *faults
	switching *switchPolicy
	src       string
}

type rec struct {
	*recorder
	t     *testing.T
	queue string
}

func (r *recorder) on(t *testing.T, queue string) *rec { return &rec{recorder: r, t: t, queue: queue} }

// waitBound bounds every wait of a scenario.
const waitBound = 90 * time.Second

func (r *rec) send(id string, e lead.Event) {
	r.t.Helper()
	e.LeadID = id
	if e.OccurredAt.IsZero() {
		e.OccurredAt = time.Now().UTC()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := r.c.SignalWithStartWorkflow(ctx, lead.WorkflowID(id), lead.SignalEvent, e,
		client.StartWorkflowOptions{ID: lead.WorkflowID(id), TaskQueue: r.queue}, lead.WorkflowType, Input{LeadID: id})
	if err != nil {
		r.t.Fatalf("send %s to %s: %v", e.ID, id, err)
	}
}

func (r *rec) update(id, name string, req any) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := r.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: lead.WorkflowID(id), UpdateName: name, Args: []any{req}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		r.t.Fatalf("%s %s: %v", name, id, err)
	}
	var v lead.View
	if err := h.Get(ctx, &v); err != nil {
		r.t.Fatalf("%s %s: %v", name, id, err)
	}
}

func (r *rec) state(id string) lead.View {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := r.c.QueryWorkflow(ctx, lead.WorkflowID(id), "", lead.QueryState)
	if err != nil {
		r.t.Fatalf("query %s: %v", id, err)
	}
	var v lead.View
	if err := res.Get(&v); err != nil {
		r.t.Fatal(err)
	}
	return v
}

// poll calls ok until it holds, for at most waitBound.
func (r *rec) poll(id, what string, ok func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(waitBound)
	for !ok() {
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: no %s within %s: %+v", id, what, waitBound, r.state(id))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (r *rec) waitFor(id, what string, ok func(lead.View) bool) {
	r.t.Helper()
	r.poll(id, what, func() bool { return ok(r.state(id)) })
}

func (r *rec) waitStage(id string, st lead.Stage) {
	r.t.Helper()
	r.waitFor(id, "stage "+string(st), func(v lead.View) bool { return v.Stage == st })
}

// waitHistory waits until the current run's history shows the claims.
func (r *rec) waitHistory(id string, claims ...string) {
	r.t.Helper()
	deadline := time.Now().Add(waitBound)
	for {
		f, err := baseline.Read(r.history(id, r.runID(id)))
		if err != nil {
			r.t.Fatal(err)
		}
		last := f.Check(claims)
		if last == nil {
			return
		}
		if time.Now().After(deadline) {
			n := map[string]int{}
			for name, ins := range f.Activities {
				n[name] = len(ins)
			}
			r.t.Fatalf("%s: %v within %s; activities %v; timers %v; fired %v", id, last, waitBound, n, f.Timers, f.Fired)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitArrived waits until a held activity has been called.
func (r *rec) waitArrived(id string, h *hold) {
	r.t.Helper()
	select {
	case <-h.arrived:
	case <-time.After(waitBound):
		r.t.Fatalf("%s: the held activity was not called within %s", id, waitBound)
	}
}

func (r *rec) waitClosed(id string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	if err := r.c.GetWorkflow(ctx, lead.WorkflowID(id), "").Get(ctx, nil); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rec) describe(id string) (runID, firstRunID string, length int64, running bool) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	desc, err := r.c.DescribeWorkflowExecution(ctx, lead.WorkflowID(id), "")
	if err != nil {
		r.t.Fatalf("describe %s: %v", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	return info.GetExecution().GetRunId(), info.GetFirstRunId(), info.GetHistoryLength(),
		info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING
}

func (r *rec) runID(id string) string {
	run, _, _, _ := r.describe(id)
	return run
}

func (r *rec) history(id, runID string) *historypb.History {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := r.c.GetWorkflowHistory(ctx, lead.WorkflowID(id), runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			r.t.Fatalf("history of %s: %v", id, err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

// save seals the current run's history once its effects are confirmed. A
// running lead is cancelled first so its history is complete (leads
// otherwise live forever).
func (r *rec) save(id, name string, claims ...string) {
	r.t.Helper()
	run, first, _, running := r.describe(id)
	if first != run && !strings.HasSuffix(name, "-next") {
		r.t.Fatalf("%s continued as new: its history would be partial", id)
	}
	if running {
		r.waitFor(id, "effects confirmed", func(v lead.View) bool { return len(v.Effects) == 0 })
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		if err := r.c.CancelWorkflow(ctx, lead.WorkflowID(id), run); err != nil {
			r.t.Fatal(err)
		}
		_ = r.c.GetWorkflow(ctx, lead.WorkflowID(id), run).Get(ctx, nil)
	}
	r.saveRun(id, run, name, claims...)
}

// saveRun seals one run's history as it is now.
func (r *rec) saveRun(id, runID, name string, claims ...string) {
	r.t.Helper()
	h := r.history(id, runID)
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.w.Add(name, h, claims); err != nil {
		r.t.Fatal(err)
	}
	r.t.Logf("recorded %s (%d events)", name, len(h.Events))
}

// newRun waits until id has continued as new from run and returns the new run.
func (r *rec) newRun(id, run string) string {
	r.t.Helper()
	var next string
	r.poll(id, "Continue-As-New", func() bool {
		next = r.runID(id)
		return next != run
	})
	return next
}
