package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/scoring"
)

// Every transition of the lead, in one place. The loop (lead.go) hands each
// input to one of four entry points below; each decides with the pure
// packages, changes the State and enqueues effects (outbox.go), never
// waiting on a dependency other than the directory's short Route.
//
//	input                      stage(s)                  handler              → next stage
//	-------------------------  ------------------------  -------------------  ---------------------------
//	event (any)                every                     onEvent: ledger, profile, timeline, then by type:
//	  email.unsubscribe/bounce any                       stopNurture          (same; nurture off for good)
//	  rep.touch, task.completed handoff (owner)          onRepTouch           (same; acceptance clock)
//	  lead.accepted            handoff                   accept               sal
//	  lead.rejected            handoff, sal              reject → runPlay     recycle | disqualified | merged
//	  opportunity.created      not opportunity/customer  opportunityCreated   opportunity
//	  opportunity.won          not customer/disqualified opportunityWon       customer
//	  opportunity.lost         opportunity               opportunityLost      recycle (play opportunity_lost)
//	  (then, every event)      by stage, in score:
//	                           lead                      maybeQualify         mql → handoff (or enrichment)
//	                           recycle (fast track)      maybeQualify         lead → mql → handoff
//	                           mql (enrichment found)    enrichmentDone, handoff  handoff
//	                           handoff, sal, opportunity reengaged            (same; owner told, once per window)
//	                           disqualified (fit passes) enrollTrack          lead (→ mql)
//	                           customer (buying intent)  upsell               (same)
//	                           merged                    forward              (same; completes when settled)
//	update accept              handoff (owner)           accept               sal
//	update reject              handoff, sal (owner)      reject → runPlay     recycle | disqualified | merged
//	update reassign            mql … customer            reassign             (same; new owner, task, clock)
//	update retryEffects        any, with failed effects  retryFailed          (same)
//	update repUnavailable      handoff (untouched; away) repUnavailable       (same; rerouted, or clock paused)
//	                           handoff … customer (deactivated) reroute       (same; new owner)
//	update repBack             handoff (clock paused)    resumeClock          (same)
//	owner.changed (CRM)        handoff … customer        ownerChanged         (same; new owner, clock follows)
//	timer: owner back          handoff (clock paused)    resumeClock          (same)
//	timer: SLA ladder step     handoff, sal              slaStepsDue          (same; remind/escalate/reassign)
//	timer: SAL stale           sal                       salDue               (same) | recycle (sal_stale)
//	timer: cool-off ends       recycle                   endCoolOff           lead (→ mql only on new intent, unless the play says cool_off_end)
//	timer: revisit date        recycle, lead             revisitDue           mql → handoff (the same rep when active)
//	opportunity.* (customer)   customer                  expansion            (same; nurture paused while open)
//	timer: routing retry       mql                       handoff | requestEnrichment  handoff | (same)
//	timer: nurture touch       lead, recycle, customer   nurtureTouch         (same)
//	effect outcome             any                       onDone (outbox.go)   (same)

// onEvent applies one event from the `event` signal.
func (r *run) onEvent(ev lead.Event) {
	if ev.ID == "" || r.seen[ev.ID] {
		// A repeated id has no effect: integrations deliver at least once.
		return
	}
	r.markSeen(ev.ID)
	if r.s.Stage == lead.StageMerged {
		r.forward([]lead.Event{ev}, false)
		return
	}
	_ = r.refreshPolicy()
	now := workflow.Now(r.ctx)
	first := r.s.Stage == ""
	changed := r.s.Profile.Merge(ev.Profile)
	if r.s.Source == "" {
		r.s.Source = ev.Source
	}
	if c := ev.Attr("utm_campaign"); c != "" {
		r.s.Campaign = c
	}
	r.remember(ev)
	r.ledger(actions.LedgerEntry{Key: r.key("event", ev.ID), Kind: actions.LedgerEvent, At: ev.OccurredAt,
		Why: ev.Type, Data: map[string]any{"eventId": ev.ID, "type": ev.Type, "attributes": ev.Attributes, "receivedAt": now}})
	if first {
		r.enterLead(now, "first event "+ev.Type)
	}
	r.s.Segment = r.segment()

	switch ev.Type {
	case lead.EventEmailUnsubscribe:
		r.s.Nurture.Unsubscribed = true
		r.stopNurture(ev.ID, lead.SuppressUnsubscribed)
	case lead.EventEmailBounce:
		r.s.Nurture.Bounced = true
		r.stopNurture(ev.ID, lead.SuppressBounced)
	case lead.EventRepTouch:
		r.onRepTouch(ev, ev.Attr("repId"))
	case lead.EventTaskCompleted:
		rep := ev.Attr("repId")
		if rep == "" {
			rep = r.s.OwnerID
		}
		r.onRepTouch(ev, rep)
	case lead.EventLeadAccepted:
		req := lead.AcceptRequest{ID: ev.ID, RepID: ev.Attr("repId")}
		if err := r.checkAccept(req); err != nil {
			r.refuse(ev, err)
		} else {
			r.accept(req)
		}
	case lead.EventLeadRejected:
		req := lead.RejectFromEvent(ev)
		if err := r.checkReject(req); err != nil {
			r.refuse(ev, err)
		} else {
			r.reject(req)
		}
	case lead.EventOwnerChanged:
		r.ownerChanged(ev)
	case lead.EventOpportunityCreated:
		r.opportunityCreated(ev)
	case lead.EventOpportunityWon:
		r.opportunityWon(ev)
	case lead.EventOpportunityLost:
		r.opportunityLost(ev)
	}
	if r.s.Stage == lead.StageMerged {
		return
	}
	r.score(ev, changed, now)
	if first {
		r.enrollNew(now)
	}
}

// score applies the scoring rules to the event and moves the lead on when
// the score, a fast-track signal or a profile change says so.
func (r *run) score(ev lead.Event, changed []string, now time.Time) {
	prof := r.s.Profile.CELMap()
	next, res, err := scoring.Apply(r.pol.Scoring, r.s.Score, ev, prof, r.s.Segment)
	if err != nil {
		r.alert("scoring_error", err.Error(), true)
		return
	}
	r.s.Score = next
	switch r.s.Stage {
	case lead.StageLead:
		if r.s.NeedIntent {
			if !newIntent(res) {
				return // after a recycle only new intent counts
			}
			r.s.NeedIntent = false
		}
		r.maybeQualify(now, res, ev)
	case lead.StageRecycle:
		// A hand-raise (fast track) ends the cool-off early: the lead asked
		// for Sales. A score crossing waits for the cool-off to end.
		if res.FastTrack {
			if ok, _ := scoring.Qualifies(r.pol.Scoring, r.s.Score, res); ok {
				r.transition(now, lead.StageLead, fmt.Sprintf("cool-off ended early: fast-track %s (%s)", res.FastTrackRule, ev.ID))
				r.s.CoolOffUntil, r.s.NeedIntent = time.Time{}, false
				r.maybeQualify(now, res, ev)
			}
		}
	case lead.StageMQL:
		if len(r.s.Missing) > 0 && len(changed) > 0 {
			var fit []string // the fit fields still looked for
			for _, f := range scoring.UnknownFit(r.pol.Scoring, prof) {
				if slices.Contains(r.s.Missing, f) {
					fit = append(fit, f)
				}
			}
			r.s.Missing = appendMissingAll(scoring.Missing(r.pol.Scoring.RequiredForHandoff, prof), fit)
			if len(r.s.Missing) == 0 {
				r.enrichmentDone()
				// Fit is known now: it may say this is no MQL after all.
				if ok, why := scoring.Qualifies(r.pol.Scoring, r.s.Score, scoring.Result{}); !ok && r.s.Trigger != "revisit" && !r.s.FastTracked {
					r.transition(now, lead.StageLead, "enrichment done; "+why)
					return
				}
				r.handoff(now)
			}
		}
	case lead.StageHandoff, lead.StageSAL, lead.StageOpportunity:
		r.reengaged(now, res, ev)
	case lead.StageDisqualified:
		// Only a change to what made it a bad fit, after which fit passes.
		if r.fitFieldChanged(changed) && r.fitPasses() {
			r.transition(now, lead.StageLead, fmt.Sprintf("profile update (%s) passes fit: %d", ev.ID, r.s.Score.Fit))
			r.enrollTrack(now, r.pol.Nurture.OnEnterLead, ev.ID)
			r.maybeQualify(now, scoring.Result{}, ev)
		}
	case lead.StageCustomer:
		if ok, why := scoring.Qualifies(r.pol.Scoring, r.s.Score, res); ok && len(res.Matched) > 0 {
			r.upsell(now, why, res, ev)
		}
	}
}

// onCommand applies a rep's update. The state may have moved since the
// validator ran (the loop was busy), so the rules are checked again.
func (r *run) onCommand(cmd *command) {
	r.quiet = false
	var err error
	switch {
	case cmd.accept != nil:
		if r.seen[cmd.accept.ID] {
			break
		}
		if err = r.checkAccept(*cmd.accept); err == nil {
			r.accept(*cmd.accept)
		}
	case cmd.reject != nil:
		if r.seen[cmd.reject.ID] {
			break
		}
		if err = r.checkReject(*cmd.reject); err == nil {
			r.reject(*cmd.reject)
		}
	case cmd.reassign != nil:
		if r.seen[cmd.reassign.ID] {
			break
		}
		if err = r.checkReassign(*cmd.reassign); err == nil {
			err = r.reassign(*cmd.reassign)
		}
	case cmd.unavailable != nil:
		if r.seen[cmd.unavailable.ID] {
			break
		}
		if err = r.repUnavailable(*cmd.unavailable); err == nil {
			r.markSeen(cmd.unavailable.ID)
		}
	case cmd.back != nil:
		if r.seen[cmd.back.ID] {
			break
		}
		r.markSeen(cmd.back.ID)
		if a := r.s.Away; a != nil && a.RepID == cmd.back.RepID {
			r.resumeClock(workflow.Now(r.ctx), cmd.back.RepID+" back ("+cmd.back.By+")")
		}
	case cmd.retry != nil:
		if r.seen[cmd.retry.ID] {
			break
		}
		r.markSeen(cmd.retry.ID)
		n := r.retryFailed()
		r.addHistory(lead.Transition{At: workflow.Now(r.ctx), From: r.s.Stage, To: r.s.Stage,
			Why: fmt.Sprintf("%d failed effects re-driven by %s", n, cmd.retry.By)})
	}
	if err != nil {
		cmd.done.Set(nil, err)
		return
	}
	cmd.done.Set(r.view(), nil)
}

// onWake runs everything that is due now, in a fixed order.
func (r *run) onWake() {
	r.quiet = false
	_ = r.refreshPolicy()
	now := workflow.Now(r.ctx)
	if a := r.s.Away; a != nil && !a.Until.IsZero() && !a.Until.After(now) {
		r.resumeClock(now, "away period over")
	}
	if r.s.CRMOwner != "" && !r.s.RouteRetryAt.IsZero() && !r.s.RouteRetryAt.After(now) {
		r.applyCRMOwner(now)
	}
	r.slaStepsDue(now)
	r.salDue(now)
	if rv := r.s.Revisit; rv != nil && !rv.At.After(now) {
		r.revisitDue(now)
	}
	if r.s.Stage == lead.StageRecycle && !r.s.CoolOffUntil.IsZero() && !r.s.CoolOffUntil.After(now) {
		r.endCoolOff(now)
	}
	if r.s.Stage == lead.StageMQL && !r.s.RouteRetryAt.IsZero() && !r.s.RouteRetryAt.After(now) {
		r.s.RouteRetryAt = time.Time{}
		if len(r.s.Missing) > 0 && r.s.Enrichment == nil {
			r.requestEnrichment(now)
		} else if len(r.s.Missing) == 0 {
			r.handoff(now)
		}
	}
	if n := r.s.Nurture; n.Enrolled && !n.Paused && n.Sending == "" && !n.NextAt.IsZero() && !n.NextAt.After(now) {
		r.nurtureTouch(now)
	}
}
