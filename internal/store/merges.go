package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Merges are the merged leads: which lead a merged one forwards to.
type Merges struct{ *conn }

// MaxMergeHops bounds MergedInto's walk along a chain of merges.
const MaxMergeHops = 10

// RecordMerge records that lead from was merged into lead to. Recording it
// again is a no-op; a later merge of from elsewhere replaces the target. A
// merge that would close a loop (to already leads back to from) is refused.
func (s Merges) RecordMerge(ctx context.Context, from, to string) error {
	if from == "" || to == "" || from == to {
		return fmt.Errorf("record merge %q into %q: %w", from, to, ErrInvalidInput)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Serialize merges so two opposite merges cannot both pass the loop check.
		if _, err := tx.Exec(ctx, `LOCK TABLE merges IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		loop, err := reaches(ctx, tx, to, from)
		if err != nil {
			return err
		}
		if loop {
			return fmt.Errorf("%s is already merged into %s, directly or through a chain: %w", to, from, ErrInvalidInput)
		}
		_, err = tx.Exec(ctx, `
INSERT INTO merges (lead_id, merged_into, at) VALUES ($1, $2, $3)
ON CONFLICT (lead_id) DO UPDATE SET merged_into = excluded.merged_into, at = excluded.at
WHERE merges.merged_into <> excluded.merged_into`, from, to, s.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("record merge %s into %s: %w", from, to, err)
	}
	return nil
}

// reaches reports whether following merges from a passes through b.
func reaches(ctx context.Context, q querier, a, b string) (bool, error) {
	var found bool
	err := q.QueryRow(ctx, `
WITH RECURSIVE chain (lead_id, hops) AS (
    SELECT merged_into, 1 FROM merges WHERE lead_id = $1
    UNION ALL
    SELECT m.merged_into, c.hops + 1 FROM merges m JOIN chain c ON m.lead_id = c.lead_id
    WHERE c.hops < $3
)
SELECT EXISTS (SELECT 1 FROM chain WHERE lead_id = $2)`, a, b, MaxMergeHops).Scan(&found)
	return found, err
}

// MergedInto returns the lead that leadID's events now go to, following a
// chain of merges (a into b, b into c gives c) for at most MaxMergeHops.
func (s Merges) MergedInto(ctx context.Context, leadID string) (string, bool, error) {
	to, ok, err := mergedInto(ctx, s.pool, leadID)
	if err != nil {
		return "", false, fmt.Errorf("merged into of lead %s: %w", leadID, err)
	}
	return to, ok, nil
}

func mergedInto(ctx context.Context, q querier, leadID string) (string, bool, error) {
	var to string
	err := q.QueryRow(ctx, `
WITH RECURSIVE chain (lead_id, hops) AS (
    SELECT merged_into, 1 FROM merges WHERE lead_id = $1
    UNION ALL
    SELECT m.merged_into, c.hops + 1 FROM merges m JOIN chain c ON m.lead_id = c.lead_id
    WHERE c.hops < $2
)
SELECT lead_id FROM chain ORDER BY hops DESC LIMIT 1`, leadID, MaxMergeHops).Scan(&to)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return to, true, nil
}
