package webhooktest_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/nurture/webhook/webhooktest"
)

var secret = []byte("receiver-secret")

const body = `{"type":"pause","idempotencyKey":"k1","leadId":"L1","reasons":["active_sales_motion"]}`

func post(t *testing.T, url, sig, key, payload string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader([]byte(payload)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("Leadflow-Signature", sig)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestReceiverChecksSignatureAndDedupes(t *testing.T) {
	t.Parallel()
	r := webhooktest.New(t, secret)
	now := time.Now()
	good := api.Sign(secret, now, []byte(body))
	for _, c := range []struct {
		name, sig, key, body string
		want                 int
	}{
		{"missing signature", "", "k1", body, 401},
		{"wrong secret", api.Sign([]byte("other"), now, []byte(body)), "k1", body, 401},
		{"stale", api.Sign(secret, now.Add(-301*time.Second), []byte(body)), "k1", body, 401},
		{"from the future", api.Sign(secret, now.Add(301*time.Second), []byte(body)), "k1", body, 401},
		{"body changed", good, "k1", strings.Replace(body, "L1", "L2", 1), 401},
		{"malformed", "t=abc,v1=zz", "k1", body, 401},
		{"no key", good, "", body, 400},
		{"key differs from body", good, "k2", body, 400},
		{"first", good, "k1", body, 200},
		{"repeat", good, "k1", body, 409},
		{"rotation: two v1 values", good + ",v1=" + strings.Repeat("0", 64), "k1", body, 409},
	} {
		if got := post(t, r.URL(), c.sig, c.key, c.body); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	if got := r.Received(); len(got) != 1 || got[0].Key != "k1" || got[0].Event.LeadID != "L1" {
		t.Errorf("received %+v", got)
	}
	if r.Repeats() != 2 || len(r.Refused()) != 8 || r.Requests() != 11 {
		t.Errorf("repeats %d, refused %v, requests %d", r.Repeats(), r.Refused(), r.Requests())
	}
}

func TestReceiverFailsOnCommand(t *testing.T) {
	t.Parallel()
	r := webhooktest.New(t, secret)
	r.Fail(1, webhooktest.Failure{Kind: webhooktest.Throttle, RetryAfter: "3"})
	r.Fail(1, webhooktest.Failure{Kind: webhooktest.ServerError})
	r.Fail(1, webhooktest.Failure{Kind: webhooktest.Reject, Message: "no"})
	r.Fail(1, webhooktest.Failure{Kind: webhooktest.CrashAfterProcessing})
	sig := func() string { return api.Sign(secret, time.Now(), []byte(body)) }
	for _, want := range []int{429, 500, 400, 502, 409, 409} {
		if got := post(t, r.URL(), sig(), "k1", body); got != want {
			t.Errorf("status %d, want %d", got, want)
		}
	}
	if len(r.Received()) != 1 || r.Repeats() != 2 {
		t.Errorf("received %d, repeats %d", len(r.Received()), r.Repeats())
	}
}

// FailUntil is an outage: every request fails until the window ends, the
// queued failures wait for it, and then the receiver processes again.
func TestReceiverOutageWindow(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := webhooktest.New(t, secret, webhooktest.WithClock(clock))
	r.Fail(1, webhooktest.Failure{Kind: webhooktest.ServerError})
	r.FailUntil(now.Add(time.Minute), webhooktest.Failure{Kind: webhooktest.Unavailable, RetryAfter: "5"})
	sig := func() string { return api.Sign(secret, clock(), []byte(body)) }
	for range 3 {
		if got := post(t, r.URL(), sig(), "k1", body); got != 503 {
			t.Errorf("in the outage: status %d, want 503", got)
		}
		mu.Lock()
		now = now.Add(20 * time.Second)
		mu.Unlock()
	}
	for _, want := range []int{500, 200, 409} {
		if got := post(t, r.URL(), sig(), "k1", body); got != want {
			t.Errorf("after the outage: status %d, want %d", got, want)
		}
	}
	if len(r.Received()) != 1 || r.Requests() != 6 {
		t.Errorf("received %d, requests %d", len(r.Received()), r.Requests())
	}
}
