package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// DeactivateRep marks an active rep inactive, as an import of a file that
// no longer lists them would: routing never picks them again, and their
// row stays so past assignments, the ledger and metrics still resolve. An
// import of a file that lists them makes them active again. A rep who is
// not active wraps ErrUnknownRep.
func (s Directory) DeactivateRep(ctx context.Context, repID string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Exclusive against imports and away edits, as they are.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, 0)`, lockNSDirectory); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE reps SET active = false, updated_at = now() WHERE id = $1 AND active`, repID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("rep %q: %w", repID, ErrUnknownRep)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deactivate rep %s: %w", repID, err)
	}
	return nil
}

// RepStatus says whether the directory has ever held repID (known) and
// whether they are active now: a deactivated rep is known but not active.
func (s Directory) RepStatus(ctx context.Context, repID string) (known, active bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT active FROM reps WHERE id = $1`, repID).Scan(&active)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("rep status %s: %w", repID, err)
	}
	return true, active, nil
}
