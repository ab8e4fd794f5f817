package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the embedded migrations that have not run yet. Workers and
// the starter all migrate at startup, so a Postgres session advisory lock
// makes concurrent calls take turns: the first applies, the rest find
// nothing to do.
func (d *DB) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Probe every second for up to 10 minutes: the holder may be running a
	// slow migration, and the default 5 s probe makes every start slow.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		return fmt.Errorf("migrate: locker: %w", err)
	}
	// database/sql over the same pool; closing it leaves the pool open.
	db := stdlib.OpenDBFromPool(d.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true), // only our SQL files, never Go migrations registered elsewhere
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
