package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Auth is the store behind internal/auth: rep tokens and web UI sessions
// (migration 00010). It keeps hashes only; internal/auth makes and checks
// the credentials, and passes every time in, so its clock is the only one.
type Auth struct{ *conn }

// RepToken is one rep token's row. SecretHash is SHA-256 of the token's
// secret part; the token itself is never stored.
type RepToken struct {
	ID         string
	RepID      string
	SecretHash []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
	// RepActive is read, not written: whether the rep is still an active
	// rep of the imported directory.
	RepActive bool
}

// Session is one web UI session's row. A rep session carries its token's
// row (Token) so one read decides whether the token still holds.
type Session struct {
	IDHash    []byte // SHA-256 of the session ID in the cookie
	RepID     string // "" for the admin
	TokenID   string // the rep token the session was opened with
	AdminMAC  []byte // admin sessions: binds the session to the admin token
	CreatedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
	Token     RepToken // read, not written: the rep session's token
}

const repTokenCols = `t.id, t.rep_id, t.secret_hash, t.created_at, t.expires_at, t.revoked_at, t.last_used_at, r.active`

func scanRepToken(row pgx.Row) (RepToken, error) {
	var t RepToken
	err := row.Scan(&t.ID, &t.RepID, &t.SecretHash, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.LastUsedAt, &t.RepActive)
	return t, err
}

// CreateRepToken stores a new token of an active rep; an unknown or
// inactive rep is ErrUnknownRep.
func (a Auth) CreateRepToken(ctx context.Context, t RepToken) error {
	tag, err := a.pool.Exec(ctx, `
INSERT INTO rep_tokens (id, rep_id, secret_hash, created_at, expires_at)
SELECT $1, id, $3, $4, $5 FROM reps WHERE id = $2 AND active`,
		t.ID, t.RepID, t.SecretHash, t.CreatedAt, t.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create token %s of rep %s: %w", t.ID, t.RepID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("create token of rep %s: %w", t.RepID, ErrUnknownRep)
	}
	return nil
}

// RepToken reads one token; ErrNotFound when there is none with that ID.
func (a Auth) RepToken(ctx context.Context, id string) (RepToken, error) {
	t, err := scanRepToken(a.pool.QueryRow(ctx,
		`SELECT `+repTokenCols+` FROM rep_tokens t JOIN reps r ON r.id = t.rep_id WHERE t.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return RepToken{}, fmt.Errorf("token %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return RepToken{}, fmt.Errorf("token %s: %w", id, err)
	}
	return t, nil
}

// RepTokens lists the tokens of repID (every rep's when ""), oldest first.
func (a Auth) RepTokens(ctx context.Context, repID string) ([]RepToken, error) {
	rows, err := a.pool.Query(ctx, `SELECT `+repTokenCols+` FROM rep_tokens t JOIN reps r ON r.id = t.rep_id
WHERE $1 = '' OR t.rep_id = $1 ORDER BY t.created_at, t.id`, repID)
	if err != nil {
		return nil, fmt.Errorf("list tokens of rep %q: %w", repID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RepToken, error) { return scanRepToken(r) })
	if err != nil {
		return nil, fmt.Errorf("list tokens of rep %q: %w", repID, err)
	}
	return out, nil
}

// RevokeRepToken marks a token revoked at at (a second revoke keeps the
// first time) and returns it; ErrNotFound when there is none with that ID.
func (a Auth) RevokeRepToken(ctx context.Context, id string, at time.Time) (RepToken, error) {
	t, err := scanRepToken(a.pool.QueryRow(ctx, `
UPDATE rep_tokens t SET revoked_at = COALESCE(t.revoked_at, $2) FROM reps r
WHERE t.id = $1 AND r.id = t.rep_id RETURNING `+repTokenCols, id, at))
	if errors.Is(err, pgx.ErrNoRows) {
		return RepToken{}, fmt.Errorf("revoke token %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return RepToken{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return t, nil
}

// TouchRepToken records a use of the token.
func (a Auth) TouchRepToken(ctx context.Context, id string, at time.Time) error {
	if _, err := a.pool.Exec(ctx, `UPDATE rep_tokens SET last_used_at = $2 WHERE id = $1`, id, at); err != nil {
		return fmt.Errorf("touch token %s: %w", id, err)
	}
	return nil
}

// CreateSession stores a new session.
func (a Auth) CreateSession(ctx context.Context, s Session) error {
	_, err := a.pool.Exec(ctx, `
INSERT INTO ui_sessions (id_hash, rep_id, token_id, admin_mac, created_at, expires_at, last_seen)
VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		s.IDHash, nullable(s.RepID), nullable(s.TokenID), s.AdminMAC, s.CreatedAt, s.ExpiresAt, s.LastSeen)
	if err != nil {
		return fmt.Errorf("create session of %s: %w", sessionOwner(s.RepID), err)
	}
	return nil
}

// Session reads the session with that ID hash, with its token's row for a
// rep session; ErrNotFound when there is none (never created, signed out
// or purged).
func (a Auth) Session(ctx context.Context, idHash []byte) (Session, error) {
	var s Session
	var repID, tokenID, tRep *string
	var tCreated, tExpires *time.Time
	var active *bool
	t := &s.Token
	err := a.pool.QueryRow(ctx, `
SELECT s.id_hash, s.rep_id, s.token_id, s.admin_mac, s.created_at, s.expires_at, s.last_seen,
       t.rep_id, t.created_at, t.expires_at, t.revoked_at, t.last_used_at, r.active
FROM ui_sessions s
LEFT JOIN rep_tokens t ON t.id = s.token_id
LEFT JOIN reps r ON r.id = t.rep_id
WHERE s.id_hash = $1`, idHash).Scan(&s.IDHash, &repID, &tokenID, &s.AdminMAC, &s.CreatedAt, &s.ExpiresAt, &s.LastSeen,
		&tRep, &tCreated, &tExpires, &t.RevokedAt, &t.LastUsedAt, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	s.RepID, s.TokenID = deref(repID), deref(tokenID)
	if tokenID != nil {
		t.ID, t.RepID, t.CreatedAt, t.ExpiresAt = *tokenID, deref(tRep), derefTime(tCreated), derefTime(tExpires)
		t.RepActive = active != nil && *active
	}
	return s, nil
}

// TouchSession records activity on a session (its idle timeout restarts).
func (a Auth) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	if _, err := a.pool.Exec(ctx, `UPDATE ui_sessions SET last_seen = $2 WHERE id_hash = $1`, idHash, at); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends a session (sign-out); deleting one that is already
// gone is not an error.
func (a Auth) DeleteSession(ctx context.Context, idHash []byte) error {
	if _, err := a.pool.Exec(ctx, `DELETE FROM ui_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteEndedSessions purges sessions that can no longer be used: past
// their expiry at now, idle since before idleSince, or opened with a token
// that was revoked or has expired. It returns how many went.
func (a Auth) DeleteEndedSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	tag, err := a.pool.Exec(ctx, `
DELETE FROM ui_sessions s
WHERE s.expires_at <= $1 OR s.last_seen < $2
   OR EXISTS (SELECT 1 FROM rep_tokens t WHERE t.id = s.token_id AND (t.revoked_at IS NOT NULL OR t.expires_at <= $1))`,
		now, idleSince)
	if err != nil {
		return 0, fmt.Errorf("delete ended sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

func sessionOwner(repID string) string {
	if repID == "" {
		return "the admin"
	}
	return "rep " + repID
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefTime(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}
