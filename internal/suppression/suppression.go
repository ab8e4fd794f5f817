// Package suppression decides whether a nurture touch may be sent to a lead
// right now, and if not, why and until when (DOMAIN.md, "Suppress").
//
// It is pure: no Temporal, no I/O, no clock. The caller passes the instant
// to decide for (in a workflow, workflow.Now), so the same Input always gives
// the same Decision and a replay decides exactly as the original run did.
package suppression

import (
	"slices"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
)

// Input is what the guards look at.
type Input struct {
	Stage        lead.Stage
	Now          time.Time
	Unsubscribed bool
	Bounced      bool
	LastRepTouch time.Time   // zero if never
	Sends        []time.Time // times of previous nurture sends (any order)
}

// Decision is the verdict for one touch.
type Decision struct {
	Allowed bool `json:"allowed"`
	// Reasons are lead.Suppress* constants, every one that holds, in the
	// fixed order of reasonOrder.
	Reasons []string `json:"reasons,omitempty"`
	// Stop: unsubscribed, bounced or disqualified; never send on this track.
	Stop bool `json:"stop,omitempty"`
	// Pause: active sales motion; pause the track until the lead is recycled.
	Pause bool `json:"pause,omitempty"`
	// RetryAt is set when only time-bound reasons hold (recent_rep_touch,
	// frequency_cap, quiet_hours): the earliest instant at which all of them
	// have lifted. It is in the location of Input.Now. (omitzero, not
	// omitempty: encoding/json never omits a struct under omitempty, so a
	// zero time would be encoded as "0001-01-01T00:00:00Z".)
	RetryAt time.Time `json:"retryAt,omitzero"`
}

// reasonOrder is the order in which Decision.Reasons lists reasons.
var reasonOrder = []string{
	lead.SuppressUnsubscribed,
	lead.SuppressBounced,
	lead.SuppressDisqualified,
	lead.SuppressActiveSalesMotion,
	lead.SuppressRecentRepTouch,
	lead.SuppressFrequencyCap,
	lead.SuppressQuietHours,
}

// Summary is a one-line account of the decision for history and explain:
// "allowed", "suppressed: active_sales_motion", or
// "suppressed: frequency_cap, quiet_hours until 2026-11-23T13:00:00Z".
func (d Decision) Summary() string {
	if d.Allowed {
		return "allowed"
	}
	s := "suppressed: " + strings.Join(d.Reasons, ", ")
	if !d.RetryAt.IsZero() {
		s += " until " + d.RetryAt.UTC().Format(time.RFC3339)
	}
	return s
}

// Check applies the suppression guards of p to in. loc is the policy's time
// zone, in which quiet hours are read (nil: UTC).
//
// Rules:
//   - unsubscribed, bounced, and a disqualified or merged stage stop the track;
//   - a stage in active sales motion (handoff, sal, opportunity) pauses it;
//   - recent_rep_touch holds while Now < LastRepTouch + RecentRepTouch
//     (RecentRepTouch 0: never);
//   - frequency_cap holds while the sends in (Now-Per, Now] number at least
//     Max (Max 0 or Per 0: no cap);
//   - quiet_hours holds while the local time of day is in [Start, End), a
//     window that may wrap midnight (nil QuietHours or Start == End: none).
func Check(p policy.Suppression, loc *time.Location, in Input) Decision {
	if loc == nil {
		loc = time.UTC
	}
	g := guards{p: p, loc: loc, in: in}
	now := in.Now

	holds := map[string]bool{
		lead.SuppressUnsubscribed:      in.Unsubscribed,
		lead.SuppressBounced:           in.Bounced,
		lead.SuppressDisqualified:      in.Stage == lead.StageDisqualified || in.Stage == lead.StageMerged,
		lead.SuppressActiveSalesMotion: in.Stage.ActiveSalesMotion(),
		lead.SuppressRecentRepTouch:    g.repTouchLift(now).After(now),
		lead.SuppressFrequencyCap:      g.capLift(now).After(now),
		lead.SuppressQuietHours:        g.quietLift(now).After(now),
	}
	var d Decision
	for _, r := range reasonOrder {
		if holds[r] {
			d.Reasons = append(d.Reasons, r)
		}
	}
	d.Stop = in.Unsubscribed || in.Bounced || holds[lead.SuppressDisqualified]
	d.Pause = holds[lead.SuppressActiveSalesMotion]
	d.Allowed = len(d.Reasons) == 0
	if !d.Allowed && !d.Stop && !d.Pause {
		d.RetryAt = g.retryAt(now).In(now.Location())
	}
	return d
}

type guards struct {
	p   policy.Suppression
	loc *time.Location
	in  Input
}

// retryAt is the earliest instant >= t at which no time-bound guard holds.
// Lifting one guard can land inside another (the cap lifts at 21:00, inside
// quiet hours), so it moves forward until all three agree. Each step moves
// past a rep touch, a send or a quiet window, so the loop ends; the bound is
// a safety net only.
func (g guards) retryAt(t time.Time) time.Time {
	for range 4*len(g.in.Sends) + 64 {
		next := t
		for _, lift := range []time.Time{g.repTouchLift(t), g.capLift(t), g.quietLift(t)} {
			if lift.After(next) {
				next = lift
			}
		}
		if next.Equal(t) {
			return t
		}
		t = next
	}
	return t
}

// repTouchLift is when recent_rep_touch lifts, or t when it does not hold at t.
func (g guards) repTouchLift(t time.Time) time.Time {
	if g.in.LastRepTouch.IsZero() || g.p.RecentRepTouch <= 0 {
		return t
	}
	if until := g.in.LastRepTouch.Add(g.p.RecentRepTouch.D()); t.Before(until) {
		return until
	}
	return t
}

// capLift is when frequency_cap lifts, or t when it does not hold at t. The
// cap holds while n >= Max sends lie in (t-Per, t]; it lifts when enough of
// the oldest have left the window for fewer than Max to remain. A send at s
// leaves the window at s+Per.
func (g guards) capLift(t time.Time) time.Time {
	limit, per := g.p.FrequencyCap.Max, g.p.FrequencyCap.Per.D()
	if limit <= 0 || per <= 0 {
		return t
	}
	from := t.Add(-per)
	var in []time.Time
	for _, s := range g.in.Sends {
		if s.After(from) && !s.After(t) {
			in = append(in, s)
		}
	}
	if len(in) < limit {
		return t
	}
	slices.SortFunc(in, func(a, b time.Time) int { return a.Compare(b) })
	return in[len(in)-limit].Add(per)
}

// inQuiet reports whether t falls inside quiet hours, local time.
func (g guards) inQuiet(t time.Time) bool {
	q := g.p.QuietHours
	if q == nil || q.Start == q.End {
		return false
	}
	lt := t.In(g.loc)
	m := policy.Clock(lt.Hour()*60 + lt.Minute())
	if q.Start < q.End {
		return q.Start <= m && m < q.End
	}
	return m >= q.Start || m < q.End
}

// quietLift is when quiet hours end, or t when t is outside them. It is the
// first instant at which the local clock leaves [Start, End): normally when
// it reads End, or a daylight-saving jump that skips past End. Within one
// zone period the offset is fixed, so the local clock runs with UTC; the
// loop steps from one period to the next.
func (g guards) quietLift(t time.Time) time.Time {
	if !g.inQuiet(t) {
		return t
	}
	end := int64(g.p.QuietHours.End) * 60 // seconds after local midnight
	cur := t
	for range 8 {
		lt := cur.In(g.loc)
		secs := int64(lt.Hour()*3600 + lt.Minute()*60 + lt.Second())
		d := end - secs
		if d <= 0 {
			d += 24 * 3600
		}
		cand := cur.Add(time.Duration(d)*time.Second - time.Duration(lt.Nanosecond()))
		_, periodEnd := lt.ZoneBounds()
		if periodEnd.IsZero() || cand.Before(periodEnd) {
			return cand
		}
		cur = periodEnd
		if !g.inQuiet(cur) {
			return cur
		}
	}
	return cur
}
