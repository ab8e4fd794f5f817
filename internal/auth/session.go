package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/store"
)

// sessionIDBytes of randomness, base64url without padding in the cookie.
const sessionIDBytes = 32

var sessionIDLen = base64.RawURLEncoding.EncodedLen(sessionIDBytes)

// Opened is a new session: ID goes in the cookie, and nowhere else.
type Opened struct {
	ID        string
	Principal Principal
	ExpiresAt time.Time
}

// Login checks tok like Authenticate and opens a session for it. The
// session ends at the earliest of SessionTTL from now, the rep token's
// expiry, IdleTimeout without use, sign-out, the token's revocation, and
// (admin sessions) a change of the admin token.
func (s *Service) Login(ctx context.Context, tok string) (Opened, error) {
	p, t, err := s.authenticate(ctx, tok)
	if err != nil {
		return Opened{}, err
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	// Sign-ins are rare next to page views: a good moment to purge.
	if n, err := s.st.DeleteEndedSessions(ctx, now, now.Add(-s.cfg.IdleTimeout)); err != nil {
		s.cfg.Logger.Warn("could not purge ended UI sessions", zap.Error(err))
	} else if n > 0 {
		s.cfg.Logger.Info("purged ended UI sessions", zap.Int64("count", n))
	}
	b := make([]byte, sessionIDBytes)
	if _, err := rand.Read(b); err != nil {
		return Opened{}, fmt.Errorf("random session ID: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	row := store.Session{IDHash: idHash(id), RepID: p.RepID, TokenID: p.TokenID,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL), LastSeen: now}
	if p.Admin {
		row.AdminMAC = s.adminMAC(id)
	} else if t.ExpiresAt.Before(row.ExpiresAt) {
		row.ExpiresAt = t.ExpiresAt
	}
	if err := s.st.CreateSession(ctx, row); err != nil {
		return Opened{}, err
	}
	return Opened{ID: id, Principal: p, ExpiresAt: row.ExpiresAt}, nil
}

// Session checks a session ID from the cookie. A session that ended is a
// *Denied saying why; another error means the store could not answer.
func (s *Service) Session(ctx context.Context, id string) (Principal, error) {
	if len(id) != sessionIDLen {
		return Principal{}, denied("no such session: sign in")
	}
	h := idHash(id)
	row, err := s.st.Session(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, denied("no such session (signed out, or ended): sign in again")
	}
	if err != nil {
		return Principal{}, fmt.Errorf("check session: %w", err)
	}
	now := s.cfg.Now()
	switch {
	case row.RepID == "" && (s.cfg.AdminToken == "" || !hmac.Equal(row.AdminMAC, s.adminMAC(id))):
		return Principal{}, denied("session ended: the admin token has changed since you signed in; sign in again")
	case !now.Before(row.ExpiresAt):
		return Principal{}, denied("session expired at %s: sign in again", stamp(row.ExpiresAt))
	case now.Sub(row.LastSeen) >= s.cfg.IdleTimeout:
		return Principal{}, denied("session ended after %s without activity: sign in again", s.cfg.IdleTimeout)
	}
	p := Principal{Admin: row.RepID == "", RepID: row.RepID, TokenID: row.TokenID}
	if !p.Admin {
		if err := tokenHolds(row.Token, now); err != nil {
			return Principal{}, denied("session ended: %s", err)
		}
	}
	if now.Sub(row.LastSeen) >= TouchEvery {
		if err := s.st.TouchSession(ctx, h, now.UTC().Truncate(time.Microsecond)); err != nil {
			// The idle clock runs on from the last touch: at worst the
			// session ends a little early.
			s.cfg.Logger.Warn("could not record UI session activity", zap.Error(err))
		}
	}
	return p, nil
}

// Logout ends a session; an ID that names none is not an error.
func (s *Service) Logout(ctx context.Context, id string) error {
	if len(id) != sessionIDLen {
		return nil
	}
	return s.st.DeleteSession(ctx, idHash(id))
}

func idHash(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// adminMAC binds an admin session to the admin token it was opened under.
func (s *Service) adminMAC(id string) []byte {
	m := hmac.New(sha256.New, []byte(s.cfg.AdminToken))
	m.Write([]byte("leadflow-ui-session:" + id))
	return m.Sum(nil)
}
