package store

import (
	"context"
	"fmt"
)

// Receipts are the HTTP edge's event receipts: which event IDs were
// already delivered to a lead (api.Receipts).
type Receipts struct{ *conn }

// Record remembers that eventID was delivered to leadID; true when the ID
// is new, false for a duplicate.
func (s Receipts) Record(ctx context.Context, eventID, leadID string) (bool, error) {
	if eventID == "" {
		return false, fmt.Errorf("record receipt lead %s: empty event id: %w", leadID, ErrInvalidInput)
	}
	tag, err := s.pool.Exec(ctx, `
INSERT INTO event_receipts (event_id, lead_id, received_at) VALUES ($1, $2, $3)
ON CONFLICT (event_id) DO NOTHING`, eventID, leadID, s.now())
	if err != nil {
		return false, fmt.Errorf("record receipt of event %s for lead %s: %w", eventID, leadID, err)
	}
	return tag.RowsAffected() == 1, nil
}
