package repchange

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
)

// memLeads is an in-memory Leads: each update is answered by answer (the
// lead's state after it), and every call is recorded.
type memLeads struct {
	mu       sync.Mutex
	owned    []string
	stages   []lead.Stage
	listErr  error
	views    map[string]lead.View // the state Query answers
	answer   func(id string, req any) (lead.View, error)
	updates  []string // "leadId name updateId"
	reqs     map[string]any
	inFlight int
	maxSeen  int
	release  chan struct{} // when set, an update waits on it
	entered  chan struct{} // when set, each update says it has started
}

func (m *memLeads) OwnedBy(_ context.Context, repID string, stages []lead.Stage) ([]string, error) {
	m.stages = stages
	return m.owned, m.listErr
}

func (m *memLeads) Update(_ context.Context, leadID, name, updateID string, req any) (lead.View, error) {
	m.mu.Lock()
	m.updates = append(m.updates, leadID+" "+name+" "+updateID)
	if m.reqs == nil {
		m.reqs = map[string]any{}
	}
	m.reqs[leadID] = req
	m.inFlight++
	m.maxSeen = max(m.maxSeen, m.inFlight)
	m.mu.Unlock()
	if m.entered != nil {
		m.entered <- struct{}{}
	}
	if m.release != nil {
		<-m.release
	}
	m.mu.Lock()
	m.inFlight--
	m.mu.Unlock()
	return m.answer(leadID, req)
}

func (m *memLeads) Query(_ context.Context, leadID, name string, out any) error {
	v, ok := m.views[leadID]
	if !ok {
		return api.ErrNotFound
	}
	*(out.(*lead.View)) = v
	return nil
}

func rep7() directory.Rep {
	return directory.Rep{ID: "rep-7", Timezone: "America/Los_Angeles"}
}

func TestAwayOutcomesAndRequests(t *testing.T) {
	touched := time.Now()
	leads := &memLeads{owned: []string{"L-move", "L-touched", "L-paused", "L-sal", "L-down", "L-stuck"}}
	leads.answer = func(id string, _ any) (lead.View, error) {
		v := lead.View{LeadID: id, Stage: lead.StageHandoff, OwnerID: "rep-7"}
		switch id {
		case "L-move":
			v.OwnerID = "rep-8"
		case "L-touched":
			v.FirstTouchAt = &touched
		case "L-paused":
			v.History = []lead.Transition{{Why: "first-touch SLA paused: owner rep-7 away (ops), 3m left"}}
		case "L-sal":
			v.Stage = lead.StageSAL
		case "L-down":
			return lead.View{}, &api.Unavailable{Message: "no worker took the repUnavailable update within 10s"}
		}
		return v, nil
	}
	m := &Mover{Leads: leads}
	out, err := m.Away(context.Background(), rep7(), directory.Away{RepID: "rep-7", From: "2026-12-01", To: "2026-12-03"}, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(leads.stages, HandoffStages) {
		t.Errorf("listed stages %v, want handoff", leads.stages)
	}
	var lines []string
	for _, o := range out {
		lines = append(lines, o.String())
	}
	want := []string{
		"L-move: moved to rep-8",
		"L-touched: stays: touched",
		"L-paused: clock paused",
		"L-sal: stays: stage sal",
		"L-down: error: no worker took the repUnavailable update within 10s",
		"L-stuck: stays: nobody else could take it (starter lead explain L-stuck)",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("outcomes:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if s := Summary(out); s != "6 leads: 1 moved, 1 clock paused, 3 stay, 1 error" {
		t.Errorf("summary %q", s)
	}
	if Failures(out) != 1 {
		t.Errorf("failures %d", Failures(out))
	}
	req := leads.reqs["L-move"].(lead.RepUnavailableRequest)
	// The end of 2026-12-03 in Los Angeles (PST, UTC-8).
	if req.ID != "away:rep-7:2026-12-01:2026-12-03:L-move" || req.Reason != lead.RepAway || req.Until != "2026-12-04T00:00:00-08:00" ||
		req.By != "ops" || req.RepID != "rep-7" {
		t.Errorf("request %+v", req)
	}
	if err := req.Check(); err != nil {
		t.Errorf("the request does not pass the workflow's check: %v", err)
	}
}

func TestBackOutcomes(t *testing.T) {
	leads := &memLeads{owned: []string{"L-resumed", "L-plain", "L-gone"}}
	leads.answer = func(id string, _ any) (lead.View, error) {
		v := lead.View{LeadID: id, Stage: lead.StageHandoff, OwnerID: "rep-7"}
		switch id {
		case "L-resumed":
			v.History = []lead.Transition{{Why: "first-touch SLA paused: …"}, {Why: "first-touch SLA resumed (owner back): due …"}}
		case "L-gone":
			v.OwnerID = "rep-9"
		}
		return v, nil
	}
	out, err := (&Mover{Leads: leads}).Back(context.Background(), "rep-7", "2026-12-02", "ops")
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(out)
	for _, want := range []string{"L-resumed: clock resumed", "L-plain: stays: its clock was not paused", "L-gone: stays: owned by rep-9"} {
		if !strings.Contains(got, want) {
			t.Errorf("outcomes %s lack %q", got, want)
		}
	}
	if req := leads.reqs["L-plain"].(lead.RepBackRequest); req.ID != "back:rep-7:2026-12-02:L-plain" || req.Check() != nil {
		t.Errorf("request %+v", req)
	}
}

func TestDeactivatedSendsToEveryOpenStage(t *testing.T) {
	leads := &memLeads{owned: []string{"L-1", "L-2"}}
	leads.answer = func(id string, _ any) (lead.View, error) {
		if id == "L-2" {
			return lead.View{LeadID: id, Stage: lead.StageMQL, OwnerID: "rep-7"}, nil
		}
		return lead.View{LeadID: id, Stage: lead.StageSAL, OwnerID: "rep-1"}, nil
	}
	out, err := (&Mover{Leads: leads}).Deactivated(context.Background(), "rep-7", "2026-12-01", "deactivate")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(leads.stages, OpenStages) {
		t.Errorf("listed stages %v", leads.stages)
	}
	if out[0].String() != "L-1: moved to rep-1" || !strings.HasPrefix(out[1].String(), "L-2: stays: stage mql") {
		t.Errorf("outcomes %v", out)
	}
	req := leads.reqs["L-1"].(lead.RepUnavailableRequest)
	if req.ID != "deactivate:rep-7:2026-12-01:L-1" || req.Reason != lead.RepDeactivated || req.Check() != nil {
		t.Errorf("request %+v", req)
	}
}

func TestReassignChecksTheOwnerAndDryRunSendsNothing(t *testing.T) {
	leads := &memLeads{owned: []string{"L-1", "L-moved", "L-done", "L-404"}, views: map[string]lead.View{
		"L-1":     {LeadID: "L-1", OwnerID: "rep-7", Stage: lead.StageHandoff},
		"L-moved": {LeadID: "L-moved", OwnerID: "rep-1", Stage: lead.StageHandoff}, // the listing trailed
		"L-done":  {LeadID: "L-done", OwnerID: "rep-9", Stage: lead.StageSAL},      // a re-run
	}}
	leads.answer = func(id string, req any) (lead.View, error) {
		return lead.View{LeadID: id, OwnerID: req.(lead.ReassignRequest).OwnerID}, nil
	}
	m := &Mover{Leads: leads}
	r := Reassignment{From: "rep-7", To: "rep-9", By: "ops", Key: "reassign:rep-7:rep-9:2026-12-01", DryRun: true}
	out, err := m.Reassign(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(leads.updates) != 0 || len(out) != 4 || out[0].String() != "L-1: would move to rep-9" {
		t.Fatalf("dry run: updates %v, outcomes %v", leads.updates, out)
	}
	r.DryRun = false
	out, err = m.Reassign(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"L-1: moved to rep-9", "L-moved: stays: now owned by rep-1", "L-done: moved to rep-9", "L-404: error: no such lead"}
	for i, o := range out {
		if o.String() != want[i] {
			t.Errorf("outcome %d: %q, want %q", i, o, want[i])
		}
	}
	if !slices.Equal(leads.updates, []string{"L-1 reassign reassign:rep-7:rep-9:2026-12-01:L-1"}) {
		t.Errorf("updates %v, want only L-1's", leads.updates)
	}
	if err := leads.reqs["L-1"].(lead.ReassignRequest).Check(); err != nil {
		t.Errorf("request: %v", err)
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	var ids []string
	for i := range 20 {
		ids = append(ids, fmt.Sprintf("L-%d", i))
	}
	leads := &memLeads{owned: ids, release: make(chan struct{}), entered: make(chan struct{}, len(ids))}
	leads.answer = func(id string, _ any) (lead.View, error) { return lead.View{LeadID: id, OwnerID: "rep-8"}, nil }
	done := make(chan []Outcome)
	go func() {
		out, _ := (&Mover{Leads: leads, Concurrency: 3}).Deactivated(context.Background(), "rep-7", "d", "x")
		done <- out
	}()
	// Three updates start and wait; then each released one lets the next in.
	for i := range 3 {
		select {
		case <-leads.entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d updates started within 10s, want 3", i)
		}
	}
	for range ids {
		leads.release <- struct{}{}
	}
	out := <-done
	if leads.maxSeen != 3 {
		t.Errorf("%d updates were in flight at once, want 3", leads.maxSeen)
	}
	for i, o := range out {
		if o.LeadID != ids[i] || o.Kind != Moved {
			t.Errorf("outcome %d: %v", i, o)
		}
	}
}

func TestListFailureSaysWhat(t *testing.T) {
	leads := &memLeads{listErr: errors.New("connection refused")}
	_, err := (&Mover{Leads: leads}).Back(context.Background(), "rep-7", "d", "x")
	if err == nil || !strings.Contains(err.Error(), "list the leads of rep-7: connection refused") {
		t.Fatalf("err %v", err)
	}
}

func TestCoveringAndNewlyAway(t *testing.T) {
	reps := map[string]directory.Rep{"rep-7": rep7(), "rep-1": {ID: "rep-1", Timezone: "America/New_York"}, "rep-2": {ID: "rep-2", Timezone: "UTC"}}
	// 2026-12-02 06:00 UTC: still 12-01 in Los Angeles, 12-02 in New York.
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	before := &directory.Directory{Reps: reps, Away: []directory.Away{{RepID: "rep-2", From: "2026-12-01", To: "2026-12-05"}}}
	after := &directory.Directory{Reps: reps, Away: []directory.Away{
		{RepID: "rep-2", From: "2026-12-01", To: "2026-12-05"}, // already away: not new
		{RepID: "rep-7", From: "2026-12-02", To: "2026-12-04"}, // starts tomorrow in LA
		{RepID: "rep-1", From: "2026-12-02", To: "2026-12-02"},
		{RepID: "rep-1", From: "2026-11-30", To: "2026-12-03"}, // ends last: the one that counts
	}}
	got := NewlyAway(before, after, now)
	if want := []directory.Away{{RepID: "rep-1", From: "2026-11-30", To: "2026-12-03"}}; !slices.Equal(got, want) {
		t.Errorf("newly away %v, want %v", got, want)
	}
	if _, ok := Covering(after, "rep-7", now); ok {
		t.Errorf("rep-7 is away from tomorrow (LA time), not now")
	}
	if _, ok := Covering(after, "rep-7", now.Add(3*time.Hour)); !ok {
		t.Errorf("rep-7 is away at 01:00 LA time on 12-02")
	}
	if NewlyAway(after, after, now) != nil {
		t.Errorf("the same directory twice: nobody is newly away")
	}
	if _, err := Until(rep7(), "tomorrow"); err == nil {
		t.Errorf("Until accepted a bad date")
	}
	if d := Today(rep7(), now); d != "2026-12-01" {
		t.Errorf("today in LA %s", d)
	}
}
