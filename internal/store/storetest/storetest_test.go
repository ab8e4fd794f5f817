package storetest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/store/storetest"
)

// fatalTB records Fatalf and stops the goroutine, as testing does.
type fatalTB struct {
	testing.TB
	msg     string
	skipped bool
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panicStop()
}
func (f *fatalTB) Skip(...any)           { f.skipped = true; panicStop() }
func (f *fatalTB) Skipf(string, ...any)  { f.skipped = true; panicStop() }
func (f *fatalTB) SkipNow()              { f.skipped = true; panicStop() }
func (f *fatalTB) Cleanup(fn func())     { f.TB.Cleanup(fn) }
func (f *fatalTB) Errorf(string, ...any) {}

type stop struct{}

func panicStop() { panic(stop{}) }

// An unreachable server fails the test with a message that says what to
// do; it never skips.
func TestNewDBFailsWhenUnreachable(t *testing.T) {
	t.Setenv("LEADFLOW_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	f := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stop); !ok {
					panic(r)
				}
			}
		}()
		storetest.NewDB(f)
	}()
	if f.skipped {
		t.Fatal("NewDB skipped")
	}
	if !strings.Contains(f.msg, "unreachable") || !strings.Contains(f.msg, "LEADFLOW_TEST_DATABASE_URL") {
		t.Errorf("Fatalf message = %q", f.msg)
	}
}

func TestNewDBIsFreshAndDropped(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		dbURL := storetest.NewDB(t)
		conn, err := pgx.Connect(t.Context(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if err := conn.QueryRow(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "leadflow_test_") {
			t.Errorf("database %q", name)
		}
	})
	conn, err := pgx.Connect(t.Context(), storetest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil || exists {
		t.Errorf("database %s still exists after the test (%v)", name, err)
	}
}
