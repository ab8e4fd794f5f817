package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/suppression"
)

// Nurture is the built-in nurture: tracks, pauses, sends and stops.
type Nurture struct{ *conn }

// ReasonStopped is the SendResult reason when the lead's nurture was
// stopped (Stop) and not re-enrolled since.
const ReasonStopped = "stopped"

// Enroll puts the lead on a track (or resumes it), once per key. It clears
// a pause and a stop: the workflow decided the lead may be nurtured again.
// Unsubscribes and bounces are kept apart (nurture_suppressions) and still
// block every Send.
func (s Nurture) Enroll(ctx context.Context, in actions.EnrollInput) error {
	if err := requireKey("nurture enroll", in.Key, in.LeadID); err != nil {
		return err
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		tag, err := tx.Exec(ctx, `
INSERT INTO nurture_enrollments (key, lead_id, track, step, at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (key) DO NOTHING`, in.Key, in.LeadID, in.Track, in.Step, now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `
INSERT INTO nurture_state (lead_id, track, step, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (lead_id) DO UPDATE SET track = excluded.track, step = excluded.step,
    paused = false, pause_reasons = '{}', stopped = false, stop_reason = NULL, updated_at = excluded.updated_at`,
			in.LeadID, in.Track, in.Step, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("nurture enroll lead %s on %s: %w", in.LeadID, in.Track, err)
	}
	return nil
}

// Pause pauses the lead's nurture with the reasons, once per key.
func (s Nurture) Pause(ctx context.Context, in actions.PauseInput) error {
	if err := requireKey("nurture pause", in.Key, in.LeadID); err != nil {
		return err
	}
	reasons := in.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		tag, err := tx.Exec(ctx, `
INSERT INTO nurture_pauses (key, lead_id, reasons, at) VALUES ($1, $2, $3, $4)
ON CONFLICT (key) DO NOTHING`, in.Key, in.LeadID, reasons, now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `
INSERT INTO nurture_state (lead_id, paused, pause_reasons, updated_at) VALUES ($1, true, $2, $3)
ON CONFLICT (lead_id) DO UPDATE SET paused = true, pause_reasons = excluded.pause_reasons,
    updated_at = excluded.updated_at`, in.LeadID, reasons, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("nurture pause lead %s: %w", in.LeadID, err)
	}
	return nil
}

// suppressionReason maps a stop reason to the hard guard it implies, if
// any. The workflow may name the event ("unsubscribe", "email.bounce") or
// the guard ("unsubscribed"); all mean the same.
func suppressionReason(reason string) string {
	switch reason {
	case lead.SuppressUnsubscribed, "unsubscribe", "email.unsubscribe":
		return lead.SuppressUnsubscribed
	case lead.SuppressBounced, "bounce", "email.bounce":
		return lead.SuppressBounced
	}
	return ""
}

// Stop takes the lead off nurture, once per key. Unsubscribed and bounced
// are also kept as suppressions that no later Enroll clears.
func (s Nurture) Stop(ctx context.Context, in actions.StopInput) error {
	if err := requireKey("nurture stop", in.Key, in.LeadID); err != nil {
		return err
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		tag, err := tx.Exec(ctx, `
INSERT INTO nurture_stops (key, lead_id, reason, at) VALUES ($1, $2, $3, $4)
ON CONFLICT (key) DO NOTHING`, in.Key, in.LeadID, in.Reason, now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `
INSERT INTO nurture_state (lead_id, stopped, stop_reason, updated_at) VALUES ($1, true, $2, $3)
ON CONFLICT (lead_id) DO UPDATE SET stopped = true, stop_reason = excluded.stop_reason,
    updated_at = excluded.updated_at`, in.LeadID, nullable(in.Reason), now); err != nil {
			return err
		}
		if r := suppressionReason(in.Reason); r != "" {
			_, err = tx.Exec(ctx, `
INSERT INTO nurture_suppressions (lead_id, reason, at) VALUES ($1, $2, $3)
ON CONFLICT (lead_id, reason) DO NOTHING`, in.LeadID, r, now)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("nurture stop lead %s (%s): %w", in.LeadID, in.Reason, err)
	}
	return nil
}

// Send records one nurture touch if the guards still allow it. In one
// transaction, holding the lead's nurture_state row so concurrent sends take
// turns: a key already sent returns Sent without a second row (a retried
// activity); otherwise suppression.Check runs again over what the store
// knows (its send log for the frequency cap, unsubscribes and bounces) plus
// what the workflow passed (stage, last rep touch), and a stopped lead is
// refused. A refused send records nothing and returns the reasons.
func (s Nurture) Send(ctx context.Context, in actions.SendInput) (actions.SendResult, error) {
	if err := requireKey("nurture send", in.Key, in.LeadID); err != nil {
		return actions.SendResult{}, err
	}
	loc, err := s.location(in.Timezone)
	if err != nil {
		return actions.SendResult{}, fmt.Errorf("nurture send lead %s: timezone %q: %w", in.LeadID, in.Timezone, ErrInvalidInput)
	}
	var res actions.SendResult
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO nurture_state (lead_id) VALUES ($1) ON CONFLICT (lead_id) DO NOTHING`, in.LeadID); err != nil {
			return err
		}
		var stopped bool
		if err := tx.QueryRow(ctx, `SELECT stopped FROM nurture_state WHERE lead_id = $1 FOR UPDATE`, in.LeadID).Scan(&stopped); err != nil {
			return err
		}
		var sent bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM nurture_sends WHERE key = $1)`, in.Key).Scan(&sent); err != nil {
			return err
		}
		if sent {
			res = actions.SendResult{Sent: true}
			return nil
		}

		now := s.now()
		g := suppression.Input{Stage: in.Stage, Now: now, LastRepTouch: in.LastRepTouch}
		rows, err := tx.Query(ctx, `SELECT reason FROM nurture_suppressions WHERE lead_id = $1`, in.LeadID)
		if err != nil {
			return err
		}
		reasons, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, r := range reasons {
			g.Unsubscribed = g.Unsubscribed || r == lead.SuppressUnsubscribed
			g.Bounced = g.Bounced || r == lead.SuppressBounced
		}
		// Only sends inside the cap's window can count against it.
		if per := in.Rules.FrequencyCap.Per.D(); in.Rules.FrequencyCap.Max > 0 && per > 0 {
			rows, err := tx.Query(ctx, `SELECT sent_at FROM nurture_sends WHERE lead_id = $1 AND sent_at > $2`,
				in.LeadID, now.Add(-per))
			if err != nil {
				return err
			}
			if g.Sends, err = pgx.CollectRows(rows, pgx.RowTo[time.Time]); err != nil {
				return err
			}
		}
		dec := suppression.Check(in.Rules, loc, g)
		if stopped {
			dec.Allowed = false
			dec.Reasons = append(dec.Reasons, ReasonStopped)
		}
		if !dec.Allowed {
			res = actions.SendResult{Reasons: dec.Reasons}
			return nil
		}
		if _, err := tx.Exec(ctx, `
INSERT INTO nurture_sends (key, lead_id, track, step, sent_at) VALUES ($1, $2, $3, $4, $5)`,
			in.Key, in.LeadID, in.Track, in.Step, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE nurture_state SET track = $2, step = $3, updated_at = $4 WHERE lead_id = $1`,
			in.LeadID, in.Track, in.Step, now)
		res = actions.SendResult{Sent: true}
		return err
	})
	if err != nil {
		return actions.SendResult{}, fmt.Errorf("nurture send lead %s (key %s): %w", in.LeadID, in.Key, err)
	}
	return res, nil
}

// NurtureSend is one recorded touch.
type NurtureSend struct {
	Key, LeadID, Track string
	Step               int
	SentAt             time.Time
}

// Sends returns the lead's sends, oldest first.
func (s Nurture) Sends(ctx context.Context, leadID string) ([]NurtureSend, error) {
	rows, err := s.pool.Query(ctx, `
SELECT key, lead_id, track, step, sent_at FROM nurture_sends WHERE lead_id = $1 ORDER BY sent_at, key`, leadID)
	if err != nil {
		return nil, fmt.Errorf("nurture sends of lead %s: %w", leadID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NurtureSend, error) {
		var n NurtureSend
		return n, r.Scan(&n.Key, &n.LeadID, &n.Track, &n.Step, &n.SentAt)
	})
	if err != nil {
		return nil, fmt.Errorf("nurture sends of lead %s: %w", leadID, err)
	}
	return out, nil
}

// NurtureState is where a lead is on nurture.
type NurtureState struct {
	Track        string
	Step         int
	Paused       bool
	PauseReasons []string
	Stopped      bool
	StopReason   string
	Suppressions []string // unsubscribed, bounced
}

// Nurture returns the lead's nurture state; false when leadflow never
// nurtured it.
func (s Nurture) Nurture(ctx context.Context, leadID string) (NurtureState, bool, error) {
	var n NurtureState
	err := s.pool.QueryRow(ctx, `
SELECT coalesce(track, ''), step, paused, pause_reasons, stopped, coalesce(stop_reason, ''),
       coalesce((SELECT array_agg(reason ORDER BY reason) FROM nurture_suppressions x WHERE x.lead_id = n.lead_id), '{}')
FROM nurture_state n WHERE lead_id = $1`, leadID).
		Scan(&n.Track, &n.Step, &n.Paused, &n.PauseReasons, &n.Stopped, &n.StopReason, &n.Suppressions)
	if errors.Is(err, pgx.ErrNoRows) {
		return NurtureState{}, false, nil
	}
	if err != nil {
		return NurtureState{}, false, fmt.Errorf("nurture state of lead %s: %w", leadID, err)
	}
	return n, true, nil
}
