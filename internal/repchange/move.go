package repchange

import (
	"context"
	"fmt"

	"github.com/leadflow/leadflow/internal/lead"
)

// Deactivated tells every open lead of a deactivated rep that the rep is
// gone: routing gives it a new owner. The request ID of each lead is
// "deactivate:<rep>:<day>:<leadId>" (day: when, so a rep deactivated again
// after coming back is a new change).
func (m *Mover) Deactivated(ctx context.Context, repID, day, by string) ([]Outcome, error) {
	ids, err := m.list(ctx, repID, OpenStages)
	if err != nil {
		return nil, err
	}
	return m.each(ctx, ids, func(ctx context.Context, id string) Outcome {
		req := lead.RepUnavailableRequest{ID: requestID("deactivate", repID, day, id), RepID: repID,
			Reason: lead.RepDeactivated, By: by}
		return m.update(ctx, id, repID, lead.UpdateRepUnavailable, req.ID, req, func(v lead.View) (Kind, string) {
			if v.OwnerID != repID {
				return Moved, v.OwnerID
			}
			return Stays, fmt.Sprintf("stage %s: nobody else could take it (starter lead explain %s)", v.Stage, v.LeadID)
		})
	}), nil
}

// Reassignment moves every open lead of From to To with the reassign
// update.
type Reassignment struct {
	From, To string
	By, Note string
	// Key makes the request IDs, "<key>:<leadId>": it names the change
	// (e.g. "reassign:<from>:<to>:<day>"), so a re-run is the same request.
	Key string
	// DryRun lists the leads that would move and sends nothing.
	DryRun bool
}

// ChangeKey names a reassignment for Reassignment.Key: "<change>:<from>:<to>:<day>".
func ChangeKey(change, from, to, day string) string { return requestID(change, from, to, day) }

// Reassign runs r. Each lead's state is read first: one that is no longer
// From's (the listing trails the leads) stays where it is.
func (m *Mover) Reassign(ctx context.Context, r Reassignment) ([]Outcome, error) {
	if r.Key == "" || r.From == "" || r.To == "" || r.By == "" {
		return nil, fmt.Errorf("reassign: from, to, by and key are required")
	}
	ids, err := m.list(ctx, r.From, OpenStages)
	if err != nil {
		return nil, err
	}
	if r.DryRun {
		out := make([]Outcome, len(ids))
		for i, id := range ids {
			out[i] = Outcome{LeadID: id, From: r.From, Kind: WouldMove, Detail: r.To}
		}
		return out, nil
	}
	return m.each(ctx, ids, func(ctx context.Context, id string) Outcome {
		var cur lead.View
		if err := m.Leads.Query(ctx, id, lead.QueryState, &cur); err != nil {
			return Outcome{LeadID: id, From: r.From, Kind: Failed, Err: fmt.Errorf("read its owner: %w", err)}
		}
		switch cur.OwnerID {
		case r.To:
			return Outcome{LeadID: id, From: r.From, View: cur, Kind: Moved, Detail: r.To} // a re-run
		case r.From:
		default:
			return Outcome{LeadID: id, From: r.From, View: cur, Kind: Stays, Detail: "now owned by " + cur.OwnerID}
		}
		req := lead.ReassignRequest{ID: r.Key + ":" + id, OwnerID: r.To, By: r.By, Note: r.Note}
		return m.update(ctx, id, r.From, lead.UpdateReassign, req.ID, req, func(v lead.View) (Kind, string) {
			if v.OwnerID == r.From {
				return Stays, "stage " + string(v.Stage)
			}
			return Moved, v.OwnerID
		})
	}), nil
}
