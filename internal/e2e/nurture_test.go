package e2e

import (
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/nurture/webhook/webhooktest"
)

// LEADFLOW_NURTURE=webhook: a marketing tool behind a signed webhook gets
// the enrollment and the first touch (after a 429 it was told to wait out),
// then the pause when the lead goes to Sales — each exactly once.
func TestNurtureWebhookEndToEnd(t *testing.T) {
	const hookSecret = "e2e-nurture-secret"
	rcv := webhooktest.New(t, []byte(hookSecret))
	rcv.Fail(1, webhooktest.Failure{Kind: webhooktest.Throttle, RetryAfter: "1"})
	s := newStack(t, fastPolicy, "LEADFLOW_NURTURE=webhook", "NURTURE_WEBHOOK_URL="+rcv.URL(), "NURTURE_WEBHOOK_SECRET="+hookSecret)
	id := "E2E-NURTURE"
	p := westCoast()
	s.send(lead.Event{ID: "n-1", LeadID: id, Type: lead.EventEmailOpen, OccurredAt: time.Now().UTC(), Source: "email", Profile: p})
	types := func() []string {
		var out []string
		for _, d := range rcv.Received() {
			out = append(out, d.Event.Type)
		}
		return out
	}
	s.waitFor("enroll and the first touch", 30*time.Second, func() bool { return len(types()) >= 2 })
	s.send(quote("n-2", id, nil))
	s.waitFor("the pause", 30*time.Second, func() bool { return len(types()) >= 3 })
	got := types()
	if len(got) != 3 || got[0] != "enroll" || got[1] != "send" || got[2] != "pause" {
		t.Fatalf("receiver got %v", got)
	}
	for _, d := range rcv.Received() {
		if d.Event.Email != p.Email || d.Event.LeadID != id {
			t.Fatalf("delivery %+v", d.Event)
		}
	}
	if refused := rcv.Refused(); len(refused) != 0 {
		t.Fatalf("receiver refused: %v", refused)
	}
	sends, err := s.st.Nurture().Sends(t.Context(), id)
	if err != nil || len(sends) != 1 {
		t.Fatalf("store sends: %+v %v", sends, err)
	}
}
