package workflows

import (
	"fmt"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

// eventRows lists the event ids of the ledger's event rows written so far.
func eventRows(f *fakes) map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]bool{}
	for _, e := range f.ledger {
		if e.Kind == actions.LedgerEvent {
			out[e.Data["eventId"].(string)] = true
		}
	}
	return out
}

// Events that change nothing the lead publishes wait in the State and go
// with its next write: the next event that changes something, or its next
// timer. None is lost, and the facts the metrics join to them (a
// transition) are never written before them.
func TestQuietEventsGoWithTheNextWrite(t *testing.T) {
	h := newHarness(t)
	h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
	for i := 1; i <= 3; i++ {
		h.event(time.Duration(i)*time.Minute, ev(fmt.Sprintf("blog-%d", i), lead.EventWebPageView, map[string]any{"category": "blog"}))
	}
	var afterQuiet, afterScore, afterWake map[string]bool
	h.at(10*time.Minute, func() { afterQuiet = eventRows(h.f) })
	// a pricing view moves the score: its write takes the three held rows
	h.event(11*time.Minute, ev("pricing-1", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	h.at(12*time.Minute, func() { afterScore = eventRows(h.f) })
	// two more quiet ones; the first nurture touch (day 7) writes them
	h.event(13*time.Minute, ev("blog-4", lead.EventWebPageView, map[string]any{"category": "blog"}))
	h.event(14*time.Minute, ev("blog-5", lead.EventWebPageView, map[string]any{"category": "blog"}))
	h.at(7*24*time.Hour+time.Minute, func() { afterWake = eventRows(h.f) })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if !afterQuiet["e1"] || len(afterQuiet) != 1 {
		t.Errorf("after three quiet events: rows %v, want only e1 (the first event, with its transition)", afterQuiet)
	}
	for _, id := range []string{"blog-1", "blog-2", "blog-3", "pricing-1"} {
		if !afterScore[id] {
			t.Errorf("after the pricing view: no row for %s in %v", id, afterScore)
		}
	}
	if afterScore["blog-4"] || !afterWake["blog-4"] || !afterWake["blog-5"] {
		t.Errorf("quiet rows before the wake %v, after it %v: want blog-4 and blog-5 written by the day-7 touch", afterScore, afterWake)
	}
}

// Held rows travel across Continue-As-New in the State, like every entry
// not yet in Postgres; and no more than maxHeldEvents wait.
func TestHeldEventRowsAreCarriedAndBounded(t *testing.T) {
	t.Run("carried", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
		h.event(time.Minute, ev("blog-1", lead.EventWebPageView, map[string]any{"category": "blog"}))
		h.at(2*time.Minute, func() { h.env.SetContinueAsNewSuggested(true) })
		h.event(3*time.Minute, ev("blog-2", lead.EventWebPageView, map[string]any{"category": "blog"}))
		h.env.ExecuteWorkflow(lead.WorkflowType, Input{LeadID: h.leadID})
		in := h.continuedInput()
		held := map[string]bool{}
		for _, e := range in.State.Ledger {
			if e.Kind == actions.LedgerEvent {
				held[e.Data["eventId"].(string)] = true
			}
		}
		if len(in.State.Ledger) != 2 || !held["blog-1"] || !held["blog-2"] || eventRows(h.f)["blog-1"] {
			t.Fatalf("carried ledger %+v; written %v", in.State.Ledger, eventRows(h.f))
		}
	})
	t.Run("bounded", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
		for i := 1; i <= maxHeldEvents; i++ {
			h.event(time.Duration(i)*time.Second, ev(fmt.Sprintf("blog-%d", i), lead.EventWebPageView, map[string]any{"category": "blog"}))
		}
		var rows map[string]bool
		h.at(time.Hour, func() { rows = eventRows(h.f) })
		if err := h.run(0); err != nil {
			t.Fatal(err)
		}
		if len(rows) != maxHeldEvents+1 {
			t.Fatalf("%d event rows written after %d quiet events, want all %d", len(rows), maxHeldEvents, maxHeldEvents+1)
		}
	})
}

// The nurture system hears of an enrollment with the lead's first touch:
// a lead that qualifies before it costs no enroll and no pause; one that
// unsubscribes first is still stopped (the tool may know the address).
func TestEnrollmentGoesWithTheFirstTouch(t *testing.T) {
	t.Run("with the first touch", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
		var before lead.View
		h.at(24*time.Hour, func() { before = h.state() })
		if err := h.run(7*24*time.Hour + time.Hour); err != nil {
			t.Fatal(err)
		}
		if !before.Nurture.Enrolled || len(h.f.enrolls) != 1 || len(h.f.sends) != 1 || h.f.sends[0].Enroll == nil ||
			h.f.sends[0].Enroll.Key != h.f.enrolls[0].Key || h.f.enrolls[0].Email != "bo@smallco.com" {
			t.Fatalf("day 1 %+v; enrolls %+v; sends %+v", before.Nurture, h.f.enrolls, h.f.sends)
		}
		if h.f.order(actions.NurtureEnroll, "") > h.f.order(actions.NurtureSend, "") {
			t.Fatalf("enroll after its touch: %v", h.f.calls)
		}
	})
	t.Run("handed off first", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
		h.event(time.Hour, quoteRequest("q1"))
		if err := h.run(8 * 24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		if len(h.f.enrolls) != 0 || len(h.f.pauses) != 0 || len(h.f.sends) != 0 {
			t.Fatalf("enrolls %+v pauses %+v sends %+v", h.f.enrolls, h.f.pauses, h.f.sends)
		}
	})
	t.Run("unsubscribed first", func(t *testing.T) {
		h := newHarness(t)
		h.event(0, lead.Event{ID: "e1", Type: lead.EventEmailOpen, Source: "email", Profile: smallCo()})
		h.event(time.Hour, ev("unsub-1", lead.EventEmailUnsubscribe, nil))
		if err := h.run(8 * 24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		if len(h.f.enrolls) != 0 || len(h.f.sends) != 0 || len(h.f.stops) != 1 {
			t.Fatalf("enrolls %+v sends %+v stops %+v", h.f.enrolls, h.f.sends, h.f.stops)
		}
	})
}
