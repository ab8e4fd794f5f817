package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/leadflow/leadflow/internal/store"
)

// openStore creates the database if it is missing, connects and applies the
// migrations, so every command that needs Postgres works on a fresh server.
func openStore(ctx context.Context, dbURL string) (*store.DB, error) {
	if err := store.EnsureDatabase(ctx, dbURL); err != nil {
		return nil, fmt.Errorf("ensure database %s: %w", redactURL(dbURL), err)
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactURL(dbURL), err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate database %s: %w", redactURL(dbURL), err)
	}
	return st, nil
}

// redactURL hides a password in a database URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable DATABASE_URL)"
	}
	return u.Redacted()
}

func cmdDBMigrate(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	if _, err := parseArgs(c, fs, args, 0, 0); err != nil {
		return err
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("db migrate: %w", err)
	}
	st.Close()
	fmt.Fprintf(a.stdout, "database %s is migrated\n", redactURL(cfg.DatabaseURL))
	return nil
}
