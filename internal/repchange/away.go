package repchange

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
)

// Away tells the rep's handoff leads that the rep is away for period
// (until the end of its last day, in the rep's timezone): an untouched one
// is routed again, or its SLA clock paused, as the policy says. The
// request ID of each lead is "away:<rep>:<from>:<to>:<leadId>".
func (m *Mover) Away(ctx context.Context, rep directory.Rep, period directory.Away, by string) ([]Outcome, error) {
	until, err := Until(rep, period.To)
	if err != nil {
		return nil, err
	}
	ids, err := m.list(ctx, rep.ID, HandoffStages)
	if err != nil {
		return nil, err
	}
	return m.each(ctx, ids, func(ctx context.Context, id string) Outcome {
		req := lead.RepUnavailableRequest{ID: requestID("away", rep.ID, period.From, period.To, id), RepID: rep.ID,
			Reason: lead.RepAway, Until: until.Format(time.RFC3339), By: by}
		return m.update(ctx, id, rep.ID, lead.UpdateRepUnavailable, req.ID, req, awayOutcome(rep.ID))
	}), nil
}

// Back tells the rep's handoff leads that the rep is back (on day, the
// rep's local date): a paused SLA clock runs again. The request ID of each
// lead is "back:<rep>:<day>:<leadId>".
func (m *Mover) Back(ctx context.Context, repID, day, by string) ([]Outcome, error) {
	ids, err := m.list(ctx, repID, HandoffStages)
	if err != nil {
		return nil, err
	}
	return m.each(ctx, ids, func(ctx context.Context, id string) Outcome {
		req := lead.RepBackRequest{ID: requestID("back", repID, day, id), RepID: repID, By: by}
		return m.update(ctx, id, repID, lead.UpdateRepBack, req.ID, req, backOutcome(repID))
	}), nil
}

// awayOutcome classifies a lead's answer to repUnavailable (away).
func awayOutcome(repID string) func(lead.View) (Kind, string) {
	return func(v lead.View) (Kind, string) {
		switch {
		case v.OwnerID != repID:
			return Moved, v.OwnerID
		case v.Stage != lead.StageHandoff:
			return Stays, "stage " + string(v.Stage)
		case v.FirstTouchAt != nil:
			return Stays, "touched"
		case clockPaused(v):
			return Paused, ""
		}
		return Stays, "nobody else could take it (starter lead explain " + v.LeadID + ")"
	}
}

// backOutcome classifies a lead's answer to repBack.
func backOutcome(repID string) func(lead.View) (Kind, string) {
	return func(v lead.View) (Kind, string) {
		switch {
		case v.OwnerID != repID:
			return Stays, "owned by " + v.OwnerID
		case clockPaused(v):
			return Stays, "clock still paused (starter lead explain " + v.LeadID + ")"
		case lastClockChange(v) == clockResumed:
			return Resumed, ""
		}
		return Stays, "its clock was not paused"
	}
}

// The workflow's history records a paused and a resumed SLA clock with
// these words; the View has no field for it.
const (
	clockPausedText  = "SLA paused"
	clockResumedText = "SLA resumed"
	clockPausedMark  = "paused"
	clockResumed     = "resumed"
)

func clockPaused(v lead.View) bool { return lastClockChange(v) == clockPausedMark }

// lastClockChange is "paused", "resumed" or "" (neither in the history).
func lastClockChange(v lead.View) string {
	for i := len(v.History) - 1; i >= 0; i-- {
		why := v.History[i].Why
		switch {
		case strings.Contains(why, clockPausedText):
			return clockPausedMark
		case strings.Contains(why, clockResumedText):
			return clockResumed
		}
	}
	return ""
}

// Covering returns the rep's away range that covers now's date in the
// rep's timezone (the one ending last, if several do).
func Covering(d *directory.Directory, repID string, now time.Time) (directory.Away, bool) {
	rep, ok := d.Reps[repID]
	if !ok {
		return directory.Away{}, false
	}
	day := now.In(location(rep)).Format(directory.DateLayout)
	var best directory.Away
	found := false
	for _, a := range d.Away {
		// YYYY-MM-DD compares correctly as a string.
		if a.RepID == repID && a.From <= day && day <= a.To && (!found || a.To > best.To) {
			best, found = a, true
		}
	}
	return best, found
}

// NewlyAway lists the reps of after who are away now but were not in
// before (absent, or not away), with the range that covers now; in the
// order of after's away ranges.
func NewlyAway(before, after *directory.Directory, now time.Time) []directory.Away {
	var out []directory.Away
	seen := map[string]bool{}
	for _, a := range after.Away {
		if seen[a.RepID] {
			continue
		}
		seen[a.RepID] = true
		if _, was := before.Reps[a.RepID]; was && before.IsAway(a.RepID, now) {
			continue
		}
		if cur, ok := Covering(after, a.RepID, now); ok {
			out = append(out, cur)
		}
	}
	return out
}

// Until is the end of the day to (YYYY-MM-DD) in the rep's timezone: the
// next midnight there.
func Until(rep directory.Rep, to string) (time.Time, error) {
	d, err := time.Parse(directory.DateLayout, to)
	if err != nil {
		return time.Time{}, fmt.Errorf("away of %s: to %q is not a date (want YYYY-MM-DD)", rep.ID, to)
	}
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, location(rep)), nil
}

// Today is now's date in the rep's timezone.
func Today(rep directory.Rep, now time.Time) string {
	return now.In(location(rep)).Format(directory.DateLayout)
}

// location is the rep's timezone; UTC when it cannot be loaded (the
// directory's validation refuses such a file).
func location(rep directory.Rep) *time.Location {
	if loc, err := time.LoadLocation(rep.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

func requestID(parts ...string) string { return strings.Join(parts, ":") }
