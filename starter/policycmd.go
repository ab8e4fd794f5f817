package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/policy"
)

func cmdPolicyCheck(_ context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	dirFile := fs.String("directory", "", "also check that every routing pool exists in this directory file")
	pos, err := parseArgs(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	p, err := loadPolicyFile(a, pos[0])
	if err != nil {
		return err
	}
	ok := fmt.Sprintf("ok: version %s (%d intent rules, %d fit rules, %d routing rules)\n",
		p.Version, len(p.Scoring.Rules), len(p.Scoring.Fit), len(p.Routing))
	if *dirFile == "" {
		fmt.Fprint(a.stdout, ok)
		return nil
	}
	d, err := directory.Load(*dirFile)
	if err != nil {
		printErrors(a.stderr, err)
		return errReported
	}
	if err := p.CheckPools(poolNames(d)); err != nil {
		printErrors(a.stderr, err)
		return errReported
	}
	fmt.Fprint(a.stdout, ok)
	fmt.Fprintf(a.stdout, "ok: %s has every pool the policy routes to (%s)\n", *dirFile, strings.Join(p.Pools(), ", "))
	return nil
}

// loadPolicyFile loads and validates a policy file, printing every problem
// with its line.
func loadPolicyFile(a *app, path string) (*policy.Policy, error) {
	p, err := policy.Load(path)
	if err != nil {
		printErrors(a.stderr, err)
		return nil, errReported
	}
	return p, nil
}

// poolNames is the set of the directory's pools.
func poolNames(d *directory.Directory) map[string]bool {
	known := make(map[string]bool, len(d.Pools))
	for name := range d.Pools {
		known[name] = true
	}
	return known
}

// printErrors prints a policy or directory error list one problem a line
// (each carries file:line); other errors as they are.
func printErrors(w io.Writer, err error) {
	var pl policy.ErrorList
	var dl directory.Errors
	switch {
	case errors.As(err, &pl):
		for _, e := range pl {
			fmt.Fprintln(w, e.Error())
		}
		fmt.Fprintf(w, "%d problem(s)\n", len(pl))
	case errors.As(err, &dl):
		for _, e := range dl {
			fmt.Fprintln(w, e.Error())
		}
		fmt.Fprintf(w, "%d problem(s)\n", len(dl))
	default:
		fmt.Fprintln(w, err.Error())
	}
}
