package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/store"
)

// The adapters the HTTP API takes.
var (
	_ api.Merges   = store.Merges{}
	_ api.Receipts = store.Receipts{}
	_ api.States   = store.States{}
)

// count runs a count(*) query.
func count(t *testing.T, s *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func loadDir(t *testing.T) *directory.Directory {
	t.Helper()
	d, err := directory.Load("../../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func parseDir(t *testing.T, src string) *directory.Directory {
	t.Helper()
	d, err := directory.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
