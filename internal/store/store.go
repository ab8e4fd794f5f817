// Package store is leadflow's Postgres persistence (pgx/v5): schema
// migrations, the append-only ledger and its metrics, the sales directory
// and routing state, and the tables behind the built-in CRM and nurture
// adapters. Open returns the DB; each service is a type of its own over its
// pool, one file each (see DB).
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

// DB is the leadflow database: one pgxpool shared by every port type
// built from it. It is safe for concurrent use. Each port a caller needs is
// a small type of its own over the same pool (db.Ledger(), db.CRM(), …), so
// a caller takes, and a test fakes, only what it uses.
//
// A new service is a file of its own with its type over the pool: either a
// value built from the DB, as here (`type Foo struct{ *conn }` and
// `func (db *DB) Foo() Foo { return Foo{db.conn} }`), which shares the clock
// and the zone cache, or a constructor taking db.Pool().
type DB struct{ *conn }

// conn is what every port shares: the pool, the clock and the zone cache.
type conn struct {
	pool *pgxpool.Pool
	now  func() time.Time
	locs *sync.Map // IANA name → *time.Location, so routing does not reread zoneinfo
}

// Option configures a DB.
type Option func(*DB)

// WithClock sets the clock used for "now" (send times, created_at); tests
// pass a fixed one. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(db *DB) { db.now = now }
}

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open pool: %w", err)
	}
	db := &DB{&conn{pool: pool, now: time.Now, locs: &sync.Map{}}}
	for _, o := range opts {
		o(db)
	}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (d *DB) Close() { d.pool.Close() }

// Ping checks that Postgres is reachable (readiness).
func (d *DB) Ping(ctx context.Context) error {
	if err := d.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping %s/%s: %w", d.pool.Config().ConnConfig.Host, d.pool.Config().ConnConfig.Database, err)
	}
	return nil
}

// Pool is the underlying pool, for callers that need plain SQL (reports).
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// The ports, one type each, all over the same pool.

// Ledger is the append-only ledger (ledger.go).
func (d *DB) Ledger() Ledger { return Ledger{d.conn} }

// States are the leads' published states (states.go, lead_states_query.go).
func (d *DB) States() States { return States{d.conn} }

// Metrics are the ledger's counts and the weekly report's snapshots
// (metrics.go).
func (d *DB) Metrics() Metrics { return Metrics{d.conn} }

// Directory is the sales directory and the routing transaction
// (directory.go, route.go, deactivate.go).
func (d *DB) Directory() Directory { return Directory{d.conn} }

// CRM is the built-in CRM (crm.go).
func (d *DB) CRM() CRM { return CRM{d.conn} }

// Nurture is the built-in nurture (nurture.go).
func (d *DB) Nurture() Nurture { return Nurture{d.conn} }

// HubSpot is the HubSpot adapter's bookkeeping (hubspot.go).
func (d *DB) HubSpot() HubSpot { return HubSpot{d.conn} }

// Merges are the merged leads (merges.go).
func (d *DB) Merges() Merges { return Merges{d.conn} }

// Receipts are the HTTP edge's event receipts (receipts.go).
func (d *DB) Receipts() Receipts { return Receipts{d.conn} }

// Deliveries are the notification deliveries (deliveries.go).
func (d *DB) Deliveries() Deliveries { return Deliveries{d.conn} }

// Auth is the rep tokens and web UI sessions (auth.go).
func (d *DB) Auth() Auth { return Auth{d.conn} }

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
func (s *conn) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, fn)
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// location loads and caches an IANA zone; "" is UTC.
func (s *conn) location(tz string) (*time.Location, error) {
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
func (s *conn) localDay(tz string, at time.Time) string {
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
