package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/testenv"
)

var binDir string

// TestMain builds the two binaries once: the tests run what a user runs.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "leadflow-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Race-enabled binaries for tests; LEADFLOW_E2E_NORACE=1 builds plain
	// ones, for BenchmarkSpeedToLead to measure what production runs.
	args := []string{"build", "-race", "-o", dir + string(os.PathSeparator), "./worker", "./starter"}
	if os.Getenv("LEADFLOW_E2E_NORACE") == "1" {
		args = append(args[:1], args[2:]...)
	}
	build := exec.Command("go", args...)
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build worker and starter:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const secret = "e2e-webhook-secret-0123456789abcdef" // 32+ bytes, as serve requires

// stack is one leadflow deployment: dev server, database, worker, serve.
type stack struct {
	t       testing.TB
	srv     *testenv.DevServer
	dbURL   string
	st      *store.DB
	env     []string
	baseURL string
	// metricsURL is the worker's Prometheus endpoint.
	metricsURL string
	worker     *exec.Cmd
	serve      *exec.Cmd
}

func newStack(t testing.TB, policyPath string, extraEnv ...string) *stack {
	t.Helper()
	return newStackWith(t, stackOptions{}, policyPath, extraEnv...)
}

// stackOptions change what newStackWith starts.
type stackOptions struct {
	server testenv.DevServerOptions
	// noWorker: the test starts its own workers (s.start).
	noWorker bool
}

func newStackWith(t testing.TB, o stackOptions, policyPath string, extraEnv ...string) *stack {
	t.Helper()
	s := &stack{t: t, srv: testenv.StartDevServer(t, o.server), dbURL: storetest.NewDB(t)}
	httpAddr, metricsAddr := freeAddr(t), freeAddr(t)
	s.metricsURL = "http://" + metricsAddr + "/metrics"
	abs, err := filepath.Abs(policyPath)
	if err != nil {
		t.Fatal(err)
	}
	s.env = append(os.Environ(),
		"TEMPORAL_ADDRESS="+s.srv.Address,
		"DATABASE_URL="+s.dbURL,
		"LEADFLOW_POLICY="+abs,
		"LEADFLOW_WEBHOOK_SECRET="+secret,
		"LEADFLOW_ID_KEY=e2e-id-key-0123456789abcdef-012345",
		testenv.CodecEnv(),
		"LEADFLOW_HTTP_ADDR="+httpAddr,
		"LEADFLOW_METRICS_ADDR="+metricsAddr,
		"LEADFLOW_API_TOKEN=",
	)
	s.env = append(s.env, extraEnv...)
	s.baseURL = "http://" + httpAddr
	ctx := context.Background()
	if err := store.EnsureDatabase(ctx, s.dbURL); err != nil {
		t.Fatal(err)
	}
	if s.st, err = store.Open(ctx, s.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.st.Close)
	if err := s.st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	dir, err := directory.Load("../../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.st.Directory().ImportDirectory(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if !o.noWorker {
		s.startWorker()
	}
	s.serve = s.start("serve", filepath.Join(binDir, "starter"), "serve")
	s.waitFor("starter serve ready", 60*time.Second, func() bool {
		resp, err := http.Get(s.baseURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return s
}

func (s *stack) start(name, bin string, args ...string) *exec.Cmd {
	s.t.Helper()
	logf, err := os.Create(filepath.Join(s.t.TempDir(), name+".log"))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	s.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}
		if s.t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) > 40 {
				lines = lines[len(lines)-40:]
			}
			s.t.Logf("last lines of %s log:\n%s", name, strings.Join(lines, "\n"))
		}
		logf.Close()
	})
	return cmd
}

func (s *stack) startWorker() {
	s.worker = s.start("worker", filepath.Join(binDir, "worker"))
}

// startWorkerWith starts one more worker process with extra environment
// (a second worker of the same deployment).
func (s *stack) startWorkerWith(name string, env ...string) *exec.Cmd {
	s.t.Helper()
	saved := s.env
	s.env = append(append([]string(nil), s.env...), env...)
	defer func() { s.env = saved }()
	return s.start(name, filepath.Join(binDir, "worker"))
}

// killWorker kills the worker with SIGKILL: no graceful shutdown.
func (s *stack) killWorker() {
	s.t.Helper()
	if err := s.worker.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	_ = s.worker.Wait()
}

// post sends a signed batch and returns the status and body.
func (s *stack) post(events []lead.Event, sign func([]byte) string) (int, []byte) {
	s.t.Helper()
	body, err := json.Marshal(map[string]any{"events": events})
	if err != nil {
		s.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.baseURL+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sign == nil {
		sign = func(b []byte) string { return api.Sign([]byte(secret), time.Now(), b) }
	}
	if sig := sign(body); sig != "" {
		req.Header.Set(api.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (s *stack) send(events ...lead.Event) api.BatchResult {
	s.t.Helper()
	code, body := s.post(events, nil)
	if code != http.StatusAccepted {
		s.t.Fatalf("POST /v1/events: %d %s", code, body)
	}
	var res api.BatchResult
	if err := json.Unmarshal(body, &res); err != nil {
		s.t.Fatal(err)
	}
	return res
}

func (s *stack) get(path string, out any) int {
	s.t.Helper()
	resp, err := http.Get(s.baseURL + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			s.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func (s *stack) state(id string) (lead.View, int) {
	var v lead.View
	code := s.get("/v1/leads/"+id, &v)
	return v, code
}

// update posts an update and returns the status and body.
func (s *stack) update(id, name string, req any) (int, []byte) {
	s.t.Helper()
	body, _ := json.Marshal(req)
	// A client as the API asks: a 503 (no worker took the update in time,
	// e.g. while a killed worker's workflow task times out) is retried
	// after its Retry-After with the same update ID, which the workflow
	// applies once. Bounded so a lead that never answers still fails.
	deadline := time.Now().Add(45 * time.Second)
	for {
		resp, err := http.Post(s.baseURL+"/v1/leads/"+id+"/"+name, "application/json", bytes.NewReader(body))
		if err != nil {
			s.t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusServiceUnavailable || wait <= 0 || time.Now().Add(time.Duration(wait)*time.Second).After(deadline) {
			return resp.StatusCode, out
		}
		s.t.Logf("%s %s: 503 %s; retrying after %ds", name, id, out, wait)
		time.Sleep(time.Duration(wait) * time.Second)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func (s *stack) waitFor(what string, within time.Duration, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("timed out after %s waiting for %s", within, what)
}

// waitLead waits until the lead's state satisfies cond and returns it.
func (s *stack) waitLead(id, what string, within time.Duration, cond func(lead.View) bool) lead.View {
	s.t.Helper()
	var v lead.View
	s.waitFor(id+": "+what, within, func() bool {
		var code int
		v, code = s.state(id)
		return code == 200 && cond(v)
	})
	return v
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
