//go:build !upgradeprobe

package main

// buildHooks: a production build has no extra registrations
// (probe_on.go is the upgrade test's build).
func buildHooks() hooks { return hooks{} }
