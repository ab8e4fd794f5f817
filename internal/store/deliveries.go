package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/directory"
)

// Deliveries are the notification deliveries (migration 00009): one per
// (key, channel, recipient), with a per-recipient rate limit.
type Deliveries struct{ *conn }

// Delivery is one send of a notification on one channel to one recipient
// (internal/notify). Recipient is a directory person ID or an opaque
// "ext-…" ID of an address outside the directory, never an address.
type Delivery struct {
	Key, Channel, Recipient, LeadID, Kind string
}

// ClaimStatus is what ClaimDelivery decided.
type ClaimStatus int

const (
	// ClaimSend: the delivery is claimed; send it, then MarkDelivered (or
	// ReleaseDelivery when the send failed).
	ClaimSend ClaimStatus = iota + 1
	// ClaimDone: it was delivered before (a retried activity); do not send.
	ClaimDone
	// ClaimHeld: the recipient is over the rate limit; try again at RetryAt.
	ClaimHeld
)

// Claim is ClaimDelivery's answer.
type Claim struct {
	Status  ClaimStatus
	RetryAt time.Time // ClaimHeld only
}

// ClaimDelivery claims d before it is sent. A delivery already made is
// ClaimDone; a claim left by an attempt that died mid-send is taken over.
// A new delivery is held when limit > 0 and the recipient already has
// limit other notifications claimed within window before now; RetryAt is
// when the oldest of them leaves the window. The check and the claim hold
// a per-recipient lock, so concurrent notifications cannot both squeeze
// under the limit.
func (s Deliveries) ClaimDelivery(ctx context.Context, d Delivery, limit int, window time.Duration, now time.Time) (Claim, error) {
	if d.Key == "" || d.Channel == "" || d.Recipient == "" {
		return Claim{}, fmt.Errorf("claim delivery %q on %q to %q: key, channel and recipient are required: %w", d.Key, d.Channel, d.Recipient, ErrInvalidInput)
	}
	var c Claim
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, hashtext($2))`, lockNSRecipient, d.Recipient); err != nil {
			return err
		}
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM notification_deliveries WHERE key = $1 AND channel = $2 AND recipient = $3`,
			d.Key, d.Channel, d.Recipient).Scan(&status)
		switch {
		case err == nil && status == "delivered":
			c = Claim{Status: ClaimDone}
			return nil
		case err == nil: // an earlier attempt's claim: ours to retry
			c = Claim{Status: ClaimSend}
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if limit > 0 {
			// Notifications, not deliveries: the other channels of this
			// key do not count against it.
			var n int
			var oldest *time.Time
			if err := tx.QueryRow(ctx, `
SELECT count(DISTINCT key), min(claimed_at) FROM notification_deliveries
WHERE recipient = $1 AND key <> $2 AND claimed_at > $3`, d.Recipient, d.Key, now.Add(-window)).Scan(&n, &oldest); err != nil {
				return err
			}
			if n >= limit && oldest != nil {
				c = Claim{Status: ClaimHeld, RetryAt: oldest.Add(window)}
				return nil
			}
		}
		_, err = tx.Exec(ctx, `
INSERT INTO notification_deliveries (key, channel, recipient, lead_id, kind, status, claimed_at)
VALUES ($1, $2, $3, $4, $5, 'sending', $6)`, d.Key, d.Channel, d.Recipient, d.LeadID, d.Kind, now)
		c = Claim{Status: ClaimSend}
		return err
	})
	if err != nil {
		return Claim{}, fmt.Errorf("claim %s delivery of %s to %s: %w", d.Channel, d.Key, d.Recipient, err)
	}
	return c, nil
}

// MarkDelivered records that a claimed delivery was sent.
func (s Deliveries) MarkDelivered(ctx context.Context, d Delivery, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `
UPDATE notification_deliveries SET status = 'delivered', delivered_at = $4
WHERE key = $1 AND channel = $2 AND recipient = $3`, d.Key, d.Channel, d.Recipient, at); err != nil {
		return fmt.Errorf("mark %s delivery of %s to %s: %w", d.Channel, d.Key, d.Recipient, err)
	}
	return nil
}

// ReleaseDelivery drops the claim of a send that failed, so it neither
// counts against the recipient's rate limit nor looks delivered.
func (s Deliveries) ReleaseDelivery(ctx context.Context, d Delivery) error {
	if _, err := s.pool.Exec(ctx, `
DELETE FROM notification_deliveries WHERE key = $1 AND channel = $2 AND recipient = $3 AND status = 'sending'`,
		d.Key, d.Channel, d.Recipient); err != nil {
		return fmt.Errorf("release %s delivery of %s to %s: %w", d.Channel, d.Key, d.Recipient, err)
	}
	return nil
}

// DeliveredNotification is one row of a person's recent notifications.
type DeliveredNotification struct {
	Key, LeadID, Kind string
	At                time.Time
	Channels          []string // where it was delivered, sorted; empty: only recorded
}

// RecentNotifications returns the last n notifications filed for a person
// (the built-in record), newest first, each with the channels it reached
// them on.
func (s Deliveries) RecentNotifications(ctx context.Context, to string, n int) ([]DeliveredNotification, error) {
	rows, err := s.pool.Query(ctx, `
SELECT n.key, n.lead_id, n.kind, n.at,
       coalesce(array_agg(d.channel ORDER BY d.channel) FILTER (WHERE d.channel IS NOT NULL), '{}')
FROM (SELECT id, key, lead_id, kind, at FROM notifications WHERE to_rep = $1 ORDER BY at DESC, id DESC LIMIT $2) n
LEFT JOIN notification_deliveries d ON d.key = n.key AND d.recipient = $1 AND d.status = 'delivered'
GROUP BY n.id, n.key, n.lead_id, n.kind, n.at
ORDER BY n.at DESC, n.id DESC`, to, n)
	if err != nil {
		return nil, fmt.Errorf("recent notifications of %s: %w", to, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeliveredNotification, error) {
		var d DeliveredNotification
		return d, r.Scan(&d.Key, &d.LeadID, &d.Kind, &d.At, &d.Channels)
	})
	if err != nil {
		return nil, fmt.Errorf("recent notifications of %s: %w", to, err)
	}
	return out, nil
}

// Person returns one active person of the directory (rep or manager) with
// the addresses notifications reach them at; false when there is none.
func (s Deliveries) Person(ctx context.Context, id string) (directory.Rep, bool, error) {
	var r directory.Rep
	err := s.pool.QueryRow(ctx, `
SELECT id, name, coalesce(manager, ''), timezone, capacity_per_day, coalesce(email, ''), coalesce(hubspot_owner_id, ''), coalesce(slack, '')
FROM reps WHERE id = $1 AND active`, id).Scan(&r.ID, &r.Name, &r.Manager, &r.Timezone, &r.CapacityPerDay, &r.Email, &r.HubSpotOwnerID, &r.Slack)
	if errors.Is(err, pgx.ErrNoRows) {
		return directory.Rep{}, false, nil
	}
	if err != nil {
		return directory.Rep{}, false, fmt.Errorf("person %s: %w", id, err)
	}
	return r, true, nil
}
