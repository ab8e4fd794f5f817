package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/nurture/webhook"
	"github.com/leadflow/leadflow/internal/nurture/webhook/webhooktest"
)

// A nurture tool that refuses the enrollment (400): the effect fails at
// once, the lead goes on, the failure shows in explain and in the worker's
// leadflow_effect_failures_total; an operator's retry-effects makes the
// call once, under its original key.
func TestRefusedEffectAlertsAndIsReDriven(t *testing.T) {
	const hookSecret = "e2e-nurture-secret"
	rcv := webhooktest.New(t, []byte(hookSecret))
	rcv.Fail(1, webhooktest.Failure{Kind: webhooktest.Reject, Message: "unknown list"})
	s := newStack(t, fastPolicy, "LEADFLOW_NURTURE=webhook", "NURTURE_WEBHOOK_URL="+rcv.URL(), "NURTURE_WEBHOOK_SECRET="+hookSecret)
	id := "E2E-REFUSED"
	// An unsubscribe as the lead's first event: its one nurture call is the
	// stop, which the tool refuses.
	s.send(lead.Event{ID: "r-1", LeadID: id, Type: lead.EventEmailUnsubscribe, OccurredAt: time.Now().UTC(), Source: "email", Profile: westCoast()})
	var x lead.Explanation
	s.waitFor("a failed stop effect", 30*time.Second, func() bool {
		x = lead.Explanation{}
		s.get("/v1/leads/"+id+"/explain", &x)
		for _, e := range x.Effects {
			if e.Kind == "NurtureStop" && e.Status == lead.EffectFailed {
				return true
			}
		}
		return false
	})
	alerted := false
	for _, a := range x.Alerts {
		alerted = alerted || a.Kind == "effect_failed"
	}
	if !alerted || x.Stage != lead.StageLead {
		t.Fatalf("explain: stage %s alerts %+v", x.Stage, x.Alerts)
	}
	s.waitFor("the failure counted in the worker's metrics", 30*time.Second, func() bool {
		resp, err := http.Get(s.metricsURL)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "leadflow_effect_failures_total{") && strings.Contains(line, `kind="NurtureStop"`) && !strings.HasSuffix(line, " 0") {
				return true
			}
		}
		return false
	})
	if code, body := s.update(id, "retry-effects", lead.RetryEffectsRequest{ID: "redrive-1", By: "ops-1"}); code != http.StatusOK {
		t.Fatalf("retry-effects: %d %s", code, body)
	}
	s.waitFor("the stop delivered", 30*time.Second, func() bool {
		for _, d := range rcv.Received() {
			if d.Event.Type == webhook.TypeUnenroll {
				return true
			}
		}
		return false
	})
	stops := 0
	for _, d := range rcv.Received() {
		if d.Event.Type == webhook.TypeUnenroll {
			stops++
		}
	}
	if stops != 1 {
		t.Fatalf("stops delivered: %d", stops)
	}
	// Nothing left failed; a second re-drive is refused with the reason.
	if code, body := s.update(id, "retry-effects", lead.RetryEffectsRequest{ID: "redrive-2", By: "ops-1"}); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "no failed effects") {
		t.Fatalf("second retry-effects: %d %s", code, body)
	}
}
