package workflows

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
)

// switchablePolicy is a PolicySource a test switches in-process, as a
// worker's Postgres-backed source does when a version is activated.
type switchablePolicy struct {
	mu  sync.Mutex
	p   *policy.Policy
	seq int64
}

func (s *switchablePolicy) set(p *policy.Policy, seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p, s.seq = p, seq
}

func (s *switchablePolicy) Current() *policy.Policy { p, _ := s.CurrentActivation(); return p }

func (s *switchablePolicy) CurrentActivation() (*policy.Policy, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p, s.seq
}

func TestNewerPolicy(t *testing.T) {
	ref := func(v string, seq int64) PolicyRef { return PolicyRef{Version: v, Digest: "d-" + v, Seq: seq} }
	p := func(r PolicyRef) *PolicyRef { return &r }
	for _, tc := range []struct {
		name    string
		held    *PolicyRef
		offered PolicyRef
		want    string
	}{
		{"a new lead takes the worker's", nil, ref("A", 0), "A"},
		{"a new lead takes an activated one", nil, ref("A", 4), "A"},
		{"a later activation moves the lead", p(ref("A", 1)), ref("B", 2), "B"},
		{"a rollback is a later activation", p(ref("B", 2)), ref("A", 3), "A"},
		{"an older activation never moves it back", p(ref("B", 2)), ref("A", 1), "B"},
		{"a worker on its file never moves an activated lead", p(ref("B", 2)), ref("F", 0), "B"},
		{"the same activation stays", p(ref("B", 2)), ref("B", 2), "B"},
		{"file to activated", p(ref("F", 0)), ref("B", 1), "B"},
		{"between files the worker's wins (SIGHUP)", p(ref("F", 0)), ref("G", 0), "G"},
	} {
		if got := newerPolicy(tc.held, tc.offered); got.Version != tc.want {
			t.Errorf("%s: newerPolicy = %s; want %s", tc.name, got.Version, tc.want)
		}
	}
}

// withVersion is the example policy under another version label and MQL
// threshold.
func withVersion(t *testing.T, version string, threshold int) *policy.Policy {
	t.Helper()
	src := examplePolicySource(t)
	src = strings.Replace(src, `version: "2026-11-22.1"`, `version: "`+version+`"`, 1)
	src = strings.Replace(src, "mql_threshold: 50", "mql_threshold: "+itoa(threshold), 1)
	return mustPolicy(src)
}

func itoa(n int) string { return strconv.Itoa(n) }

// A lead moves to a newly activated policy at its next event, once; what it
// decided before stands; a worker with an older activation or only its file
// cannot move it back; a rollback (a later activation) does.
func TestPolicyChangeMidLeadMovesOnlyForward(t *testing.T) {
	a, b, file := withVersion(t, "A", 50), withVersion(t, "B", 40), withVersion(t, "F", 50)
	src := &switchablePolicy{p: a, seq: 1}
	h := newHarness(t, withSource(src))
	page := func(id string) lead.Event {
		return lead.Event{ID: id, Type: lead.EventWebPageView, Source: "website", Attributes: map[string]any{"category": "blog"}, Profile: acmeProfile()}
	}
	views := map[string]lead.View{}
	look := func(d time.Duration, name string) { h.at(d, func() { views[name] = h.state() }) }
	h.event(0, page("e1")) // fit 30 < 50 under A: a lead
	look(time.Minute, "A")
	h.at(time.Hour, func() { src.set(b, 2) })
	h.event(time.Hour+time.Minute, ev("e2", "webinar.attended", nil)) // 30+15 = 45: an MQL under B (40), not under A
	look(time.Hour+2*time.Minute, "B")
	h.at(2*time.Hour, func() { src.set(a, 1) }) // a worker that has not caught up
	h.event(2*time.Hour+time.Minute, page("e3"))
	look(2*time.Hour+2*time.Minute, "flap")
	h.at(3*time.Hour, func() { src.set(file, 0) }) // a worker on its file
	h.event(3*time.Hour+time.Minute, page("e4"))
	look(3*time.Hour+2*time.Minute, "file")
	h.at(4*time.Hour, func() { src.set(a, 3) }) // rollback to A
	h.event(4*time.Hour+time.Minute, page("e5"))
	look(4*time.Hour+2*time.Minute, "rollback")
	var x lead.Explanation
	h.at(4*time.Hour+3*time.Minute, func() { x = h.explain() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if v := views["A"]; v.Stage != lead.StageLead || v.PolicyVersion != "A" {
		t.Fatalf("under A: stage %s policy %s; want lead under A", v.Stage, v.PolicyVersion)
	}
	if v := views["B"]; v.Stage != lead.StageHandoff || v.PolicyVersion != "B" {
		t.Fatalf("after activating B: stage %s policy %s; want handoff under B", v.Stage, v.PolicyVersion)
	}
	for _, name := range []string{"flap", "file"} {
		if v := views[name]; v.PolicyVersion != "B" || v.Stage != lead.StageHandoff {
			t.Fatalf("%s worker moved the lead: policy %s stage %s; want B, handoff", name, v.PolicyVersion, v.Stage)
		}
	}
	if v := views["rollback"]; v.PolicyVersion != "A" || v.Stage != lead.StageHandoff {
		t.Fatalf("after the rollback: policy %s stage %s; want A and the handoff kept", v.PolicyVersion, v.Stage)
	}
	// Each decision names its version; each switch is in the history once.
	var switches []string
	policyOf := map[lead.Stage]string{}
	for _, tr := range x.History {
		if strings.HasPrefix(tr.Why, "policy ") {
			switches = append(switches, tr.Why)
			continue
		}
		policyOf[tr.To] = tr.Policy
	}
	if want := []string{"policy A → B (activation 2)", "policy B → A (activation 3)"}; strings.Join(switches, "|") != strings.Join(want, "|") {
		t.Fatalf("switches in history %q; want %q", switches, want)
	}
	if policyOf[lead.StageLead] != "A" || policyOf[lead.StageMQL] != "B" || policyOf[lead.StageHandoff] != "B" {
		t.Fatalf("transitions decided under %v; want lead A, mql and handoff B", policyOf)
	}
	if x.Routing == nil || x.Routing.PolicyVersion != "B" {
		t.Fatalf("routing %+v; want decided under B", x.Routing)
	}
	if n := h.f.ledgerKinds()[actions.LedgerPolicy]; n != 2 {
		t.Fatalf("%d policy ledger facts; want 2", n)
	}
}

// A run that continues as new keeps the lead's policy even when the worker
// it lands on offers an older activation.
func TestPolicyCarriedAcrossContinueAsNew(t *testing.T) {
	a, b := withVersion(t, "A", 50), withVersion(t, "B", 40)
	src := &switchablePolicy{p: b, seq: 2}
	h := newHarness(t, withSource(src))
	h.event(0, quoteRequest("q1"))
	h.at(time.Minute, func() { h.env.SetContinueAsNewSuggested(true) })
	h.event(time.Minute+time.Second, ev("p1", lead.EventWebPageView, map[string]any{"category": "blog"}))
	h.env.ExecuteWorkflow(lead.WorkflowType, Input{LeadID: h.leadID})
	in := h.continuedInput()
	if in.State.Policy == nil || in.State.Policy.Version != "B" || in.State.Policy.Seq != 2 {
		t.Fatalf("carried policy %+v; want B at activation 2", in.State.Policy)
	}
	src2 := &switchablePolicy{p: a, seq: 1}
	h2 := newHarness(t, withSource(src2), withStart(monday10.Add(time.Minute)))
	var v lead.View
	h2.event(time.Minute, ev("late", lead.EventWebPageView, map[string]any{"category": "blog"}))
	h2.at(2*time.Minute, func() { v = h2.state() })
	if err := h2.runWith(0, in); err != nil {
		t.Fatal(err)
	}
	if v.PolicyVersion != "B" {
		t.Fatalf("continued run on a worker with activation 1 runs %s; want B", v.PolicyVersion)
	}
	if n := h2.f.ledgerKinds()[actions.LedgerPolicy]; n != 0 {
		t.Fatalf("%d policy ledger facts in the continued run; want none", n)
	}
}
