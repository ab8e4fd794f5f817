package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
	"github.com/leadflow/leadflow/internal/upgradeprobe"
	"github.com/leadflow/leadflow/workflows"
)

// TestRollingUpgrade is the upgrade of docs/upgrading.md, end to end: leads
// in flight on the previous build's worker, then the new build replaces it
// the way an operator rolls it out — new worker started beside the old,
// its version ramped, then made current, the old version drained and its
// worker stopped — and every lead goes on to its next steps (an accept, a
// ladder timer) on the new build, with no failed workflow task (so no
// nondeterminism error) and every history replaying against the new code.
//
// The two builds are one code base built twice with `-tags upgradeprobe`
// (internal/upgradeprobe): "r1" and "r2" differ in their build ID and in
// the probe workflow registered beside the lead workflow, whose revision 2
// adds a command behind workflow.GetVersion (-ldflags -X selects it; the
// tag keeps the probe out of every production binary). The lead workflow's
// code is the same in both builds, so for the leads this proves the
// deployment mechanics (AutoUpgrade moving them across versions mid-life);
// the probe proves a gated command-sequence change across the same switch.
// Histories recorded by older releases (workflows/testdata/histories)
// cover the lead workflow's own changes.
func TestRollingUpgrade(t *testing.T) {
	r1, r2 := buildProbeWorker(t, 1), buildProbeWorker(t, 2)
	polPath := upgradePolicy(t)
	s := newStackWith(t, stackOptions{noWorker: true, server: testenv.DevServerOptions{DynamicConfig: map[string]string{
		// A version that stops being current is re-checked for drainage
		// every 3 minutes by default; a second here, so the test can wait
		// for "drained" as an operator would.
		"matching.wv.VersionDrainageStatusRefreshInterval":       `"1s"`,
		"matching.wv.VersionDrainageStatusVisibilityGracePeriod": `"1s"`,
		// A failing workflow task is retried with a growing delay (up to
		// 10 minutes); capped so the rollback below sees the roll forward
		// within seconds.
		"history.workflowTaskRetryMaxInterval": `"1s"`,
	}}}, polPath)
	c := s.srv.Client(t)
	dep := c.WorkerDeploymentClient().GetHandle("leadflow")
	ctx := t.Context()

	// Release r1, the first versioned deploy: its worker makes itself current.
	w1 := s.startBuild("worker-r1", r1, "r1")
	s.waitRouting(dep, "r1 current (first deploy)", func(rc client.WorkerDeploymentRoutingConfig) bool {
		return rc.CurrentVersion != nil && rc.CurrentVersion.BuildID == "r1"
	})

	// In flight on r1: leads in handoff (one to be accepted, one left for
	// its SLA ladder), and a probe run with steps taken.
	accepted, untouched := "UPG-ACCEPT", "UPG-LADDER"
	for i, id := range []string{accepted, untouched} {
		p := westCoast()
		p.Email = strings.ToLower(id) + "@acme.io"
		s.send(quote(fmt.Sprintf("u-%d", i), id, p))
	}
	owners := map[string]string{}
	for _, id := range []string{accepted, untouched} {
		v := s.waitLead(id, "handoff on r1", 30*time.Second, func(v lead.View) bool { return v.Stage == lead.StageHandoff && len(v.Effects) == 0 })
		owners[id] = v.OwnerID // round robin: which lead gets which rep depends on the order they route in
	}
	handoffs := time.Now()
	oldProbe := "probe-started-on-r1"
	startProbe(t, c, oldProbe)
	stepProbe(t, c, oldProbe, upgradeprobe.StepNext, upgradeprobe.StepNext)
	s.waitProbe(c, oldProbe, func(r upgradeprobe.Result) bool { return r.Steps == 2 })

	// Release r2: started beside r1, it polls but gets nothing while r1 is
	// current (it must not promote itself).
	w2 := s.startBuild("worker-r2", r2, "r2")
	s.waitVersionPolled(dep, "r2")
	if d, err := dep.Describe(ctx, client.WorkerDeploymentDescribeOptions{}); err != nil || d.Info.RoutingConfig.CurrentVersion.BuildID != "r1" {
		t.Fatalf("after r2 started: %+v %v; want r1 still current", d.Info.RoutingConfig, err)
	}
	// A workflow started now runs on r1: a version nobody made current
	// gets no new work.
	early := "probe-started-before-the-ramp"
	startProbe(t, c, early)
	stepProbe(t, c, early, upgradeprobe.StepDone)
	var earlyRes upgradeprobe.Result
	ectx, ecancel := context.WithTimeout(ctx, 30*time.Second)
	defer ecancel()
	if err := c.GetWorkflow(ectx, early, "").Get(ectx, &earlyRes); err != nil || earlyRes.Revision != 1 {
		t.Fatalf("%s: %+v %v; want it run by r1's code", early, earlyRes, err)
	}
	// Ramp, then promote: what `temporal worker deployment
	// set-ramping-version` and `set-current-version` do.
	if _, err := dep.SetRampingVersion(ctx, client.WorkerDeploymentSetRampingVersionOptions{BuildID: "r2", Percentage: 25}); err != nil {
		t.Fatalf("ramp r2: %v", err)
	}
	s.waitRouting(dep, "r2 ramping at 25%", func(rc client.WorkerDeploymentRoutingConfig) bool {
		return rc.RampingVersion != nil && rc.RampingVersion.BuildID == "r2" && rc.RampingVersionPercentage == 25
	})
	if _, err := dep.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: "r2"}); err != nil {
		t.Fatalf("promote r2: %v", err)
	}
	// Drain r1: nothing pinned to it is open (leads auto-upgrade), so it
	// drains; then its worker may go.
	s.waitFor("r1 drained", 60*time.Second, func() bool {
		d, err := dep.DescribeVersion(ctx, client.WorkerDeploymentDescribeVersionOptions{BuildID: "r1"})
		return err == nil && d.Info.DrainageInfo != nil && d.Info.DrainageInfo.DrainageStatus == client.WorkerDeploymentVersionDrainageStatusDrained
	})
	stopProc(t, w1)
	switched := time.Now()
	t.Logf("r1 replaced by r2 %s after the handoffs", switched.Sub(handoffs).Round(time.Second))
	if remindSent(t, s, untouched) {
		t.Fatalf("%s was reminded before r1 stopped: the switch took longer than half the test policy's SLA; raise it", untouched)
	}

	// Every lead goes on under r2: an accept, and the ladder's remind
	// timer (due 45 s after the handoff) fires and is acted on.
	code, body := s.update(accepted, "accept", lead.AcceptRequest{ID: "u-acc", RepID: owners[accepted]})
	if code != http.StatusOK {
		t.Fatalf("accept after the upgrade: %d %s", code, body)
	}
	s.waitLead(accepted, "sal on r2", 30*time.Second, func(v lead.View) bool { return v.Stage == lead.StageSAL })
	s.waitFor("the remind notification of "+untouched, 90*time.Second, func() bool { return remindSent(t, s, untouched) })
	// The probe: the run from r1 keeps its old sequence under r2's code;
	// a run started on r2 takes the new one.
	stepProbe(t, c, oldProbe, upgradeprobe.StepNext, upgradeprobe.StepDone)
	newProbe := "probe-started-on-r2"
	startProbe(t, c, newProbe)
	stepProbe(t, c, newProbe, upgradeprobe.StepNext, upgradeprobe.StepNext, upgradeprobe.StepDone)
	var oldRes, newRes upgradeprobe.Result
	gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for id, res := range map[string]*upgradeprobe.Result{oldProbe: &oldRes, newProbe: &newRes} {
		if err := c.GetWorkflow(gctx, id, "").Get(gctx, res); err != nil {
			checkHistory(t, id, history(t, c, id)) // says why: a failed workflow task's cause
			t.Fatalf("%s did not finish: %v", id, err)
		}
	}
	if oldRes != (upgradeprobe.Result{Revision: 2, Steps: 3, ExtraTimers: 0, Version: workflow.DefaultVersion}) {
		t.Errorf("the run started on r1 finished as %+v; want r2's code keeping the old sequence (no extra timer, DefaultVersion)", oldRes)
	}
	if newRes != (upgradeprobe.Result{Revision: 2, Steps: 2, ExtraTimers: 2, Version: 1}) {
		t.Errorf("the run started on r2 finished as %+v; want the new sequence (version 1, an extra timer per step)", newRes)
	}

	// Each history: no failed workflow task, tasks completed by r1 and then
	// by r2 only after the switch, and a replay against the new code.
	policySrc, err := os.ReadFile(polPath)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse("upgrade policy", policySrc)
	if err != nil {
		t.Fatal(err)
	}
	for _, wid := range []string{lead.WorkflowID(accepted), lead.WorkflowID(untouched), oldProbe, newProbe} {
		h := history(t, c, wid)
		builds := checkHistory(t, wid, h)
		wantFirst := "r1"
		if wid == newProbe {
			wantFirst = "r2"
		}
		if len(builds) == 0 || builds[0] != wantFirst || builds[len(builds)-1] != "r2" {
			t.Errorf("%s: workflow tasks completed by builds %v; want %s first and r2 last", wid, builds, wantFirst)
		}
		replay(t, wid, h, pol)
	}
	// Visibility, as docs/upgrading.md queries it (values as this server
	// writes them): the build that last ran each workflow, every build that
	// ever ran it, its behaviour, and which runs took a GetVersion branch
	// (the SDK upserts TemporalChangeVersion when it records a version; a
	// run that kept the old sequence has none).
	for q, want := range map[string]int64{
		"WorkflowType = 'LeadWorkflow' AND TemporalWorkerDeploymentVersion = 'leadflow:r2'":    2,
		"WorkflowType = 'LeadWorkflow' AND BuildIds = 'versioned:r1'":                          2,
		"WorkflowType = 'LeadWorkflow' AND TemporalWorkflowVersioningBehavior = 'AutoUpgrade'": 2,
		"WorkflowType = 'UpgradeProbe' AND TemporalChangeVersion = 'probe-extra-timer-1'":      1,
		// The run from r1 and the one r1 ran whole.
		"WorkflowType = 'UpgradeProbe' AND TemporalChangeVersion IS NULL":                        2,
		"WorkflowType = 'UpgradeProbe' AND TemporalChangeVersion NOT IN ('probe-extra-timer-1')": 2,
	} {
		s.waitFor(fmt.Sprintf("%d workflows listed by %s", want, q), 30*time.Second, func() bool {
			n, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q})
			return err == nil && n.GetCount() == want
		})
	}
	t.Logf("r1 stopped %s before the last check; r2 ran every lead on", time.Since(switched).Round(time.Second))

	// Rollback, measured: r1 back as current (its worker started again).
	// A run that took r2's new branch fails on r1's code with a
	// nondeterminism error; rolling forward (r2 current again) lets it go
	// on. The leads, whose code is the same in both builds, are unharmed.
	taken := "probe-took-the-new-branch"
	startProbe(t, c, taken)
	stepProbe(t, c, taken, upgradeprobe.StepNext)
	s.waitProbe(c, taken, func(r upgradeprobe.Result) bool { return r.ExtraTimers == 1 })
	w1 = s.startBuild("worker-r1-again", r1, "r1")
	s.waitVersionPolled(dep, "r1")
	if _, err := dep.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: "r1"}); err != nil {
		t.Fatalf("roll back to r1: %v", err)
	}
	stepProbe(t, c, taken, upgradeprobe.StepNext)
	s.waitFor(taken+" failing on r1 with a nondeterminism error", 60*time.Second, func() bool {
		for _, e := range history(t, c, taken).Events {
			if e.GetWorkflowTaskFailedEventAttributes().GetCause() == enumspb.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR {
				return true
			}
		}
		return false
	})
	if _, err := dep.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: "r2"}); err != nil {
		t.Fatalf("roll forward to r2: %v", err)
	}
	stepProbe(t, c, taken, upgradeprobe.StepDone)
	var takenRes upgradeprobe.Result
	fctx, fcancel := context.WithTimeout(ctx, 60*time.Second)
	defer fcancel()
	if err := c.GetWorkflow(fctx, taken, "").Get(fctx, &takenRes); err != nil || takenRes != (upgradeprobe.Result{Revision: 2, Steps: 2, ExtraTimers: 2, Version: 1}) {
		t.Fatalf("%s after rolling forward: %+v %v; want it finished on r2's code", taken, takenRes, err)
	}
	for _, id := range []string{accepted, untouched} {
		checkHistory(t, lead.WorkflowID(id), history(t, c, lead.WorkflowID(id)))
	}
	stopProc(t, w1)
	stopProc(t, w2)
}

// buildProbeWorker builds the worker with the upgrade probe at revision.
func buildProbeWorker(t *testing.T, revision int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), fmt.Sprintf("worker-r%d", revision))
	cmd := exec.Command("go", "build", "-race", "-tags", "upgradeprobe",
		"-ldflags", fmt.Sprintf("-X main.upgradeProbeRevision=%d", revision), "-o", out, "./worker")
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the r%d worker: %v\n%s", revision, err, b)
	}
	return out
}

// startBuild starts a versioned worker of buildID from bin.
func (s *stack) startBuild(name, bin, buildID string) *exec.Cmd {
	s.t.Helper()
	saved := s.env
	s.env = append(append([]string(nil), s.env...), "LEADFLOW_WORKER_VERSIONING=on", "LEADFLOW_BUILD_ID="+buildID,
		// Each worker its own metrics port.
		"LEADFLOW_METRICS_ADDR="+freeAddr(s.t))
	defer func() { s.env = saved }()
	return s.start(name, bin)
}

// stopProc stops a process as its supervisor would (SIGTERM) and waits.
func stopProc(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker exited with %v", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("worker did not stop within 45s of SIGTERM")
	}
}

func (s *stack) waitRouting(dep client.WorkerDeploymentHandle, what string, cond func(client.WorkerDeploymentRoutingConfig) bool) {
	s.t.Helper()
	s.waitFor(what, 60*time.Second, func() bool {
		d, err := dep.Describe(context.Background(), client.WorkerDeploymentDescribeOptions{})
		return err == nil && cond(d.Info.RoutingConfig)
	})
}

// waitVersionPolled waits until the server lists buildID's version with
// both of its task queues (the lead queue and the SaaS queue).
func (s *stack) waitVersionPolled(dep client.WorkerDeploymentHandle, buildID string) {
	s.t.Helper()
	s.waitFor("version "+buildID+" polled on both task queues", 60*time.Second, func() bool {
		d, err := dep.DescribeVersion(context.Background(), client.WorkerDeploymentDescribeVersionOptions{BuildID: buildID})
		if err != nil {
			return false
		}
		queues := map[string]bool{}
		for _, q := range d.Info.TaskQueuesInfos {
			queues[q.Name] = true
		}
		return queues[lead.TaskQueue] && queues[lead.TaskQueue+"-saas"]
	})
}

func startProbe(t *testing.T, c client.Client, id string) {
	t.Helper()
	if _, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: lead.TaskQueue}, upgradeprobe.WorkflowName); err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
}

func stepProbe(t *testing.T, c client.Client, id string, steps ...string) {
	t.Helper()
	for _, st := range steps {
		if err := c.SignalWorkflow(t.Context(), id, "", upgradeprobe.SignalStep, st); err != nil {
			t.Fatalf("signal %s %s: %v", id, st, err)
		}
	}
}

func (s *stack) waitProbe(c client.Client, id string, cond func(upgradeprobe.Result) bool) {
	s.t.Helper()
	s.waitFor(id+" steps", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := c.QueryWorkflow(ctx, id, "", upgradeprobe.QueryResult)
		var r upgradeprobe.Result
		return err == nil && v.Get(&r) == nil && cond(r)
	})
}

func history(t *testing.T, c client.Client, wid string) *historypb.History {
	t.Helper()
	it := c.GetWorkflowHistory(t.Context(), wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", wid, err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

// checkHistory fails on any failed or timed-out workflow task or a failed
// workflow, and returns the build of each completed workflow task, in
// order, deduplicated ("r1", "r2").
func checkHistory(t *testing.T, wid string, h *historypb.History) []string {
	t.Helper()
	var builds []string
	for _, e := range h.Events {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			a := e.GetWorkflowTaskFailedEventAttributes()
			t.Errorf("%s: workflow task failed (event %d, %s): %s", wid, e.GetEventId(), a.GetCause(), a.GetFailure().GetMessage())
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
			t.Errorf("%s: workflow failed: %s", wid, e.GetWorkflowExecutionFailedEventAttributes().GetFailure().GetMessage())
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			b := e.GetWorkflowTaskCompletedEventAttributes().GetDeploymentVersion().GetBuildId()
			if len(builds) == 0 || builds[len(builds)-1] != b {
				builds = append(builds, b)
			}
		}
	}
	return builds
}

// replay replays h against the new build's code: the lead workflow as the
// worker registers it, or the probe at revision 2.
func replay(t *testing.T, wid string, h *historypb.History, pol *policy.Policy) {
	t.Helper()
	dc := codec.DataConverter(testenv.Codec(t))
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: codec.FailureConverter(dc)})
	if err != nil {
		t.Fatal(err)
	}
	r.RegisterWorkflowWithOptions(workflows.New(workflows.Config{Policies: fixedPolicy{pol}, SaaSQueue: lead.TaskQueue + "-saas"}).LeadWorkflow,
		workflow.RegisterOptions{Name: lead.WorkflowType})
	r.RegisterWorkflowWithOptions(upgradeprobe.Workflow(2), workflow.RegisterOptions{Name: upgradeprobe.WorkflowName})
	if err := r.ReplayWorkflowHistory(temporalx.NewLogger(zap.NewNop()), h); err != nil {
		t.Errorf("replay %s against the new build: %v", wid, err)
	}
}

type fixedPolicy struct{ p *policy.Policy }

func (f fixedPolicy) Current() *policy.Policy { return f.p }

// remindSent reports whether the SLA ladder has reminded id's owner.
func remindSent(t *testing.T, s *stack, id string) bool {
	t.Helper()
	notes, err := s.st.CRM().Notifications(t.Context(), id)
	if err != nil {
		return false
	}
	for _, n := range notes {
		if n.Kind == "remind" {
			return true
		}
	}
	return false
}

// upgradePolicy is the fast policy with a first-touch SLA of 90 s for
// quote requests: the ladder's remind (at half) is due after the switch,
// which took 9 s here on an idle machine (the test fails, saying so, if
// the reminder comes first).
func upgradePolicy(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(fastPolicy)
	if err != nil {
		t.Fatal(err)
	}
	slow := strings.Replace(string(src), "within: 4s", "within: 90s", 1)
	if slow == string(src) {
		t.Fatal("the fast policy no longer has the quote request's 4s SLA this test slows down")
	}
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(slow), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
