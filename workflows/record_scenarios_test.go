//go:build record

package workflows

// The scenarios of a release's baseline: together every path of the lead
// workflow (docs/baseline.md lists them). Each one saves its histories with
// the claims that prove the path is in them. They run side by side; every
// wait is bounded (waitBound).

import (
	"fmt"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

type scenario struct {
	name, queue string
	run         func(r *rec)
}

var scenarios = []scenario{
	{"won", qMain, won},
	{"human-loop", qMain, humanLoop},
	{"ladder-timing", qMain, ladderTiming},
	{"ladder-fallback", qMain, ladderFallback},
	{"ladder-acceptance", qMain, ladderAcceptance},
	{"enrich-badfit", qMain, enrichBadFit},
	{"revisit-unknown-fit", qMain, revisitUnknownFit},
	{"play-no-response", qMain, rejectPlay(lead.ReasonNoResponse, "")},
	{"play-competitor", qMain, rejectPlay(lead.ReasonCompetitor, "")},
	{"play-other", qMain, rejectPlay(lead.ReasonOther, "went with a partner")},
	{"sal-stale", qMain, salStale},
	{"opportunity-lost", qMain, opportunityLost},
	{"merge-late-events", qMain, mergeLateEvents},
	{"effects-redrive", qMain, effectsRedrive},
	{"nurture-cadence-unsubscribe", qNurture, nurtureCadence},
	{"nurture-bounce", qNurture, nurtureBounce},
	{"policy-change", qPolicy, policyChange},
	{"continue-as-new", qCAN, continueAsNew},
	{"continue-as-new-update", qCAN, continueAsNewUpdate},
}

// handedOff sends a quote request and returns the owner it was handed to.
func (r *rec) handedOff(id, evID string) string {
	r.t.Helper()
	r.send(id, quoteRequest(evID))
	r.waitStage(id, lead.StageHandoff)
	return r.state(id).OwnerID
}

// accepted hands the lead off, the owner touches and accepts it.
func (r *rec) accepted(id, prefix string) string {
	r.t.Helper()
	owner := r.handedOff(id, prefix+"1")
	r.send(id, ev(prefix+"2", lead.EventRepTouch, map[string]any{"repId": owner, "channel": "call"}))
	r.update(id, lead.UpdateAccept, lead.AcceptRequest{ID: prefix + "3", RepID: owner})
	return owner
}

// won: handoff, touch, accept, opportunity, won; an expansion won, an
// upsell signal, an expansion lost (a loss outside a sales opportunity).
func won(r *rec) {
	id := "rec-won"
	r.accepted(id, "w")
	r.send(id, ev("w4", lead.EventOpportunityCreated, map[string]any{"amount": 5000}))
	r.waitStage(id, lead.StageOpportunity) // published before the win (one upsert per workflow task)
	r.send(id, ev("w5", lead.EventOpportunityWon, map[string]any{"amount": 5000}))
	r.waitStage(id, lead.StageCustomer)
	r.send(id, ev("w6", lead.EventOpportunityCreated, map[string]any{"amount": 800}))
	r.send(id, ev("w7", lead.EventOpportunityWon, map[string]any{"amount": 800}))
	r.send(id, ev("w8", lead.EventFormSubmit, map[string]any{"form": "contact_sales"}))
	r.waitHistory(id, "activity:CreateTask:kind="+actions.TaskUpsell)
	r.send(id, ev("w9", lead.EventOpportunityCreated, map[string]any{"amount": 300}))
	r.send(id, ev("w10", lead.EventOpportunityLost, map[string]any{"reason": "budget"}))
	// customer nurture: on the lead's entry, after the expansion won and
	// after the expansion lost, each a first touch's timer (the nurture
	// system hears of each enrollment only with a touch that goes out)
	r.waitHistory(id, "timer:nurture touch · customer 1/12>=3")
	r.save(id, "won", "stage:handoff", "stage:sal", "stage:opportunity", "stage:customer", "final:customer",
		"update:accept", "activity:CreateTask:kind="+actions.TaskUpsell, "signal:opportunity.lost",
		"timer:nurture touch · customer 1/12>=3")
}

// humanLoop: re-engagement, an ops reassign, a CRM owner change, an
// unknown CRM owner, the owner away (rerouted), then accept.
func humanLoop(r *rec) {
	id := "rec-human"
	owner := r.handedOff(id, "h1")
	r.send(id, ev("h2", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	other := "rep-8"
	if owner == other {
		other = "rep-7"
	}
	r.update(id, lead.UpdateReassign, lead.ReassignRequest{ID: "h3", OwnerID: other, By: "ops"})
	r.send(id, ev("h4", lead.EventOwnerChanged, map[string]any{"ownerId": owner, "crmOwnerId": "7007", "by": "hubspot"}))
	r.send(id, ev("h5", lead.EventOwnerChanged, map[string]any{"crmOwnerId": "9999", "by": "hubspot"}))
	r.waitFor(id, "the CRM's owner", func(v lead.View) bool { return v.OwnerID == owner })
	r.update(id, lead.UpdateRepUnavailable, lead.RepUnavailableRequest{ID: "h6", RepID: owner, Reason: lead.RepAway, By: "ops"})
	owner = r.state(id).OwnerID
	r.update(id, lead.UpdateAccept, lead.AcceptRequest{ID: "h7", RepID: owner})
	r.waitStage(id, lead.StageSAL)
	r.save(id, "human-loop", "update:reassign", "update:repUnavailable", "update:accept", "signal:owner.changed",
		"activity:AssignOwner>=3", "final:sal")
}

// ladderTiming: remind, escalate, reassign; a timing rejection, the
// cool-off, new intent and a second handoff to the same rep (sticky).
func ladderTiming(r *rec) {
	id := "rec-ladder"
	var owner string
	r.send(id, quoteRequest("l1"))
	r.waitFor(id, "a reassignment", func(v lead.View) bool {
		owner = v.OwnerID
		return len(v.History) > 0 && strings.HasPrefix(v.History[len(v.History)-1].Why, "reassigned from")
	})
	r.update(id, lead.UpdateReject, lead.RejectRequest{ID: "l2", RepID: owner, Reason: lead.ReasonTiming})
	r.waitFor(id, "the end of the cool-off", func(v lead.View) bool { return v.RecycleCount == 1 && v.Stage == lead.StageLead })
	r.send(id, ev("l3", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	r.waitFor(id, "a second handoff", func(v lead.View) bool { return v.RecycleCount == 1 && v.Stage == lead.StageHandoff })
	r.save(id, "ladder-timing", "fired:first-touch SLA remind", "fired:first-touch SLA escalate", "fired:first-touch SLA reassign",
		"update:reject", "stage:recycle", "fired:cool-off ends · "+string(lead.ReasonTiming), "final:handoff")
}

// ladderFallback: nobody works the lead; after max_reassigns reassigns it
// goes to the pool's fallback owner with an alert, and when the fallback
// owner does not work it either, another alert (no further reassign).
func ladderFallback(r *rec) {
	id := "rec-fallback"
	r.send(id, quoteRequest("f1"))
	r.waitHistory(id, "activity:RaiseAlert:kind=sla_unworked_at_fallback")
	r.save(id, "ladder-fallback", "fired:first-touch SLA remind", "fired:first-touch SLA escalate", "fired:first-touch SLA reassign",
		"activity:AssignOwner>=3", "activity:RaiseAlert:kind=sla_max_reassigns", "activity:RaiseAlert:kind=sla_unworked_at_fallback",
		"final:handoff")
}

// ladderAcceptance: the owner touches but never accepts: the acceptance
// SLA's own ladder.
func ladderAcceptance(r *rec) {
	id := "rec-acceptance"
	owner := r.handedOff(id, "a1")
	r.send(id, ev("a2", lead.EventRepTouch, map[string]any{"repId": owner, "channel": "email"}))
	r.waitHistory(id, "fired:acceptance SLA reassign")
	r.save(id, "ladder-acceptance", "signal:rep.touch", "fired:acceptance SLA remind", "fired:acceptance SLA escalate",
		"fired:acceptance SLA reassign", "activity:AssignOwner>=2")
}

// enrichBadFit: enrichment, a bad-fit rejection, a fit field that passes
// brings the lead back.
func enrichBadFit(r *rec) {
	id := "rec-enrich"
	q := quoteRequest("e1")
	q.Profile.Country, q.Profile.Region = "", ""
	r.send(id, q)
	r.waitStage(id, lead.StageMQL)
	r.send(id, lead.Event{ID: "e2", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Country: "US", Region: "OR"}})
	r.waitStage(id, lead.StageHandoff)
	r.update(id, lead.UpdateReject, lead.RejectRequest{ID: "e3", RepID: r.state(id).OwnerID, Reason: lead.ReasonBadFit})
	r.send(id, lead.Event{ID: "e4", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Phone: "+1 555 0100"}})
	r.send(id, lead.Event{ID: "e5", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Title: "CFO"}})
	r.waitStage(id, lead.StageLead)
	r.save(id, "enrich-badfit", "stage:mql", "activity:CreateTask:kind="+actions.TaskEnrichment, "stage:handoff",
		"stage:disqualified", "activity:NurtureStop:reason="+lead.SuppressDisqualified, "final:lead")
}

// revisitUnknownFit: enrichment for employees and industry; a timing
// rejection with a revisit date hands the lead back to the rep.
func revisitUnknownFit(r *rec) {
	id := "rec-revisit"
	pv := ev("v1", lead.EventWebPageView, map[string]any{"category": "pricing"})
	pv.Profile = &lead.Profile{Email: "kim@nowhere.io", Company: "Nowhere", Country: "US", Region: "CA"}
	r.send(id, pv)
	r.send(id, ev("v2", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	r.send(id, ev("v3", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	r.waitStage(id, lead.StageMQL)
	r.send(id, lead.Event{ID: "v4", Type: lead.EventProfileUpdate, Profile: &lead.Profile{Employees: 300, Industry: "insurance"}})
	r.waitStage(id, lead.StageHandoff)
	r.update(id, lead.UpdateReject, lead.RejectRequest{ID: "v5", RepID: r.state(id).OwnerID, Reason: lead.ReasonTiming, Note: "after the budget",
		RevisitAt: time.Now().Add(20 * time.Second).UTC().Format(time.RFC3339)})
	r.waitFor(id, "the revisit handoff", func(v lead.View) bool { return v.RecycleCount == 1 && v.Stage == lead.StageHandoff })
	r.save(id, "revisit-unknown-fit", "stage:mql", "stage:recycle", "fired:revisit · ", "final:handoff")
}

// rejectPlay: a handoff rejected with reason, its play (recycle, the
// play's track, a cool-off) and the end of the cool-off.
func rejectPlay(reason lead.Reason, note string) func(r *rec) {
	return func(r *rec) {
		id := "rec-play-" + strings.ReplaceAll(string(reason), "_", "-")
		owner := r.handedOff(id, "p1")
		r.update(id, lead.UpdateReject, lead.RejectRequest{ID: "p2", RepID: owner, Reason: reason, Note: note})
		r.waitFor(id, "the end of the cool-off", func(v lead.View) bool { return v.RecycleCount == 1 && v.Stage == lead.StageLead })
		r.save(id, "play-"+strings.ReplaceAll(string(reason), "_", "-"), "update:reject", "stage:recycle",
			"fired:cool-off ends · "+string(reason), "final:lead")
	}
}

// salStale: accepted, no opportunity: the stale reminder, then the
// sal_stale play.
func salStale(r *rec) {
	id := "rec-sal-stale"
	r.accepted(id, "s")
	r.waitStage(id, lead.StageRecycle)
	r.save(id, "sal-stale", "stage:sal", "fired:SAL stale reminder", "fired:SAL stale recycle", "stage:recycle",
		"timer:cool-off ends · "+lead.PlaySALStale)
}

// opportunityLost: a loss reported before any opportunity (ignored), then
// an opportunity lost: the opportunity_lost play.
func opportunityLost(r *rec) {
	id := "rec-opp-lost"
	r.accepted(id, "o")
	r.send(id, ev("o4", lead.EventOpportunityLost, map[string]any{"reason": "no opportunity yet"}))
	r.send(id, ev("o5", lead.EventOpportunityCreated, map[string]any{"amount": 2000}))
	// published before the loss: events of one workflow task publish once
	r.waitStage(id, lead.StageOpportunity)
	r.send(id, ev("o6", lead.EventOpportunityLost, map[string]any{"reason": "competitor"}))
	r.waitStage(id, lead.StageRecycle)
	r.save(id, "opportunity-lost", "stage:sal", "stage:opportunity", "signal:opportunity.lost", "stage:recycle",
		"timer:cool-off ends · "+lead.PlayOpportunityLost)
}

// mergeLateEvents: a duplicate rejection merges the lead; an event that
// arrives while its forward is still out is forwarded too, then it completes.
func mergeLateEvents(r *rec) {
	id := "rec-merge"
	h := r.fx.hold(actions.ForwardEvents, id)
	owner := r.handedOff(id, "m1")
	r.update(id, lead.UpdateReject, lead.RejectRequest{ID: "m2", RepID: owner, Reason: lead.ReasonDuplicate, DuplicateOf: "rec-won"})
	r.waitArrived(id, h)
	r.send(id, ev("m3", lead.EventWebPageView, map[string]any{"category": "pricing"}))
	r.waitHistory(id, "signal:"+lead.EventWebPageView)
	h.free()
	r.waitClosed(id)
	r.save(id, "merge-late-events", "update:reject", "stage:merged", "forwarded:merged:rec-merge:m1",
		"forwarded:merged:rec-merge:m3", "activity:ForwardEvents>=2")
}

// effectsRedrive: a CRM that refuses the handoff task: the effect fails,
// an operator re-drives it.
func effectsRedrive(r *rec) {
	id := "rec-effects"
	r.fx.mu.Lock()
	r.fx.refuse[actions.CreateTask+" "+id] = 1
	r.fx.mu.Unlock()
	r.send(id, quoteRequest("x1"))
	r.waitFor(id, "a failed task effect", func(v lead.View) bool {
		for _, e := range v.Effects {
			if e.Status == lead.EffectFailed {
				return true
			}
		}
		return false
	})
	r.update(id, lead.UpdateRetryEffects, lead.RetryEffectsRequest{ID: "x2", By: "ops-1"})
	r.waitFor(id, "no effects left", func(v lead.View) bool { return v.Stage == lead.StageHandoff && len(v.Effects) == 0 })
	r.save(id, "effects-redrive", "update:retryEffects", "activity:CreateTask>=2", "final:handoff")
}

// nurtureContact is a lead nurture can reach and scoring does not qualify.
func nurtureContact() *lead.Profile {
	return &lead.Profile{Email: "pat@smallco.example", Company: "Smallco", Country: "US", Region: "NY"}
}

// nurtureCadence: every touch of a three-step track, then an unsubscribe.
func nurtureCadence(r *rec) {
	id := "rec-nurture"
	e := ev("n1", lead.EventEmailOpen, nil)
	e.Profile = nurtureContact()
	r.send(id, e)
	r.waitHistory(id, "activity:NurtureSend>=3")
	r.send(id, ev("n2", lead.EventEmailUnsubscribe, nil))
	r.waitHistory(id, "activity:NurtureStop:reason="+lead.SuppressUnsubscribed)
	r.save(id, "nurture-cadence-unsubscribe", "stage:lead", "activity:NurtureSend:step=0", "activity:NurtureSend>=3",
		"fired:nurture touch · default 2/3", "fired:nurture touch · default 3/3",
		"activity:NurtureStop:reason="+lead.SuppressUnsubscribed, "final:lead")
}

// nurtureBounce: a touch, then the address bounces.
func nurtureBounce(r *rec) {
	id := "rec-bounce"
	e := ev("b1", lead.EventEmailOpen, nil)
	e.Profile = nurtureContact()
	e.Profile.Email = "gone@smallco.example"
	r.send(id, e)
	r.waitHistory(id, "activity:NurtureSend>=1")
	r.send(id, ev("b2", lead.EventEmailBounce, nil))
	r.waitHistory(id, "activity:NurtureStop:reason="+lead.SuppressBounced)
	r.save(id, "nurture-bounce", "activity:NurtureSend>=1", "activity:NurtureStop:reason="+lead.SuppressBounced, "final:lead")
}

// policyChange: the worker's policy changes between two events (as a
// reload would); the second event is decided under the new version,
// which qualifies a lead the old one did not.
func policyChange(r *rec) {
	id := "rec-policy"
	e := ev("pc1", lead.EventWebPageView, map[string]any{"category": "pricing"})
	e.Profile = &lead.Profile{Email: "lee@midco.example", Company: "Midco", Country: "US", Region: "TX", Employees: 60, Industry: "retail"}
	r.send(id, e)
	r.waitFor(id, "the first event scored", func(v lead.View) bool { return v.Stage == lead.StageLead && v.Score.Total > 0 })
	next := strings.Replace(strings.Replace(r.src, `version: "fast-1"`, `version: "fast-2"`, 1), "mql_threshold: 50", "mql_threshold: 30", 1)
	if next == r.src {
		r.t.Fatal("policyChange: testdata/policy-fast.yaml no longer has the lines it edits")
	}
	r.switching.set(mustPolicy(next))
	r.send(id, ev("pc2", lead.EventEmailOpen, nil))
	r.waitStage(id, lead.StageHandoff)
	r.save(id, "policy-change", "policies:2", "stage:lead", "stage:handoff", "final:handoff")
}

// continueAsNew: a lead whose history reaches the (lowered) cap.
func continueAsNew(r *rec) {
	id := "rec-can"
	first := ""
	for i := 0; i < 40; i++ {
		r.send(id, ev(fmt.Sprintf("c%d", i), lead.EventEmailOpen, nil))
		if first == "" {
			first = r.runID(id)
		}
	}
	r.newRun(id, first)
	r.saveRun(id, first, "continue-as-new", "continued-as-new")
	r.save(id, "continue-as-new-next", "continued", "final:lead")
}

// continueAsNewUpdate: Continue-As-New with an update just before the cap
// and effects in flight: the handoff task's CRM call is held until the run
// has continued; the next run starts it again under the same key.
func continueAsNewUpdate(r *rec) {
	id := "rec-can-update"
	h := r.fx.hold(actions.CreateTask, id)
	r.send(id, quoteRequest("u1"))
	r.waitArrived(id, h)
	owner := r.state(id).OwnerID
	first, _, length, _ := r.describe(id)
	for i := 0; length < canCap-15; i++ {
		if i >= 20 {
			r.t.Fatalf("%s: history still %d events after %d events sent", id, length, i)
		}
		r.send(id, ev(fmt.Sprintf("u-open-%d", i), lead.EventEmailOpen, nil))
		before := length
		r.poll(id, "the event applied", func() bool { _, _, length, _ = r.describe(id); return length > before })
	}
	r.update(id, lead.UpdateAccept, lead.AcceptRequest{ID: "u2", RepID: owner})
	for i := 0; r.runID(id) == first; i++ {
		if i >= 20 {
			r.t.Fatalf("%s: no Continue-As-New after %d more events", id, i)
		}
		r.send(id, ev(fmt.Sprintf("u-more-%d", i), lead.EventEmailOpen, nil))
	}
	r.newRun(id, first)
	h.free()
	r.saveRun(id, first, "continue-as-new-update", "update:accept", "continued-as-new", "carried-effects:"+actions.CreateTask)
	r.save(id, "continue-as-new-update-next", "continued", "activity:CreateTask", "final:sal")
}
