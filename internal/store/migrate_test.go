package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// migrationCount is the number of migration files, so a new migration
// does not have to touch this test.
var migrationCount = func() int {
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("no migrations found: %v", err))
	}
	return len(files)
}()

func TestMigrateTwiceIsNoop(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t) // migrated once
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if n := count(t, s, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`); n != migrationCount {
		t.Errorf("applied migrations = %d, want %d", n, migrationCount)
	}
}

// Workers and the starter all migrate at startup: two processes migrating a
// fresh database at once must both succeed and apply each migration once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dbURL := storetest.NewDB(t)
	stores := make([]*store.DB, 2)
	for i := range stores {
		s, err := store.Open(t.Context(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		stores[i] = s
	}
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	if n := count(t, stores[0], `SELECT count(*) FROM goose_db_version WHERE version_id > 0`); n != migrationCount {
		t.Errorf("applied migrations = %d, want %d (each once)", n, migrationCount)
	}
	if n := count(t, stores[0], `SELECT count(*) FROM information_schema.tables WHERE table_name = 'ledger'`); n != 1 {
		t.Errorf("ledger tables = %d", n)
	}
}

func TestEnsureDatabaseRace(t *testing.T) {
	t.Parallel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "leadflow_test_ensure_" + hex.EncodeToString(b[:])
	u, err := url.Parse(storetest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Set("pool_max_conns", "3") // pool settings in the URL must not bother EnsureDatabase
	u.RawQuery = q.Encode()
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), storetest.ServerURL())
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})

	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = store.EnsureDatabase(t.Context(), u.String()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("EnsureDatabase %d: %v", i, err)
		}
	}
	if err := store.EnsureDatabase(t.Context(), u.String()); err != nil {
		t.Errorf("EnsureDatabase on existing: %v", err)
	}
	s, err := store.Open(t.Context(), u.String())
	if err != nil {
		t.Fatalf("open ensured database: %v", err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate ensured database: %v", err)
	}
}
