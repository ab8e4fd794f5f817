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
	"github.com/leadflow/leadflow/internal/webui/webuitest"
)

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
	// A toy workflow behind the real HTTP edge: every lead is handed off to
	// rep-1 on its first event, then follows the rep's updates and the
	// opportunity events.
	leads := webuitest.NewLeads()
	leads.Arrive = func(id string) lead.View {
		return lead.View{LeadID: id, Stage: lead.StageHandoff, OwnerID: "rep-1"}
	}
	leads.MoveStages = true
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
	views := leads.AllViews()
	touches := 0
	for id := range views {
		for _, ev := range leads.LeadEvents(id) {
			if ev.Type != lead.EventRepTouch {
				continue
			}
			touches++
			if rep := ev.Attr("repId"); rep != "rep-1" {
				t.Errorf("%s touched by %q, want the owner rep-1", id, rep)
			}
		}
	}
	if touches == 0 {
		t.Error("no rep touched a lead")
	}
	counts := map[lead.Stage]int{}
	for _, v := range views {
		counts[v.Stage]++
	}
	for _, st := range []lead.Stage{lead.StageSAL, lead.StageCustomer, lead.StageRecycle, lead.StageDisqualified, lead.StageMerged, lead.StageHandoff} {
		if counts[st] == 0 {
			t.Errorf("no lead ended in %s: %v", st, counts)
		}
	}
}
