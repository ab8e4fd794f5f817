//go:build unix && !linux

package testenv

import "syscall"

// sysProcAttr puts the server in its own process group (no Pdeathsig
// outside Linux).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
