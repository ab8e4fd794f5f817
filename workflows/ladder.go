package workflows

import (
	"fmt"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/sla"
)

// startSLA starts a clock of the given kind, with its ladder, in business
// time. Deadlines are absolute instants fixed now, so a later policy change
// does not move a running clock.
func (r *run) startSLA(now time.Time, kind string, within policy.Duration) {
	seq := 1
	if r.s.SLA != nil {
		seq = r.s.SLA.Seq + 1
	}
	r.s.SLA = &SLAClock{
		Kind: kind, Seq: seq, StartedAt: now, Within: within,
		DueAt:  r.cal.Add(now, within),
		Steps:  sla.Ladder(r.cal, now, within, r.pol.SLA.Ladder),
		Policy: r.pol.Version,
	}
}

// slaStepsDue runs every ladder step whose time has come. A reassign step
// the directory could not answer stays due and runs again at RetryAt.
func (r *run) slaStepsDue(now time.Time) {
	if r.s.Away != nil {
		return // paused while the owner is away
	}
	for r.s.SLA != nil && r.s.SLA.Level < len(r.s.SLA.Steps) {
		c := r.s.SLA
		st := c.Steps[c.Level]
		if later(st.At, c.RetryAt).After(now) {
			return
		}
		if !r.ladderStep(now, c, st) {
			return
		}
	}
}

// ladderStep takes one step; false means it could not (the directory did
// not answer) and will be tried again.
func (r *run) ladderStep(now time.Time, c *SLAClock, st sla.Step) bool {
	key := r.key("handoff", r.s.Cycle, "sla", c.Kind, c.Seq, st.Index)
	owner := r.s.OwnerID
	taken := lead.LadderTaken{At: now, SLA: c.Kind, Step: st.Index, Action: st.Action, OwnerID: owner, Policy: c.Policy}
	if st.Action == policy.ActionReassign {
		note, ok := r.reassignForSLA(now, key)
		if !ok {
			c.RetryAt = now.Add(retryDelay(r.s.RouteFails))
			return false
		}
		taken.Note = note
	}
	c.Level++
	c.RetryAt = time.Time{}
	switch st.Action {
	case policy.ActionRemind:
		r.tell(key, owner, actions.NotifyRemind, false, c.DueAt,
			fmt.Sprintf("Reminder: %s of %s due %s", slaLabel(c.Kind), r.contactLine(), c.DueAt.UTC().Format(time.RFC3339)),
			fmt.Sprintf("Reminder: %s SLA for lead %s is due at %s", slaLabel(c.Kind), r.s.LeadID, c.DueAt.Format(time.RFC3339)))
	case policy.ActionEscalate:
		c.Breached = true
		to := r.s.ManagerID
		if to == "" {
			to = owner
			taken.Note = "owner has no manager: escalated to the owner"
		}
		taken.Note += fmt.Sprintf("breached: due %s", c.DueAt.Format(time.RFC3339))
		r.tell(key, to, actions.NotifyEscalate, true, c.DueAt,
			fmt.Sprintf("SLA breached: %s of %s by %s", slaLabel(c.Kind), r.contactLine(), owner),
			fmt.Sprintf("SLA breached: %s of lead %s by %s was due at %s", slaLabel(c.Kind), r.s.LeadID, owner, c.DueAt.Format(time.RFC3339)))
	}
	r.s.Ladder = capTail(append(r.s.Ladder, taken), maxLadder)
	r.ledger(actions.LedgerEntry{Key: key, Kind: actions.LedgerSLAStep, At: now, OwnerID: owner,
		Why: fmt.Sprintf("%s SLA step %d: %s", c.Kind, st.Index, st.Action),
		Data: map[string]any{"sla": c.Kind, "step": st.Index, "action": st.Action, "dueAt": c.DueAt, "within": c.Within.String(),
			"scheduledAt": st.At, "breached": c.Breached, "cycle": r.s.Cycle, "note": taken.Note}})
	return true
}

// reassignForSLA moves an untouched lead to the next rep of the pool (never
// one who had it), and after max_reassigns to the pool's fallback owner with
// an alert. It returns a note for the ladder record, and false when the
// directory did not answer (the step is retried).
func (r *run) reassignForSLA(now time.Time, key string) (string, bool) {
	h := r.s.Handoff
	if h == nil {
		return "no handoff to reassign", true
	}
	if h.AtFallback {
		r.alert("sla_unworked_at_fallback", fmt.Sprintf("lead %s still not worked by fallback owner %s", r.s.LeadID, r.s.OwnerID), true)
		return "already with the fallback owner: alerted", true
	}
	in := actions.RouteInput{Key: key + ":route", Domain: r.s.Profile.EmailDomain(), Rules: r.matchedRules(), Exclude: r.excluded(), At: now}
	fallback := h.Reassigns >= r.pol.SLA.MaxReassigns
	if fallback {
		in.FallbackOnly = true
	}
	d, err := r.route(in)
	if err != nil {
		if isNonRetryable(err) {
			r.alert("routing_failed", "SLA reassignment failed: "+errMessage(err), true)
			return "reassignment failed: " + errMessage(err), true
		}
		r.s.RouteFails++
		if r.s.RouteFails == 1 {
			r.alert("routing_failed", "SLA reassignment waits for the directory: "+errMessage(err), true)
		}
		return "", false
	}
	r.s.RouteFails = 0
	h.Reassigns++
	from := r.s.OwnerID
	kind := r.s.SLA.Kind
	r.assign(now, d, fmt.Sprintf("SLA reassignment %d", h.Reassigns))
	h.AtFallback = h.AtFallback || fallback || d.Fallback
	r.addHistory(lead.Transition{At: now, From: r.s.Stage, To: r.s.Stage,
		Why: fmt.Sprintf("reassigned from %s to %s: %s SLA not met", from, d.OwnerID, kind)})
	r.handOver(now, key, from, fmt.Sprintf("%s SLA not met", slaLabel(kind)))
	r.note(key+":note", fmt.Sprintf("Reassigned from %s to %s: %s SLA not met", from, d.OwnerID, slaLabel(kind)))
	if fallback || d.Fallback {
		r.alert("sla_max_reassigns", fmt.Sprintf("lead %s reassigned %d times; now with fallback owner %s", r.s.LeadID, h.Reassigns, d.OwnerID), true)
		return "to fallback owner " + d.OwnerID, true
	}
	return "to " + d.OwnerID, true
}

// salNext is when an accepted lead with no opportunity is next looked at:
// a reminder at sal_stale_after, the sal_stale play at twice that.
func (r *run) salNext() (time.Time, string) {
	w := r.s.SAL
	after := r.pol.SLA.SALStaleAfter.D()
	if after <= 0 {
		return time.Time{}, ""
	}
	if !w.Reminded {
		return w.Since.Add(after), "SAL stale reminder · " + r.s.OwnerID
	}
	return w.Since.Add(2 * after), "SAL stale recycle · " + r.s.OwnerID
}

func (r *run) salDue(now time.Time) {
	if r.s.Stage != lead.StageSAL || r.s.SAL == nil {
		return
	}
	at, _ := r.salNext()
	if at.IsZero() || at.After(now) {
		return
	}
	if !r.s.SAL.Reminded {
		r.s.SAL.Reminded = true
		key := r.key("handoff", r.s.Cycle, "sal-stale", "remind")
		r.tell(key, r.s.OwnerID, actions.NotifySALStale, false, r.s.SAL.Since.Add(2*r.pol.SLA.SALStaleAfter.D()),
			fmt.Sprintf("Stale: %s accepted %s ago, no opportunity yet", r.contactLine(), r.pol.SLA.SALStaleAfter),
			fmt.Sprintf("Lead %s was accepted %s ago and has no opportunity yet", r.s.LeadID, r.pol.SLA.SALStaleAfter))
		r.ledger(actions.LedgerEntry{Key: key, Kind: actions.LedgerSLAStep, At: now, Why: "SAL stale: reminder",
			Data: map[string]any{"sla": "sal_stale", "action": "remind", "cycle": r.s.Cycle}})
		r.salDue(now)
		return
	}
	r.runPlay(now, lead.PlaySALStale, fmt.Sprintf("accepted %s ago with no opportunity", 2*r.pol.SLA.SALStaleAfter.D()), fmt.Sprintf("sal-stale-%d", r.s.Cycle), time.Time{}, "")
}
