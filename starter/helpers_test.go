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
	"github.com/leadflow/leadflow/internal/lead"
)

const (
	testSecret = "test-webhook-secret"
	testIDKey  = "test-id-key"
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

// fakeLeads stands in for Temporal behind a real api.Server.
type fakeLeads struct {
	mu        sync.Mutex
	delivered []lead.Event
	views     map[string]lead.View
	explain   map[string]lead.Explanation
	updates   []fakeUpdate
	refuse    string // when set, Update answers *api.Refused with it
}

type fakeUpdate struct {
	LeadID, Name, UpdateID string
	Req                    any
}

func (f *fakeLeads) Deliver(_ context.Context, leadID string, ev lead.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = append(f.delivered, ev)
	return nil
}

func (f *fakeLeads) Update(_ context.Context, leadID, name, updateID string, req any) (lead.View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != "" {
		return lead.View{}, &api.Refused{Message: f.refuse}
	}
	v, ok := f.views[leadID]
	if !ok {
		return lead.View{}, api.ErrNotFound
	}
	f.updates = append(f.updates, fakeUpdate{leadID, name, updateID, req})
	return v, nil
}

func (f *fakeLeads) Query(_ context.Context, leadID, name string, out any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch name {
	case lead.QueryState:
		v, ok := f.views[leadID]
		if !ok {
			return api.ErrNotFound
		}
		*out.(*lead.View) = v
	case lead.QueryExplain:
		x, ok := f.explain[leadID]
		if !ok {
			return api.ErrNotFound
		}
		*out.(*lead.Explanation) = x
	}
	return nil
}

func (f *fakeLeads) Ready(context.Context) error { return nil }

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

// fakeAPI is the real HTTP edge over fakes; wrap lets a test put a handler
// in front (e.g. to answer 503 first).
func fakeAPI(t *testing.T, token string, wrap func(http.Handler) http.Handler) (*httptest.Server, *fakeLeads) {
	t.Helper()
	leads := &fakeLeads{views: map[string]lead.View{}, explain: map[string]lead.Explanation{}}
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
