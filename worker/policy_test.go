package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/worker"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

// noActivation is a worker's view of Postgres that never sees an
// activation: a worker that runs its file.
type noActivation struct{}

func (noActivation) Active(context.Context) (store.ActivePolicy, bool, error) {
	return store.ActivePolicy{}, false, nil
}
func (noActivation) ReportWorker(context.Context, store.PolicyWorker) error { return nil }

// A policy change mid-lead through publish and activate, on a real dev
// server and Postgres: the lead adopts the activated version at its next
// event, once; what it decided before stands, what it decides next is the
// new version's; a worker that still runs the old file then works the lead
// alone and cannot move it back.
func testPolicyRollout(t *testing.T, srv *testenv.DevServer) {
	ctx := t.Context()
	ready := make(chan struct{})
	r := startWorker(t, srv, map[string]string{"LEADFLOW_POLICY_POLL": "1s"}, hooks{ready: ready})
	db := r.cfg.DatabaseURL
	r.waitReady(t, ready)
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	importDirectoryInto(t, st)
	c := srv.Client(t)
	leads := temporalx.NewLeadClient(c, r.cfg.TaskQueue)
	profile := &lead.Profile{Email: "kim@initech.com", Company: "Initech", Domain: "initech.com", Country: "US", Employees: 400, Industry: "software"}
	send := func(id, typ, category string) {
		t.Helper()
		ev := lead.Event{ID: id, LeadID: "W-P1", Type: typ, OccurredAt: time.Now().UTC(), Source: "website",
			Attributes: map[string]any{"category": category}, Profile: profile}
		if err := leads.Deliver(ctx, "W-P1", ev); err != nil {
			t.Fatal(err)
		}
	}
	var v lead.View
	// fit 20 + pricing 20 = 40: under fast-1 (MQL at 50) a lead.
	send("p-1", lead.EventWebPageView, "pricing")
	eventually(t, 30*time.Second, "the lead is scored under the file's fast-1", func() bool {
		return leads.Query(ctx, "W-P1", lead.QueryState, &v) == nil && v.Stage == lead.StageLead && v.PolicyVersion == "fast-1"
	})

	// Publish fast-B (MQL at 40) and activate it; the worker reports it runs it.
	src, err := os.ReadFile("../workflows/testdata/policy-fast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b := strings.Replace(strings.Replace(string(src), `version: "fast-1"`, `version: "fast-B"`, 1), "mql_threshold: 50", "mql_threshold: 40", 1)
	pols := st.Policies()
	if _, _, err := pols.Publish(ctx, "fast-B", []byte(b), "test"); err != nil {
		t.Fatal(err)
	}
	act, _, err := pols.Activate(ctx, "fast-B", "test")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the worker runs fast-B", func() bool {
		ws, err := pols.Workers(ctx, time.Now().Add(-time.Minute))
		return err == nil && len(ws) == 1 && ws[0].Version == "fast-B" && ws[0].Seq == act.Seq
	})
	// Another 20 points: 60, an MQL under either; routed and handed off under fast-B.
	send("p-2", lead.EventWebPageView, "pricing")
	var x lead.Explanation
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last explanation: %+v", x)
		}
	})
	eventually(t, 30*time.Second, "the lead is handed off under fast-B", func() bool {
		return leads.Query(ctx, "W-P1", lead.QueryExplain, &x) == nil && x.Stage == lead.StageHandoff && x.PolicyVersion == "fast-B"
	})
	if x.Routing == nil || x.Routing.PolicyVersion != "fast-B" || x.Threshold != 40 {
		t.Fatalf("routing %+v threshold %d; want decided under fast-B (threshold 40)", x.Routing, x.Threshold)
	}
	decidedUnder := map[lead.Stage]string{}
	for _, tr := range x.History {
		if tr.From != tr.To {
			decidedUnder[tr.To] = tr.Policy
		}
	}
	if decidedUnder[lead.StageLead] != "fast-1" || decidedUnder[lead.StageMQL] != "fast-B" {
		t.Fatalf("stage changes decided under %v; want lead by fast-1, mql by fast-B", decidedUnder)
	}

	// The first worker goes; one that never saw the activation works the lead.
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	ready2 := make(chan struct{})
	old := startWorker(t, srv, map[string]string{"DATABASE_URL": db, "LEADFLOW_TASK_QUEUE": r.cfg.TaskQueue}, hooks{ready: ready2,
		policies: noActivation{}, options: func(o *worker.Options) { o.Identity = "file-only-worker" }})
	old.waitReady(t, ready2)
	send("p-3", lead.EventWebPageView, "blog")
	eventually(t, 60*time.Second, "the file-only worker handles the lead's next event", func() bool {
		return handledBy(ctx, t, srv, "W-P1", "file-only-worker") && leads.Query(ctx, "W-P1", lead.QueryExplain, &x) == nil && inTimeline(x, "p-3")
	})
	if x.PolicyVersion != "fast-B" {
		t.Fatalf("after the file-only worker: policy %s; want fast-B kept", x.PolicyVersion)
	}
	var switches int
	eventually(t, 30*time.Second, "the switch is in the ledger", func() bool {
		return st.Pool().QueryRow(ctx, `SELECT count(*) FROM ledger WHERE lead_id = 'W-P1' AND kind = 'policy'`).Scan(&switches) == nil && switches > 0
	})
	if switches != 1 {
		t.Fatalf("%d policy switches in the ledger; want 1", switches)
	}
	// What policy shadow reads: the lead's inputs beside its published view.
	var open []store.LeadInputs
	eventually(t, 30*time.Second, "the lead's inputs are published", func() bool {
		open, err = pols.OpenLeadInputs(ctx)
		return err == nil && len(open) == 1 && open[0].Inputs != nil && open[0].Inputs.Counts["web.page_view"] == 3
	})
	if in := open[0].Inputs; in.Profile.Employees != 400 || in.Trigger != "pricing_page" {
		t.Fatalf("published inputs %+v; want the profile and trigger pricing_page", in)
	}
}

// handledBy reports whether a worker with that identity completed one of the
// lead's workflow tasks.
func handledBy(ctx context.Context, t *testing.T, srv *testenv.DevServer, leadID, identity string) bool {
	t.Helper()
	it := srv.Client(t).GetWorkflowHistory(ctx, lead.WorkflowID(leadID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return false
		}
		if a := e.GetWorkflowTaskCompletedEventAttributes(); a != nil && a.GetIdentity() == identity {
			return true
		}
	}
	return false
}

// inTimeline reports whether the lead's recent events include id.
func inTimeline(x lead.Explanation, id string) bool {
	for _, e := range x.Timeline {
		if e.EventID == id {
			return true
		}
	}
	return false
}
