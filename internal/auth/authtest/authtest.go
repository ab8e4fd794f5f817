// Package authtest builds an auth.Service over a real store with a manual
// clock, for the tests of the web UI, the starter and auth itself.
package authtest

import (
	"context"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/hubspot/hubspottest"
	"github.com/leadflow/leadflow/internal/store"
)

// Clock is a manual clock: time moves only on Advance.
type Clock = hubspottest.Clock

// New returns a Service over st with adminToken and a clock at start.
func New(t testing.TB, st store.Auth, adminToken string, start time.Time) (*auth.Service, *Clock) {
	t.Helper()
	clock := hubspottest.NewClock(start)
	svc, err := auth.New(st, auth.Config{AdminToken: adminToken, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return svc, clock
}

// Mint makes a token of rep valid for ttl (0: the default).
func Mint(t testing.TB, svc *auth.Service, rep string, ttl time.Duration) (token, id string) {
	t.Helper()
	tok, row, err := svc.MintRepToken(context.Background(), rep, ttl)
	if err != nil {
		t.Fatalf("mint a token of %s: %v", rep, err)
	}
	return tok, row.ID
}
