package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
)

// Rep changes act on a lead at once, not at the ladder's next step: an
// away rep's untouched handoff is routed again (or its SLA clock paused,
// as the policy says); a deactivated rep's open lead, in any stage, is
// routed again. A CRM that moves the lead to another owner is followed.

func (r *run) registerRepHandlers() error {
	if err := workflow.SetUpdateHandlerWithOptions(r.ctx, lead.UpdateRepUnavailable,
		func(ctx workflow.Context, req lead.RepUnavailableRequest) (lead.View, error) {
			return r.submit(ctx, req.ID, &command{unavailable: &req})
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req lead.RepUnavailableRequest) error {
			return req.Check()
		}, Description: "the owner is away or deactivated: their leads move now"}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(r.ctx, lead.UpdateRepBack,
		func(ctx workflow.Context, req lead.RepBackRequest) (lead.View, error) {
			return r.submit(ctx, req.ID, &command{back: &req})
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req lead.RepBackRequest) error {
			return req.Check()
		}, Description: "the owner is back: a paused SLA clock runs again"})
}

// repUnavailable applies a rep's absence to this lead, if it concerns it.
func (r *run) repUnavailable(req lead.RepUnavailableRequest) error {
	now := workflow.Now(r.ctx)
	if r.s.OwnerID != req.RepID {
		return nil // not this lead's owner: nothing to do
	}
	key := r.key("rep", req.ID)
	switch req.Reason {
	case lead.RepAway:
		h := r.s.Handoff
		if r.s.Stage != lead.StageHandoff || h == nil || !h.FirstTouchAt.IsZero() || r.s.Away != nil {
			return nil // touched and accepted leads stay with their owner
		}
		if r.pol.People.Away == policy.AwayPause && r.s.SLA != nil {
			r.pauseClock(now, req)
			return nil
		}
		return r.reroute(now, key, fmt.Sprintf("owner %s away (%s)", req.RepID, req.By))
	case lead.RepDeactivated:
		switch r.s.Stage {
		case lead.StageHandoff, lead.StageSAL, lead.StageOpportunity, lead.StageCustomer:
			return r.reroute(now, key, fmt.Sprintf("owner %s deactivated (%s)", req.RepID, req.By))
		}
	}
	return nil
}

// reroute gives the lead to the owner routing picks now, under the
// ladder's reassign rules: never a rep who had it, the pool's fallback
// after max_reassigns. A directory that does not answer changes nothing
// and says Unavailable (the caller retries).
func (r *run) reroute(now time.Time, key, why string) error {
	from := r.s.OwnerID
	in := actions.RouteInput{Key: key + ":route", Domain: r.s.Profile.EmailDomain(), Rules: r.matchedRules(),
		Exclude: appendMissing(r.excluded(), from), At: now}
	h := r.s.Handoff
	if h != nil && r.s.Stage == lead.StageHandoff && h.Reassigns >= r.pol.SLA.MaxReassigns {
		in.FallbackOnly = true
	}
	d, err := r.route(in)
	if err != nil {
		if !isNonRetryable(err) {
			return temporal.NewApplicationError(fmt.Sprintf("move lead %s from %s: the directory did not answer; nothing was changed, retry later", r.s.LeadID, from),
				lead.ErrTypeUnavailable)
		}
		r.alert("routing_failed", fmt.Sprintf("%s, but no one else can take lead %s: %s", why, r.s.LeadID, errMessage(err)), true)
		return nil
	}
	if h != nil && r.s.Stage == lead.StageHandoff {
		h.Reassigns++
	}
	r.assign(now, d, why)
	if h != nil {
		h.AtFallback = h.AtFallback || in.FallbackOnly || d.Fallback
	}
	r.addHistory(lead.Transition{At: now, From: r.s.Stage, To: r.s.Stage, Why: fmt.Sprintf("owner %s → %s: %s", from, d.OwnerID, why)})
	r.handOver(now, key, from, why)
	r.note(key+":note", fmt.Sprintf("Owner %s → %s (%s)", from, d.OwnerID, why))
	return nil
}

// pauseClock stops the SLA clock while its owner is away; the ladder waits.
func (r *run) pauseClock(now time.Time, req lead.RepUnavailableRequest) {
	c := r.s.SLA
	left := c.Within.D() - r.cal.Elapsed(c.StartedAt, now)
	p := &AwayPause{RepID: req.RepID, Since: now, Kind: c.Kind, Left: policy.Duration(max(left, 0)), Breached: c.Breached}
	if req.Until != "" {
		p.Until, _ = time.Parse(time.RFC3339, req.Until)
	}
	r.s.Away = p
	r.addHistory(lead.Transition{At: now, From: r.s.Stage, To: r.s.Stage,
		Why: fmt.Sprintf("%s SLA paused: owner %s away (%s), %s left", slaLabel(c.Kind), req.RepID, req.By, p.Left)})
}

// resumeClock runs a paused clock again with the business time it had
// left (the ladder spread over what is left).
func (r *run) resumeClock(now time.Time, why string) {
	p := r.s.Away
	if p == nil {
		return
	}
	r.s.Away = nil
	r.startSLA(now, p.Kind, p.Left)
	r.s.SLA.Breached = p.Breached
	r.addHistory(lead.Transition{At: now, From: r.s.Stage, To: r.s.Stage,
		Why: fmt.Sprintf("%s SLA resumed (%s): due %s", slaLabel(p.Kind), why, r.s.SLA.DueAt.UTC().Format(time.RFC3339))})
}

// ownerChanged follows the CRM: an owner set there becomes a reassignment
// by the CRM, with the SLA clock following the new owner. An owner who is
// no leadflow rep is an alert; the lead keeps its owner.
func (r *run) ownerChanged(ev lead.Event) {
	now := workflow.Now(r.ctx)
	rep := ev.Attr("ownerId")
	if rep == "" {
		r.alert("crm_owner_unknown", fmt.Sprintf("the CRM set owner %s on lead %s, who is no leadflow rep; leadflow keeps owner %q",
			ev.Attr("crmOwnerId"), r.s.LeadID, r.s.OwnerID), true)
		return
	}
	if rep == r.s.OwnerID {
		return // leadflow's own write, or nothing new
	}
	switch r.s.Stage {
	case lead.StageHandoff, lead.StageSAL, lead.StageOpportunity, lead.StageCustomer:
	default:
		r.refuseQuietly(ev, fmt.Sprintf("owner change to %s ignored in stage %s: leadflow routes the lead when it qualifies", rep, r.s.Stage))
		return
	}
	r.s.CRMOwner = rep
	r.s.CRMOwnerBy = ev.Attr("by")
	r.applyCRMOwner(now)
}

// applyCRMOwner confirms the CRM's owner with the directory and makes it
// the lead's; while the directory is down it retries from a timer.
func (r *run) applyCRMOwner(now time.Time) {
	rep := r.s.CRMOwner
	key := r.key("crm-owner", r.s.Seq, rep)
	d, err := r.route(actions.RouteInput{Key: key + ":route", ForceOwner: rep, At: now})
	if err != nil {
		if isNonRetryable(err) {
			r.s.CRMOwner = ""
			r.alert("crm_owner_unknown", fmt.Sprintf("the CRM set owner %s on lead %s: %s", rep, r.s.LeadID, errMessage(err)), true)
			return
		}
		r.s.RouteFails++
		r.s.RouteRetryAt = now.Add(retryDelay(r.s.RouteFails))
		return
	}
	r.s.RouteFails, r.s.RouteRetryAt, r.s.CRMOwner = 0, time.Time{}, ""
	r.s.Seq++
	from := r.s.OwnerID
	why := "reassigned in the CRM"
	if r.s.CRMOwnerBy != "" {
		why += " (" + r.s.CRMOwnerBy + ")"
	}
	r.assignQuiet(now, d, why) // the CRM has this owner already: no write back
	r.addHistory(lead.Transition{At: now, From: r.s.Stage, To: r.s.Stage, Why: fmt.Sprintf("owner %s → %s, %s", from, rep, why)})
	r.handOver(now, key, from, why)
}

func appendMissing(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(append([]string(nil), s...), v)
}
