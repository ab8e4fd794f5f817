package workflows

import (
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

func (f *fakes) ledgerOf(kind string) []actions.LedgerEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []actions.LedgerEntry
	for _, e := range f.ledger {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// An accept (or reject) with no touch before it is the first contact: the
// first_touch row says so, so no handoff drops out of time-to-first-touch.
func TestFirstTouchRowOnAcceptWithoutTouch(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.at(10*time.Minute, func() { h.update(lead.UpdateAccept, "acc-1", lead.AcceptRequest{ID: "acc-1", RepID: "rep-7"}) })
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	rows := h.f.ledgerOf(actions.LedgerTouch)
	if len(rows) != 1 || rows[0].Data["via"] != "accept" || rows[0].Data["slaMet"] != true || rows[0].Data["ttftSeconds"] != float64(600) {
		t.Fatalf("first_touch rows: %+v", rows)
	}
	handoffs := 0
	for _, e := range h.f.ledgerOf(actions.LedgerTransition) {
		if e.To == lead.StageHandoff {
			handoffs++
			if e.Data["slaKind"] != lead.SLAFirstTouch || e.Data["trigger"] != "quote_request" || e.Data["slaDueAt"] == nil {
				t.Fatalf("handoff row lacks its deadline and trigger: %+v", e.Data)
			}
		}
	}
	if handoffs != 1 {
		t.Fatalf("%d handoff rows", handoffs)
	}
}

// A breach stays a breach: touched by the second owner in time for their
// own clock but after the handoff's first deadline, the row says not met,
// and the owner's clock is met beside it.
func TestFirstTouchAfterReassignKeepsTheBreach(t *testing.T) {
	h := newHarness(t, withPolicy(bigPoolPolicy(t)), withDirectory(bigPool(t)))
	h.event(0, quoteRequest("evt-1"))
	// First owner a1 misses 15 min; the ladder moves it to a2 at 22.5 min.
	h.event(25*time.Minute, ev("touch-1", lead.EventRepTouch, map[string]any{"repId": "a2", "channel": "call"}))
	h.awake(26 * time.Minute)
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	rows := h.f.ledgerOf(actions.LedgerTouch)
	if len(rows) != 1 {
		t.Fatalf("first_touch rows: %+v", rows)
	}
	d := rows[0].Data
	if d["slaMet"] != false || d["ownerMet"] != true || d["via"] != "touch" || d["owners"] != 2 {
		t.Fatalf("first touch after a reassign: %+v", d)
	}
}
