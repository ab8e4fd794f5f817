//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var binDir string

// TestMain builds the worker and starter once: the suite runs what a user
// runs. Plain builds by default — the scenarios measure latencies, and the
// race detector's slowdown would be measured with them (LEADFLOW_CHAOS_RACE=1
// adds -race).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "leadflow-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	args := []string{"build", "-o", dir + string(os.PathSeparator), "./worker", "./starter"}
	if os.Getenv("LEADFLOW_CHAOS_RACE") == "1" {
		args = []string{"build", "-race", "-o", dir + string(os.PathSeparator), "./worker", "./starter"}
	}
	build := exec.Command("go", args...)
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build worker and starter:", err)
		os.Exit(1)
	}
	binDir = dir
	start := time.Now()
	code := m.Run()
	printSummaries(time.Since(start))
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const repoRoot = "../.."

// outage scales a fault's duration: LEADFLOW_CHAOS_SHORT=1 makes every
// outage 20 s, for work on the suite itself.
func outage(d time.Duration) time.Duration {
	if os.Getenv("LEADFLOW_CHAOS_SHORT") == "1" {
		return 20 * time.Second
	}
	return d
}

// ---- per-scenario report: figures and a one-line summary ----

var summaries struct {
	sync.Mutex
	lines []string
}

// report collects what a scenario measured. fig logs a figure; fail logs a
// broken promise and fails the test; done prints the summary line.
type report struct {
	t        testing.TB
	name     string
	started  time.Time
	mu       sync.Mutex
	figures  []string
	failures []string
}

func newReport(t testing.TB, name string) *report {
	r := &report{t: t, name: name, started: time.Now()}
	t.Cleanup(r.done)
	return r
}

func (r *report) fig(key, format string, args ...any) {
	r.t.Helper()
	v := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.figures = append(r.figures, key+"="+v)
	r.mu.Unlock()
	r.t.Logf("figure %s = %s", key, v)
}

func (r *report) fail(format string, args ...any) {
	r.t.Helper()
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.failures = append(r.failures, msg)
	r.mu.Unlock()
	r.t.Errorf("FAIL %s", msg)
}

// check fails with msg unless ok; it reports ok.
func (r *report) check(ok bool, format string, args ...any) bool {
	r.t.Helper()
	if !ok {
		r.fail(format, args...)
	}
	return ok
}

func (r *report) done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	verdict := "PASS"
	if r.t.Failed() {
		verdict = "FAIL"
	}
	line := fmt.Sprintf("CHAOS %s %s (%s): %s", r.name, verdict, time.Since(r.started).Round(time.Second), strings.Join(r.figures, "; "))
	if len(r.failures) > 0 {
		line += "\n      broken: " + strings.Join(r.failures, "\n      broken: ")
	}
	r.t.Log(line)
	summaries.Lock()
	summaries.lines = append(summaries.lines, line)
	summaries.Unlock()
}

func printSummaries(took time.Duration) {
	summaries.Lock()
	defer summaries.Unlock()
	if len(summaries.lines) == 0 {
		return
	}
	fmt.Printf("\n==== chaos summary (%s) ====\n", took.Round(time.Second))
	for _, l := range summaries.lines {
		fmt.Println(l)
	}
}

// ---- logs ----

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

var logDirs sync.Map // test name → its log directory

// logPath is where a process of the test logs: LEADFLOW_CHAOS_LOGS/<test>/
// when set (kept after the run), else one temporary directory per test.
// Every run of a process (the worker after each kill) appends to one file.
func logPath(t testing.TB, name string) string {
	if d, ok := logDirs.Load(t.Name()); ok {
		return filepath.Join(d.(string), name)
	}
	dir := ""
	if d := os.Getenv("LEADFLOW_CHAOS_LOGS"); d != "" {
		dir = filepath.Join(d, unsafeName.ReplaceAllString(t.Name(), "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			dir = ""
		}
	}
	if dir == "" {
		dir = t.TempDir()
	}
	d, _ := logDirs.LoadOrStore(t.Name(), dir)
	return filepath.Join(d.(string), name)
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
