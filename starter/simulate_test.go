package main

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
)

// stageLeads is a toy workflow behind the real HTTP edge: every lead is
// handed off to rep-1 on its first event, then follows the rep's updates
// and the opportunity events. It records rep touches.
type stageLeads struct {
	mu      sync.Mutex
	views   map[string]lead.View
	touches map[string]string // lead → repId of its rep.touch
}

func (s *stageLeads) Deliver(_ context.Context, id string, ev lead.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[id]
	if !ok {
		v = lead.View{LeadID: id, Stage: lead.StageHandoff, OwnerID: "rep-1"}
	}
	switch ev.Type {
	case lead.EventRepTouch:
		s.touches[id] = ev.Attr("repId")
	case lead.EventOpportunityCreated:
		v.Stage = lead.StageOpportunity
	case lead.EventOpportunityWon:
		v.Stage = lead.StageCustomer
	case lead.EventOpportunityLost:
		v.Stage = lead.StageRecycle
	}
	s.views[id] = v
	return nil
}

func (s *stageLeads) Update(_ context.Context, id, name, _ string, req any) (lead.View, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[id]
	if !ok {
		return v, api.ErrNotFound
	}
	if v.Stage != lead.StageHandoff {
		return v, &api.Refused{Message: "not in handoff"}
	}
	switch r := req.(type) {
	case lead.AcceptRequest:
		if r.RepID != v.OwnerID {
			return v, &api.Refused{Message: "not the owner"}
		}
		v.Stage = lead.StageSAL
	case lead.RejectRequest:
		switch r.Reason {
		case lead.ReasonBadFit:
			v.Stage = lead.StageDisqualified
		case lead.ReasonDuplicate:
			v.Stage = lead.StageMerged
		default:
			v.Stage = lead.StageRecycle
		}
	}
	s.views[id] = v
	return v, nil
}

func (s *stageLeads) Query(_ context.Context, id, _ string, out any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[id]
	if !ok {
		return api.ErrNotFound
	}
	*out.(*lead.View) = v
	return nil
}

func (s *stageLeads) Ready(context.Context) error { return nil }

// fakeClock advances when slept on, so pacing takes no real time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func TestSimulateDrivesTheAPI(t *testing.T) {
	leads := &stageLeads{views: map[string]lead.View{}, touches: map[string]string{}}
	// The server's clock is the simulation's, so its per-source rate limit
	// refills as simulated time passes; at --rate 20 leads a second the
	// simulation runs into a 5/s limit and must wait out each 429's Retry-After.
	clock := &fakeClock{now: time.Now()}
	srv, err := api.New(api.Config{WebhookSecret: []byte(testSecret), IDKey: []byte(testIDKey), Now: clock.Now,
		EventsRate: 5, EventsBurst: 5},
		leads, noMerges{}, &memReceipts{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := newHTTPTestServer(t, srv)
	ta := newTestApp(t, clientEnv(ts, ""))
	ta.now, ta.sleep = clock.Now, clock.Sleep

	if code := ta.run(t, "simulate", "--leads", "60", "--seed", "5", "--rate", "20", "--run", "t", "--wait", "20s"); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	out := ta.out.String()
	for _, r := range lead.Reasons {
		if !strings.Contains(out, "rejected:"+string(r)) {
			t.Errorf("reps summary lacks a %s rejection", r)
		}
	}
	for _, want := range []string{"accepted+won", "accepted+lost", "untouched", "funnel of run t (60 leads)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Every lead was read back, and the stages add up.
	total := 0
	for _, m := range regexp.MustCompile(`(?m)^  (\S+)\s+(\d+)  #*$`).FindAllStringSubmatch(out[strings.Index(out, "funnel"):], -1) {
		n := 0
		for _, c := range m[2] {
			n = n*10 + int(c-'0')
		}
		total += n
		if strings.HasPrefix(m[1], "(") && n > 0 {
			t.Errorf("%d leads %s", n, m[1])
		}
	}
	if total != 60 {
		t.Errorf("funnel counts %d leads, want 60", total)
	}
	leads.mu.Lock()
	defer leads.mu.Unlock()
	if len(leads.touches) == 0 {
		t.Error("no rep touched a lead")
	}
	for id, rep := range leads.touches {
		if rep != "rep-1" {
			t.Errorf("%s touched by %q, want the owner rep-1", id, rep)
		}
	}
	counts := map[lead.Stage]int{}
	for _, v := range leads.views {
		counts[v.Stage]++
	}
	for _, st := range []lead.Stage{lead.StageSAL, lead.StageCustomer, lead.StageRecycle, lead.StageDisqualified, lead.StageMerged, lead.StageHandoff} {
		if counts[st] == 0 {
			t.Errorf("no lead ended in %s: %v", st, counts)
		}
	}
}
