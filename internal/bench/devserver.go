package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// devServer is a `temporal server start-dev` the bench started: in memory,
// headless, eager activity execution on (as internal/testenv starts it, the
// path production takes), with leadflow's search attributes.
type devServer struct {
	addr string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startDevServer(ctx context.Context, bin, dir string) (*devServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	other := make([]int, 2)
	for i := range other {
		if other[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	args := []string{"server", "start-dev", "--headless", "--ip", "127.0.0.1",
		"--port", strconv.Itoa(port), "--http-port", strconv.Itoa(other[0]), "--metrics-port", strconv.Itoa(other[1]),
		"--dynamic-config-value", "system.enableActivityEagerExecution=true"}
	for _, sa := range lead.SearchAttributeTypes {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	// The floor's open entity upserts a search attribute of its own.
	args = append(args, "--search-attribute", floorSA+"=Keyword")
	logPath := filepath.Join(dir, "temporal.log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create dev server log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group, so stopping it reaches what the CLI spawns.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d := &devServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(d.done) }()
	return d, nil
}

func (d *devServer) pid() int { return d.cmd.Process.Pid }

func (d *devServer) stop() {
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
