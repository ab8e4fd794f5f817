package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/repchange"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/temporalx"
)

// Rep changes act on the rep's leads at once (internal/repchange): these
// commands talk to Temporal directly, not through `starter serve`.

// repDialTimeout bounds connecting to Temporal; a var so tests need not
// wait it out.
var repDialTimeout = 10 * time.Second

// withLeads dials Temporal as the config says and runs fn with a Mover
// over it. changed says a directory change was already made, so a failure
// says it stays made.
func (a *app) withLeads(ctx context.Context, changed bool, fn func(*repchange.Mover) error) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, repDialTimeout)
	tc, err := temporalx.Dial(dctx, cfg, nil, nil)
	cancel()
	if err != nil {
		return leadsNotTold(changed, err)
	}
	defer tc.Close()
	lc := temporalx.NewLeadClient(tc, cfg.TaskQueue)
	lc.UpdateTimeout = cfg.UpdateTimeout
	if err := fn(&repchange.Mover{Leads: lc}); err != nil {
		if errors.Is(err, errReported) {
			return err
		}
		return leadsNotTold(changed, err)
	}
	return nil
}

func leadsNotTold(changed bool, err error) error {
	if changed {
		return fmt.Errorf("the directory change above is made, but the leads were not told: %w; run the command again when Temporal answers (safe: the same request IDs)", err)
	}
	return fmt.Errorf("no lead was changed: %w", err)
}

// report prints one line per lead and a summary; any lead that failed
// makes the command fail (its lines say why).
func (a *app) report(what string, out []repchange.Outcome) error {
	for _, o := range out {
		fmt.Fprintf(a.stdout, "  %s\n", o)
	}
	fmt.Fprintf(a.stdout, "%s: %s\n", what, repchange.Summary(out))
	if n := repchange.Failures(out); n > 0 {
		fmt.Fprintf(a.stderr, "starter: %d of %d leads were not changed; run the command again (safe: the same request IDs)\n", n, len(out))
		return errReported
	}
	return nil
}

// by is who makes the change, for the leads' history.
func (a *app) by() string {
	if a.user != nil {
		if u := a.user(); u != "" {
			return u
		}
	}
	return "starter"
}

// awayNow acts on the rep's handoffs when period covers today in the rep's
// timezone; a period that starts later is left to routing and the ladder.
func (a *app) awayNow(ctx context.Context, rep directory.Rep, period directory.Away) error {
	today := repchange.Today(rep, a.now())
	switch {
	case period.From > today:
		fmt.Fprintf(a.stdout, "takes effect on %s (%s): until then nothing moves. From that day routing skips %s and the SLA ladder reassigns their untouched leads; run `starter rep away` again that day to move them at once\n",
			period.From, rep.Timezone, rep.ID)
		return nil
	case period.To < today:
		fmt.Fprintf(a.stdout, "the period ended before today (%s, %s): no lead moves\n", today, rep.Timezone)
		return nil
	}
	return a.withLeads(ctx, true, func(m *repchange.Mover) error {
		return a.away(ctx, m, rep, period)
	})
}

func (a *app) away(ctx context.Context, m *repchange.Mover, rep directory.Rep, period directory.Away) error {
	out, err := m.Away(ctx, rep, period, a.by())
	if err != nil {
		return err
	}
	return a.report(fmt.Sprintf("%s away to the end of %s: untouched handoffs", rep.ID, period.To), out)
}

// backNow resumes the paused clocks of the rep's handoffs.
func (a *app) backNow(ctx context.Context, rep directory.Rep, now time.Time) error {
	return a.withLeads(ctx, true, func(m *repchange.Mover) error {
		out, err := m.Back(ctx, rep.ID, repchange.Today(rep, now), a.by())
		if err != nil {
			return err
		}
		return a.report(rep.ID+" back: handoffs", out)
	})
}

// awayAfterImport acts, as `rep away` does, for each rep the import made
// away today.
func (a *app) awayAfterImport(ctx context.Context, before, after *directory.Directory) error {
	newly := repchange.NewlyAway(before, after, a.now())
	if len(newly) == 0 {
		return nil
	}
	return a.withLeads(ctx, true, func(m *repchange.Mover) error {
		var failed error
		for _, p := range newly {
			fmt.Fprintf(a.stdout, "%s is away from today (%s..%s):\n", p.RepID, p.From, p.To)
			if err := a.away(ctx, m, after.Reps[p.RepID], p); err != nil {
				if !errors.Is(err, errReported) {
					return err
				}
				failed = err
			}
		}
		return failed
	})
}

func cmdRepDeactivate(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	to := fs.String("to", "", "give every open lead to this rep (default: routing picks each lead's new owner)")
	pos, err := parseArgs(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	repID := pos[0]
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	before, err := st.Directory().Directory(ctx)
	if err != nil {
		return err
	}
	rep, active := before.Reps[repID]
	if !active {
		// A re-run (Temporal was down the first time) finds them inactive.
		known, _, err := st.Directory().RepStatus(ctx, repID)
		if err != nil {
			return err
		}
		if !known {
			return unknownRep(c, repID, before)
		}
	}
	if *to != "" {
		if _, ok := before.Reps[*to]; !ok {
			return unknownRep(c, *to, before)
		}
		if *to == repID {
			return usagef(c, "--to %s is the rep being deactivated", *to)
		}
	}
	if active {
		if err := st.Directory().DeactivateRep(ctx, repID); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s (%s) is inactive: routing no longer picks them; past assignments, the ledger and metrics keep them\n", repID, rep.Name)
	} else {
		fmt.Fprintf(a.stdout, "%s is already inactive\n", repID)
	}
	day := a.now().UTC().Format(directory.DateLayout)
	return a.withLeads(ctx, true, func(m *repchange.Mover) error {
		var out []repchange.Outcome
		var err error
		if *to != "" {
			out, err = m.Reassign(ctx, repchange.Reassignment{From: repID, To: *to, By: "deactivate",
				Note: repID + " deactivated", Key: repchange.ChangeKey("deactivate", repID, *to, day)})
		} else {
			out, err = m.Deactivated(ctx, repID, day, a.by())
		}
		if err != nil {
			return err
		}
		return a.report(repID+" deactivated: open leads", out)
	})
}

// bulkReassign is `lead reassign --from R --to R2 [--dry-run]`: every open
// lead of R goes to R2.
func (a *app) bulkReassign(ctx context.Context, c *command, from, to, by, note string, dryRun bool) error {
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	d, err := st.Directory().Directory(ctx)
	if err != nil {
		st.Close()
		return err
	}
	// --from may be a deactivated rep whose leads are still theirs.
	known, _, err := st.Directory().RepStatus(ctx, from)
	st.Close()
	switch {
	case err != nil:
		return err
	case !known:
		return unknownRep(c, from, d)
	}
	if _, ok := d.Reps[to]; !ok {
		return unknownRep(c, to, d)
	}
	if from == to {
		return usagef(c, "--from and --to are both %s", from)
	}
	if by == "" {
		by = a.by()
	}
	r := repchange.Reassignment{From: from, To: to, By: by, Note: note, DryRun: dryRun,
		Key: repchange.ChangeKey("reassign", from, to, a.now().UTC().Format(directory.DateLayout))}
	return a.withLeads(ctx, false, func(m *repchange.Mover) error {
		out, err := m.Reassign(ctx, r)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("%s → %s: open leads", from, to)
		if dryRun {
			what = "dry run, nothing sent: " + what
		}
		return a.report(what, out)
	})
}

// leadReassignBulk tells the bulk form of `lead reassign` from the single
// one, and checks that their flags are not mixed.
func leadReassignBulk(c *command, pos []string, from, to, owner, reqID string, dryRun bool) (bool, error) {
	if from == "" && to == "" {
		if dryRun {
			return false, usagef(c, "--dry-run goes with --from and --to")
		}
		return false, nil
	}
	switch {
	case from == "" || to == "":
		return true, usagef(c, "--from and --to go together")
	case len(pos) > 0:
		return true, usagef(c, "a lead ID (%s) and --from/--to cannot be combined", pos[0])
	case owner != "" || reqID != "":
		return true, usagef(c, "--owner and --id are for one lead; with --from use --to")
	}
	return true, nil
}

// openStore opens the configured database.
func (a *app) openStore(ctx context.Context) (*store.DB, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	return openStore(ctx, cfg.DatabaseURL)
}
