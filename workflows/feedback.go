package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

// command is a rep's update, handed from its handler to the main loop so
// that every change to the state happens in one place, in order.
type command struct {
	accept   *lead.AcceptRequest
	reject   *lead.RejectRequest
	reassign *lead.ReassignRequest
	retry    *lead.RetryEffectsRequest
	// rep changes (repchange.go)
	unavailable *lead.RepUnavailableRequest
	back        *lead.RepBackRequest
	done        workflow.Settable
}

func (r *run) registerHandlers() error {
	if err := workflow.SetQueryHandlerWithOptions(r.ctx, lead.QueryState, func() (lead.View, error) {
		return r.view(), nil
	}, workflow.QueryHandlerOptions{Description: "the lead state of the contract"}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandlerWithOptions(r.ctx, lead.QueryExplain, func() (lead.Explanation, error) {
		return r.explain(), nil
	}, workflow.QueryHandlerOptions{Description: "why the lead is where it is"}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(r.ctx, lead.UpdateAccept,
		func(ctx workflow.Context, req lead.AcceptRequest) (lead.View, error) {
			return r.submit(ctx, req.ID, &command{accept: &req})
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req lead.AcceptRequest) error {
			if r.seen[req.ID] {
				return nil
			}
			return r.checkAccept(req)
		}, Description: "the owner accepts the handoff"}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(r.ctx, lead.UpdateReject,
		func(ctx workflow.Context, req lead.RejectRequest) (lead.View, error) {
			return r.submit(ctx, req.ID, &command{reject: &req})
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req lead.RejectRequest) error {
			if r.seen[req.ID] {
				return nil
			}
			return r.checkReject(req)
		}, Description: "the owner rejects the handoff with a reason; the reason's play runs"}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(r.ctx, lead.UpdateReassign,
		func(ctx workflow.Context, req lead.ReassignRequest) (lead.View, error) {
			return r.submit(ctx, req.ID, &command{reassign: &req})
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req lead.ReassignRequest) error {
			if r.seen[req.ID] {
				return nil
			}
			return r.checkReassign(req)
		}, Description: "ops move the lead to another owner"}); err != nil {
		return err
	}
	if err := r.registerRepHandlers(); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(r.ctx, lead.UpdateRetryEffects,
		func(ctx workflow.Context, req lead.RetryEffectsRequest) (lead.View, error) {
			return r.submit(ctx, req.ID, &command{retry: &req})
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req lead.RetryEffectsRequest) error {
			if r.seen[req.ID] {
				return nil
			}
			if err := req.Check(); err != nil {
				return err
			}
			if r.failedEffects() == 0 {
				return fmt.Errorf("lead %s has no failed effects to retry", r.s.LeadID)
			}
			return nil
		}, Description: "ops start the lead's failed side effects again, under their original keys"})
}

// submit queues a command for the main loop and waits for its outcome. A
// request whose id was already applied returns the state and changes nothing.
func (r *run) submit(ctx workflow.Context, id string, cmd *command) (lead.View, error) {
	if r.seen[id] {
		return r.view(), nil
	}
	f, done := workflow.NewFuture(ctx)
	cmd.done = done
	r.cmds.Send(ctx, cmd)
	var v lead.View
	err := f.Get(ctx, &v)
	return v, err
}

// checkAccept holds the rules for accepting, for the update and for the
// lead.accepted event alike.
func (r *run) checkAccept(req lead.AcceptRequest) error {
	if err := req.Check(); err != nil {
		return err
	}
	if r.s.Stage != lead.StageHandoff {
		return fmt.Errorf("lead %s is in stage %s: only a lead in handoff can be accepted", r.s.LeadID, r.s.Stage)
	}
	if req.RepID != r.s.OwnerID {
		return fmt.Errorf("%s is not the owner of lead %s (owner: %s)", req.RepID, r.s.LeadID, r.s.OwnerID)
	}
	return nil
}

// checkReject holds the rules for rejecting, for the update and for the
// lead.rejected event alike.
func (r *run) checkReject(req lead.RejectRequest) error {
	if err := req.Check(r.s.LeadID); err != nil {
		return err
	}
	if r.s.Stage != lead.StageHandoff && r.s.Stage != lead.StageSAL {
		return fmt.Errorf("lead %s is in stage %s: only a lead in handoff or sal can be rejected", r.s.LeadID, r.s.Stage)
	}
	if req.RepID != r.s.OwnerID {
		return fmt.Errorf("%s is not the owner of lead %s (owner: %s)", req.RepID, r.s.LeadID, r.s.OwnerID)
	}
	if req.RevisitAt != "" {
		t, _ := time.Parse(time.RFC3339, req.RevisitAt)
		if !t.After(workflow.Now(r.ctx)) {
			return fmt.Errorf("revisitAt %s is not in the future", req.RevisitAt)
		}
	}
	if _, ok := r.pol.Play(string(req.Reason)); !ok {
		return fmt.Errorf("policy %s has no play for reason %s", r.pol.Version, req.Reason)
	}
	return nil
}

func (r *run) checkReassign(req lead.ReassignRequest) error {
	if err := req.Check(); err != nil {
		return err
	}
	switch r.s.Stage {
	case lead.StageMQL, lead.StageHandoff, lead.StageSAL, lead.StageOpportunity, lead.StageCustomer:
	default:
		return fmt.Errorf("lead %s is in stage %s: it has no owner to reassign", r.s.LeadID, r.s.Stage)
	}
	if req.OwnerID == r.s.OwnerID {
		return fmt.Errorf("%s already owns lead %s", req.OwnerID, r.s.LeadID)
	}
	return nil
}

// reassign: ops move the lead to a named rep. The directory confirms the rep
// (the Route activity with ForceOwner); in handoff the new owner gets a task
// and a fresh clock of the SLA in force.
func (r *run) reassign(req lead.ReassignRequest) error {
	now := workflow.Now(r.ctx)
	key := r.key("reassign", req.ID)
	d, err := r.route(actions.RouteInput{Key: key + ":route", ForceOwner: req.OwnerID, At: now})
	if err != nil {
		if !isNonRetryable(err) {
			// Not applied, and not the caller's fault: the edge says 503.
			return temporal.NewApplicationError(fmt.Sprintf("reassign lead %s: the directory did not answer; nothing was changed, retry later", r.s.LeadID),
				lead.ErrTypeUnavailable)
		}
		return fmt.Errorf("reassign lead %s to %s: %w", r.s.LeadID, req.OwnerID, unwrapApp(err))
	}
	r.markSeen(req.ID)
	from := r.s.OwnerID
	why := fmt.Sprintf("reassigned by %s", req.By)
	if req.Note != "" {
		why += ": " + req.Note
	}
	r.assign(now, d, why)
	r.addHistory(lead.Transition{At: now, From: r.s.Stage, To: r.s.Stage,
		Why: fmt.Sprintf("owner %s → %s, %s", from, req.OwnerID, why)})
	r.handOver(now, key, from, why)
	r.note(key+":note", fmt.Sprintf("Owner %s → %s (%s)", from, req.OwnerID, why))
	return nil
}

// unwrapApp gives the innermost message of an activity error, which is what
// a person reading the 422 needs.
func unwrapApp(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}
