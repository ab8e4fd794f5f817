package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usageError is a mistake in the command line: exit code 2.
type usageError struct {
	cmd string // command whose usage to point at; "" for the overview
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(c *command, format string, a ...any) error {
	return &usageError{cmd: c.name, msg: c.name + ": " + fmt.Sprintf(format, a...)}
}

// flagSet returns an empty flag set for c whose usage text names the
// command, its arguments and its description.
func (c *command) flagSet(a *app) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: starter %s", c.name)
		if c.args != "" {
			fmt.Fprintf(w, " %s", c.args)
		}
		fmt.Fprintf(w, "\n\n%s\n", c.summary)
		if c.detail != "" {
			fmt.Fprintln(w, strings.TrimRight(c.detail, "\n"))
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments ("lead accept ID --rep R" and "lead accept --rep R ID"
// both work; "--" ends the flags) and checks the number of positionals.
// A flag error or a wrong count is a usage error; -h is flag.ErrHelp.
func parseArgs(c *command, fs *flag.FlagSet, args []string, minPos, maxPos int) ([]string, error) {
	var pos []string
	// The flag package would print the error and the whole usage; the
	// usage error says it once and points at `starter help CMD` instead.
	out := fs.Output()
	usage := fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	defer func() { fs.Usage = usage; fs.SetOutput(out) }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				usage()
				return nil, flag.ErrHelp
			}
			return nil, &usageError{cmd: c.name, msg: c.name + ": " + err.Error()}
		}
		consumed := len(args) - fs.NArg()
		rest := fs.Args()
		if consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case len(pos) < minPos:
		return nil, usagef(c, "missing argument (want %s)", c.args)
	case maxPos >= 0 && len(pos) > maxPos:
		return nil, usagef(c, "unexpected argument %q", pos[maxPos])
	}
	return pos, nil
}
