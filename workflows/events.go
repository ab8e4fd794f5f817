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
	r.s.FastTracked = res.FastTrack
	r.s.TriggerEvent = ev.ID
	r.s.WhyNow = fmt.Sprintf("%s on %s (%s at %s)", why, ev.Type, ev.ID, ev.OccurredAt.UTC().Format(time.RFC3339))
	if ev.ID == "" {
		r.s.WhyNow = why
	}
	prof := r.s.Profile.CELMap()
	r.s.Missing = scoring.Missing(r.pol.Scoring.RequiredForHandoff, prof)
	if !res.FastTrack {
		// Qualified on behaviour, but fit cannot be judged: find those
		// fields first (a hand-raise is handed off on what is known).
		r.s.Missing = appendMissingAll(r.s.Missing, scoring.UnknownFit(r.pol.Scoring, prof))
	}
	if len(r.s.Missing) > 0 {
		// The ledger row says so too: leakage metrics count these leads.
		r.transition(now, lead.StageMQL, why+"; waiting for "+strings.Join(r.s.Missing, ", "))
		r.requestEnrichment(now)
		return
	}
	r.transition(now, lead.StageMQL, why)
	r.handoff(now)
}

func appendMissingAll(s, vs []string) []string {
	for _, v := range vs {
		s = appendMissing(s, v)
	}
	return s
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
	r.firstTouch(at, rep, "touch", ev.ID, ev.Attr("channel"))
	r.s.Away = nil // the owner is working it: a paused clock gives way to the acceptance clock
	now := workflow.Now(r.ctx)
	// The first-touch clock stops; the acceptance clock starts at the touch.
	r.startSLA(now, lead.SLAAcceptance, r.pol.SLA.Acceptance.Within)
}

// firstTouch records the handoff's first rep contact, once per handoff: a
// touch, or the accept or reject when no touch came first (via says
// which). "Met" is judged against the handoff's first deadline, so a
// reassignment after a breach keeps the breach; the current owner's own
// clock is recorded beside it (ownerDueAt, ownerMet).
func (r *run) firstTouch(at time.Time, rep, via, eventID, channel string) {
	h := r.s.Handoff
	if h == nil || !h.FirstTouchAt.IsZero() {
		return
	}
	if at.Before(h.At) {
		at = h.At
	}
	h.FirstTouchAt = at
	data := map[string]any{"handoffAt": h.At, "ttftSeconds": at.Sub(h.At).Seconds(),
		"ttftBusinessSeconds": r.cal.Elapsed(h.At, at).Seconds(), "via": via, "repId": rep,
		"owners": len(h.Owners), "trigger": r.s.Trigger, "cycle": r.s.Cycle}
	if eventID != "" {
		data["eventId"] = eventID
	}
	if !h.FirstDueAt.IsZero() {
		data["slaDueAt"], data["slaMet"] = h.FirstDueAt, !at.After(h.FirstDueAt)
	}
	if c := r.s.SLA; c != nil && c.Kind == lead.SLAFirstTouch {
		data["ownerDueAt"], data["ownerMet"] = c.DueAt, !at.After(c.DueAt)
	}
	why := fmt.Sprintf("first touch by %s via %s", rep, via)
	if channel != "" {
		why += " (" + channel + ")"
	}
	r.ledger(actions.LedgerEntry{Key: r.key("handoff", r.s.Cycle, "first-touch"), Kind: actions.LedgerTouch, At: at, Why: why, Data: data})
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
