package main

import (
	"context"
	"fmt"
	"os"

	"github.com/leadflow/leadflow/internal/buildinfo"
	"github.com/leadflow/leadflow/internal/config"
)

// cmdVersion prints this binary's build as the worker's --version does.
func cmdVersion(_ context.Context, a *app, c *command, args []string) error {
	if len(args) > 0 {
		return &usageError{cmd: c.name, msg: fmt.Sprintf("version takes no arguments (got %q)", args[0])}
	}
	v, err := config.VersioningFromLookup(os.LookupEnv)
	if err != nil {
		return &configError{err: err}
	}
	fmt.Fprint(a.stdout, buildinfo.Report(v.Version, v.BuildIDErr, buildinfo.Runtime(), v.Mode))
	return nil
}
