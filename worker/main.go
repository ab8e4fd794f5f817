// Command worker runs leadflow's LeadWorkflow and its activities on the
// `leadflow` task queue. Configuration comes from the environment (see the
// README); SIGINT/SIGTERM stop it gracefully (no new tasks; running
// activities get LEADFLOW_WORKER_STOP_TIMEOUT to finish), SIGHUP reloads the
// policy file. It exits 1 when the worker hits a fatal error (it would no
// longer poll), so that its supervisor restarts it; 2 on bad configuration.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leadflow/leadflow/internal/buildinfo"
	"github.com/leadflow/leadflow/internal/config"
)

func main() {
	if len(os.Args) > 1 && isVersionFlag(os.Args[1]) {
		os.Exit(printVersion(os.Stdout, os.Stderr))
	}
	cfg, err := config.FromEnv()
	if err == nil {
		err = cfg.ForWorker()
	}
	if err == nil {
		// Malformed keys are a configuration error, not a dependency to
		// retry: refuse at once.
		_, err = cfg.CodecKeys()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	logger, err := newLogger(cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	defer func() { _ = logger.Sync() }()
	if w := cfg.InsecureDemoWarning(); w != "" {
		logger.Warn(w)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger, buildHooks()); err != nil {
		logger.Error("worker stopped", zap.Error(err))
		os.Exit(1)
	}
}

// isVersionFlag: the worker's one argument. Configuration is the
// environment's, and other arguments are ignored, as they always were.
func isVersionFlag(arg string) bool {
	return arg == "--version" || arg == "-version" || arg == "version"
}

// printVersion prints the build (deployment, build ID, Go and SDK versions;
// docs/upgrading.md) as the environment resolves it: 0, or 2 for a bad
// LEADFLOW_BUILD_ID, LEADFLOW_DEPLOYMENT_NAME or LEADFLOW_WORKER_VERSIONING.
func printVersion(stdout, stderr io.Writer) int {
	v, err := config.VersioningFromLookup(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(stderr, "worker:", err)
		return 2
	}
	fmt.Fprint(stdout, buildinfo.Report(v.Version, v.BuildIDErr, buildinfo.Runtime(), v.Mode))
	return 0
}

func newLogger(level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("LEADFLOW_LOG_LEVEL=%q: %w", level, err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	return zc.Build()
}
