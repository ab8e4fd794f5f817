// Package storetest gives each test its own fresh Postgres database, so
// tests can run in parallel and never see each other's rows.
//
// The server is LEADFLOW_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). A test that
// needs Postgres fails when it is unreachable: a skipped store test would
// let a broken schema ship unnoticed.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/store"
)

// DefaultURL is the server used when LEADFLOW_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is the admin URL tests create databases through.
func ServerURL() string {
	if u := os.Getenv("LEADFLOW_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDB creates an empty database named leadflow_test_<random hex>,
// returns its URL and drops it (WITH (FORCE), so open pools do not block
// the drop) when the test ends.
func NewDB(t testing.TB) string {
	t.Helper()
	admin := ServerURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("storetest: Postgres is unreachable at %s (set LEADFLOW_TEST_DATABASE_URL, or start it: pg_ctlcluster --skip-systemctl-redirect 15 main start): %v", redact(admin), err)
	}
	defer conn.Close(context.Background())

	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("storetest: random name: %v", err)
	}
	name := "leadflow_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("storetest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("storetest: drop database %s: %v", name, err)
		}
	})

	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("storetest: LEADFLOW_TEST_DATABASE_URL must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Open is NewDB, then store.Open and Migrate; the store is closed when the
// test ends (before the database is dropped).
func Open(t testing.TB, opts ...store.Option) *store.DB {
	t.Helper()
	dbURL := NewDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, dbURL, opts...)
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate: %v", err)
	}
	return s
}

// redact hides a password in a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
