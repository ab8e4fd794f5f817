package main

import (
	"context"
	"fmt"

	"github.com/leadflow/leadflow/internal/directory"
)

func cmdDirectoryImport(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	skipLeads := fs.Bool("skip-leads", false, "only import: leave the handoffs of reps newly away to routing and the SLA ladder (no Temporal needed)")
	pos, err := parseArgs(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	d, err := directory.Load(pos[0])
	if err != nil {
		printErrors(a.stderr, err)
		return errBadInput
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("directory import: %w", err)
	}
	defer st.Close()
	before, err := st.Directory().Directory(ctx)
	if err != nil {
		return fmt.Errorf("directory import: %w", err)
	}
	if err := st.Directory().ImportDirectory(ctx, d); err != nil {
		return fmt.Errorf("directory import %s: %w", pos[0], err)
	}
	fmt.Fprintf(a.stdout, "imported %s: %d reps, %d pools, %d accounts, %d away ranges\n",
		pos[0], len(d.Reps), len(d.Pools), len(d.Accounts), len(d.Away))
	if *skipLeads {
		return nil
	}
	after, err := st.Directory().Directory(ctx)
	if err != nil {
		return fmt.Errorf("directory import: read it back: %w", err)
	}
	// A rep away from today has their untouched handoffs moved now.
	return a.awayAfterImport(ctx, before, after)
}
