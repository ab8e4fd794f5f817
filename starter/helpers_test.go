package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/webui/webuitest"
)

const (
	// 32 bytes or more: serve refuses shorter secrets (config.MinSecretBytes).
	testSecret = "test-webhook-secret-0123456789abcdef"
	testIDKey  = "test-id-key-0123456789abcdef-0123"
)

// testApp is an app with captured output, a config from env (no process
// environment) and a sleep that records instead of waiting.
type testApp struct {
	*app
	out, errOut *bytes.Buffer
	mu          sync.Mutex
	slept       []time.Duration
}

func newTestApp(t *testing.T, env map[string]string) *testApp {
	t.Helper()
	ta := &testApp{out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}
	ta.app = &app{
		stdin:  bytes.NewReader(nil),
		stdout: ta.out,
		stderr: ta.errOut,
		loadConfig: func() (config.Config, error) {
			return config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		},
		httpClient: &http.Client{Timeout: 30 * time.Second},
		now:        time.Now,
		sleep: func(ctx context.Context, d time.Duration) error {
			ta.mu.Lock()
			ta.slept = append(ta.slept, d)
			ta.mu.Unlock()
			return ctx.Err()
		},
		user: func() string { return "tester" },
	}
	return ta
}

// run runs one command line and returns its exit code.
func (ta *testApp) run(t *testing.T, args ...string) int {
	t.Helper()
	ta.out.Reset()
	ta.errOut.Reset()
	code := ta.app.run(context.Background(), args)
	t.Logf("starter %v → %d\nstdout:\n%s\nstderr:\n%s", args, code, ta.out, ta.errOut)
	return code
}

type noMerges struct{}

func (noMerges) MergedInto(context.Context, string) (string, bool, error) { return "", false, nil }

type memReceipts struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *memReceipts) Record(_ context.Context, eventID, _ string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[eventID] {
		return false, nil
	}
	r.seen[eventID] = true
	return true, nil
}

// fakeAPI is the real HTTP edge over fakes (webuitest.Leads stands in for
// Temporal); wrap lets a test put a handler in front (e.g. to answer 503
// first).
func fakeAPI(t *testing.T, token string, wrap func(http.Handler) http.Handler) (*httptest.Server, *webuitest.Leads) {
	t.Helper()
	leads := webuitest.NewLeads()
	srv, err := api.New(api.Config{WebhookSecret: []byte(testSecret), IDKey: []byte(testIDKey), APIToken: token},
		leads, noMerges{}, &memReceipts{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts, leads
}

func newHTTPTestServer(t *testing.T, srv *api.Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// clientEnv is the environment of a CLI command talking to ts.
func clientEnv(ts *httptest.Server, token string) map[string]string {
	env := map[string]string{
		config.EnvWebhookSecret: testSecret,
		config.EnvIDKey:         testIDKey,
		config.EnvPublicURL:     ts.URL,
	}
	if token != "" {
		env[config.EnvAPIToken] = token
	}
	return env
}
