package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/store"
)

func cmdRepAway(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	from := fs.String("from", "", "first day away, YYYY-MM-DD, in the rep's timezone (required)")
	to := fs.String("to", "", "last day away, YYYY-MM-DD, inclusive (required)")
	pos, err := parseArgs(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	f, errF := time.Parse(directory.DateLayout, *from)
	t, errT := time.Parse(directory.DateLayout, *to)
	switch {
	case *from == "" || *to == "":
		return usagef(c, "--from and --to are required")
	case errF != nil:
		return usagef(c, "--from %q is not a date (want YYYY-MM-DD)", *from)
	case errT != nil:
		return usagef(c, "--to %q is not a date (want YYYY-MM-DD)", *to)
	case t.Before(f):
		return usagef(c, "--to %s is before --from %s", *to, *from)
	}
	return a.changeAway(ctx, pos[0], func(st *store.Store, rep directory.Rep) error {
		return st.SetAway(ctx, rep.ID, *from, *to)
	})
}

func cmdRepBack(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	pos, err := parseArgs(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	now := a.now()
	return a.changeAway(ctx, pos[0], func(st *store.Store, rep directory.Rep) error {
		if err := st.ClearAway(ctx, rep.ID, now); err != nil {
			return err
		}
		if loc, err := time.LoadLocation(rep.Timezone); err == nil {
			fmt.Fprintf(a.stdout, "%s is back as of %s (%s)\n", rep.ID, now.In(loc).Format(directory.DateLayout), rep.Timezone)
		}
		return nil
	})
}

// changeAway runs change on a known rep and prints the rep's away ranges
// before and after.
func (a *app) changeAway(ctx context.Context, repID string, change func(*store.Store, directory.Rep) error) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	before, err := st.Directory(ctx)
	if err != nil {
		return err
	}
	rep, ok := before.Reps[repID]
	if !ok {
		return unknownRep(repID, before)
	}
	if err := change(st, rep); err != nil {
		if errors.Is(err, store.ErrUnknownRep) {
			return unknownRep(repID, before)
		}
		return err
	}
	after, err := st.Directory(ctx)
	if err != nil {
		return err
	}
	was, now := awayOf(before, repID), awayOf(after, repID)
	if slices.Equal(was, now) {
		fmt.Fprintf(a.stdout, "no change: %s (%s) away %s\n", repID, rep.Name, rangesText(now))
		return nil
	}
	fmt.Fprintf(a.stdout, "%s (%s, %s) away: %s → %s\n", repID, rep.Name, rep.Timezone, rangesText(was), rangesText(now))
	return nil
}

func unknownRep(repID string, d *directory.Directory) error {
	if len(d.Reps) == 0 {
		return fmt.Errorf("unknown rep %q: the directory is empty (run `starter directory import FILE` first)", repID)
	}
	return fmt.Errorf("unknown rep %q: not an active rep of the imported directory", repID)
}

func awayOf(d *directory.Directory, repID string) []string {
	var out []string
	for _, aw := range d.Away {
		if aw.RepID == repID {
			out = append(out, aw.From+".."+aw.To)
		}
	}
	slices.Sort(out)
	return out
}

func rangesText(r []string) string {
	if len(r) == 0 {
		return "(none)"
	}
	return strings.Join(r, ", ")
}
