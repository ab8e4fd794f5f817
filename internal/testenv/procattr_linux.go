package testenv

import "syscall"

// sysProcAttr puts the server in its own process group and has the kernel
// kill it if the test binary dies without running cleanups (timeout panic,
// SIGKILL), so no dev servers are left behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
