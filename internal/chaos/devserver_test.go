//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

// devServer is a Temporal dev server (`temporal server start-dev`) of the
// suite's own, on ports chosen once, so Stop and Start restart it where the
// worker and serve look for it. With a database file (SQLite in WAL mode)
// a restart finds every workflow again.
type devServer struct {
	t       testing.TB
	bin     string
	dbFile  string // "" = in memory
	ports   []int  // frontend, http, metrics
	Address string
	logFile string

	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

func startDevServer(t testing.TB, persistent bool) *devServer {
	t.Helper()
	ports, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	d := &devServer{t: t, bin: testenv.TemporalCLI(t), ports: ports,
		Address: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), logFile: logPath(t, "temporal.log")}
	if persistent {
		d.dbFile = filepath.Join(t.TempDir(), "temporal.db")
	}
	// The ports are free when chosen, but another scenario's process may
	// take one before the server binds it: the first start tries fresh
	// ports up to three times. (Restarts keep theirs.)
	for attempt := 1; ; attempt++ {
		err := d.start()
		if err == nil {
			break
		}
		d.Stop()
		if attempt == 3 {
			t.Fatalf("dev server not ready after %d tries: %v\n%s", attempt, err, tail(d.logFile, 20))
		}
		t.Logf("dev server start %d failed (%v); trying other ports", attempt, err)
		if d.ports, err = freePorts(3); err != nil {
			t.Fatal(err)
		}
		d.Address = net.JoinHostPort("127.0.0.1", strconv.Itoa(d.ports[0]))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last lines of the temporal dev server log:\n%s", tail(d.logFile, 15))
		}
		d.Stop()
	})
	return d
}

// Start starts the server (again) and waits until it is healthy with every
// search attribute listed.
func (d *devServer) Start() {
	d.t.Helper()
	if err := d.start(); err != nil {
		d.t.Fatalf("dev server (start %d) not ready: %v\n%s", d.starts, err, tail(d.logFile, 20))
	}
}

func (d *devServer) start() error {
	d.t.Helper()
	if d.running() {
		d.t.Fatal("dev server is already running")
	}
	d.starts++
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--headless",
		"--port", strconv.Itoa(d.ports[0]), "--http-port", strconv.Itoa(d.ports[1]),
		"--metrics-port", strconv.Itoa(d.ports[2]), "--log-level", "warn",
		// Activities scheduled by a workflow task run on the same worker at
		// once, as in production (deploy/temporal/dynamicconfig.yaml).
		"--dynamic-config-value", "system.enableActivityEagerExecution=true"}
	if d.dbFile != "" {
		args = append(args, "--db-filename", d.dbFile,
			"--sqlite-pragma", "journal_mode=WAL", "--sqlite-pragma", "synchronous=NORMAL")
	}
	for _, sa := range lead.SearchAttributeTypes {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	f, err := os.OpenFile(d.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	fmt.Fprintf(f, "# start %d: %s %s\n", d.starts, d.bin, strings.Join(args, " "))
	cmd := exec.Command(d.bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		d.t.Fatalf("start dev server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(exited) }()
	d.cmd, d.exited = cmd, exited
	return d.waitReady(60 * time.Second)
}

func (d *devServer) running() bool {
	if d.exited == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// Stop ends the server: SIGTERM to its process group (SQLite is closed
// cleanly), SIGKILL after 15 s.
func (d *devServer) Stop() {
	if !d.running() {
		return
	}
	pgid := d.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-d.exited
	}
}

func (d *devServer) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		last = func() error {
			dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
			defer dcancel()
			c, err := client.DialContext(dctx, client.Options{HostPort: d.Address, Logger: temporalx.NewLogger(zap.NewNop())})
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.CheckHealth(dctx, &client.CheckHealthRequest{}); err != nil {
				return err
			}
			resp, err := c.OperatorService().ListSearchAttributes(dctx, &operatorservice.ListSearchAttributesRequest{Namespace: lead.DefaultNamespace})
			if err != nil {
				return err
			}
			for _, sa := range lead.SearchAttributeTypes {
				if _, ok := resp.GetCustomAttributes()[sa.Name]; !ok {
					return fmt.Errorf("search attribute %s not listed yet", sa.Name)
				}
			}
			return nil
		}()
		if last == nil {
			return nil
		}
		select {
		case <-d.exited:
			return fmt.Errorf("exited during start-up: %v", last)
		case <-ctx.Done():
			return fmt.Errorf("after %s: %w", timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// client dials the server for the test, with the stack's payload codec;
// closed when the test ends.
func (d *devServer) client(t testing.TB) client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := client.Options{HostPort: d.Address, Logger: temporalx.NewLogger(zap.NewNop())}
	codec.Apply(&opts, testenv.Codec(t))
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		t.Fatalf("dial dev server: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// freePorts asks the kernel for n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func freePort() (int, error) {
	p, err := freePorts(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}
