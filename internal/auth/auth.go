// Package auth is who may use the web UI and how: the admin token
// (LEADFLOW_API_TOKEN), rep tokens with an ID, an expiry and a revocation
// ("lft_<id>_<secret>", minted by `starter rep token`), and server-side UI
// sessions opened by signing in with either.
//
// Nothing a browser holds is a credential elsewhere: the session cookie is
// a random ID that only the UI's session lookup knows (the API never
// accepts it), and the database keeps only SHA-256 of session IDs and of
// token secrets. Times come from Config.Now, so tests move the clock.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/store"
)

// Session defaults.
const (
	DefaultSessionTTL  = 12 * time.Hour // absolute: sign in again after it
	DefaultIdleTimeout = time.Hour      // a session unused this long ends
	// TouchEvery bounds the writes that record activity (a session's
	// last_seen, a token's last_used_at): at most one per this interval.
	TouchEvery = time.Minute
)

// Store is what auth keeps in Postgres (store.Auth).
type Store interface {
	CreateRepToken(ctx context.Context, t store.RepToken) error
	RepToken(ctx context.Context, id string) (store.RepToken, error)
	RepTokens(ctx context.Context, repID string) ([]store.RepToken, error)
	RevokeRepToken(ctx context.Context, id string, at time.Time) (store.RepToken, error)
	TouchRepToken(ctx context.Context, id string, at time.Time) error
	CreateSession(ctx context.Context, s store.Session) error
	Session(ctx context.Context, idHash []byte) (store.Session, error)
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
	DeleteSession(ctx context.Context, idHash []byte) error
	DeleteEndedSessions(ctx context.Context, now, idleSince time.Time) (int64, error)
}

// Config configures a Service.
type Config struct {
	// AdminToken is LEADFLOW_API_TOKEN. Empty: there is no admin token
	// (tokens can still be minted and listed; the UI runs open then).
	AdminToken  string
	Now         func() time.Time // default time.Now
	SessionTTL  time.Duration    // default DefaultSessionTTL
	IdleTimeout time.Duration    // default DefaultIdleTimeout
	Logger      *zap.Logger      // default: none
}

// Service checks credentials and keeps sessions. Build it with New.
type Service struct {
	st       Store
	cfg      Config
	adminSum [sha256.Size]byte
}

// New builds a Service over st.
func New(st Store, cfg Config) (*Service, error) {
	if st == nil {
		return nil, errors.New("auth: a Store is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Service{st: st, cfg: cfg, adminSum: sha256.Sum256([]byte(cfg.AdminToken))}, nil
}

// Principal is who a credential or a session is: the admin, or a rep
// through one of the rep's tokens.
type Principal struct {
	Admin   bool
	RepID   string
	TokenID string
}

// Denied is a refused credential or session (HTTP 401). Message says why
// in words a person can act on: "token expired at …", "token revoked", …
type Denied struct{ Message string }

func (d *Denied) Error() string { return d.Message }

func denied(format string, a ...any) error { return &Denied{Message: fmt.Sprintf(format, a...)} }

// IsAdminToken reports whether tok is the admin token (constant time, and
// never true when there is none).
func (s *Service) IsAdminToken(tok string) bool {
	if s.cfg.AdminToken == "" {
		return false
	}
	// Hashing first keeps the comparison constant-time in the length too.
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], s.adminSum[:]) == 1
}

// Authenticate checks a token given as a bearer or at sign-in: the admin
// token or a rep token. A refusal is a *Denied; another error means the
// store could not answer.
func (s *Service) Authenticate(ctx context.Context, tok string) (Principal, error) {
	p, _, err := s.authenticate(ctx, tok)
	return p, err
}

// authenticate is Authenticate, also returning a rep token's row.
func (s *Service) authenticate(ctx context.Context, tok string) (Principal, store.RepToken, error) {
	tok = strings.TrimSpace(tok)
	switch {
	case tok == "":
		return Principal{}, store.RepToken{}, denied("missing token")
	case s.IsAdminToken(tok):
		return Principal{Admin: true}, store.RepToken{}, nil
	case strings.HasPrefix(tok, legacyPrefix):
		return Principal{}, store.RepToken{}, denied("this is an old rep token (rep:…), no longer accepted: rep tokens now expire and can be revoked; ask an operator for a new one (starter rep token REP)")
	}
	id, secret, ok := parseToken(tok)
	if !ok {
		return Principal{}, store.RepToken{}, denied("invalid token")
	}
	t, err := s.st.RepToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, store.RepToken{}, denied("invalid token")
	}
	if err != nil {
		return Principal{}, store.RepToken{}, fmt.Errorf("check token %s: %w", id, err)
	}
	// The secret first: whether a token is revoked or expired is only
	// told to whoever holds it.
	if subtle.ConstantTimeCompare(secretHash(secret), t.SecretHash) != 1 {
		return Principal{}, store.RepToken{}, denied("invalid token")
	}
	now := s.cfg.Now()
	if err := tokenHolds(t, now); err != nil {
		return Principal{}, store.RepToken{}, err
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= TouchEvery {
		if err := s.st.TouchRepToken(ctx, t.ID, now); err != nil {
			// Only the "last used" column suffers; the token is good.
			s.cfg.Logger.Warn("could not record a token's use", zap.String("tokenId", t.ID), zap.Error(err))
		}
	}
	return Principal{RepID: t.RepID, TokenID: t.ID}, t, nil
}

// tokenHolds is nil when a rep token may be used at now.
func tokenHolds(t store.RepToken, now time.Time) error {
	switch {
	case t.RevokedAt != nil:
		return denied("token revoked at %s (token ID %s): ask an operator for a new one", stamp(*t.RevokedAt), t.ID)
	case !now.Before(t.ExpiresAt):
		return denied("token expired at %s (token ID %s): ask an operator for a new one", stamp(t.ExpiresAt), t.ID)
	case !t.RepActive:
		return denied("rep %s is no longer an active rep of the directory", t.RepID)
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// MintRepToken makes a token for an active rep that expires after ttl
// (0: DefaultTokenTTL). It returns the token, shown once and never stored,
// and its row. An unknown or inactive rep is store.ErrUnknownRep.
func (s *Service) MintRepToken(ctx context.Context, repID string, ttl time.Duration) (string, store.RepToken, error) {
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < 0 || ttl > MaxTokenTTL {
		return "", store.RepToken{}, fmt.Errorf("token ttl %s: must be more than 0 and at most %s", ttl, MaxTokenTTL)
	}
	id, secret, err := newToken()
	if err != nil {
		return "", store.RepToken{}, err
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond) // what Postgres keeps
	row := store.RepToken{ID: id, RepID: repID, SecretHash: secretHash(secret), CreatedAt: now, ExpiresAt: now.Add(ttl), RepActive: true}
	if err := s.st.CreateRepToken(ctx, row); err != nil {
		return "", store.RepToken{}, err
	}
	return formatToken(id, secret), row, nil
}

// RepTokens lists the tokens of repID (all reps' when ""), oldest first.
func (s *Service) RepTokens(ctx context.Context, repID string) ([]store.RepToken, error) {
	return s.st.RepTokens(ctx, repID)
}

// RevokeRepToken revokes a token by its ID; its sessions end with it.
// store.ErrNotFound when there is no such token.
func (s *Service) RevokeRepToken(ctx context.Context, id string) (store.RepToken, error) {
	return s.st.RevokeRepToken(ctx, id, s.cfg.Now().UTC().Truncate(time.Microsecond))
}
