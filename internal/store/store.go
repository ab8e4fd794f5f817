// Package store is leadflow's Postgres persistence (pgx/v5): schema
// migrations, the append-only ledger and its metrics, the sales directory
// and routing state, and the tables behind the built-in CRM and nurture
// adapters.
//
// Every write that an activity makes is idempotent by the activity's key
// (actions.*Input.Key): calling it again with the same key changes nothing
// and returns the first result, because Temporal retries activities.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sentinel errors. Activities map them to non-retryable Temporal errors of
// the matching actions.Err* type: no retry can fix them.
var (
	ErrUnknownRep   = errors.New("unknown rep")
	ErrUnknownPool  = errors.New("unknown pool")
	ErrInvalidInput = errors.New("invalid input")
	ErrNotFound     = errors.New("not found")
)

// Store is a handle on the leadflow database. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
	locs sync.Map // IANA name → *time.Location, so routing does not reread zoneinfo
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used for "now" (send times, created_at); tests
// pass a fixed one. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open pool: %w", err)
	}
	s := &Store{pool: pool, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that Postgres is reachable (readiness).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping %s/%s: %w", s.pool.Config().ConnConfig.Host, s.pool.Config().ConnConfig.Database, err)
	}
	return nil
}

// Pool is the underlying pool, for callers that need plain SQL (reports).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// EnsureDatabase creates the database named in url if it does not exist,
// connecting to the "postgres" database of the same server to do so. Two
// processes may race here: losing the race is success.
func EnsureDatabase(ctx context.Context, url string) error {
	// pgxpool's parser, so a URL that carries pool_* settings for Open works
	// here too (pgx alone would send them to the server as parameters).
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("ensure database: parse url: %w", err)
	}
	cfg := pcfg.ConnConfig
	name := cfg.Database
	if name == "" || name == "postgres" {
		return nil
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("ensure database %s: connect to postgres database: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("ensure database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	// An identifier cannot be a parameter; Sanitize quotes it.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		var pgErr *pgconn.PgError
		// 42P04 duplicate_database; 23505 when both inserts reach
		// pg_database's unique index at once.
		if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
			return nil
		}
		return fmt.Errorf("ensure database %s: create: %w", name, err)
	}
	return nil
}

// tx runs fn in a read-committed transaction, committing when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, fn)
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// location loads and caches an IANA zone; "" is UTC.
func (s *Store) location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	if l, ok := s.locs.Load(tz); ok {
		return l.(*time.Location), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	s.locs.Store(tz, loc)
	return loc, nil
}

// localDay is the calendar date of at in tz, as YYYY-MM-DD. An unloadable
// zone counts as UTC, as directory.IsAway does (Validate rejects such files).
func (s *Store) localDay(tz string, at time.Time) string {
	loc, err := s.location(tz)
	if err != nil {
		loc = time.UTC
	}
	return at.In(loc).Format("2006-01-02")
}

// nullable maps "" to SQL NULL for optional text columns.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// requireKey checks the fields every keyed write needs.
func requireKey(op, key, leadID string) error {
	if key == "" {
		return fmt.Errorf("%s lead %s: empty key: %w", op, leadID, ErrInvalidInput)
	}
	if leadID == "" {
		return fmt.Errorf("%s %s: empty lead id: %w", op, key, ErrInvalidInput)
	}
	return nil
}

// Advisory lock namespaces (the two-int form), so leadflow's locks never
// collide with goose's single-bigint migration lock or with each other.
const (
	lockNSDirectory = 1 // objid 0: the directory as a whole
	lockNSRouteKey  = 2 // objid hashtext(key): one Route call per key at a time
	lockNSRecipient = 3 // objid hashtext(recipient): one delivery claim per recipient at a time (rate limit)
	lockNSPolicy    = 4 // objid 0: policy activations, one at a time
)
