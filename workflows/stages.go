package workflows

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/scoring"
)

// transition moves the lead to a stage and records why, in the state and in
// the ledger (the metrics are computed from these rows).
func (r *run) transition(now time.Time, to lead.Stage, why string) {
	r.transitionWith(now, to, why, nil)
}

// transitionWith is transition with extra ledger data (a handoff's
// deadline and trigger, which the metrics read).
func (r *run) transitionWith(now time.Time, to lead.Stage, why string, extra map[string]any) {
	from := r.s.Stage
	// A task whose work no longer applies is closed, whatever moved the lead.
	if from == lead.StageHandoff && to != lead.StageHandoff {
		r.closeTask(actions.TaskCancelled, "", "lead left handoff: "+why)
	}
	if from == lead.StageMQL && to != lead.StageMQL && to != lead.StageHandoff && r.s.Enrichment != nil {
		r.closeTaskKey(r.s.Enrichment.TaskKey, actions.TaskCancelled, "", "lead left mql: "+why)
		r.s.Enrichment = nil
	}
	r.s.Stage = to
	r.addHistory(lead.Transition{At: now, From: from, To: to, Why: why})
	r.s.Seq++
	data := map[string]any{"score": r.s.Score.Total(), "cycle": r.s.Cycle, "recycleCount": r.s.RecycleCount}
	//workflowcheck:ignore (sorted keys)
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		data[k] = extra[k]
	}
	r.ledger(actions.LedgerEntry{Key: r.key("transition", r.s.Seq, from, to), Kind: actions.LedgerTransition,
		At: now, From: from, To: to, Why: why, Data: data})
}

// addHistory appends to the carried history, bounded in count and bytes.
func (r *run) addHistory(t lead.Transition) {
	t.Why = truncate(t.Why, maxWhyBytes)
	if t.Policy == "" && r.pol != nil {
		t.Policy = r.pol.Version
	}
	r.s.History = capTail(append(r.s.History, t), maxHistory)
}

// enterLead starts a brand-new lead in stage lead. Nurture enrollment waits
// until the first event has been scored (enrollNew): a lead that goes
// straight to Sales never gets a nurture call on its speed-to-lead path.
func (r *run) enterLead(now time.Time, why string) {
	r.transition(now, lead.StageLead, why)
}

// enrollNew enrolls a new lead on the entry track once its first event is
// applied; a lead already with Sales only notes the track it would resume.
func (r *run) enrollNew(now time.Time) {
	if r.s.Stage == lead.StageLead {
		r.enrollTrack(now, r.pol.Nurture.OnEnterLead, "enter")
		return
	}
	if r.s.Nurture.Track == "" {
		r.s.Nurture.Track = r.pol.Nurture.OnEnterLead
	}
}

// handoff routes an MQL to an owner, hands it over with context and starts
// the first-touch SLA. Nurture pauses: Sales is working the lead. The owner,
// task and CRM stage are effects: the lead is in handoff at once, and its
// state lists them as pending until the CRM confirms them.
func (r *run) handoff(now time.Time) {
	r.s.Cycle++
	cycle := r.s.Cycle
	rules := r.matchedRules()
	d, err := r.route(actions.RouteInput{Key: r.key("handoff", cycle, "route"), Domain: r.s.Profile.EmailDomain(), Rules: rules,
		PreferOwner: r.preferredOwner(rules), At: now})
	if err != nil {
		r.s.Cycle--
		r.routeLater(now, "routing failed", err)
		return
	}
	r.s.RouteFails = 0
	r.s.LastOwner, r.s.LastTerritory = "", ""
	r.s.Handoff = &Handoff{At: now}
	r.s.SLA = nil
	r.assign(now, d, fmt.Sprintf("handoff %d", cycle))
	r.startSLA(now, lead.SLAFirstTouch, r.firstTouchWithin())
	r.s.Handoff.FirstDueAt = r.s.SLA.DueAt
	r.handoffTask(now, "")
	r.pauseNurture(fmt.Sprintf("handoff-%d", cycle))
	r.setCRMStage(r.key("handoff", cycle, "stage"), lead.StageHandoff)
	r.transitionWith(now, lead.StageHandoff, d.Why, map[string]any{"slaKind": lead.SLAFirstTouch,
		"slaDueAt": r.s.SLA.DueAt, "trigger": r.s.Trigger, "triggerEventId": r.s.TriggerEvent, "whyNow": truncate(r.s.WhyNow, maxWhyBytes)})
}

// routeLater: never leave a lead unowned and forgotten. Routing is tried
// again from a timer (seconds while the directory is down; 15 minutes when
// it answered that no one can take the lead) and ops are told once.
func (r *run) routeLater(now time.Time, what string, err error) {
	r.s.RouteFails++
	r.s.RouteRetryAt = now.Add(retryDelay(r.s.RouteFails))
	if isNonRetryable(err) {
		r.s.RouteRetryAt = now.Add(15 * time.Minute)
	}
	if r.s.RouteFails == 1 {
		r.alert("routing_failed", fmt.Sprintf("%s, retrying at %s: %v", what, r.s.RouteRetryAt.Format(time.RFC3339), errMessage(err)), true)
	}
}

// matchedRules evaluates the policy's routing conditions (pure, in the
// workflow) and leaves the directory lookups to the Route activity.
func (r *run) matchedRules() []routing.Rule {
	vars := policy.Vars{Lead: r.s.Profile.CELMap(), Segment: r.s.Segment, Trigger: r.s.Trigger, Counts: r.s.Score.Counts}
	var out []routing.Rule
	for _, rule := range r.pol.Routing {
		ok, err := rule.When.Match(vars)
		if err != nil || !ok {
			continue
		}
		out = append(out, routing.Rule{Name: rule.Name, AccountOwner: rule.AccountOwner, Territory: rule.Territory, Pool: rule.Pool})
	}
	return out
}

func (r *run) firstTouchWithin() policy.Duration {
	vars := policy.Vars{Lead: r.s.Profile.CELMap(), Segment: r.s.Segment, Trigger: r.s.Trigger, Counts: r.s.Score.Counts}
	for _, w := range r.pol.SLA.FirstTouch {
		if ok, err := w.When.Match(vars); err == nil && ok {
			return w.Within
		}
	}
	return policy.Duration(4 * time.Hour)
}

// assign makes d's owner the lead's owner, in the state, the CRM and the
// ledger.
func (r *run) assign(now time.Time, d routing.Decision, why string) {
	key := r.assignState(now, d, why)
	r.assignOwner(key, d.OwnerID, r.prevOwner, why+": "+d.Why)
}

// assignQuiet is assign for an owner the CRM already has (it set it).
func (r *run) assignQuiet(now time.Time, d routing.Decision, why string) { r.assignState(now, d, why) }

// assignState records the new owner in the state and the ledger and
// returns the assignment's key.
func (r *run) assignState(now time.Time, d routing.Decision, why string) string {
	prev := r.s.OwnerID
	r.prevOwner = prev
	r.s.OwnerID, r.s.ManagerID = d.OwnerID, d.ManagerID
	if d.Territory != "" {
		r.s.Territory = d.Territory
	}
	if d.Pool != "" {
		r.s.Pool = d.Pool
	}
	if h := r.s.Handoff; h != nil {
		h.Owners = append(h.Owners, d.OwnerID)
		h.AtFallback = h.AtFallback || d.Fallback
	}
	cands := make([]lead.Candidate, len(d.Candidates))
	for i, c := range d.Candidates {
		cands[i] = lead.Candidate{RepID: c.RepID, Skipped: c.Skipped, Chosen: c.Chosen}
	}
	r.s.Routing = &lead.RoutingView{At: now, Rule: d.Rule, Territory: d.Territory, Pool: d.Pool, Strategy: d.Strategy,
		OwnerID: d.OwnerID, Fallback: d.Fallback, Candidates: cands, Why: d.Why, PolicyVersion: r.pol.Version,
		Inputs: map[string]string{"segment": r.s.Segment, "domain": r.s.Profile.EmailDomain(), "country": r.s.Profile.Country,
			"region": r.s.Profile.Region, "trigger": r.s.Trigger, "exclude": strings.Join(r.excluded(), ",")}}
	key := r.key("handoff", r.s.Cycle, "assign", len(r.handoffOwners()), d.OwnerID)
	r.ledger(actions.LedgerEntry{Key: key, Kind: actions.LedgerRouting, At: now, OwnerID: d.OwnerID, Territory: d.Territory,
		Why: d.Why, Data: map[string]any{"rule": d.Rule, "pool": d.Pool, "strategy": d.Strategy, "fallback": d.Fallback,
			"candidates": d.Candidates, "previous": prev, "reason": why}})
	return key
}

func (r *run) handoffOwners() []string {
	if r.s.Handoff == nil {
		return nil
	}
	return r.s.Handoff.Owners
}

func (r *run) excluded() []string { return r.handoffOwners() }

// accept: the owner takes the lead. SLA clocks stop; staleness is watched.
func (r *run) accept(req lead.AcceptRequest) {
	now := workflow.Now(r.ctx)
	r.markSeen(req.ID)
	r.ledger(actions.LedgerEntry{Key: r.key("feedback", req.ID), Kind: actions.LedgerFeedback, At: now,
		Why: "accepted by " + req.RepID, Data: r.feedbackData("accepted", req.RepID, "")})
	r.firstTouch(now, req.RepID, "accept", req.ID, "")
	r.s.SLA = nil
	r.s.SAL = &SALWatch{Since: now}
	r.closeTask(actions.TaskCompleted, req.RepID, "accepted by "+req.RepID)
	r.transition(now, lead.StageSAL, "accepted by "+req.RepID)
	r.setCRMStage(r.key("feedback", req.ID, "stage"), lead.StageSAL)
}

func (r *run) feedbackData(outcome, rep, reason string) map[string]any {
	d := map[string]any{"outcome": outcome, "repId": rep, "cycle": r.s.Cycle}
	if reason != "" {
		d["reason"] = reason
	}
	if h := r.s.Handoff; h != nil {
		d["handoffAt"] = h.At
		if !h.FirstTouchAt.IsZero() {
			d["firstTouchAt"] = h.FirstTouchAt
		}
	}
	return d
}

// reject runs the reason's recycle play.
func (r *run) reject(req lead.RejectRequest) {
	now := workflow.Now(r.ctx)
	r.markSeen(req.ID)
	if r.s.Stage == lead.StageHandoff {
		r.firstTouch(now, req.RepID, "reject", req.ID, "")
	}
	data := r.feedbackData("rejected", req.RepID, string(req.Reason))
	data["note"] = req.Note
	r.ledger(actions.LedgerEntry{Key: r.key("feedback", req.ID), Kind: actions.LedgerFeedback, At: now,
		Why: fmt.Sprintf("rejected by %s: %s", req.RepID, req.Reason), Data: data})
	var revisit time.Time
	if req.RevisitAt != "" {
		revisit, _ = time.Parse(time.RFC3339, req.RevisitAt)
	}
	why := fmt.Sprintf("rejected by %s: %s", req.RepID, req.Reason)
	if req.Note != "" {
		why += " (" + req.Note + ")"
	}
	r.runPlay(now, string(req.Reason), why, req.ID, revisit, req.DuplicateOf)
	if r.s.Revisit != nil {
		r.s.Revisit.Note = truncate(req.Note, maxWhyBytes)
	}
}

// runPlay does what the policy says a rejection or loss reason does.
func (r *run) runPlay(now time.Time, name, why, cause string, revisit time.Time, duplicateOf string) {
	play, ok := r.pol.Play(name)
	if !ok {
		// The policy validator requires every play; a missing one is a bug.
		r.alert("play_missing", "no play "+name+" in policy "+r.pol.Version+"; recycling with defaults", true)
		play = policy.Play{To: lead.PlayToRecycle, Nurture: r.pol.Nurture.OnEnterLead, Score: policy.ScoreKeep, Requalify: policy.RequalifyNewIntent}
	}
	r.s.Play = &lead.PlayView{Name: name, To: play.To, Nurture: play.Nurture, Score: play.Score}
	if play.CoolOff > 0 {
		r.s.Play.CoolOff = play.CoolOff.String()
	}
	r.s.SLA, r.s.SAL = nil, nil
	r.closeTask(actions.TaskCancelled, "", fmt.Sprintf("%s (play %s)", why, name))
	previous := r.s.OwnerID
	// Sales no longer owns the lead; the CRM keeps the contact's owner.
	r.s.OwnerID, r.s.ManagerID, r.s.Handoff = "", "", nil
	switch play.To {
	case lead.PlayToDisqualified:
		// Sales said the lead is not a fit: what it did no longer counts.
		r.s.Score = r.s.Score.NewCycle(policy.ScoreReset)
		r.transition(now, lead.StageDisqualified, why)
		r.stopNurture(cause, lead.SuppressDisqualified)
	case lead.PlayToMerged:
		r.s.MergedInto = duplicateOf
		r.transition(now, lead.StageMerged, why+"; merged into "+duplicateOf)
		r.stopNurture(cause, "merged")
		r.forward(r.s.Recent, true)
	default:
		r.s.RecycleCount++
		r.s.Score = r.s.Score.NewCycle(play.Score)
		r.s.CoolOffUntil = now.Add(play.CoolOff.D())
		r.s.NeedIntent = play.Requalify != policy.RequalifyAtCoolOffEnd
		if previous != "" {
			r.s.LastOwner, r.s.LastTerritory = previous, r.s.Territory
		}
		r.s.Revisit = nil
		if !revisit.IsZero() && revisit.After(now) {
			r.s.Revisit = &Revisit{At: revisit, RepID: previous}
		}
		r.transition(now, lead.StageRecycle, fmt.Sprintf("%s; play %s until %s", why, name, r.s.CoolOffUntil.UTC().Format(time.RFC3339)))
		r.enrollTrack(now, play.Nurture, cause)
	}
	r.setCRMStage(r.key("play", cause, "stage"), r.s.Stage)
	if previous != "" {
		r.note(r.key("play", cause, "note"), fmt.Sprintf("%s → %s (play %s)", why, r.s.Stage, name))
	}
}

// endCoolOff: the recycle play is over; the lead is a lead again and may
// qualify at once if its score already says so.
func (r *run) endCoolOff(now time.Time) {
	r.s.CoolOffUntil = time.Time{}
	// Intent has been decaying through the silence; judge the score as of now.
	r.s.Score = r.s.Score.DecayedTo(r.pol.Scoring.Decay.HalfLife, now)
	if r.s.NeedIntent {
		// Sales said not now: the old score is shown, not acted on. New
		// intent (a scored event from now on) may make it an MQL again.
		r.transition(now, lead.StageLead, fmt.Sprintf("cool-off of play %s ended; score %d kept, waiting for new intent", r.s.playName(), r.s.Score.Total()))
		return
	}
	r.transition(now, lead.StageLead, "cool-off of play "+r.s.playName()+" ended")
	r.maybeQualify(now, scoring.Result{}, lead.Event{})
}

func (r *run) opportunityCreated(ev lead.Event) {
	now := workflow.Now(r.ctx)
	switch r.s.Stage {
	case lead.StageCustomer:
		r.expansion(now, ev, "created")
		return
	case lead.StageOpportunity:
		r.refuseQuietly(ev, fmt.Sprintf("opportunity.created ignored in stage %s", r.s.Stage))
		return
	}
	// The CRM is the truth about opportunities: one created from any stage
	// means Sales is working the lead.
	if rep := ev.Attr("repId"); rep != "" && r.s.OwnerID == "" {
		r.s.OwnerID = rep
	}
	r.s.SLA, r.s.SAL, r.s.CoolOffUntil = nil, nil, time.Time{}
	r.closeTask(actions.TaskCompleted, ev.Attr("repId"), "opportunity created ("+ev.ID+")")
	r.pauseNurture("opp-" + ev.ID)
	r.transition(now, lead.StageOpportunity, "opportunity created ("+ev.ID+")"+amountNote(ev))
	r.setCRMStage(r.key("event", ev.ID, "stage"), lead.StageOpportunity)
}

func (r *run) opportunityWon(ev lead.Event) {
	now := workflow.Now(r.ctx)
	if r.s.Stage == lead.StageCustomer && r.s.Expansion != nil {
		r.expansion(now, ev, "won")
		return
	}
	if r.s.Stage == lead.StageCustomer || r.s.Stage == lead.StageDisqualified {
		r.refuseQuietly(ev, fmt.Sprintf("opportunity.won ignored in stage %s", r.s.Stage))
		return
	}
	r.s.WonBy = r.s.OwnerID
	if rep := ev.Attr("repId"); rep != "" {
		r.s.WonBy = rep
	}
	r.s.SLA, r.s.SAL, r.s.CoolOffUntil = nil, nil, time.Time{}
	r.closeTask(actions.TaskCompleted, ev.Attr("repId"), "opportunity won ("+ev.ID+")")
	r.transition(now, lead.StageCustomer, "opportunity won ("+ev.ID+")"+amountNote(ev))
	r.s.Score = r.s.Score.NewCycle(policy.ScoreReset)
	r.enrollTrack(now, r.pol.Nurture.OnEnterCustomer, ev.ID)
	r.setCRMStage(r.key("event", ev.ID, "stage"), lead.StageCustomer)
}

func (r *run) opportunityLost(ev lead.Event) {
	now := workflow.Now(r.ctx)
	if r.s.Stage == lead.StageCustomer && r.s.Expansion != nil {
		r.expansion(now, ev, "lost")
		return
	}
	if r.s.Stage != lead.StageOpportunity {
		r.refuseQuietly(ev, fmt.Sprintf("opportunity.lost ignored in stage %s: no open opportunity", r.s.Stage))
		return
	}
	why := "opportunity lost (" + ev.ID + ")"
	if reason := ev.Attr("reason"); reason != "" {
		why += ": " + reason
	}
	r.runPlay(now, lead.PlayOpportunityLost, why, ev.ID, time.Time{}, "")
}

// refuseQuietly notes an event that made no sense in the current stage,
// without alerting: CRMs send such events routinely.
func (r *run) refuseQuietly(ev lead.Event, msg string) {
	now := workflow.Now(r.ctx)
	r.s.Refusals = capTail(append(r.s.Refusals, lead.Refusal{At: now, EventID: ev.ID, Type: ev.Type, Message: msg}), maxRefusals)
}

func amountNote(ev lead.Event) string {
	if a, ok := ev.Attributes["amount"]; ok {
		return fmt.Sprintf(", amount %v", a)
	}
	return ""
}

// upsell: a customer showing buying intent again goes to the account owner
// as a task; the stage stays customer.
func (r *run) upsell(now time.Time, why string, res scoring.Result, ev lead.Event) {
	owner, ok := r.accountOwner(now, ev)
	if !ok {
		return
	}
	r.createTask(actions.TaskInput{Key: r.key("event", ev.ID, "upsell"), OwnerID: owner, Kind: actions.TaskUpsell,
		Title: fmt.Sprintf("Upsell signal from customer %s: %s", r.s.LeadID, res.Trigger), DueAt: r.cal.Add(now, policy.Duration(24*time.Hour)),
		Context: &actions.HandoffContext{WhyNow: why + " on " + ev.Type, Trigger: res.Trigger, Score: r.scoreView(),
			Timeline: r.timeline(), Segment: r.s.Segment, PolicyVersion: r.pol.Version}})
	r.addHistory(lead.Transition{At: now, From: lead.StageCustomer, To: lead.StageCustomer, Why: "upsell signal to " + owner + ": " + why})
	r.s.Score = r.s.Score.NewCycle(policy.ScoreReset)
}

// forward hands events of a merged lead to the surviving lead, with IDs
// derived from the originals so a retry or a second forward changes nothing.
// The first forward goes out even with no events: it records the merge, so
// the HTTP edge sends later events to the survivor.
func (r *run) forward(evs []lead.Event, first bool) {
	if r.s.MergedInto == "" {
		return
	}
	out := make([]lead.Event, 0, len(evs))
	for _, ev := range evs {
		if ev.Type == lead.EventLeadAccepted || ev.Type == lead.EventLeadRejected {
			continue // feedback was about this lead's handoff, not the survivor's
		}
		ev.ID = "merged:" + r.s.LeadID + ":" + ev.ID
		ev.LeadID = r.s.MergedInto
		if ev.Attributes == nil {
			ev.Attributes = map[string]any{}
		}
		ev.Attributes["mergedFrom"] = r.s.LeadID
		out = append(out, ev)
	}
	if len(out) == 0 && !first {
		return // only feedback arrived: nothing for the survivor
	}
	r.s.Seq++
	r.enqueue("forward events to "+r.s.MergedInto, EffectInput{Forward: &actions.ForwardInput{
		Key: r.key("forward", r.s.Seq), From: r.s.LeadID, To: r.s.MergedInto, Events: out}})
}

// finishMerged completes a merged lead. The loop calls it only once the
// lead is settled: every forward, note and ledger entry confirmed, no
// signal or update waiting (events that arrive before are forwarded).
func (r *run) finishMerged() error {
	r.cancelTimer()
	return nil
}
