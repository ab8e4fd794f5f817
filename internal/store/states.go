package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

// States are the leads' published states (lead_states): what the HTTP edge
// serves when no worker answers, and the inbox's and dashboard's lists
// (lead_states_query.go).
type States struct{ *conn }

// PublishState stores snap as its lead's last published state. A snapshot
// replaces the stored one only when its Seq is greater, so a retried
// (late) write of an older state never overwrites a newer one; publishing
// the same or an older snapshot again is a no-op, not an error.
//
// The view is stored without the edge's Stale and PublishedAt marks:
// LastState's caller sets them.
func (s States) PublishState(ctx context.Context, snap actions.StateSnapshot) error {
	if snap.LeadID == "" {
		return fmt.Errorf("publish state: empty lead id: %w", ErrInvalidInput)
	}
	if snap.At.IsZero() {
		return fmt.Errorf("publish state of lead %s: at is required: %w", snap.LeadID, ErrInvalidInput)
	}
	if snap.View.LeadID != "" && snap.View.LeadID != snap.LeadID {
		return fmt.Errorf("publish state of lead %s: the view is of lead %s: %w", snap.LeadID, snap.View.LeadID, ErrInvalidInput)
	}
	v := snap.View
	v.LeadID = snap.LeadID
	v.Stale, v.PublishedAt = false, nil
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("publish state of lead %s: %w: %w", snap.LeadID, err, ErrInvalidInput)
	}
	var inputs []byte // NULL when the snapshot has none
	if snap.Inputs != nil {
		if inputs, err = json.Marshal(snap.Inputs); err != nil {
			return fmt.Errorf("publish state of lead %s: inputs: %w: %w", snap.LeadID, err, ErrInvalidInput)
		}
	}
	_, err = s.pool.Exec(ctx, `
INSERT INTO lead_states (lead_id, seq, published_at, view, written_at, inputs) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (lead_id) DO UPDATE
SET seq = excluded.seq, published_at = excluded.published_at, view = excluded.view, written_at = excluded.written_at, inputs = excluded.inputs
WHERE lead_states.seq < excluded.seq`, snap.LeadID, snap.Seq, snap.At, data, s.now(), inputs)
	if err != nil {
		return fmt.Errorf("publish state of lead %s (seq %d): %w", snap.LeadID, snap.Seq, err)
	}
	return nil
}

// LastState returns the state leadID last published and when (the
// snapshot's At); found is false when it never published one.
func (s States) LastState(ctx context.Context, leadID string) (v lead.View, publishedAt time.Time, found bool, err error) {
	var data []byte
	err = s.pool.QueryRow(ctx, `SELECT view, published_at FROM lead_states WHERE lead_id = $1`, leadID).Scan(&data, &publishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return lead.View{}, time.Time{}, false, nil
	}
	if err != nil {
		return lead.View{}, time.Time{}, false, fmt.Errorf("last state of lead %s: %w", leadID, err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return lead.View{}, time.Time{}, false, fmt.Errorf("last state of lead %s: decode: %w", leadID, err)
	}
	return v, publishedAt.UTC(), true, nil
}
