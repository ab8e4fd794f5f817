package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func TestPolicyPublish(t *testing.T) {
	t.Parallel()
	p := storetest.Open(t).Policies()
	ctx := t.Context()
	v, created, err := p.Publish(ctx, "v1", []byte("version: v1\n"), "ana")
	if err != nil || !created || v.Version != "v1" || len(v.Digest) != 64 || v.PublishedBy != "ana" {
		t.Fatalf("first publish = %+v %v %v", v, created, err)
	}
	// The same source again: the stored version, nothing new.
	again, created, err := p.Publish(ctx, "v1", []byte("version: v1\n"), "bo")
	if err != nil || created || again.PublishedBy != "ana" || again.Digest != v.Digest {
		t.Fatalf("republish = %+v %v %v; want the first, not created", again, created, err)
	}
	// The label with another source is refused, naming the version.
	if _, _, err := p.Publish(ctx, "v1", []byte("version: v1\n# edited\n"), "bo"); !errors.Is(err, store.ErrPolicyConflict) || !strings.Contains(err.Error(), "already published with another source") {
		t.Fatalf("same label, other source: %v; want ErrPolicyConflict", err)
	}
	// The source under another label is refused too.
	if _, _, err := p.Publish(ctx, "v9", []byte("version: v1\n"), "bo"); !errors.Is(err, store.ErrPolicyConflict) || !strings.Contains(err.Error(), "already published as version v1") {
		t.Fatalf("same source, other label: %v; want ErrPolicyConflict", err)
	}
	got, err := p.Version(ctx, "v1")
	if err != nil || string(got.Source) != "version: v1\n" {
		t.Fatalf("Version(v1) = %+v %v", got, err)
	}
	if _, err := p.Version(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Version(nope) = %v; want ErrNotFound", err)
	}
	if vs, err := p.Versions(ctx); err != nil || len(vs) != 1 {
		t.Fatalf("Versions = %+v %v", vs, err)
	}
}

func TestPolicyActivateAndRollback(t *testing.T) {
	t.Parallel()
	p := storetest.Open(t).Policies()
	ctx := t.Context()
	if _, ok, err := p.Active(ctx); err != nil || ok {
		t.Fatalf("Active on a fresh database = %v %v; want none", ok, err)
	}
	if _, _, err := p.Activate(ctx, "v1", "ana"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("activate unpublished: %v; want ErrNotFound", err)
	}
	for _, v := range []string{"v1", "v2", "v3"} {
		if _, _, err := p.Publish(ctx, v, []byte("version: "+v+"\n"), "ana"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Rollback(ctx, "ana"); !errors.Is(err, store.ErrPolicyConflict) {
		t.Fatalf("rollback with nothing active: %v; want ErrPolicyConflict", err)
	}
	var last int64
	step := func(what string, do func() (store.PolicyActivation, error), wantVersion string) {
		t.Helper()
		a, err := do()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if a.Version != wantVersion || a.Seq <= last {
			t.Fatalf("%s = %+v; want version %s above seq %d", what, a, wantVersion, last)
		}
		last = a.Seq
		act, ok, err := p.Active(ctx)
		if err != nil || !ok || act.Version != wantVersion || act.Seq != a.Seq || string(act.Source) != "version: "+wantVersion+"\n" {
			t.Fatalf("after %s Active = %+v %v %v; want %s", what, act, ok, err, wantVersion)
		}
	}
	activate := func(v string) func() (store.PolicyActivation, error) {
		return func() (store.PolicyActivation, error) {
			a, _, err := p.Activate(ctx, v, "ana")
			return a, err
		}
	}
	rollback := func() (store.PolicyActivation, error) { return p.Rollback(ctx, "bo") }
	step("activate v1", activate("v1"), "v1")
	step("activate v2", activate("v2"), "v2")
	step("activate v3", activate("v3"), "v3")
	// Activating the active version again adds nothing.
	if a, changed, err := p.Activate(ctx, "v3", "ana"); err != nil || changed || a.Seq != last {
		t.Fatalf("re-activate v3 = %+v %v %v; want seq %d unchanged", a, changed, err, last)
	}
	step("rollback", rollback, "v2")
	step("second rollback", rollback, "v1")
	if _, err := p.Rollback(ctx, "bo"); !errors.Is(err, store.ErrPolicyConflict) {
		t.Fatalf("rollback past the first activation: %v; want ErrPolicyConflict", err)
	}
	step("activate v3 again", activate("v3"), "v3")
	step("rollback to v1", rollback, "v1")
	acts, err := p.Activations(ctx)
	if err != nil || len(acts) != 7 || acts[3].Kind != store.PolicyRollback || acts[0].Kind != store.PolicyActivate {
		t.Fatalf("Activations = %+v %v", acts, err)
	}
}

func TestRollbackTarget(t *testing.T) {
	a := func(kind, v string) store.PolicyActivation { return store.PolicyActivation{Kind: kind, Version: v} }
	act, rb := store.PolicyActivate, store.PolicyRollback
	for _, tc := range []struct {
		name string
		hist []store.PolicyActivation
		want string
	}{
		{"none", nil, ""},
		{"one", []store.PolicyActivation{a(act, "A")}, ""},
		{"two", []store.PolicyActivation{a(act, "A"), a(act, "B")}, "A"},
		{"after a rollback, one further back", []store.PolicyActivation{a(act, "A"), a(act, "B"), a(act, "C"), a(rb, "B")}, "A"},
		{"rolled back to the first", []store.PolicyActivation{a(act, "A"), a(act, "B"), a(rb, "A")}, ""},
		{"activate after rollback", []store.PolicyActivation{a(act, "A"), a(act, "B"), a(rb, "A"), a(act, "C")}, "A"},
	} {
		got, ok := store.RollbackTarget(tc.hist)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: RollbackTarget = %q %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestPolicyWorkers(t *testing.T) {
	t.Parallel()
	p := storetest.Open(t).Policies()
	ctx := t.Context()
	for _, w := range []store.PolicyWorker{{Worker: "w1", Version: "v1", Digest: "d1"}, {Worker: "w1", Version: "v2", Digest: "d2", Seq: 2}, {Worker: "w2", Version: "v1", Digest: "d1"}} {
		if err := p.ReportWorker(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := p.Workers(ctx, time.Now().Add(-time.Minute))
	if err != nil || len(ws) != 2 || ws[0].Worker != "w1" || ws[0].Version != "v2" || ws[0].Seq != 2 || ws[1].Version != "v1" {
		t.Fatalf("Workers = %+v %v", ws, err)
	}
	if ws, err := p.Workers(ctx, time.Now().Add(time.Minute)); err != nil || len(ws) != 0 {
		t.Fatalf("Workers seen in the future = %+v %v; want none", ws, err)
	}
}

func TestOpenLeadInputs(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	for _, snap := range []actions.StateSnapshot{
		{LeadID: "L-2", Seq: 1, At: at, View: lead.View{Stage: lead.StageHandoff},
			Inputs: &actions.DecisionInputs{Profile: lead.Profile{Email: "b@b.io", Employees: 40}, Trigger: "quote_request", Counts: map[string]int64{"form.submit": 1}}},
		{LeadID: "L-1", Seq: 1, At: at, View: lead.View{Stage: lead.StageLead}}, // published before inputs were kept
		{LeadID: "L-3", Seq: 1, At: at, View: lead.View{Stage: lead.StageDisqualified}, Inputs: &actions.DecisionInputs{}},
	} {
		if err := s.States().PublishState(ctx, snap); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Policies().OpenLeadInputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].View.LeadID != "L-1" || got[0].Inputs != nil || got[1].View.LeadID != "L-2" {
		t.Fatalf("open leads = %+v; want L-1 (no inputs), L-2", got)
	}
	if in := got[1].Inputs; in == nil || in.Profile.Employees != 40 || in.Trigger != "quote_request" || in.Counts["form.submit"] != 1 {
		t.Fatalf("L-2 inputs = %+v", in)
	}
}

// Reports older than a day are dropped when a worker reports.
func TestPolicyWorkersPruned(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)}
	p := storetest.Open(t, store.WithClock(c.Now)).Policies()
	ctx := t.Context()
	if err := p.ReportWorker(ctx, store.PolicyWorker{Worker: "old", Version: "v1", Digest: "d1"}); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.t = c.t.Add(25 * time.Hour)
	c.mu.Unlock()
	if err := p.ReportWorker(ctx, store.PolicyWorker{Worker: "new", Version: "v1", Digest: "d1"}); err != nil {
		t.Fatal(err)
	}
	ws, err := p.Workers(ctx, time.Time{})
	if err != nil || len(ws) != 1 || ws[0].Worker != "new" {
		t.Fatalf("Workers = %+v %v; want only new", ws, err)
	}
}
