package api_test

import (
	"bytes"
	. "github.com/leadflow/leadflow/internal/api"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/hswebhook"
	"github.com/leadflow/leadflow/internal/lead"
)

// clock is a test clock the edge's token buckets and signatures read.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (e *env) postEventsFrom(addr string, body []byte, sig string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewReader(body))
	req.RemoteAddr = addr
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	return e.do(req)
}

func TestEventsRateLimitPerSource(t *testing.T) {
	clk := &clock{now: testNow}
	e := newEnv(t, func(c *Config) { c.Now, c.EventsRate, c.EventsBurst = clk.Now, 0.5, 2 })
	body := batch(t, ev("e1", "L-1", lead.EventEmailOpen))
	sig := Sign(testSecret, testNow, body)
	const ana, bob = "198.51.100.7:4000", "198.51.100.8:4000"

	wantStatus(t, e.postEventsFrom(ana, body, sig), http.StatusAccepted)
	// An unsigned request takes a token too: the limit comes before any check.
	wantStatus(t, e.postEventsFrom(ana, body, ""), http.StatusUnauthorized)
	rec := e.postEventsFrom(ana, body, sig)
	wantStatus(t, rec, http.StatusTooManyRequests)
	wantJSON(t, rec)
	if ra := rec.Header().Get("Retry-After"); ra != "2" { // one token at 0.5/s
		t.Errorf("Retry-After = %q, want 2", ra)
	}
	// Another source has its own bucket.
	wantStatus(t, e.postEventsFrom(bob, body, sig), http.StatusAccepted)
	// A port change is the same source.
	wantStatus(t, e.postEventsFrom("198.51.100.7:5000", body, sig), http.StatusTooManyRequests)

	clk.add(1999 * time.Millisecond)
	wantStatus(t, e.postEventsFrom(ana, body, sig), http.StatusTooManyRequests)
	clk.add(time.Millisecond)
	wantStatus(t, e.postEventsFrom(ana, body, sig), http.StatusAccepted)

	if m := e.metrics(); !strings.Contains(m, "leadflow_events_rate_limited_total 3") {
		t.Errorf("metrics: want leadflow_events_rate_limited_total 3 in\n%s", grepLines(m, "rate_limited"))
	}
}

func TestEventsRateLimitIPv6ByPrefix(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.EventsRate, c.EventsBurst = 1, 1 })
	body := batch(t, ev("e1", "L-1", lead.EventEmailOpen))
	sig := Sign(testSecret, testNow, body)
	wantStatus(t, e.postEventsFrom("[2001:db8:1:2::10]:443", body, sig), http.StatusAccepted)
	// The same /64: one host rotating its low bits is still one source.
	wantStatus(t, e.postEventsFrom("[2001:db8:1:2:ffff::1]:443", body, sig), http.StatusTooManyRequests)
	wantStatus(t, e.postEventsFrom("[2001:db8:1:3::10]:443", body, sig), http.StatusAccepted)
}

func TestRateLimiterBoundsSources(t *testing.T) {
	clk := &clock{now: testNow}
	l := NewRateLimiter(1, 1, clk.Now)
	for i := range MaxSources + 10 {
		l.Allow("src-" + strconv.Itoa(i))
	}
	if n := l.Buckets(); n > MaxSources+1 {
		t.Fatalf("%d buckets, want at most %d and the overflow one", n, MaxSources)
	}
	// Past the bound new sources share the overflow bucket (already used).
	if ok, _ := l.Allow("one-more"); ok {
		t.Error("a new source past the bound got a fresh bucket")
	}
	// Once the buckets have refilled they are swept and sources tracked again.
	clk.add(SweepEvery)
	if ok, _ := l.Allow("one-more"); !ok {
		t.Error("after the sweep a new source is refused")
	}
	if n := l.Buckets(); n != 1 {
		t.Errorf("%d buckets after the sweep, want 1", n)
	}
}

// countingBody records whether the handler read the body at all.
type countingBody struct {
	r     io.Reader
	reads atomic.Int32
}

func (b *countingBody) Read(p []byte) (int, error) { b.reads.Add(1); return b.r.Read(p) }

// Unsigned or stale senders cost no body read, on both signed endpoints.
func TestSignedEndpointsCheckHeadersBeforeBody(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	stale := strconv.FormatInt(testNow.Add(-6*time.Minute).UnixMilli(), 10)
	cases := map[string]func(*http.Request){
		"events, no signature": func(r *http.Request) {},
		"events, stale":        func(r *http.Request) { r.Header.Set(SignatureHeader, Sign(testSecret, testNow.Add(-time.Hour), nil)) },
		"hubspot, no headers":  func(r *http.Request) { r.URL.Path = HubSpotWebhookPath },
		"hubspot, stale": func(r *http.Request) {
			r.URL.Path = HubSpotWebhookPath
			r.Header.Set(hswebhook.TimestampHeader, stale)
			r.Header.Set(hswebhook.SignatureHeader, hsSignature(http.MethodPost, hsPublicURL+HubSpotWebhookPath, nil, stale))
		},
	}
	for name, prep := range cases {
		t.Run(name, func(t *testing.T) {
			body := &countingBody{r: strings.NewReader(`{"events":[]}`)}
			req := httptest.NewRequest(http.MethodPost, "/v1/events", body)
			prep(req)
			wantStatus(t, e.do(req), http.StatusUnauthorized)
			if n := body.reads.Load(); n != 0 {
				t.Errorf("body read %d times before the headers were refused", n)
			}
		})
	}
}

// blockingBody holds the handler in its body read until released.
type blockingBody struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingBody) Read(p []byte) (int, error) {
	b.once.Do(func() { close(b.started) })
	<-b.release
	return 0, io.EOF
}

func TestSignedBodyReadsBounded(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, func(c *Config) { c.MaxBodyReads = 1 })
	body := batch(t, ev("e1", "L-1", lead.EventEmailOpen))
	slow := &blockingBody{started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/v1/events", slow)
		req.Header.Set(SignatureHeader, Sign(testSecret, testNow, body))
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		done <- rec
	}()
	select {
	case <-slow.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request never started reading its body")
	}

	// The one slot is taken: both signed endpoints answer 503 at once,
	// without reading.
	waiting := &countingBody{r: bytes.NewReader(body)}
	req := httptest.NewRequest(http.MethodPost, "/v1/events", waiting)
	req.Header.Set(SignatureHeader, Sign(testSecret, testNow, body))
	rec := e.do(req)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	if ra := rec.Header().Get("Retry-After"); ra != BodyBusyRetry {
		t.Errorf("Retry-After = %q, want %s", ra, BodyBusyRetry)
	}
	if n := waiting.reads.Load(); n != 0 {
		t.Errorf("the refused request's body was read %d times", n)
	}
	wantStatus(t, e.postHubSpot(HubSpotWebhookPath, sampleHubSpotBatch(), nil), http.StatusServiceUnavailable)

	close(slow.release)
	select {
	case rec := <-done:
		wantStatus(t, rec, http.StatusUnauthorized) // its empty body does not match the signature
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request did not finish")
	}
	// The slot is free again.
	wantStatus(t, e.postEvents(body, "sign"), http.StatusAccepted)
	if m := e.metrics(); !strings.Contains(m, "leadflow_http_body_reads_refused_total 2") {
		t.Errorf("metrics: want leadflow_http_body_reads_refused_total 2 in\n%s", grepLines(m, "body_reads"))
	}
}

func TestEventIDWithAtRefused(t *testing.T) {
	e := newEnv(t, nil)
	body := batch(t, ev("evt-1", "L-1", lead.EventEmailOpen), ev("ana@acme.io", "L-1", lead.EventEmailOpen))
	rec := e.postEvents(body, "sign")
	wantStatus(t, rec, http.StatusBadRequest)
	errs := decode[EventErrors](t, rec).Errors
	if len(errs) != 1 || errs[0].Index != 1 || errs[0].Field != "id" || !strings.Contains(errs[0].Message, "must not contain @") {
		t.Fatalf("errors = %+v, want one for index 1, field id", errs)
	}
	if strings.Contains(rec.Body.String(), "ana@acme.io") {
		t.Errorf("the answer echoes the ID: %s", rec.Body)
	}
	if n := len(e.leads.EventIDs("L-1")); n != 0 {
		t.Errorf("%d events delivered from a refused batch", n)
	}
}

func TestHubSpotOtherPortalIgnored(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	other := strings.Replace(hsNote(21, "contact.propertyChange", 501, "email", "eve@evil.io", hsAt), `"portalId":33`, `"portalId":99`, 1)
	if !strings.Contains(other, `"portalId":99`) {
		t.Fatal("test note has no portalId to replace")
	}
	noPortal := strings.Replace(hsNote(22, "contact.propertyChange", 501, "email", "eve@evil.io", hsAt), `"portalId":33,`, ``, 1)
	body := hsBatch(other, noPortal, hsNote(23, "contact.propertyChange", 501, "email", "ana@acme.io", hsAt))
	rec := e.postHubSpot(HubSpotWebhookPath, body, nil)
	wantStatus(t, rec, http.StatusOK)
	res := decode[HubSpotResult](t, rec)
	if want := (HubSpotResult{Notifications: 3, OtherPortal: 2, Events: 1, Accepted: 1}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	if got := e.leads.EventIDs("L-1001"); len(got) != 1 || got[0] != "hs-23-25-501" {
		t.Errorf("applied %v, want only the pinned portal's hs-23-25-501", got)
	}
	if m := e.metrics(); !strings.Contains(m, "leadflow_hubspot_other_portal_notifications_total 2") {
		t.Errorf("metrics: want leadflow_hubspot_other_portal_notifications_total 2 in\n%s", grepLines(m, "other_portal"))
	}
}

// HubSpot judges only age; a timestamp ahead of our clock is accepted (a
// 401 is never retried: the notifications would be lost).
func TestHubSpotTimestampSkew(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	for _, c := range []struct {
		name string
		at   time.Time
		code int
	}{
		{"10 min ahead", testNow.Add(10 * time.Minute), http.StatusOK},
		{"4 min old", testNow.Add(-4 * time.Minute), http.StatusOK},
		{"6 min old", testNow.Add(-6 * time.Minute), http.StatusUnauthorized},
		{"2 h ahead", testNow.Add(2 * time.Hour), http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := sampleHubSpotBatch()
			ts := strconv.FormatInt(c.at.UnixMilli(), 10)
			rec := e.postHubSpot(HubSpotWebhookPath, body, func(r *http.Request) {
				r.Header.Set(hswebhook.TimestampHeader, ts)
				r.Header.Set(hswebhook.SignatureHeader, hsSignature(http.MethodPost, hsPublicURL+HubSpotWebhookPath, body, ts))
			})
			wantStatus(t, rec, c.code)
		})
	}
}

// grepLines keeps the lines of s that contain sub, for short failure messages.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
