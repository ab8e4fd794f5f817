package auth_test

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/auth/authtest"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/webui/webuitest"
)

const admin = "auth-test-admin-token"

var start = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func TestParseTTL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"30d": 30 * 24 * time.Hour, "1d": 24 * time.Hour, "366d": auth.MaxTokenTTL, "12h": 12 * time.Hour, "90m": 90 * time.Minute,
	} {
		if got, err := auth.ParseTTL(in); err != nil || got != want {
			t.Errorf("ParseTTL(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1d", "367d", "9999999999999d", "0s", "-5h", "8785h", "d", "1w", "30 d"} {
		if got, err := auth.ParseTTL(in); err == nil {
			t.Errorf("ParseTTL(%q) = %v, want an error", in, got)
		}
	}
}

func newService(t *testing.T) (*auth.Service, *authtest.Clock, *store.DB) {
	t.Helper()
	st := storetest.Open(t)
	webuitest.Reps(t, st, "rep-1", "rep-2")
	svc, clock := authtest.New(t, st.Auth(), admin, start)
	return svc, clock, st
}

func TestMintStoresOnlyAHash(t *testing.T) {
	t.Parallel()
	svc, _, st := newService(t)
	tok, id := authtest.Mint(t, svc, "rep-1", 0)
	secret := strings.TrimPrefix(tok, "lft_"+id+"_")
	var hash []byte
	var expires time.Time
	if err := st.Pool().QueryRow(t.Context(), `SELECT secret_hash, expires_at FROM rep_tokens WHERE id = $1`, id).Scan(&hash, &expires); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256([]byte(secret)); string(hash) != string(want[:]) {
		t.Error("the stored hash is not SHA-256 of the secret")
	}
	if !expires.Equal(start.Add(auth.DefaultTokenTTL)) {
		t.Errorf("expires %s, want 30 days on", expires)
	}
	var n int
	if err := st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM rep_tokens t WHERE position(convert_to($1, 'UTF8') in t::text::bytea) > 0`, secret).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows hold the secret (%v)", n, err)
	}
	for _, rep := range []string{"rep-9", ""} {
		if _, _, err := svc.MintRepToken(t.Context(), rep, 0); !errors.Is(err, store.ErrUnknownRep) {
			t.Errorf("mint for %q: %v, want ErrUnknownRep", rep, err)
		}
	}
	if _, _, err := svc.MintRepToken(t.Context(), "rep-1", auth.MaxTokenTTL+time.Hour); err == nil {
		t.Error("minted a token past the longest TTL")
	}
}

// "Last used" is written on first use and then at most once a minute.
func TestTokenLastUsed(t *testing.T) {
	t.Parallel()
	svc, clock, _ := newService(t)
	tok, id := authtest.Mint(t, svc, "rep-1", 0)
	lastUsed := func() *time.Time {
		rows, err := svc.RepTokens(t.Context(), "rep-1")
		if err != nil || len(rows) != 1 || rows[0].ID != id {
			t.Fatalf("tokens %+v, %v", rows, err)
		}
		return rows[0].LastUsedAt
	}
	if lastUsed() != nil {
		t.Fatal("a fresh token was used")
	}
	use := func() {
		t.Helper()
		p, err := svc.Authenticate(t.Context(), tok)
		if err != nil || p.RepID != "rep-1" || p.TokenID != id || p.Admin {
			t.Fatalf("Authenticate: %+v, %v", p, err)
		}
	}
	use()
	if got := lastUsed(); got == nil || !got.Equal(start) {
		t.Fatalf("last used %v, want %s", got, start)
	}
	clock.Advance(59 * time.Second)
	use()
	if got := lastUsed(); !got.Equal(start) {
		t.Errorf("last used %v after 59 s, want still %s", got, start)
	}
	clock.Advance(time.Second)
	use()
	if got := lastUsed(); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("last used %v, want %s", got, start.Add(time.Minute))
	}
}

// Signing in purges sessions that can no longer be used.
func TestLoginPurgesEndedSessions(t *testing.T) {
	t.Parallel()
	svc, clock, st := newService(t)
	tok, id := authtest.Mint(t, svc, "rep-1", 0)
	count := func() (n int) {
		if err := st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM ui_sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	login := func(tok string) auth.Opened {
		t.Helper()
		o, err := svc.Login(t.Context(), tok)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	idle := login(admin) // will idle out
	clock.Advance(30 * time.Minute)
	kept, revoked := login(admin), login(tok) // the token will be revoked
	if _, err := svc.RevokeRepToken(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	clock.Advance(40 * time.Minute) // idle is 70 min idle, kept 40
	if n := count(); n != 3 {
		t.Fatalf("%d sessions before the purge", n)
	}
	login(admin)
	if n := count(); n != 2 {
		t.Errorf("%d sessions after the purge, want 2 (kept and the new one)", n)
	}
	for _, o := range []auth.Opened{idle, revoked} {
		var d *auth.Denied
		if _, err := svc.Session(t.Context(), o.ID); !errors.As(err, &d) || !strings.Contains(d.Message, "no such session") {
			t.Errorf("a purged session: %v", err)
		}
	}
	if p, err := svc.Session(t.Context(), kept.ID); err != nil || !p.Admin {
		t.Errorf("the kept session: %+v, %v", p, err)
	}
	if err := svc.Logout(t.Context(), "not-a-session"); err != nil {
		t.Errorf("logout of a malformed ID: %v", err)
	}
}
