// Package testenv starts real dependencies for integration and end-to-end
// tests: a Temporal dev server (the CLI's `server start-dev`) with leadflow's
// search attributes. Tests never skip for a missing dependency: a missing
// binary fails with the command that installs it.
package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/temporalx"
)

// TemporalCLIVersion is the CLI the project is tested with.
const TemporalCLIVersion = "v1.5.1"

// EnvTemporalCLI overrides where TemporalCLI looks for the binary.
const EnvTemporalCLI = "LEADFLOW_TEMPORAL_CLI"

// TemporalCLI returns the path of the temporal CLI: $LEADFLOW_TEMPORAL_CLI,
// else <user cache dir>/leadflow/bin/temporal ($XDG_CACHE_HOME or
// $HOME/.cache), else `temporal` on PATH. Without one, the test fails with
// the install command.
func TemporalCLI(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvTemporalCLI); p != "" {
		if !isExecutable(p) {
			t.Fatalf("%s=%q is not an executable file; unset it or install the CLI: go install github.com/temporalio/cli/cmd/temporal@%s", EnvTemporalCLI, p, TemporalCLIVersion)
		}
		return p
	}
	// `make` builds the pinned CLI as temporal-<version> in the cache, so a
	// plain `go test ./...` after one `make test` finds it with no setup.
	var candidates []string
	var dirs []string
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		dirs = append(dirs, filepath.Join(d, "leadflow", "bin"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, ".cache", "leadflow", "bin"))
	}
	for _, d := range dirs {
		candidates = append(candidates, filepath.Join(d, "temporal-"+TemporalCLIVersion), filepath.Join(d, "temporal"))
	}
	for _, p := range candidates {
		if isExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p
	}
	t.Fatalf("temporal CLI not found (looked at $%s, %s and PATH); run `make temporal-cli` (or `make test`) once,\n"+
		"which builds the pinned CLI into the cache (go install github.com/temporalio/cli/cmd/temporal@%s),\n"+
		"or point %s at a binary", EnvTemporalCLI, strings.Join(candidates, ", "), TemporalCLIVersion, EnvTemporalCLI)
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// DevServerOptions tunes StartDevServer; the zero value is an in-memory
// server with the "default" namespace.
type DevServerOptions struct {
	// DBFile persists state in this SQLite file (WAL mode), so a test can
	// stop and restart the server and find its workflows again.
	DBFile string
	// Namespace is created at start (besides "default") and becomes
	// DevServer.Namespace.
	Namespace string
	// DynamicConfig adds dynamic config values: key → JSON value, e.g.
	// "history.maximumSignalsPerExecution": "50".
	DynamicConfig map[string]string
	// UI serves the Web UI on DevServer.UIPort (headless otherwise).
	UI bool
	// UICodecEndpoint points the Web UI at a Codec Server (--ui-codec-endpoint).
	UICodecEndpoint string
	// StartTimeout bounds the wait for readiness (default 60s).
	StartTimeout time.Duration
	// LogLevel of the server log (default: the CLI's, warn).
	LogLevel string
}

// DevServer is a running `temporal server start-dev`.
type DevServer struct {
	Address     string // host:port of the frontend gRPC service
	Namespace   string
	UIPort      int // 0 unless DevServerOptions.UI
	HTTPPort    int
	MetricsPort int
	LogFile     string

	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has exited
	waitErr  error
	stopOnce sync.Once
}

// defaultDynamicConfig makes the dev server behave like leadflow's
// production settings where it matters to tests.
var defaultDynamicConfig = map[string]string{
	// Activities scheduled by a workflow task run on the same worker at
	// once: faster tests, and the path production takes.
	"system.enableActivityEagerExecution": "true",
}

// StartDevServer starts a dev server on free ports with every search
// attribute of lead.SearchAttributeTypes, waits until it is healthy and the
// attributes are listed, and stops it when the test ends (printing the tail
// of its log if the test failed).
func StartDevServer(t testing.TB, opts DevServerOptions) *DevServer {
	t.Helper()
	bin := TemporalCLI(t)
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	// A free port found now may be taken before the server binds it; retry
	// with new ports when the server dies during start-up.
	for attempt := 1; ; attempt++ {
		d, err := startOnce(t, bin, opts, attempt)
		if err != nil {
			t.Fatalf("start temporal dev server: %v", err)
		}
		err = d.waitReady(timeout)
		if err == nil {
			return d
		}
		portRace := d.Exited() && strings.Contains(d.logTail(50), "address already in use")
		d.Stop()
		if !portRace || attempt == 3 {
			t.Fatalf("temporal dev server did not become ready: %v", err)
		}
		t.Logf("dev server attempt %d lost a port race; retrying with new ports", attempt)
	}
}

func startOnce(t testing.TB, bin string, opts DevServerOptions, attempt int) (*DevServer, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	ns := opts.Namespace
	if ns == "" {
		ns = lead.DefaultNamespace
	}
	logFile := filepath.Join(t.TempDir(), fmt.Sprintf("temporal-%d.log", attempt))
	d := &DevServer{
		Address:     net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		Namespace:   ns,
		HTTPPort:    ports[1],
		MetricsPort: ports[2],
		LogFile:     logFile,
		exited:      make(chan struct{}),
	}
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(ports[0]),
		"--http-port", strconv.Itoa(ports[1]),
		"--metrics-port", strconv.Itoa(ports[2]),
	}
	if opts.UI {
		d.UIPort = ports[3]
		args = append(args, "--ui-port", strconv.Itoa(ports[3]))
		if opts.UICodecEndpoint != "" {
			args = append(args, "--ui-codec-endpoint", opts.UICodecEndpoint)
		}
	} else {
		args = append(args, "--headless")
	}
	if opts.DBFile != "" {
		args = append(args, "--db-filename", opts.DBFile,
			"--sqlite-pragma", "journal_mode=WAL", "--sqlite-pragma", "synchronous=NORMAL")
	}
	if opts.Namespace != "" && opts.Namespace != lead.DefaultNamespace {
		args = append(args, "--namespace", opts.Namespace)
	}
	for _, sa := range lead.SearchAttributeTypes {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	dc := map[string]string{}
	for k, v := range defaultDynamicConfig {
		dc[k] = v
	}
	for k, v := range opts.DynamicConfig {
		dc[k] = v
	}
	keys := make([]string, 0, len(dc))
	for k := range dc {
		keys = append(keys, k)
	}
	slices.Sort(keys) // stable command line for the log
	for _, k := range keys {
		args = append(args, "--dynamic-config-value", k+"="+dc[k])
	}
	if opts.LogLevel != "" {
		args = append(args, "--log-level", opts.LogLevel)
	}

	f, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("create server log: %w", err)
	}
	fmt.Fprintf(f, "# %s %s\n", bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group so Stop reaches anything the CLI spawns; on Linux
	// the server also dies with the test binary (e.g. on a test timeout).
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	d.cmd = cmd
	go func() {
		d.waitErr = cmd.Wait()
		f.Close()
		close(d.exited)
	}()
	t.Cleanup(func() {
		// Tail taken before stopping: shutdown chatter would hide the cause.
		if t.Failed() {
			t.Logf("last 50 lines of the temporal dev server log %s:\n%s", logFile, d.logTail(50))
		}
		d.Stop()
	})
	return d, nil
}

// waitReady polls until a client can check health and list every search
// attribute on the namespace, the process exits, or timeout passes.
func (d *DevServer) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var lastErr error
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var c client.Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for {
		lastErr = func() error {
			if c == nil {
				dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
				defer dcancel()
				var err error
				c, err = client.DialContext(dctx, client.Options{HostPort: d.Address, Namespace: d.Namespace, Logger: temporalx.NewLogger(zap.NewNop())})
				if err != nil {
					c = nil
					return fmt.Errorf("dial: %w", err)
				}
			}
			cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
			defer ccancel()
			if _, err := c.CheckHealth(cctx, &client.CheckHealthRequest{}); err != nil {
				return fmt.Errorf("health: %w", err)
			}
			resp, err := c.OperatorService().ListSearchAttributes(cctx, &operatorservice.ListSearchAttributesRequest{Namespace: d.Namespace})
			if err != nil {
				return fmt.Errorf("list search attributes: %w", err)
			}
			var missing []string
			for _, sa := range lead.SearchAttributeTypes {
				if _, ok := resp.GetCustomAttributes()[sa.Name]; !ok {
					missing = append(missing, sa.Name)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("search attributes not listed yet: %s", strings.Join(missing, ", "))
			}
			return nil
		}()
		if lastErr == nil {
			return nil
		}
		select {
		case <-d.exited:
			return fmt.Errorf("server exited during start-up (%v); log %s:\n%s", d.waitErr, d.LogFile, d.logTail(50))
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", timeout, lastErr)
		case <-tick.C:
		}
	}
}

// Client returns a client of the server's namespace, closed when t ends,
// encrypting and decrypting payloads with CodecKeys as the worker and serve
// of a test stack do. SDK logs go to t.Log at warn level and above.
func (d *DevServer) Client(t testing.TB) client.Client {
	t.Helper()
	var opts client.Options
	codec.Apply(&opts, Codec(t))
	return d.dial(t, opts)
}

// TestLogger returns a zap logger writing to t.Log at level and above. Lines
// logged after the test ended (by a background goroutine of a client or
// worker) are dropped rather than panicking in the testing package.
func TestLogger(t testing.TB, level zapcore.Level) *zap.Logger {
	w := &tbWriter{t: t}
	// Registered before the caller's cleanups, so it runs after them: a
	// client or worker stopping in its cleanup may still log.
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), level))
}

type tbWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// Stop ends the server: SIGTERM to its process group, SIGKILL if it has not
// exited within 10s (a file-backed server gets to close SQLite cleanly).
// Safe to call more than once.
func (d *DevServer) Stop() {
	d.stopOnce.Do(func() {
		if d.cmd == nil || d.cmd.Process == nil {
			return
		}
		pgid := d.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-d.exited
		}
	})
}

// Exited reports whether the server process has ended.
func (d *DevServer) Exited() bool {
	select {
	case <-d.exited:
		return true
	default:
		return false
	}
}

// logTail returns the last n lines of the server log.
func (d *DevServer) logTail(n int) string {
	f, err := os.Open(d.LogFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		lines = append(lines, "(reading log: "+err.Error()+")")
	}
	return strings.Join(lines, "\n")
}

// freePorts asks the kernel for n distinct free TCP ports on 127.0.0.1.
// All listeners stay open until every port is chosen, so they differ.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
