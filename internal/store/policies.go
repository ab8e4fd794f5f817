package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
)

// ErrPolicyConflict: a version label already names another source, or a
// rollback has nothing to go back to.
var ErrPolicyConflict = errors.New("policy conflict")

// Activation kinds.
const (
	PolicyActivate = "activate"
	PolicyRollback = "rollback"
)

// PolicyVersion is one published policy.
type PolicyVersion struct {
	Version     string
	Digest      string
	Source      []byte // empty in Versions' list
	PublishedAt time.Time
	PublishedBy string
}

// PolicyActivation is one entry of the append-only activation list; the
// highest Seq is the active version.
type PolicyActivation struct {
	Seq     int64
	Version string
	Kind    string
	At      time.Time
	By      string
}

// ActivePolicy is the activation in force with the source it activated.
type ActivePolicy struct {
	PolicyActivation
	Digest string
	Source []byte
}

// PolicyWorker is what a worker last reported running (Seq 0: its file).
type PolicyWorker struct {
	Worker  string
	Version string
	Digest  string
	Seq     int64
	SeenAt  time.Time
}

// Policies is the store of policy versions and activations. It is its own
// type over the pool so the policy rollout owns its tables alone.
type Policies struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewPolicies returns the policy store on pool.
func NewPolicies(pool *pgxpool.Pool) *Policies {
	return &Policies{pool: pool, now: time.Now}
}

// Policies returns the policy store on the DB's pool.
func (d *DB) Policies() *Policies { return &Policies{pool: d.pool, now: d.now} }

// Publish stores a validated policy source under its version label.
// Publishing the same source again returns the stored version with created
// false; a label already taken by another source is ErrPolicyConflict.
func (p *Policies) Publish(ctx context.Context, version string, source []byte, by string) (PolicyVersion, bool, error) {
	if version == "" || len(source) == 0 {
		return PolicyVersion{}, false, fmt.Errorf("publish policy %q: empty version or source: %w", version, ErrInvalidInput)
	}
	sum := sha256.Sum256(source)
	digest := hex.EncodeToString(sum[:])
	tag, err := p.pool.Exec(ctx, `
INSERT INTO policy_versions (version, digest, source, published_at, published_by)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, version, digest, string(source), p.now(), by)
	if err != nil {
		return PolicyVersion{}, false, fmt.Errorf("publish policy %s: %w", version, err)
	}
	created := tag.RowsAffected() == 1
	// Either the row is ours or a conflict on the label or the digest: the
	// row under the label tells which.
	got, err := p.Version(ctx, version)
	if errors.Is(err, ErrNotFound) {
		var other string
		if err := p.pool.QueryRow(ctx, `SELECT version FROM policy_versions WHERE digest = $1`, digest).Scan(&other); err != nil {
			return PolicyVersion{}, false, fmt.Errorf("publish policy %s: %w", version, err)
		}
		return PolicyVersion{}, false, fmt.Errorf("publish policy %s: the same source is already published as version %s: %w", version, other, ErrPolicyConflict)
	}
	if err != nil {
		return PolicyVersion{}, false, fmt.Errorf("publish policy %s: %w", version, err)
	}
	if got.Digest != digest {
		return PolicyVersion{}, false, fmt.Errorf("publish policy %s: version %s is already published with another source (digest %s, published %s by %s); give the new file a new version: %w",
			version, version, got.Digest[:12], got.PublishedAt.UTC().Format(time.RFC3339), got.PublishedBy, ErrPolicyConflict)
	}
	return got, created, nil
}

// Version returns one published version with its source, or ErrNotFound.
func (p *Policies) Version(ctx context.Context, version string) (PolicyVersion, error) {
	var v PolicyVersion
	var src string
	err := p.pool.QueryRow(ctx, `
SELECT version, digest, source, published_at, published_by FROM policy_versions WHERE version = $1`, version).
		Scan(&v.Version, &v.Digest, &src, &v.PublishedAt, &v.PublishedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return PolicyVersion{}, fmt.Errorf("policy version %s: %w", version, ErrNotFound)
	}
	if err != nil {
		return PolicyVersion{}, fmt.Errorf("policy version %s: %w", version, err)
	}
	v.Source = []byte(src)
	return v, nil
}

// Versions lists the published versions, oldest first, without sources.
func (p *Policies) Versions(ctx context.Context) ([]PolicyVersion, error) {
	rows, err := p.pool.Query(ctx, `
SELECT version, digest, published_at, published_by FROM policy_versions ORDER BY published_at, version`)
	if err != nil {
		return nil, fmt.Errorf("policy versions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PolicyVersion, error) {
		var v PolicyVersion
		err := r.Scan(&v.Version, &v.Digest, &v.PublishedAt, &v.PublishedBy)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("policy versions: %w", err)
	}
	return out, nil
}

// Activations lists every activation, oldest first.
func (p *Policies) Activations(ctx context.Context) ([]PolicyActivation, error) {
	return activations(ctx, p.pool)
}

func activations(ctx context.Context, q querier) ([]PolicyActivation, error) {
	rows, err := q.Query(ctx, `SELECT seq, version, kind, activated_at, activated_by FROM policy_activations ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("policy activations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PolicyActivation, error) {
		var a PolicyActivation
		err := r.Scan(&a.Seq, &a.Version, &a.Kind, &a.At, &a.By)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("policy activations: %w", err)
	}
	return out, nil
}

// Active returns the activation in force and its source; ok is false when
// no version was ever activated (workers run their file).
func (p *Policies) Active(ctx context.Context) (ActivePolicy, bool, error) {
	var a ActivePolicy
	var src string
	err := p.pool.QueryRow(ctx, `
SELECT a.seq, a.version, a.kind, a.activated_at, a.activated_by, v.digest, v.source
FROM policy_activations a JOIN policy_versions v USING (version)
ORDER BY a.seq DESC LIMIT 1`).Scan(&a.Seq, &a.Version, &a.Kind, &a.At, &a.By, &a.Digest, &src)
	if errors.Is(err, pgx.ErrNoRows) {
		return ActivePolicy{}, false, nil
	}
	if err != nil {
		return ActivePolicy{}, false, fmt.Errorf("active policy: %w", err)
	}
	a.Source = []byte(src)
	return a, true, nil
}

// Activate makes a published version the active one. Activating the version
// already active changes nothing (changed false, its activation returned).
func (p *Policies) Activate(ctx context.Context, version, by string) (act PolicyActivation, changed bool, err error) {
	err = p.activating(ctx, func(tx pgx.Tx, hist []PolicyActivation) error {
		if n := len(hist); n > 0 && hist[n-1].Version == version {
			act = hist[n-1]
			return nil
		}
		act, err = p.appendActivation(ctx, tx, version, PolicyActivate, by)
		changed = err == nil
		return err
	})
	if err != nil {
		return PolicyActivation{}, false, fmt.Errorf("activate policy %s: %w", version, err)
	}
	return act, changed, nil
}

// Rollback activates the version that was active before the current one
// (each rollback steps one further back past the activations it undid),
// as a new activation of kind rollback.
func (p *Policies) Rollback(ctx context.Context, by string) (PolicyActivation, error) {
	var act PolicyActivation
	err := p.activating(ctx, func(tx pgx.Tx, hist []PolicyActivation) error {
		to, ok := RollbackTarget(hist)
		if !ok {
			return fmt.Errorf("no earlier activation to roll back to: %w", ErrPolicyConflict)
		}
		var err error
		act, err = p.appendActivation(ctx, tx, to, PolicyRollback, by)
		return err
	})
	if err != nil {
		return PolicyActivation{}, fmt.Errorf("roll back policy: %w", err)
	}
	return act, nil
}

// activating runs fn with the activation history under a transaction-wide
// advisory lock, so two operators' activations are applied one after the
// other, each seeing the other's.
func (p *Policies) activating(ctx context.Context, fn func(pgx.Tx, []PolicyActivation) error) error {
	return pgx.BeginTxFunc(ctx, p.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, lockNSPolicy); err != nil {
			return err
		}
		hist, err := activations(ctx, tx)
		if err != nil {
			return err
		}
		return fn(tx, hist)
	})
}

func (p *Policies) appendActivation(ctx context.Context, tx pgx.Tx, version, kind, by string) (PolicyActivation, error) {
	a := PolicyActivation{Version: version, Kind: kind, At: p.now(), By: by}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM policy_versions WHERE version = $1)`, version).Scan(&exists); err != nil {
		return a, err
	}
	if !exists {
		return a, fmt.Errorf("version %s is not published (starter policy publish FILE first): %w", version, ErrNotFound)
	}
	err := tx.QueryRow(ctx, `
INSERT INTO policy_activations (version, kind, activated_at, activated_by) VALUES ($1, $2, $3, $4) RETURNING seq`,
		version, kind, a.At, by).Scan(&a.Seq)
	return a, err
}

// RollbackTarget is the version a rollback goes to: the activations are a
// stack (activate pushes, rollback pops), and the target is the entry under
// the top. ok is false when there is none.
func RollbackTarget(hist []PolicyActivation) (string, bool) {
	var stack []string
	for _, a := range hist {
		switch a.Kind {
		case PolicyRollback:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			// The popped-to entry is the rollback's version; should the
			// list disagree (edited by hand), the recorded version wins.
			if len(stack) == 0 || stack[len(stack)-1] != a.Version {
				stack = append(stack, a.Version)
			}
		default:
			stack = append(stack, a.Version)
		}
	}
	if len(stack) < 2 {
		return "", false
	}
	return stack[len(stack)-2], true
}

// workerReportsKept: reports older than this are dropped as new ones come,
// so workers that restarted (a new pid) do not pile up.
const workerReportsKept = 24 * time.Hour

// ReportWorker records what a worker runs now.
func (p *Policies) ReportWorker(ctx context.Context, w PolicyWorker) error {
	if _, err := p.pool.Exec(ctx, `DELETE FROM policy_workers WHERE seen_at < $1`, p.now().Add(-workerReportsKept)); err != nil {
		return fmt.Errorf("report policy of worker %s: prune: %w", w.Worker, err)
	}
	_, err := p.pool.Exec(ctx, `
INSERT INTO policy_workers (worker, version, digest, seq, seen_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (worker) DO UPDATE SET version = excluded.version, digest = excluded.digest, seq = excluded.seq, seen_at = excluded.seen_at`,
		w.Worker, w.Version, w.Digest, w.Seq, p.now())
	if err != nil {
		return fmt.Errorf("report policy of worker %s: %w", w.Worker, err)
	}
	return nil
}

// Workers lists the workers seen since since, by name.
func (p *Policies) Workers(ctx context.Context, since time.Time) ([]PolicyWorker, error) {
	rows, err := p.pool.Query(ctx, `
SELECT worker, version, digest, seq, seen_at FROM policy_workers WHERE seen_at >= $1 ORDER BY worker`, since)
	if err != nil {
		return nil, fmt.Errorf("policy workers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PolicyWorker, error) {
		var w PolicyWorker
		err := r.Scan(&w.Worker, &w.Version, &w.Digest, &w.Seq, &w.SeenAt)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("policy workers: %w", err)
	}
	return out, nil
}

// LeadInputs is one lead's last published view with its decision inputs
// (nil for a snapshot published before inputs were kept).
type LeadInputs struct {
	View   lead.View
	Inputs *actions.DecisionInputs
}

// OpenLeadInputs lists every lead not disqualified or merged, as it last
// published, by lead ID: what policy shadow evaluates a candidate on.
func (p *Policies) OpenLeadInputs(ctx context.Context) ([]LeadInputs, error) {
	rows, err := p.pool.Query(ctx, `
SELECT view, inputs FROM lead_states
WHERE view->>'stage' NOT IN ('disqualified', 'merged') ORDER BY lead_id`)
	if err != nil {
		return nil, fmt.Errorf("open leads: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LeadInputs, error) {
		var view, inputs []byte
		if err := r.Scan(&view, &inputs); err != nil {
			return LeadInputs{}, err
		}
		var l LeadInputs
		if err := json.Unmarshal(view, &l.View); err != nil {
			return l, fmt.Errorf("view: %w", err)
		}
		if inputs != nil {
			l.Inputs = &actions.DecisionInputs{}
			if err := json.Unmarshal(inputs, l.Inputs); err != nil {
				return l, fmt.Errorf("inputs of lead %s: %w", l.View.LeadID, err)
			}
		}
		return l, nil
	})
	if err != nil {
		return nil, fmt.Errorf("open leads: %w", err)
	}
	return out, nil
}

// Directory is the imported directory, for checking a policy's pools.
func (p *Policies) Directory(ctx context.Context) (*directory.Directory, error) {
	return Directory{&conn{pool: p.pool, now: p.now, locs: &sync.Map{}}}.Directory(ctx)
}
