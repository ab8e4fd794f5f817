// Command starter is leadflow's front door: it serves the HTTP API of the
// contract (serve), sends signed events (send), lets reps and operators look
// at and act on leads (lead …), checks the handoff contract (policy check),
// maintains the sales directory (directory import, rep away/back), migrates
// the database (db migrate) and drives a realistic demo stream (simulate).
//
// It only wires: configuration comes from the environment (internal/config),
// the work is done by the internal packages. Run `starter help` for usage.
//
// Exit codes: 0 success, 1 failure, 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"github.com/leadflow/leadflow/internal/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, restore the default handling so a second
		// Ctrl-C stops a shutdown that hangs.
		<-ctx.Done()
		stop()
	}()
	code := newApp().run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// app is the process's environment, injectable so tests run commands
// in-process with their own config, streams, clock and sleep.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	loadConfig     func() (config.Config, error)
	httpClient     *http.Client
	now            func() time.Time
	sleep          func(context.Context, time.Duration) error
	// user is who runs the command (--by's default); "" when unknown.
	user func() string
}

func newApp() *app {
	return &app{
		stdin:      os.Stdin,
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		loadConfig: config.FromEnv,
		httpClient: &http.Client{Timeout: 2 * time.Minute},
		now:        time.Now,
		sleep:      sleepCtx,
		user:       currentUser,
	}
}

// currentUser is the operating system's name for whoever runs starter.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return strings.TrimSpace(os.Getenv("USER"))
}

// run executes one command line and returns the process exit code.
func (a *app) run(ctx context.Context, args []string) int {
	return a.exitCode(a.dispatch(ctx, args))
}

// exitCode reports err as the process would and maps it to an exit code.
func (a *app) exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "starter: %s\n", ue.msg)
		if ue.cmd != "" {
			fmt.Fprintf(a.stderr, "run 'starter help %s' for usage\n", ue.cmd)
		} else {
			fmt.Fprintln(a.stderr, "run 'starter help' for usage")
		}
		return exitUsage
	case errors.As(err, new(*configError)):
		fmt.Fprintf(a.stderr, "starter: %v\n", err)
		return exitUsage
	case errors.Is(err, errBadInput):
		return exitUsage
	case errors.Is(err, errReported):
		return exitFailure
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(a.stderr, "starter: interrupted (%v)\n", err)
		return exitFailure
	default:
		fmt.Fprintf(a.stderr, "starter: %v\n", err)
		return exitFailure
	}
}

// configError is an environment a command cannot run with (a missing or
// too-short secret): an input error, exit 2.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// errReported is a failure whose details were already printed.
var errReported = errors.New("failed (reported above)")

// errBadInput is bad input (a file the command cannot take) whose errors
// were already printed: exit 2, as the contract says of input errors.
var errBadInput = errors.New("bad input (reported above)")

// config loads the environment's configuration.
func (a *app) config() (config.Config, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
