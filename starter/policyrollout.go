package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
)

// policyDBTimeout bounds each policy command's work in Postgres.
const policyDBTimeout = 30 * time.Second

// workerSeenWithin: a worker that reported within this long counts as
// running in `policy status` (workers report every LEADFLOW_POLICY_POLL).
const workerSeenWithin = 2 * time.Minute

const policyRolloutDetail = `
Policy versions live in Postgres. publish validates FILE as 'policy check'
does (and its pools against the imported directory) and stores it under its
version label: publishing the same file again is a no-op, a label already
used for another source is refused. activate VERSION makes every worker run
that version within LEADFLOW_POLICY_POLL; rollback activates the version
before the current one. A lead adopts a newer activation at its next event
or timer and never goes back to an older one. Until a version is activated
workers run their LEADFLOW_POLICY file.`

// policyStore opens the store under the command's deadline.
func (a *app) policyStore(ctx context.Context) (*store.DB, context.Context, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(ctx, policyDBTimeout)
	st, err := a.openStore(ctx)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return st, ctx, cancel, nil
}

// byOf is --by, defaulting to the user name.
func (a *app) byOf(c *command, by string) (string, error) {
	by = strings.TrimSpace(by)
	if by == "" && a.user != nil {
		by = a.user()
	}
	if by == "" {
		return "", usagef(c, "--by is required (your user name could not be found)")
	}
	return by, nil
}

func cmdPolicyPublish(ctx context.Context, a *app, c *command, args []string) error {
	return policyChange(ctx, a, c, args, 1, func(ctx context.Context, ps *store.Policies, pos []string, by string) error {
		p, err := loadPolicyFile(a, pos[0])
		if err != nil {
			return err
		}
		if err := checkPoolsInStore(ctx, a, ps, p); err != nil {
			return err
		}
		v, created, err := ps.Publish(ctx, p.Version, p.Source, by)
		if err != nil {
			return fmt.Errorf("policy publish %s: %w", pos[0], err)
		}
		if !created {
			fmt.Fprintf(a.stdout, "version %s is already published with this source (%s by %s); nothing changed\n",
				v.Version, v.PublishedAt.UTC().Format(time.RFC3339), v.PublishedBy)
			return nil
		}
		fmt.Fprintf(a.stdout, "published version %s (digest %s); `starter policy shadow --version %s` shows what it would change, `starter policy activate %s` makes it live\n",
			v.Version, v.Digest[:12], v.Version, v.Version)
		return nil
	})
}

// checkPoolsInStore refuses a policy routing to a pool the imported
// directory lacks (no directory imported yet: nothing to check against).
func checkPoolsInStore(ctx context.Context, a *app, ps *store.Policies, p *policy.Policy) error {
	dir, err := ps.Directory(ctx)
	if err != nil {
		return fmt.Errorf("policy publish: read the directory: %w", err)
	}
	if len(dir.Pools) == 0 {
		return nil
	}
	if err := p.CheckPools(poolNames(dir)); err != nil {
		printErrors(a.stderr, err)
		fmt.Fprintln(a.stderr, "(the pools are checked against the directory imported in Postgres)")
		return errReported
	}
	return nil
}

// policyChange runs one activation command: --by (default the user name),
// want positional arguments, then fn on the policy store under the
// command's deadline.
func policyChange(ctx context.Context, a *app, c *command, args []string, want int,
	fn func(ctx context.Context, ps *store.Policies, pos []string, by string) error) error {
	fs := c.flagSet(a)
	byFlag := fs.String("by", "", "who does it (default: your user name)")
	pos, err := parseArgs(c, fs, args, want, want)
	if err != nil {
		return err
	}
	by, err := a.byOf(c, *byFlag)
	if err != nil {
		return err
	}
	st, ctx, cancel, err := a.policyStore(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	defer cancel()
	defer st.Close()
	return fn(ctx, st.Policies(), pos, by)
}

func cmdPolicyActivate(ctx context.Context, a *app, c *command, args []string) error {
	return policyChange(ctx, a, c, args, 1, func(ctx context.Context, ps *store.Policies, pos []string, by string) error {
		act, changed, err := ps.Activate(ctx, pos[0], by)
		if err != nil {
			return fmt.Errorf("policy activate: %w", err)
		}
		if !changed {
			fmt.Fprintf(a.stdout, "version %s is already active (activation %d); nothing changed\n", act.Version, act.Seq)
			return nil
		}
		fmt.Fprintf(a.stdout, "activated version %s (activation %d); workers switch within LEADFLOW_POLICY_POLL, each lead at its next event or timer\n", act.Version, act.Seq)
		return nil
	})
}

func cmdPolicyRollback(ctx context.Context, a *app, c *command, args []string) error {
	return policyChange(ctx, a, c, args, 0, func(ctx context.Context, ps *store.Policies, _ []string, by string) error {
		act, err := ps.Rollback(ctx, by)
		if errors.Is(err, store.ErrPolicyConflict) {
			fmt.Fprintf(a.stderr, "starter: %v\n", err)
			return errReported
		}
		if err != nil {
			return fmt.Errorf("policy rollback: %w", err)
		}
		fmt.Fprintf(a.stdout, "rolled back to version %s (activation %d)\n", act.Version, act.Seq)
		return nil
	})
}

// cmdPolicyStatus prints the active version, the published ones with their
// activations, and what each worker reported running.
func cmdPolicyStatus(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	if _, err := parseArgs(c, fs, args, 0, 0); err != nil {
		return err
	}
	st, ctx, cancel, err := a.policyStore(ctx)
	if err != nil {
		return fmt.Errorf("policy %s: %w", c.name, err)
	}
	defer cancel()
	defer st.Close()
	ps := st.Policies()
	active, ok, err := ps.Active(ctx)
	if err != nil {
		return fmt.Errorf("policy %s: %w", c.name, err)
	}
	versions, err := ps.Versions(ctx)
	if err != nil {
		return fmt.Errorf("policy %s: %w", c.name, err)
	}
	acts, err := ps.Activations(ctx)
	if err != nil {
		return fmt.Errorf("policy %s: %w", c.name, err)
	}
	workers, err := ps.Workers(ctx, a.now().Add(-workerSeenWithin))
	if err != nil {
		return fmt.Errorf("policy %s: %w", c.name, err)
	}
	if ok {
		fmt.Fprintf(a.stdout, "active: %s (activation %d, %s %s by %s)\n", active.Version, active.Seq, active.Kind, active.At.UTC().Format(time.RFC3339), active.By)
	} else {
		fmt.Fprintln(a.stdout, "active: none — workers run their LEADFLOW_POLICY file")
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nVERSION\tDIGEST\tPUBLISHED\tBY\t")
	for _, v := range versions {
		mark := ""
		if ok && v.Version == active.Version {
			mark = "active"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Version, v.Digest[:12], v.PublishedAt.UTC().Format(time.RFC3339), v.PublishedBy, mark)
	}
	if len(acts) > 0 {
		fmt.Fprintln(tw, "\nSEQ\tVERSION\tKIND\tAT\tBY")
		for _, x := range acts {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", x.Seq, x.Version, x.Kind, x.At.UTC().Format(time.RFC3339), x.By)
		}
	}
	if len(workers) > 0 {
		fmt.Fprintf(tw, "\nWORKER\tVERSION\tACTIVATION\tSEEN\t\n")
		for _, w := range workers {
			seq := fmt.Sprint(w.Seq)
			if w.Seq == 0 {
				seq = "- (its file)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", w.Worker, w.Version, seq, w.SeenAt.UTC().Format(time.RFC3339))
		}
	} else {
		fmt.Fprintf(tw, "\nno worker reported in the last %s\n", workerSeenWithin)
	}
	return tw.Flush()
}
