package workflows

import (
	"fmt"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/suppression"
)

// enrollTrack puts the lead on a nurture track from its first step. The first
// touch is due at once; the guard decides whether it goes now.
func (r *run) enrollTrack(now time.Time, track, cause string) {
	n := &r.s.Nurture
	if track == "" {
		return
	}
	if n.Unsubscribed || n.Bounced {
		n.Enrolled, n.Track = false, track
		return
	}
	*n = Nurture{Track: track, Enrolled: true, NextAt: now, Sends: n.Sends, Guard: n.Guard}
	r.effect("enroll in nurture "+track, actions.NurtureEnroll, actions.EnrollInput{
		Key: r.key("nurture", "enroll", cause, track), LeadID: r.s.LeadID, Email: r.s.Profile.Email, Track: track})
}

// pauseNurture: Sales is working the lead; the track waits until a recycle.
func (r *run) pauseNurture(cause string) {
	n := &r.s.Nurture
	if !n.Enrolled || n.Paused {
		return
	}
	n.Paused = true
	n.NextAt = time.Time{}
	r.effect("pause nurture", actions.NurturePause, actions.PauseInput{
		Key: r.key("nurture", "pause", cause), LeadID: r.s.LeadID, Email: r.s.Profile.Email, Reasons: []string{lead.SuppressActiveSalesMotion}})
}

// stopNurture takes the lead off nurture (unsubscribe and bounce for good).
// The nurture system is told even when the lead was not enrolled: it may
// know the contact from elsewhere.
func (r *run) stopNurture(cause, reason string) {
	n := &r.s.Nurture
	n.Enrolled, n.Paused, n.NextAt = false, false, time.Time{}
	r.effect("stop nurture: "+reason, actions.NurtureStop, actions.StopInput{
		Key: r.key("nurture", "stop", cause), LeadID: r.s.LeadID, Email: r.s.Profile.Email, Reason: reason})
}

func (r *run) guard(now time.Time) suppression.Decision {
	n := r.s.Nurture
	return suppression.Check(r.pol.Suppression, r.pol.Location, suppression.Input{
		Stage: r.s.Stage, Now: now, Unsubscribed: n.Unsubscribed, Bounced: n.Bounced,
		LastRepTouch: r.s.LastRepTouch, Sends: n.Sends,
	})
}

// nurtureTouch sends the next touch of the track if the guard allows it:
// quiet hours, the cap and a recent rep touch postpone it, active sales
// motion pauses the track, unsubscribe/bounce/disqualified stop it.
func (r *run) nurtureTouch(now time.Time) {
	n := &r.s.Nurture
	g := r.guard(now)
	n.Guard = g
	switch {
	case g.Stop:
		r.stopNurture(fmt.Sprintf("touch-%s-%d", n.Track, n.Step), g.Reasons[0])
		return
	case g.Pause:
		r.pauseNurture(fmt.Sprintf("touch-%s-%d", n.Track, n.Step))
		return
	case !g.Allowed:
		n.NextAt = g.RetryAt
		return
	}
	track, ok := r.pol.Track(n.Track)
	if !ok {
		r.alert("unknown_track", "nurture track "+n.Track+" is not in policy "+r.pol.Version, true)
		n.Enrolled = false
		return
	}
	var res actions.SendResult
	in := actions.SendInput{
		Key: r.key("nurture", r.s.RecycleCount, n.Track, n.Step), LeadID: r.s.LeadID, Email: r.s.Profile.Email, Track: n.Track, Step: n.Step,
		Stage: r.s.Stage, LastRepTouch: r.s.LastRepTouch, Rules: r.pol.Suppression, Timezone: r.pol.Timezone,
	}
	if err := r.remote(fmt.Sprintf("nurture touch %s %d/%d", n.Track, n.Step+1, track.Steps), actions.NurtureSend, in, &res); err != nil {
		r.alert("effect_failed", "nurture send failed: "+err.Error(), false)
		n.NextAt = now.Add(time.Hour)
		return
	}
	if !res.Sent {
		// The adapter knew something the workflow did not (an unsubscribe
		// recorded elsewhere, a send by another path).
		n.Guard = suppression.Decision{Reasons: res.Reasons}
		for _, reason := range res.Reasons {
			if reason == lead.SuppressUnsubscribed || reason == lead.SuppressBounced {
				n.Unsubscribed = n.Unsubscribed || reason == lead.SuppressUnsubscribed
				n.Bounced = n.Bounced || reason == lead.SuppressBounced
				n.Enrolled = false
				return
			}
		}
		n.NextAt = now.Add(time.Hour)
		return
	}
	n.Step++
	n.Sends = capTail(append(n.Sends, now), maxSends)
	if n.Step >= track.Steps {
		n.Enrolled, n.NextAt = false, time.Time{}
		return
	}
	n.NextAt = now.Add(track.Every.D())
}

func (r *run) trackSteps(name string) int {
	if t, ok := r.pol.Track(name); ok {
		return t.Steps
	}
	return 0
}
