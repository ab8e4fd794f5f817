package workflows

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
)

// monday10 is Monday 2026-11-23 10:00 in New York: business hours of the
// example policy.
var monday10 = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

func examplePolicySource(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../deploy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exampleDirectory(t testing.TB) *directory.Directory {
	t.Helper()
	d, err := directory.Load("../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// harness runs one lead workflow in the test environment with time skipping.
// Steps are scheduled at offsets from the start; the last step cancels the
// workflow (leads live forever) after recording the final state.
type harness struct {
	t      *testing.T
	ts     testsuite.WorkflowTestSuite
	env    *testsuite.TestWorkflowEnvironment
	f      *fakes
	leadID string
	leads  *Leads

	mu  sync.Mutex
	sa  map[string]any // search attributes as upserted, last value wins
	end time.Duration
}

type harnessOpt func(*harnessConfig)

type harnessConfig struct {
	policy     string
	dir        *directory.Directory
	start      time.Time
	historyCap int
	saasQueue  string
	saasKinds  map[string]bool
	source     PolicySource // instead of a static policy
}

func withPolicy(src string) harnessOpt                { return func(c *harnessConfig) { c.policy = src } }
func withDirectory(d *directory.Directory) harnessOpt { return func(c *harnessConfig) { c.dir = d } }
func withStart(t time.Time) harnessOpt                { return func(c *harnessConfig) { c.start = t } }
func withHistoryCap(n int) harnessOpt                 { return func(c *harnessConfig) { c.historyCap = n } }
func withSaaS(queue string, kinds map[string]bool) harnessOpt {
	return func(c *harnessConfig) { c.saasQueue, c.saasKinds = queue, kinds }
}
func withSource(s PolicySource) harnessOpt { return func(c *harnessConfig) { c.source = s } }

func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	cfg := harnessConfig{policy: examplePolicySource(t), dir: exampleDirectory(t), start: monday10}
	for _, o := range opts {
		o(&cfg)
	}
	h := &harness{t: t, leadID: "L-1001", sa: map[string]any{}}
	h.ts.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	h.env = h.ts.NewTestWorkflowEnvironment()
	h.env.SetStartTime(cfg.start)
	h.f = newFakes(cfg.dir)
	h.f.now = h.env.Now
	h.f.register(h.env)
	if cfg.source == nil {
		cfg.source = staticPolicy{mustPolicy(cfg.policy)}
	}
	h.leads = New(Config{Policies: cfg.source, HistoryCap: cfg.historyCap,
		SaaSQueue: cfg.saasQueue, SaaSKinds: cfg.saasKinds})
	h.env.RegisterWorkflowWithOptions(h.leads.LeadWorkflow, workflow.RegisterOptions{Name: lead.WorkflowType})
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		h.mu.Lock()
		defer h.mu.Unlock()
		for k, v := range sa.GetUntypedValues() {
			h.sa[k.GetName()] = v
		}
	})
	return h
}

// at schedules fn at offset d of virtual time.
func (h *harness) at(d time.Duration, fn func()) {
	if d > h.end {
		h.end = d
	}
	h.env.RegisterDelayedCallback(fn, d)
}

// awake keeps the test environment's clock stepping every few seconds up
// to offset until. The environment skips time to the next timer or
// callback once the workflow is idle, and can pass over an activity retry
// whose goroutine has not yet registered its backoff: with these steps an
// outage of hours is retried as it would be on a server.
func (h *harness) awake(until time.Duration) {
	const step = 5 * time.Second
	left := int(until / step)
	var tick func()
	tick = func() {
		if left--; left > 0 {
			h.env.RegisterDelayedCallback(tick, step)
		}
	}
	h.at(0, tick)
	if until > h.end {
		h.end = until
	}
}

// event schedules an event signal at offset d.
func (h *harness) event(d time.Duration, ev lead.Event) {
	h.at(d, func() {
		if ev.OccurredAt.IsZero() {
			ev.OccurredAt = h.env.Now()
		}
		if ev.LeadID == "" {
			ev.LeadID = h.leadID
		}
		h.env.SignalWorkflow(lead.SignalEvent, ev)
	})
}

// state queries the lead state now (call from inside a callback).
func (h *harness) state() lead.View {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(lead.QueryState)
	if err != nil {
		h.t.Fatalf("query state: %v", err)
	}
	var st lead.View
	if err := v.Get(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) explain() lead.Explanation {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(lead.QueryExplain)
	if err != nil {
		h.t.Fatalf("query explain: %v", err)
	}
	var e lead.Explanation
	if err := v.Get(&e); err != nil {
		h.t.Fatal(err)
	}
	return e
}

// updateResult is filled when the update finishes, which in the test
// environment is after the scheduling callback returns.
type updateResult struct {
	done     bool
	rejected bool // refused by the validator: nothing was recorded
	view     lead.View
	err      error
}

// update sends an update now (call from inside a callback).
func (h *harness) update(name string, id string, req any) *updateResult {
	h.t.Helper()
	res := &updateResult{}
	h.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { res.done, res.rejected, res.err = true, true, err },
		OnComplete: func(out any, err error) {
			res.done = true
			if err != nil {
				res.err = err
				return
			}
			res.view = out.(lead.View)
		},
	}, req)
	return res
}

// run executes until the last scheduled step, then cancels the lead and
// returns the workflow's error (nil or canceled for a live lead).
func (h *harness) run(extra time.Duration) error {
	return h.runWith(extra, Input{LeadID: h.leadID})
}

// runWith is run with an explicit input (a continued run's carried state).
func (h *harness) runWith(extra time.Duration, in Input) error {
	h.at(h.end+extra, func() { h.env.CancelWorkflow() })
	h.env.ExecuteWorkflow(lead.WorkflowType, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	err := h.env.GetWorkflowError()
	if err != nil && !temporal.IsCanceledError(err) {
		return err
	}
	return nil
}

// continuedInput is the Input the workflow continued as new with; the
// test fails if it did not.
func (h *harness) continuedInput() Input {
	h.t.Helper()
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		h.t.Fatalf("want continue-as-new, got %v", err)
	}
	var in Input
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		h.t.Fatal(err)
	}
	return in
}

func (h *harness) saValue(name string) any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sa[name]
}

// acmeProfile is a mid-market insurance lead in California (fit 30).
func acmeProfile() *lead.Profile {
	return &lead.Profile{Email: "ana@acme.io", Company: "Acme", Domain: "acme.io", Country: "US", Region: "CA",
		Employees: 250, Industry: "insurance", Title: "VP Sales", Product: "core"}
}

func quoteRequest(id string) lead.Event {
	return lead.Event{ID: id, Type: lead.EventFormSubmit, Source: "website",
		Attributes: map[string]any{"form": "quote_request", "utm_campaign": "q4-pricing"}, Profile: acmeProfile()}
}

func ev(id, typ string, attrs map[string]any) lead.Event {
	return lead.Event{ID: id, Type: typ, Source: "test", Attributes: attrs}
}

func contains(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

func hasPrefix(list []string, prefix string) int {
	n := 0
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}
