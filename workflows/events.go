package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/scoring"
)

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
		r.maybeQualify(now, res, ev)
	case lead.StageRecycle:
		// A hand-raise (fast track) ends the cool-off early: the lead asked
		// for Sales. A score crossing waits for the cool-off to end.
		if res.FastTrack {
			if ok, _ := scoring.Qualifies(r.pol.Scoring, r.s.Score, res); ok {
				r.transition(now, lead.StageLead, fmt.Sprintf("cool-off ended early: fast-track %s (%s)", res.FastTrackRule, ev.ID))
				r.s.CoolOffUntil = time.Time{}
				r.maybeQualify(now, res, ev)
			}
		}
	case lead.StageMQL:
		if len(r.s.Missing) > 0 && len(changed) > 0 {
			r.s.Missing = scoring.Missing(r.pol.Scoring.RequiredForHandoff, prof)
			if len(r.s.Missing) == 0 {
				r.handoff(now)
			}
		}
	case lead.StageDisqualified:
		if ev.Type == lead.EventProfileUpdate && len(changed) > 0 && r.s.Score.Fit > 0 {
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

// maybeQualify makes the lead an MQL when the contract says it is ready.
func (r *run) maybeQualify(now time.Time, res scoring.Result, ev lead.Event) {
	ok, why := scoring.Qualifies(r.pol.Scoring, r.s.Score, res)
	if !ok {
		return
	}
	trigger := res.Trigger
	if trigger == "" {
		trigger = "score"
	}
	r.s.Trigger = trigger
	r.s.WhyNow = fmt.Sprintf("%s on %s (%s at %s)", why, ev.Type, ev.ID, ev.OccurredAt.UTC().Format(time.RFC3339))
	if ev.ID == "" {
		r.s.WhyNow = why
	}
	r.s.Missing = scoring.Missing(r.pol.Scoring.RequiredForHandoff, r.s.Profile.CELMap())
	if len(r.s.Missing) > 0 {
		// The ledger row says so too: leakage metrics count these leads.
		r.transition(now, lead.StageMQL, why+"; waiting for "+strings.Join(r.s.Missing, ", "))
		r.requestEnrichment(now)
		return
	}
	r.transition(now, lead.StageMQL, why)
	r.handoff(now)
}

func (r *run) onRepTouch(ev lead.Event, rep string) {
	at := ev.OccurredAt
	if at.After(r.s.LastRepTouch) {
		r.s.LastRepTouch = at
	}
	h := r.s.Handoff
	if r.s.Stage != lead.StageHandoff || h == nil || rep == "" || rep != r.s.OwnerID || !h.FirstTouchAt.IsZero() {
		return
	}
	if at.Before(h.At) {
		at = h.At
	}
	h.FirstTouchAt = at
	now := workflow.Now(r.ctx)
	r.ledger(actions.LedgerEntry{Key: r.key("handoff", r.s.Cycle, "first-touch"), Kind: actions.LedgerTouch, At: at,
		Why: fmt.Sprintf("first touch by %s via %s", rep, ev.Attr("channel")),
		Data: map[string]any{"handoffAt": h.At, "ttftSeconds": at.Sub(h.At).Seconds(),
			"ttftBusinessSeconds": r.cal.Elapsed(h.At, at).Seconds(), "eventId": ev.ID,
			"slaDueAt": r.slaDueAt(), "slaMet": r.s.SLA != nil && !at.After(r.s.SLA.DueAt)}})
	// The first-touch clock stops; the acceptance clock starts at the touch.
	r.startSLA(now, lead.SLAAcceptance, r.pol.SLA.Acceptance.Within)
}

func (r *run) slaDueAt() any {
	if r.s.SLA == nil {
		return nil
	}
	return r.s.SLA.DueAt
}

// refuse records feedback that broke the rules: nothing changes, explain
// shows it and ops get an alert.
func (r *run) refuse(ev lead.Event, err error) {
	now := workflow.Now(r.ctx)
	r.s.Refusals = capTail(append(r.s.Refusals, lead.Refusal{At: now, EventID: ev.ID, Type: ev.Type, Message: err.Error()}), maxRefusals)
	r.ledger(actions.LedgerEntry{Key: r.key("refusal", ev.ID), Kind: actions.LedgerRefusal, Why: err.Error(),
		Data: map[string]any{"eventId": ev.ID, "type": ev.Type, "repId": ev.Attr("repId")}})
	r.alert("feedback_refused", fmt.Sprintf("%s %s refused: %v", ev.Type, ev.ID, err), true)
}

func (r *run) markSeen(id string) {
	r.seen[id] = true
	r.s.Seen = append(r.s.Seen, id)
	if len(r.s.Seen) > maxSeen {
		drop := len(r.s.Seen) - maxSeen
		for _, old := range r.s.Seen[:drop] {
			delete(r.seen, old)
		}
		r.s.Seen = append([]string(nil), r.s.Seen[drop:]...)
	}
}

// remember keeps the event (without the profile: no PII in the timeline) for
// the handoff context and for forwarding on a merge.
func (r *run) remember(ev lead.Event) {
	ev.Profile = nil
	r.s.Recent = capBytes(capTail(append(r.s.Recent, ev), maxRecent), maxRecentBytes)
}

func (r *run) segment() string {
	vars := policy.Vars{Lead: r.s.Profile.CELMap()}
	for _, sg := range r.pol.Segments {
		ok, err := sg.When.Match(vars)
		if err != nil {
			continue
		}
		if ok {
			return sg.Name
		}
	}
	return ""
}

func (r *run) timeline() []lead.TimelineItem {
	out := make([]lead.TimelineItem, 0, len(r.s.Recent))
	for i := len(r.s.Recent) - 1; i >= 0; i-- {
		ev := r.s.Recent[i]
		out = append(out, lead.TimelineItem{At: ev.OccurredAt, EventID: ev.ID, Type: ev.Type, Summary: eventSummary(ev)})
	}
	return out
}

func eventSummary(ev lead.Event) string {
	for _, k := range []string{"form", "category", "channel", "reason", "utm_campaign"} {
		if v := ev.Attr(k); v != "" {
			return k + ": " + v
		}
	}
	return ev.Source
}
