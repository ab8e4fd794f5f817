package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/testenv"
)

// lockedBuffer is a log sink the test can read while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeSendDirectory runs `serve` in-process against a real Temporal dev
// server and a fresh Postgres database, then drives it with the CLI. No
// worker runs here, so workflows do not progress: the test checks the edge
// (signed intake, receipts, 404s, readiness, metrics, graceful shutdown) and
// the directory commands, not lead state.
func TestServeSendDirectory(t *testing.T) {
	dev := testenv.StartDevServer(t, testenv.DevServerOptions{})
	dbURL := storetest.NewDB(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	const token = "integration-token-0123456789abcdef"
	env := map[string]string{
		config.EnvTemporalAddress:   dev.Address,
		config.EnvTemporalNamespace: dev.Namespace,
		config.EnvTaskQueue:         "starter-integration", // no worker polls it
		config.EnvDatabaseURL:       dbURL,
		config.EnvWebhookSecret:     testSecret,
		config.EnvIDKey:             testIDKey,
		config.EnvHTTPAddr:          addr,
		config.EnvAPIToken:          token,
		config.EnvUpdateTimeout:     "1s",
		config.EnvCodecKeys:         testenv.CodecKeys,
	}
	ta := newTestApp(t, env)
	cfg, err := ta.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PublicURL != "http://"+addr {
		t.Fatalf("PublicURL %q, want http://%s", cfg.PublicURL, addr)
	}

	logs := &lockedBuffer{}
	logger, err := newLogger(logs, "info")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, cfg, logger, ln) }()
	stopped := false
	stop := func() error {
		cancel()
		if stopped {
			return nil
		}
		stopped = true
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop within 30 s of cancel")
			return nil
		}
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
		t.Logf("serve log:\n%s", logs)
	})

	base := "http://" + addr
	waitHealthy(t, base, done)
	if !strings.Contains(logs.String(), `"msg":"listening"`) || !strings.Contains(logs.String(), `"addr":"`+addr+`"`) {
		t.Errorf("no listening line with the address in the log:\n%s", logs)
	}
	if code, body := get(t, base+"/readyz", ""); code != http.StatusOK || !strings.Contains(body, `"status":"ready"`) {
		t.Errorf("/readyz = %d %s, want 200 (Temporal and Postgres are up)", code, body)
	}

	// The directory goes into the same database serve migrated.
	if code := ta.run(t, "directory", "import", deployDirectory); code != exitOK {
		t.Fatalf("directory import: exit %d", code)
	}
	if want := "9 reps, 3 pools, 2 accounts, 1 away ranges"; !strings.Contains(ta.out.String(), want) {
		t.Errorf("directory import printed %q, want %q", ta.out, want)
	}
	if code := ta.run(t, "rep", "away", "rep-1", "--from", "2026-12-01", "--to", "2026-12-03"); code != exitOK {
		t.Fatalf("rep away: exit %d", code)
	}
	if !strings.Contains(ta.out.String(), "(none) → 2026-12-01..2026-12-03") {
		t.Errorf("rep away printed %q", ta.out)
	}
	if code := ta.run(t, "rep", "back", "rep-1"); code != exitOK {
		t.Fatalf("rep back: exit %d", code)
	}
	if code := ta.run(t, "rep", "away", "rep-99", "--from", "2026-12-01", "--to", "2026-12-03"); code != exitUsage || !strings.Contains(ta.errOut.String(), `unknown rep "rep-99"`) {
		t.Fatalf("unknown rep: exit %d, stderr %q", code, ta.errOut)
	}
	// A rep token minted by the CLI opens that rep's inbox on serve, not
	// /v1, and stops at once when revoked.
	if code := ta.run(t, "rep", "token", "rep-2", "--ttl", "1d"); code != exitOK {
		t.Fatalf("rep token: exit %d", code)
	}
	repToken := strings.TrimSpace(ta.out.String())
	if code, body := get(t, base+"/ui/inbox", repToken); code != http.StatusOK || !strings.Contains(body, "Signed in: rep rep-2") {
		t.Errorf("GET /ui/inbox with a rep token = %d %s", code, body)
	}
	if code, _ := get(t, base+"/v1/leads/L-it-1", repToken); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/leads with a rep token = %d, want 401", code)
	}
	tokenID := strings.Split(repToken, "_")[1]
	if code := ta.run(t, "rep", "token", "revoke", tokenID); code != exitOK {
		t.Fatalf("rep token revoke: exit %d", code)
	}
	if code, body := get(t, base+"/ui/inbox", repToken); code != http.StatusUnauthorized || !strings.Contains(body, "token revoked at") {
		t.Errorf("GET /ui/inbox with a revoked token = %d %s", code, body)
	}
	if code := ta.run(t, "db", "migrate"); code != exitOK {
		t.Fatalf("db migrate: exit %d", code)
	}

	// Two signed events for one lead: 202, then all duplicates on resend.
	file := writeFile(t, "events.json", `{"events":[
  {"id":"it-evt-1","leadId":"L-it-1","type":"form.submit","occurredAt":"2026-11-22T10:00:00Z","source":"website",
   "attributes":{"form":"quote_request"},
   "profile":{"email":"ana@acme.io","company":"Acme","domain":"acme.io","country":"US","region":"CA","employees":250}},
  {"id":"it-evt-2","leadId":"L-it-1","type":"web.page_view","occurredAt":"2026-11-22T10:01:00Z","attributes":{"category":"pricing"}}
]}`)
	if code := ta.run(t, "send", file); code != exitOK {
		t.Fatalf("send: exit %d", code)
	}
	if !strings.Contains(ta.out.String(), "accepted 2, duplicates 0") {
		t.Errorf("send printed %q", ta.out)
	}
	if code := ta.run(t, "send", file); code != exitOK || !strings.Contains(ta.out.String(), "accepted 0, duplicates 2") {
		t.Errorf("resend: exit %d, printed %q", code, ta.out)
	}

	if code := ta.run(t, "lead", "show", "L-it-unknown"); code != exitFailure {
		t.Fatalf("lead show unknown: exit %d, want 1", code)
	}
	if !strings.Contains(ta.errOut.String(), "not found") {
		t.Errorf("lead show unknown: stderr %q lacks \"not found\"", ta.errOut)
	}

	// No worker answers for L-it-1: updates give up after
	// LEADFLOW_UPDATE_TIMEOUT, reads fall back to the published state.
	start := time.Now()
	code, body := post(t, base+"/v1/leads/L-it-1/accept", `{"id":"it-u-1","repId":"rep-1"}`, token)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no worker took the accept update within 1s") {
		t.Errorf("accept without a worker = %d %s", code, body)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("accept without a worker took %v, want about the 1s timeout", d)
	}
	if code, body := get(t, base+"/v1/leads/L-it-1", token); code != http.StatusServiceUnavailable || !strings.Contains(body, "published no state") {
		t.Errorf("GET a lead that published nothing, no worker = %d %s", code, body)
	}
	st, err := store.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	publishedAt := time.Date(2026, 11, 22, 10, 2, 0, 0, time.UTC)
	err = st.States().PublishState(t.Context(), actions.StateSnapshot{LeadID: "L-it-1", Seq: 1, At: publishedAt,
		View: lead.View{LeadID: "L-it-1", Stage: lead.StageHandoff, OwnerID: "rep-1"}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, body = get(t, base+"/v1/leads/L-it-1", token)
	if code != http.StatusOK || !strings.Contains(body, `"stale":true`) || !strings.Contains(body, `"publishedAt":"2026-11-22T10:02:00Z"`) ||
		!strings.Contains(body, `"ownerId":"rep-1"`) {
		t.Errorf("GET with a published state, no worker = %d %s", code, body)
	}

	code, body = get(t, base+"/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{"leadflow_http_requests_total", "go_goroutines", "process_"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, _ := get(t, base+"/v1/leads/L-it-unknown", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/leads without the token = %d, want 401", code)
	}

	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after cancel, want a clean shutdown", err)
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped line in the log")
	}
	if !strings.Contains(logs.String(), `"msg":"http request"`) {
		t.Errorf("no per-request log line")
	}
}

func waitHealthy(t *testing.T, base string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("serve exited before it was healthy: %v", err)
		default:
		}
		if code, _ := get(t, base+"/healthz", ""); code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("serve not healthy within 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, url, body, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
