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
	rep, _, err := a.changeAway(ctx, c, pos[0], func(dir store.Directory, rep directory.Rep) error {
		return dir.SetAway(ctx, rep.ID, *from, *to)
	})
	if err != nil {
		return err
	}
	return a.awayNow(ctx, rep, directory.Away{RepID: rep.ID, From: *from, To: *to})
}

func cmdRepBack(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	pos, err := parseArgs(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	now := a.now()
	rep, _, err := a.changeAway(ctx, c, pos[0], func(dir store.Directory, rep directory.Rep) error {
		if err := dir.ClearAway(ctx, rep.ID, now); err != nil {
			return err
		}
		if loc, err := time.LoadLocation(rep.Timezone); err == nil {
			fmt.Fprintf(a.stdout, "%s is back as of %s (%s)\n", rep.ID, now.In(loc).Format(directory.DateLayout), rep.Timezone)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.backNow(ctx, rep, now)
}

// changeAway runs change on a known rep and prints the rep's away ranges
// before and after; it returns the rep and the directory after.
func (a *app) changeAway(ctx context.Context, c *command, repID string, change func(store.Directory, directory.Rep) error) (directory.Rep, *directory.Directory, error) {
	cfg, err := a.config()
	if err != nil {
		return directory.Rep{}, nil, err
	}
	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return directory.Rep{}, nil, err
	}
	defer st.Close()
	dir := st.Directory()
	before, err := dir.Directory(ctx)
	if err != nil {
		return directory.Rep{}, nil, err
	}
	rep, ok := before.Reps[repID]
	if !ok {
		return directory.Rep{}, nil, unknownRep(c, repID, before)
	}
	if err := change(dir, rep); err != nil {
		if errors.Is(err, store.ErrUnknownRep) {
			return directory.Rep{}, nil, unknownRep(c, repID, before)
		}
		return directory.Rep{}, nil, err
	}
	after, err := dir.Directory(ctx)
	if err != nil {
		return directory.Rep{}, nil, err
	}
	was, now := awayOf(before, repID), awayOf(after, repID)
	if slices.Equal(was, now) {
		fmt.Fprintf(a.stdout, "no change: %s (%s) away %s\n", repID, rep.Name, rangesText(now))
		return rep, after, nil
	}
	fmt.Fprintf(a.stdout, "%s (%s, %s) away: %s → %s\n", repID, rep.Name, rep.Timezone, rangesText(was), rangesText(now))
	return rep, after, nil
}

// unknownRep is the usage error (exit 2) for a rep the directory does not
// hold as active.
func unknownRep(c *command, repID string, d *directory.Directory) error {
	if len(d.Reps) == 0 {
		return usagef(c, "unknown rep %q: the directory is empty (run `starter directory import FILE` first)", repID)
	}
	return usagef(c, "unknown rep %q: not an active rep of the imported directory", repID)
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
