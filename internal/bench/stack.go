package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
)

// Secrets of the bench's own deployment: 32 bytes or more, as the edge will
// soon require.
const (
	webhookSecret = "bench-webhook-secret-0123456789abcdef"
	idKey         = "bench-id-key-0123456789abcdef-0123456789"
	// codecKeys encrypts the bench deployment's payloads, as in production
	// (the figures include the codec's cost). A fixed bench-only key.
	codecKeys = "bench:YmVuY2gtY29kZWMta2V5LTAxMjM0NTY3ODlhYmNkZWY="
)

// proc is a leadflow process (worker or serve) the bench runs.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startProc(name, dir, bin string, env []string, args ...string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tail is the last n lines of the process's log, for an error message.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freshDatabase names a new database beside base's (same server and
// credentials): the bench's own, dropped at the end.
func freshDatabase(base string) (dbURL, name string, err error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", fmt.Errorf("database URL %q: want postgres://host:port/db", base)
	}
	name = fmt.Sprintf("leadflow_bench_%d", time.Now().UnixNano())
	u.Path = "/" + name
	return u.String(), name, nil
}

// dropDatabase removes the bench's database through base.
func dropDatabase(ctx context.Context, base, name string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("connect to drop %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// poster sends signed event batches to serve.
type poster struct {
	url    string
	client *http.Client
}

func (p *poster) post(ctx context.Context, events ...lead.Event) error {
	body, err := json.Marshal(map[string]any{"events": events})
	if err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/v1/events", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(api.SignatureHeader, api.Sign([]byte(webhookSecret), time.Now(), body))
		resp, err := p.client.Do(req)
		if err != nil {
			return fmt.Errorf("POST /v1/events (%d events): %w", len(events), err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusAccepted:
			return nil
		// Overload is part of what is measured: retried, never dropped.
		case resp.StatusCode == http.StatusServiceUnavailable && attempt < 20:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		default:
			return fmt.Errorf("POST /v1/events (%d events): %d %s", len(events), resp.StatusCode, bytes.TrimSpace(out))
		}
	}
}
