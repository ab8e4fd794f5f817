package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/routing"
)

// RuleManual is the Decision.Rule of a manual reassignment (ForceOwner).
const RuleManual = "manual"

// Route chooses the lead's owner in one transaction: it reads the directory,
// the pool cursor and the candidates' load for their local day, decides
// with routing.Decide, then counts the assignment and stores the decision
// under in.Key. A second call with the same key returns the stored decision
// and changes nothing, so a retried activity never advances a rotation or a
// rep's load twice.
//
// Concurrency: calls through one pool serialize on its pool_cursor row, and
// the candidates' rep_load rows are locked too, so the weighted split and
// daily capacity hold exactly however many workers route at once. Locks are
// taken in one global order (cursors by pool name, then loads by rep id),
// so routes through overlapping pools cannot deadlock.
//
// ForceOwner (a manual reassignment) skips the rules: the rep must exist,
// else the error wraps ErrUnknownRep. FallbackOnly (an SLA reassignment)
// takes the fallback of the first pool rule's pool, else that fallback's
// manager. An unknown pool wraps ErrUnknownPool; nobody left to choose wraps
// routing.ErrNoOwner.
func (s Directory) Route(ctx context.Context, in actions.RouteInput) (routing.Decision, error) {
	if err := requireKey("route", in.Key, in.LeadID); err != nil {
		return routing.Decision{}, err
	}
	if in.At.IsZero() {
		return routing.Decision{}, fmt.Errorf("route lead %s: at is required: %w", in.LeadID, ErrInvalidInput)
	}
	var d routing.Decision
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Two attempts of one activity can overlap (a timed-out attempt is
		// still running when the retry starts): the second waits here, then
		// finds the first one's decision.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, hashtext($2))`, lockNSRouteKey, in.Key); err != nil {
			return err
		}
		var raw []byte
		err := tx.QueryRow(ctx, `SELECT decision FROM route_decisions WHERE key = $1`, in.Key).Scan(&raw)
		if err == nil {
			return json.Unmarshal(raw, &d)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// No import may commit while we read the directory in pieces.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1::int, 0)`, lockNSDirectory); err != nil {
			return err
		}
		dir, err := loadDirectory(ctx, tx)
		if err != nil {
			return err
		}
		if d, err = s.decide(ctx, tx, dir, in); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
INSERT INTO rep_load (rep_id, day, assigned) VALUES ($1, $2::date, 1)
ON CONFLICT (rep_id, day) DO UPDATE SET assigned = rep_load.assigned + 1`,
			d.OwnerID, s.localDay(dir.Reps[d.OwnerID].Timezone, in.At)); err != nil {
			return err
		}
		if d.Pool != "" {
			if _, err := tx.Exec(ctx, `UPDATE pool_cursor SET cursor = $2 WHERE pool = $1`, d.Pool, d.NextCursor); err != nil {
				return err
			}
		}
		raw, err = json.Marshal(d)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO route_decisions (key, lead_id, decision, at) VALUES ($1, $2, $3, $4)`,
			in.Key, in.LeadID, raw, in.At)
		return err
	})
	if err != nil {
		return routing.Decision{}, fmt.Errorf("route lead %s (key %s): %w", in.LeadID, in.Key, err)
	}
	return d, nil
}

// decide locks what the decision reads and makes it.
func (s Directory) decide(ctx context.Context, tx pgx.Tx, dir *directory.Directory, in actions.RouteInput) (routing.Decision, error) {
	if in.ForceOwner != "" {
		if _, ok := dir.Reps[in.ForceOwner]; !ok {
			return routing.Decision{}, fmt.Errorf("force owner %q: %w", in.ForceOwner, ErrUnknownRep)
		}
		load, err := s.lockLoads(ctx, tx, dir, []string{in.ForceOwner}, in)
		if err != nil {
			return routing.Decision{}, err
		}
		return routing.Decide(routing.Request{LeadID: in.LeadID, ForceOwner: in.ForceOwner, At: in.At},
			routing.Snapshot{Dir: dir, Load: load})
	}

	// Decide stops at the first pool rule, so that pool and the account
	// owner of account rules before it are all it can read.
	var poolRule *routing.Rule
	var reps []string
	if in.PreferOwner != "" {
		reps = append(reps, in.PreferOwner) // its load decides whether it can take the lead
	}
	for i, r := range in.Rules {
		if r.AccountOwner {
			if a, ok := dir.Account(in.Domain); ok {
				reps = append(reps, a.Owner)
			}
			continue
		}
		if r.Pool != "" {
			poolRule = &in.Rules[i]
			break
		}
	}
	var cursors map[string]int64
	if poolRule != nil {
		pool, ok := dir.Pools[poolRule.Pool]
		if !ok {
			return routing.Decision{}, fmt.Errorf("rule %s: pool %q: %w", poolRule.Name, poolRule.Pool, ErrUnknownPool)
		}
		var err error
		if cursors, err = lockCursors(ctx, tx, []string{pool.Name}); err != nil {
			return routing.Decision{}, err
		}
		for _, m := range pool.Members {
			reps = append(reps, m.RepID)
		}
		reps = append(reps, pool.Fallback, dir.Reps[pool.Fallback].Manager)
	}
	if in.FallbackOnly && poolRule == nil {
		return routing.Decision{}, fmt.Errorf("fallback only: no pool rule among %d rules: %w", len(in.Rules), routing.ErrNoOwner)
	}
	load, err := s.lockLoads(ctx, tx, dir, reps, in)
	if err != nil {
		return routing.Decision{}, err
	}
	return routing.Decide(routing.Request{
		LeadID:       in.LeadID,
		Domain:       in.Domain,
		Rules:        in.Rules,
		Exclude:      in.Exclude,
		At:           in.At,
		FallbackOnly: in.FallbackOnly,
		PreferOwner:  in.PreferOwner,
	}, routing.Snapshot{Dir: dir, Load: load, Cursors: cursors})
}

// lockCursors creates missing cursor rows and locks them, in pool-name
// order, returning their values.
func lockCursors(ctx context.Context, tx pgx.Tx, pools []string) (map[string]int64, error) {
	pools = slices.Sorted(slices.Values(pools))
	pools = slices.Compact(pools)
	if _, err := tx.Exec(ctx, `
INSERT INTO pool_cursor (pool) SELECT unnest($1::text[]) ORDER BY 1
ON CONFLICT (pool) DO NOTHING`, pools); err != nil {
		return nil, fmt.Errorf("pool cursors: %w", err)
	}
	rows, err := tx.Query(ctx, `
SELECT pool, cursor FROM pool_cursor WHERE pool = ANY($1::text[]) ORDER BY pool FOR UPDATE`, pools)
	if err != nil {
		return nil, fmt.Errorf("pool cursors: %w", err)
	}
	out := map[string]int64{}
	var name string
	var c int64
	if _, err := pgx.ForEachRow(rows, []any{&name, &c}, func() error {
		out[name] = c
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pool cursors: %w", err)
	}
	return out, nil
}

// lockLoads creates missing rep_load rows for each known rep's local day of
// in.At and locks them in rep-id order, returning the loads. Unknown and
// empty ids are skipped (Decide never chooses them).
func (s Directory) lockLoads(ctx context.Context, tx pgx.Tx, dir *directory.Directory, reps []string, in actions.RouteInput) (map[string]int, error) {
	reps = slices.Sorted(slices.Values(reps))
	reps = slices.Compact(reps)
	var ids, days []string
	for _, id := range reps {
		rep, ok := dir.Reps[id]
		if !ok {
			continue
		}
		ids = append(ids, id)
		days = append(days, s.localDay(rep.Timezone, in.At))
	}
	load := map[string]int{}
	if len(ids) == 0 {
		return load, nil
	}
	if _, err := tx.Exec(ctx, `
INSERT INTO rep_load (rep_id, day)
SELECT q.rep_id, q.day::date FROM unnest($1::text[], $2::text[]) AS q(rep_id, day) ORDER BY 1
ON CONFLICT (rep_id, day) DO NOTHING`, ids, days); err != nil {
		return nil, fmt.Errorf("rep load: %w", err)
	}
	rows, err := tx.Query(ctx, `
SELECT l.rep_id, l.assigned
FROM rep_load l JOIN unnest($1::text[], $2::text[]) AS q(rep_id, day)
  ON l.rep_id = q.rep_id AND l.day = q.day::date
ORDER BY l.rep_id
FOR UPDATE OF l`, ids, days)
	if err != nil {
		return nil, fmt.Errorf("rep load: %w", err)
	}
	var id string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		load[id] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("rep load: %w", err)
	}
	return load, nil
}
