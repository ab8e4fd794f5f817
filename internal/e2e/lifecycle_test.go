package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
)

// The policy with second-long SLAs on a 24x7 calendar: first touch for a
// quote request 4s (ladder 2s remind, 4s escalate, 6s reassign), cool-offs
// 15s.
const fastPolicy = "../../workflows/testdata/policy-fast.yaml"

func quote(id, leadID string, p *lead.Profile) lead.Event {
	return lead.Event{ID: id, LeadID: leadID, Type: lead.EventFormSubmit, OccurredAt: time.Now().UTC(), Source: "website",
		Attributes: map[string]any{"form": "quote_request", "utm_campaign": "q4-pricing"}, Profile: p}
}

func westCoast() *lead.Profile {
	return &lead.Profile{Email: "ana@acme.io", Company: "Acme", Domain: "acme.io", Country: "US", Region: "CA",
		Employees: 250, Industry: "insurance", Title: "VP Sales"}
}

func event(id, leadID, typ string, attrs map[string]any) lead.Event {
	return lead.Event{ID: id, LeadID: leadID, Type: typ, OccurredAt: time.Now().UTC(), Source: "crm", Attributes: attrs}
}

// One lead's whole life through the signed HTTP API: first touch → MQL
// (fast track) → routing → handoff → escalation → reassignment →
// acceptance → opportunity → won.
func TestLeadJourneyThroughEscalationReassignmentToWon(t *testing.T) {
	s := newStack(t, fastPolicy)
	id := "E2E-1"
	res := s.send(
		lead.Event{ID: "j-1", LeadID: id, Type: lead.EventEmailOpen, OccurredAt: time.Now().UTC(), Source: "email",
			Profile: westCoast()},
		quote("j-2", id, nil),
	)
	if res.Accepted != 2 || res.Duplicates != 0 {
		t.Fatalf("batch: %+v", res)
	}
	v := s.waitLead(id, "handoff", 30*time.Second, func(v lead.View) bool { return v.Stage == lead.StageHandoff })
	if v.OwnerID != "rep-7" || v.Territory != "na-west" || v.Score.Total != 70 {
		t.Fatalf("handoff: %+v", v)
	}
	// Nobody touches it: remind (2s), escalate (4s), reassign (6s) to rep-8.
	// Notifications are effects: wait until the outbox has confirmed them.
	v = s.waitLead(id, "reassignment", 30*time.Second, func(v lead.View) bool { return v.OwnerID == "rep-8" && len(v.Effects) == 0 })
	ctx := t.Context()
	notes, err := s.st.CRM().Notifications(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, n := range notes {
		kinds = append(kinds, n.Kind+":"+n.To)
	}
	if !containsAll(kinds, "remind:rep-7", "escalate:mgr-2") {
		t.Fatalf("notifications: %v", kinds)
	}
	s.send(event("j-3", id, lead.EventRepTouch, map[string]any{"repId": "rep-8", "channel": "call"}))
	code, body := s.update(id, "accept", lead.AcceptRequest{ID: "j-4", RepID: "rep-8"})
	if code != http.StatusOK {
		t.Fatalf("accept: %d %s", code, body)
	}
	s.send(event("j-5", id, lead.EventOpportunityCreated, map[string]any{"amount": 24000}))
	s.waitLead(id, "opportunity", 30*time.Second, func(v lead.View) bool { return v.Stage == lead.StageOpportunity })
	s.send(event("j-6", id, lead.EventOpportunityWon, map[string]any{"amount": 24000}))
	v = s.waitLead(id, "customer", 30*time.Second, func(v lead.View) bool { return v.Stage == lead.StageCustomer && len(v.Effects) == 0 })
	if !v.Nurture.Enrolled || v.Nurture.Track != "customer" {
		t.Fatalf("customer nurture: %+v", v.Nurture)
	}

	assigns, err := s.st.CRM().OwnerAssignments(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(assigns) != 2 || assigns[0].OwnerID != "rep-7" || assigns[1].OwnerID != "rep-8" {
		t.Fatalf("owner assignments: %+v", assigns)
	}
	tasks, err := s.st.CRM().Tasks(ctx, id)
	if err != nil || len(tasks) != 2 || tasks[0].Context == nil || !strings.Contains(tasks[0].Context.WhyNow, "quote_request") {
		t.Fatalf("tasks: %+v %v", tasks, err)
	}
	var ex lead.Explanation
	if code := s.get("/v1/leads/"+id+"/explain", &ex); code != 200 || ex.Routing == nil || len(ex.Ladder) < 3 {
		t.Fatalf("explain: %d %+v", code, ex)
	}
	stages := map[lead.Stage]bool{}
	for _, h := range v.History {
		stages[h.To] = true
	}
	for _, st := range []lead.Stage{lead.StageLead, lead.StageMQL, lead.StageHandoff, lead.StageSAL, lead.StageOpportunity, lead.StageCustomer} {
		if !stages[st] {
			t.Fatalf("history lacks %s: %+v", st, v.History)
		}
	}
	// The ledger holds the funnel the metrics read. It is written once per
	// turn of the workflow's loop, so it may trail the state by a moment.
	var counts map[string]int
	s.waitFor("the ledger to show the customer", 10*time.Second, func() bool {
		counts, err = s.st.Metrics().StageCounts(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		return err == nil && counts["customer"] == 1
	})
	for _, st := range []string{"lead", "mql", "handoff", "sal", "opportunity", "customer"} {
		if counts[st] != 1 {
			t.Fatalf("stage counts: %v", counts)
		}
	}
}

// A lead rejected as `timing` is recycled; after its cool-off it waits for
// new intent (its kept score is not acted on), and a pricing view hands it
// back to the rep who had it.
func TestTimingRejectionComesBackAfterCoolOff(t *testing.T) {
	s := newStack(t, fastPolicy)
	id := "E2E-2"
	s.send(quote("t-1", id, westCoast()))
	v := s.waitLead(id, "handoff", 30*time.Second, func(v lead.View) bool { return v.Stage == lead.StageHandoff })
	code, body := s.update(id, "reject", lead.RejectRequest{ID: "t-2", RepID: v.OwnerID, Reason: lead.ReasonTiming})
	if code != http.StatusOK {
		t.Fatalf("reject: %d %s", code, body)
	}
	var after lead.View
	if err := json.Unmarshal(body, &after); err != nil || after.Stage != lead.StageRecycle || after.Play == nil || after.Play.Name != "timing" {
		t.Fatalf("after reject: %+v %v", after, err)
	}
	first := v.OwnerID
	// Halved intent (20) + fit 30 = 50 reaches the threshold, but Sales said
	// "timing": after the 15 s cool-off the lead is a lead again and waits.
	s.waitLead(id, "the end of the cool-off", 45*time.Second, func(v lead.View) bool {
		return v.Stage == lead.StageLead && v.RecycleCount == 1
	})
	s.send(event("t-3", id, lead.EventWebPageView, map[string]any{"category": "pricing"}))
	v = s.waitLead(id, "second handoff", 45*time.Second, func(v lead.View) bool {
		return v.Stage == lead.StageHandoff && v.RecycleCount == 1 && len(v.Effects) == 0
	})
	if v.OwnerID != first {
		t.Fatalf("second handoff to %s, want the previous owner %s (sticky)", v.OwnerID, first)
	}
	tasks, err := s.st.CRM().Tasks(t.Context(), id)
	if err != nil || len(tasks) != 2 {
		t.Fatalf("tasks: %+v %v", tasks, err)
	}
}

// Bad input changes nothing: a bad signature is 401, an invalid event makes
// the whole batch a 400 with per-event errors, and the lead never exists.
func TestBadSignatureAndInvalidEventChangeNothing(t *testing.T) {
	s := newStack(t, fastPolicy)
	id := "E2E-3"
	good := quote("b-1", id, westCoast())
	if code, _ := s.post([]lead.Event{good}, func(b []byte) string { return api.Sign([]byte("wrong-secret"), time.Now(), b) }); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", code)
	}
	if code, _ := s.post([]lead.Event{good}, func(b []byte) string { return api.Sign([]byte(secret), time.Now().Add(-10*time.Minute), b) }); code != http.StatusUnauthorized {
		t.Fatalf("stale signature: %d", code)
	}
	if code, _ := s.post([]lead.Event{good}, func([]byte) string { return "" }); code != http.StatusUnauthorized {
		t.Fatalf("no signature: %d", code)
	}
	bad := event("b-2", id, "web.teleport", nil)
	code, body := s.post([]lead.Event{good, bad}, nil)
	if code != http.StatusBadRequest {
		t.Fatalf("invalid event: %d %s", code, body)
	}
	var out struct {
		Errors []api.EventError `json:"errors"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.Errors) != 1 || out.Errors[0].Index != 1 || out.Errors[0].Field != "type" {
		t.Fatalf("errors: %s", body)
	}
	if _, code := s.state(id); code != http.StatusNotFound {
		t.Fatalf("lead should not exist: %d", code)
	}
	// Nothing of the refused batches was recorded as received.
	if fresh, err := s.st.Receipts().Record(t.Context(), "b-1", id); err != nil || !fresh {
		t.Fatalf("b-1 should never have been received: %v %v", fresh, err)
	}
}

// Delivering the same batch twice has one effect.
func TestDuplicateDeliveryHasOneEffect(t *testing.T) {
	s := newStack(t, fastPolicy)
	id := "E2E-4"
	batch := []lead.Event{
		{ID: "d-1", LeadID: id, Type: lead.EventWebPageView, OccurredAt: time.Now().UTC(), Attributes: map[string]any{"category": "pricing"},
			Profile: &lead.Profile{Email: "x@smallco.com", Country: "US", Company: "SmallCo", Employees: 20}},
		event("d-2", id, lead.EventWebinarAttended, nil),
	}
	first := s.send(batch...)
	second := s.send(batch...)
	if first.Accepted != 2 || second.Accepted != 0 || second.Duplicates != 2 {
		t.Fatalf("first %+v second %+v", first, second)
	}
	// A later marker event: once it is applied, every signal before it was
	// (a workflow takes its signals in order).
	s.send(event("d-3", id, lead.EventEmailClick, nil))
	s.waitFor("the marker event", 30*time.Second, func() bool {
		var ex lead.Explanation
		if s.get("/v1/leads/"+id+"/explain", &ex) != 200 {
			return false
		}
		for _, it := range ex.Timeline {
			if it.EventID == "d-3" {
				return true
			}
		}
		return false
	})
	v, _ := s.state(id)
	if v.Score.Intent != 35 {
		t.Fatalf("intent %d, want 35 (pricing 20 + webinar 15, once each)", v.Score.Intent)
	}
	var events int
	if err := s.st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM ledger WHERE lead_id = $1 AND kind = 'event'`, id).Scan(&events); err != nil || events != 3 {
		t.Fatalf("ledger event rows %d (want 3), %v", events, err)
	}
}

// kill -9 the worker while handoffs are in flight and start it again: every
// lead ends with exactly one owner assignment and one task.
func TestWorkerCrashDuringHandoffs(t *testing.T) {
	// Long SLAs, so no ladder step adds assignments while we count.
	s := newStack(t, longSLAPolicy(t))
	const n = 40
	var ids []string
	var batch []lead.Event
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("CRASH-%02d", i)
		ids = append(ids, id)
		p := westCoast()
		p.Email = strings.ToLower(id) + "@acme.io"
		batch = append(batch, quote("c-"+id, id, p))
	}
	s.send(batch...)
	// Kill the worker once the first handoff task exists: the others are in
	// flight (routed, assigned or not yet started).
	var tasksAtKill int
	s.waitFor("the first handoff task", 30*time.Second, func() bool {
		_ = s.st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM tasks`).Scan(&tasksAtKill)
		return tasksAtKill > 0
	})
	s.killWorker()
	_ = s.st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM tasks`).Scan(&tasksAtKill)
	t.Logf("worker killed with %d of %d handoff tasks created", tasksAtKill, n)
	s.startWorker()
	for _, id := range ids {
		// In handoff with every effect confirmed: the owner and task exist.
		// (An attempt the killed worker held is retried after its 30 s
		// start-to-close timeout.)
		s.waitLead(id, "handoff after the crash", 90*time.Second, func(v lead.View) bool {
			return v.Stage == lead.StageHandoff && len(v.Effects) == 0
		})
	}
	ctx := t.Context()
	for _, id := range ids {
		assigns, err := s.st.CRM().OwnerAssignments(ctx, id)
		if err != nil || len(assigns) != 1 {
			t.Errorf("%s: owner assignments %+v %v", id, assigns, err)
		}
		tasks, err := s.st.CRM().Tasks(ctx, id)
		if err != nil || len(tasks) != 1 {
			t.Errorf("%s: tasks %+v %v", id, tasks, err)
		}
	}
}

func containsAll(have []string, want ...string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}
