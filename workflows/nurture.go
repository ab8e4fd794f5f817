package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/suppression"
)

// enrollTrack puts the lead on a nurture track from its first step. The first
// touch is due the track's `first` after now (one interval unless the policy
// says otherwise); the guard decides then whether it goes. The nurture
// system hears of the enrollment with that first touch, in the same call.
func (r *run) enrollTrack(now time.Time, track, cause string) {
	n := &r.s.Nurture
	if track == "" {
		return
	}
	if n.Unsubscribed || n.Bounced {
		n.Enrolled, n.Track = false, track
		return
	}
	r.supersedeSend()
	first := now
	if t, ok := r.pol.Track(track); ok {
		first = now.Add(t.FirstTouch())
	}
	*n = Nurture{Track: track, Enrolled: true, NextAt: first, Sends: n.Sends, Guard: n.Guard,
		Enroll: &actions.EnrollInput{Key: r.key("nurture", "enroll", cause, track), LeadID: r.s.LeadID, Track: track}}
	// Each enrollment numbers its sends afresh: a lead enrolled again on the
	// same track (after disqualified, or a second recycle) gets new keys.
	r.s.Enrollments++
}

// supersedeSend drops a touch that has not gone out yet: what was decided
// after it (a pause, a stop, a new track) wins. A touch already on its way
// is left to finish; the nurture calls after it wait for it.
func (r *run) supersedeSend() {
	n := &r.s.Nurture
	if n.Sending == "" || r.running[n.Sending] > 0 {
		return
	}
	r.dropEffect(n.Sending)
	n.Sending = ""
}

// pauseNurture: Sales is working the lead; the track waits until a recycle.
func (r *run) pauseNurture(cause string) {
	n := &r.s.Nurture
	if !n.Enrolled || n.Paused {
		return
	}
	r.supersedeSend()
	n.Paused = true
	n.NextAt = time.Time{}
	if n.Enroll != nil && n.Sending == "" {
		return // the nurture system never heard of this enrollment: nothing to pause
	}
	r.enqueue("pause nurture", EffectInput{Pause: &actions.PauseInput{
		Key: r.key("nurture", "pause", cause), LeadID: r.s.LeadID, Email: r.s.Profile.Email, Reasons: []string{lead.SuppressActiveSalesMotion}}})
}

// stopNurture takes the lead off nurture (unsubscribe and bounce for good).
// The nurture system is told even when the lead was not enrolled: it may
// know the contact from elsewhere.
func (r *run) stopNurture(cause, reason string) {
	n := &r.s.Nurture
	r.supersedeSend()
	n.Enrolled, n.Paused, n.NextAt = false, false, time.Time{}
	if n.Sending == "" {
		n.Enroll = nil
	}
	r.enqueue("stop nurture: "+reason, EffectInput{Stop: &actions.StopInput{
		Key: r.key("nurture", "stop", cause), LeadID: r.s.LeadID, Email: r.s.Profile.Email, Reason: reason}})
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
	in := actions.SendInput{
		Key: r.key("nurture", r.s.Enrollments, n.Track, n.Step), LeadID: r.s.LeadID, Email: r.s.Profile.Email, Track: n.Track, Step: n.Step,
		Stage: r.s.Stage, LastRepTouch: r.s.LastRepTouch, Rules: r.pol.Suppression, Timezone: r.pol.Timezone,
	}
	if n.Enroll != nil {
		e := *n.Enroll
		e.Email = r.s.Profile.Email
		in.Enroll = &e
	}
	// The touch is an effect; the track waits for its outcome (nurtureSent)
	// before it schedules the next one.
	n.Sending, n.NextAt = in.Key, time.Time{}
	r.enqueue(fmt.Sprintf("nurture touch %s %d/%d", n.Track, n.Step+1, track.Steps), EffectInput{Send: &in})
}

// nurtureSent applies a touch's outcome to the track it was sent on.
func (r *run) nurtureSent(in actions.SendInput, res actions.SendResult) {
	n := &r.s.Nurture
	if in.Enroll != nil && n.Enroll != nil && n.Enroll.Key == in.Enroll.Key {
		n.Enroll = nil // told, whatever became of the touch
	}
	if n.Sending != in.Key {
		return // the track moved on (a new enrollment) while it was out
	}
	n.Sending = ""
	now := workflow.Now(r.ctx)
	track, _ := r.pol.Track(n.Track)
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
		if n.Enrolled && !n.Paused {
			n.NextAt = now.Add(time.Hour)
		}
		return
	}
	n.Step++
	n.Sends = capTail(append(n.Sends, now), maxSends)
	if n.Step >= track.Steps {
		n.Enrolled, n.NextAt = false, time.Time{}
		return
	}
	if n.Enrolled && !n.Paused {
		n.NextAt = now.Add(track.Every.D())
	}
}

func (r *run) trackSteps(name string) int {
	if t, ok := r.pol.Track(name); ok {
		return t.Steps
	}
	return 0
}
