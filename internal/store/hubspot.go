package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// HubSpot is the HubSpot adapter's bookkeeping: objects created once per key,
// contacts, and leadflow's own owner writes (echoes).
type HubSpot struct{ *conn }

// The HubSpot adapter's bookkeeping (internal/hubspot): which contact a
// lead is, the HubSpot object each create key made, and the owners it wrote
// (to recognise their webhook echoes). The algorithm that uses these rows
// is documented in internal/hubspot.

// HubSpotObject is the record of one keyed create (a task or a note).
type HubSpotObject struct {
	Key          string
	Kind         string // "task" or "note"
	ObjectID     string // "" while unconfirmed
	PendingSince time.Time
	Attempts     int
	CreatedAt    time.Time
}

// BeginHubSpotObject inserts the row for key (pending since now) or returns
// the existing one, in one statement; fresh says whether this call
// inserted it.
func (s HubSpot) BeginHubSpotObject(ctx context.Context, key, kind string, now time.Time) (HubSpotObject, bool, error) {
	if key == "" {
		return HubSpotObject{}, false, fmt.Errorf("begin hubspot %s: empty key: %w", kind, ErrInvalidInput)
	}
	// A concurrent insert of the same key that commits between our insert
	// and our select is invisible to both halves of the statement's
	// snapshot; running the statement again then sees it.
	for range 3 {
		var o HubSpotObject
		var fresh bool
		var objectID *string
		err := s.pool.QueryRow(ctx, `
WITH ins AS (
    INSERT INTO hubspot_objects (key, kind, pending_since, created_at)
    VALUES ($1, $2, $3, $3)
    ON CONFLICT (key) DO NOTHING
    RETURNING key, kind, object_id, pending_since, attempts, created_at
)
SELECT key, kind, object_id, pending_since, attempts, created_at, true FROM ins
UNION ALL
SELECT key, kind, object_id, pending_since, attempts, created_at, false FROM hubspot_objects
WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM ins)`, key, kind, now).
			Scan(&o.Key, &o.Kind, &objectID, &o.PendingSince, &o.Attempts, &o.CreatedAt, &fresh)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return HubSpotObject{}, false, fmt.Errorf("begin hubspot %s %s: %w", kind, key, err)
		}
		if objectID != nil {
			o.ObjectID = *objectID
		}
		return o, fresh, nil
	}
	return HubSpotObject{}, false, fmt.Errorf("begin hubspot %s %s: row neither inserted nor found", kind, key)
}

// ClaimHubSpotObject takes the right to (re)try the create for key: it
// succeeds only if the row is still unconfirmed and its last attempt
// started before staleBefore, and then marks a new attempt (returned)
// started at now, as kind. Two callers cannot both win a claim.
func (s HubSpot) ClaimHubSpotObject(ctx context.Context, key, kind string, staleBefore, now time.Time) (int, bool, error) {
	var attempt int
	err := s.pool.QueryRow(ctx, `
UPDATE hubspot_objects SET pending_since = $4, kind = $2, attempts = attempts + 1
WHERE key = $1 AND object_id IS NULL AND pending_since < $3
RETURNING attempts`, key, kind, staleBefore, now).Scan(&attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("claim hubspot %s %s: %w", kind, key, err)
	}
	return attempt, true, nil
}

// ReleaseHubSpotObject says attempt of key definitely created nothing
// (HubSpot refused the request): the next attempt need not wait for the
// search index. A no-op when a later attempt has claimed the row since, or
// the object is recorded.
func (s HubSpot) ReleaseHubSpotObject(ctx context.Context, key string, attempt int) error {
	_, err := s.pool.Exec(ctx, `
UPDATE hubspot_objects SET pending_since = 'epoch'
WHERE key = $1 AND attempts = $2 AND object_id IS NULL`, key, attempt)
	if err != nil {
		return fmt.Errorf("release hubspot object %s: %w", key, err)
	}
	return nil
}

// RecordHubSpotObject records the created object's ID under key and returns
// the ID on record: the first one recorded wins.
func (s HubSpot) RecordHubSpotObject(ctx context.Context, key, objectID string, now time.Time) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `
UPDATE hubspot_objects SET object_id = coalesce(object_id, $2), recorded_at = coalesce(recorded_at, $3)
WHERE key = $1 RETURNING object_id`, key, objectID, now).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("record hubspot object %s for %s: %w", objectID, key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("record hubspot object %s for %s: %w", objectID, key, err)
	}
	return id, nil
}

// HubSpotObjectByKey returns the row for key.
func (s HubSpot) HubSpotObjectByKey(ctx context.Context, key string) (HubSpotObject, bool, error) {
	var o HubSpotObject
	var objectID *string
	err := s.pool.QueryRow(ctx, `
SELECT key, kind, object_id, pending_since, attempts, created_at FROM hubspot_objects WHERE key = $1`, key).
		Scan(&o.Key, &o.Kind, &objectID, &o.PendingSince, &o.Attempts, &o.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return HubSpotObject{}, false, nil
	}
	if err != nil {
		return HubSpotObject{}, false, fmt.Errorf("hubspot object %s: %w", key, err)
	}
	if objectID != nil {
		o.ObjectID = *objectID
	}
	return o, true, nil
}

// HubSpotContact returns the HubSpot contact remembered for a lead.
func (s HubSpot) HubSpotContact(ctx context.Context, leadID string) (string, bool, error) {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT contact_id FROM hubspot_contacts WHERE lead_id = $1`, leadID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("hubspot contact of lead %s: %w", leadID, err)
	}
	return id, true, nil
}

// RememberHubSpotContact records that leadID is HubSpot contact contactID
// (replacing an earlier mapping, e.g. after a merge in HubSpot).
func (s HubSpot) RememberHubSpotContact(ctx context.Context, leadID, contactID string) error {
	if leadID == "" || contactID == "" {
		return fmt.Errorf("remember hubspot contact %q for lead %q: %w", contactID, leadID, ErrInvalidInput)
	}
	_, err := s.pool.Exec(ctx, `
INSERT INTO hubspot_contacts (lead_id, contact_id) VALUES ($1, $2)
ON CONFLICT (lead_id) DO UPDATE SET contact_id = excluded.contact_id, updated_at = now()
WHERE hubspot_contacts.contact_id <> excluded.contact_id`, leadID, contactID)
	if err != nil {
		return fmt.Errorf("remember hubspot contact %s for lead %s: %w", contactID, leadID, err)
	}
	return nil
}

// LeadForHubSpotContact returns the lead that leadflow knows HubSpot
// contact contactID as (the first one remembered), for the webhook edge: a
// contact is lead hs-<contactId> unless it is known here under another ID.
func (s HubSpot) LeadForHubSpotContact(ctx context.Context, contactID string) (string, bool, error) {
	var lead string
	err := s.pool.QueryRow(ctx, `
SELECT lead_id FROM hubspot_contacts WHERE contact_id = $1 ORDER BY created_at, lead_id LIMIT 1`, contactID).Scan(&lead)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("lead of hubspot contact %s: %w", contactID, err)
	}
	return lead, true, nil
}

// ownerWriteRetention is how long an owner write is kept for echo checks:
// far longer than HubSpot's webhook retries (about a day).
const ownerWriteRetention = 30 * 24 * time.Hour

// RecordHubSpotOwnerWrite notes that the CRM adapter is setting contact
// contactID's hubspot_owner_id to ownerID at at (before the write, so a
// write whose answer is lost is still known), and prunes the contact's
// writes older than 30 days.
func (s HubSpot) RecordHubSpotOwnerWrite(ctx context.Context, contactID, ownerID string, at time.Time) error {
	if contactID == "" || ownerID == "" {
		return fmt.Errorf("record hubspot owner %q of contact %q: %w", ownerID, contactID, ErrInvalidInput)
	}
	_, err := s.pool.Exec(ctx, `
WITH pruned AS (
    DELETE FROM hubspot_owner_writes WHERE contact_id = $1 AND written_at < $4
)
INSERT INTO hubspot_owner_writes (contact_id, owner_id, written_at) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING`, contactID, ownerID, at, at.Add(-ownerWriteRetention))
	if err != nil {
		return fmt.Errorf("record hubspot owner %s of contact %s: %w", ownerID, contactID, err)
	}
	return nil
}

// HubSpotOwnerWritten reports whether the CRM adapter's latest owner write
// to contact contactID up to `to` set ownerID, at a time within [from, to].
// Only the latest counts: after leadflow wrote A then B, someone setting A
// again in HubSpot is a change, not the echo of the first write.
func (s HubSpot) HubSpotOwnerWritten(ctx context.Context, contactID, ownerID string, from, to time.Time) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `
SELECT coalesce((SELECT owner_id = $2 AND written_at >= $3 FROM hubspot_owner_writes
                 WHERE contact_id = $1 AND written_at <= $4
                 ORDER BY written_at DESC LIMIT 1), false)`,
		contactID, ownerID, from, to).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("hubspot owner %s written to contact %s: %w", ownerID, contactID, err)
	}
	return ok, nil
}
