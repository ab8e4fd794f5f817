package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/directory"
)

// Directory is the sales directory and its routing state; Route (route.go) and
// DeactivateRep (deactivate.go) are its transactions.
type Directory struct{ *conn }

// ImportDirectory replaces the directory (reps, pools, members, accounts,
// away) with d in one transaction, so routing sees the old directory or the
// new one, never a mix. rep_load and pool_cursor are kept: an import in the
// middle of the day must not reset capacity or restart the rotation. Reps
// missing from d are marked inactive, not deleted, so their past
// assignments still resolve.
func (s Directory) ImportDirectory(ctx context.Context, d *directory.Directory) error {
	if d == nil {
		return fmt.Errorf("import directory: nil directory: %w", ErrInvalidInput)
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("import directory: %w: %w", ErrInvalidInput, err)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Exclusive against other imports and away edits; Route holds the
		// shared side while it reads the directory.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, 0)`, lockNSDirectory); err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM away`)
		b.Queue(`DELETE FROM accounts`)
		b.Queue(`DELETE FROM pool_members`)
		b.Queue(`DELETE FROM pools`)
		b.Queue(`UPDATE reps SET active = false, updated_at = now() WHERE active`)
		for _, id := range sortedKeys(d.Reps) {
			r := d.Reps[id]
			b.Queue(`
INSERT INTO reps (id, name, manager, timezone, capacity_per_day, email, hubspot_owner_id, slack, active, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, now())
ON CONFLICT (id) DO UPDATE SET name = excluded.name, manager = excluded.manager,
    timezone = excluded.timezone, capacity_per_day = excluded.capacity_per_day,
    email = excluded.email, hubspot_owner_id = excluded.hubspot_owner_id, slack = excluded.slack,
    active = true, updated_at = now()`,
				r.ID, r.Name, nullable(r.Manager), r.Timezone, r.CapacityPerDay, nullable(r.Email), nullable(r.HubSpotOwnerID), nullable(r.Slack))
		}
		for _, name := range sortedKeys(d.Pools) {
			p := d.Pools[name]
			b.Queue(`INSERT INTO pools (name, strategy, fallback) VALUES ($1, $2, $3)`, p.Name, p.Strategy, p.Fallback)
			for i, m := range p.Members {
				b.Queue(`INSERT INTO pool_members (pool, rep_id, weight, position) VALUES ($1, $2, $3, $4)`,
					p.Name, m.RepID, m.Weight, i)
			}
		}
		for _, key := range sortedKeys(d.Accounts) {
			a := d.Accounts[key]
			b.Queue(`INSERT INTO accounts (domain, written, owner, name) VALUES ($1, $2, $3, $4)`,
				directory.NormalizeDomain(a.Domain), a.Domain, a.Owner, a.Name)
		}
		for _, a := range d.Away {
			b.Queue(`
INSERT INTO away (rep_id, from_date, to_date) VALUES ($1, $2::date, $3::date)
ON CONFLICT (rep_id, from_date, to_date) DO NOTHING`, a.RepID, a.From, a.To)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("import directory (%d reps, %d pools): %w", len(d.Reps), len(d.Pools), err)
	}
	return nil
}

// Directory returns the imported directory, with away edits applied.
func (s Directory) Directory(ctx context.Context) (*directory.Directory, error) {
	var d *directory.Directory
	// Repeatable read: the five reads see one snapshot.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			var err error
			d, err = loadDirectory(ctx, tx)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("load directory: %w", err)
	}
	return d, nil
}

// loadDirectory reads the active directory through q. The caller makes the
// reads consistent (a snapshot or the directory lock).
func loadDirectory(ctx context.Context, q querier) (*directory.Directory, error) {
	d := &directory.Directory{
		Reps:     map[string]directory.Rep{},
		Pools:    map[string]directory.Pool{},
		Accounts: map[string]directory.Account{},
	}
	rows, err := q.Query(ctx, `
SELECT id, name, coalesce(manager, ''), timezone, capacity_per_day, coalesce(email, ''), coalesce(hubspot_owner_id, ''), coalesce(slack, '')
FROM reps WHERE active`)
	if err != nil {
		return nil, err
	}
	var r directory.Rep
	if _, err := pgx.ForEachRow(rows, []any{&r.ID, &r.Name, &r.Manager, &r.Timezone, &r.CapacityPerDay, &r.Email, &r.HubSpotOwnerID, &r.Slack}, func() error {
		d.Reps[r.ID] = r
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reps: %w", err)
	}

	rows, err = q.Query(ctx, `SELECT name, strategy, fallback FROM pools`)
	if err != nil {
		return nil, err
	}
	var p directory.Pool
	if _, err := pgx.ForEachRow(rows, []any{&p.Name, &p.Strategy, &p.Fallback}, func() error {
		d.Pools[p.Name] = p
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pools: %w", err)
	}

	rows, err = q.Query(ctx, `SELECT pool, rep_id, weight FROM pool_members ORDER BY pool, position`)
	if err != nil {
		return nil, err
	}
	var pool string
	var m directory.Member
	if _, err := pgx.ForEachRow(rows, []any{&pool, &m.RepID, &m.Weight}, func() error {
		p := d.Pools[pool]
		p.Members = append(p.Members, m)
		d.Pools[pool] = p
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pool members: %w", err)
	}

	rows, err = q.Query(ctx, `SELECT domain, written, owner, name FROM accounts`)
	if err != nil {
		return nil, err
	}
	var key string
	var a directory.Account
	if _, err := pgx.ForEachRow(rows, []any{&key, &a.Domain, &a.Owner, &a.Name}, func() error {
		d.Accounts[key] = a
		return nil
	}); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}

	rows, err = q.Query(ctx, `
SELECT rep_id, to_char(from_date, 'YYYY-MM-DD'), to_char(to_date, 'YYYY-MM-DD') FROM away ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var w directory.Away
	if _, err := pgx.ForEachRow(rows, []any{&w.RepID, &w.From, &w.To}, func() error {
		d.Away = append(d.Away, w)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("away: %w", err)
	}
	return d, nil
}

// SetAway marks a rep out of office from..to (YYYY-MM-DD, inclusive, in the
// rep's timezone). Setting the same range twice is a no-op.
func (s Directory) SetAway(ctx context.Context, repID, from, to string) error {
	f, err := time.Parse(directory.DateLayout, from)
	if err != nil {
		return fmt.Errorf("set away %s: from %q is not a date (want YYYY-MM-DD): %w", repID, from, ErrInvalidInput)
	}
	t, err := time.Parse(directory.DateLayout, to)
	if err != nil {
		return fmt.Errorf("set away %s: to %q is not a date (want YYYY-MM-DD): %w", repID, to, ErrInvalidInput)
	}
	if t.Before(f) {
		return fmt.Errorf("set away %s: to %s is before from %s: %w", repID, to, from, ErrInvalidInput)
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, 0)`, lockNSDirectory); err != nil {
			return err
		}
		if _, err := activeRepTZ(ctx, tx, repID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
INSERT INTO away (rep_id, from_date, to_date) VALUES ($1, $2::date, $3::date)
ON CONFLICT (rep_id, from_date, to_date) DO NOTHING`, repID, from, to)
		return err
	})
	if err != nil {
		return fmt.Errorf("set away %s %s..%s: %w", repID, from, to, err)
	}
	return nil
}

// ClearAway says the rep is back on the local date of on (in the rep's
// timezone): away ranges covering that date end the day before, or go away
// when they start that day. Later ranges (a planned holiday) stay.
func (s Directory) ClearAway(ctx context.Context, repID string, on time.Time) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, 0)`, lockNSDirectory); err != nil {
			return err
		}
		tz, err := activeRepTZ(ctx, tx, repID)
		if err != nil {
			return err
		}
		day := s.localDay(tz, on)
		rows, err := tx.Query(ctx, `
DELETE FROM away WHERE rep_id = $1 AND from_date <= $2::date AND to_date >= $2::date
RETURNING to_char(from_date, 'YYYY-MM-DD')`, repID, day)
		if err != nil {
			return err
		}
		starts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, from := range starts {
			if from == day {
				continue // the whole range was today onwards
			}
			// Re-insert shortened; DO NOTHING if an identical range exists.
			if _, err := tx.Exec(ctx, `
INSERT INTO away (rep_id, from_date, to_date) VALUES ($1, $2::date, $3::date - 1)
ON CONFLICT (rep_id, from_date, to_date) DO NOTHING`, repID, from, day); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("clear away %s on %s: %w", repID, on.Format(time.RFC3339), err)
	}
	return nil
}

// activeRepTZ returns the timezone of an active rep, or ErrUnknownRep.
func activeRepTZ(ctx context.Context, q querier, repID string) (string, error) {
	var tz string
	err := q.QueryRow(ctx, `SELECT timezone FROM reps WHERE id = $1 AND active`, repID).Scan(&tz)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("rep %q: %w", repID, ErrUnknownRep)
	}
	return tz, err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
