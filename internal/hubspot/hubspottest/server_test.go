package hubspottest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/hubspot/hubspottest"
)

func get(t *testing.T, fake *hubspottest.Server, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fake.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+hubspottest.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// A fault with Until is an outage: every matching request fails until the
// fake's clock reaches Until, then the fake answers normally again.
func TestWindowFaultLastsUntilItsEnd(t *testing.T) {
	clk := hubspottest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	fake := hubspottest.New(t, hubspottest.WithClock(clk))
	fake.Inject(hubspottest.Fault{Kind: hubspottest.Unavailable, Path: "/crm/v3/owners", RetryAfter: 3 * time.Second,
		Until: clk.Now().Add(time.Minute)})
	for i := range 5 {
		resp := get(t, fake, "/crm/v3/owners")
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "3" {
			t.Fatalf("request %d in the window: %d Retry-After %q", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		clk.Advance(10 * time.Second)
	}
	if resp := get(t, fake, "/crm/v3/objects/contacts/1"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another path is not in the outage: %d", resp.StatusCode)
	}
	clk.Advance(10 * time.Second) // 60 s: the window has closed
	if resp := get(t, fake, "/crm/v3/owners"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the window: %d", resp.StatusCode)
	}
}

// Counted faults keep working beside a window: a 429 window on one path,
// then one 503 without Retry-After.
func TestWindowAndCountedFaults(t *testing.T) {
	clk := hubspottest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	fake := hubspottest.New(t, hubspottest.WithClock(clk))
	fake.Inject(hubspottest.Fault{Kind: hubspottest.RateLimit, RetryAfter: 10 * time.Second, Until: clk.Now().Add(30 * time.Second)})
	fake.Inject(hubspottest.Fault{Kind: hubspottest.Unavailable})
	if resp := get(t, fake, "/crm/v3/owners"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "10" {
		t.Fatalf("in the window: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	clk.Advance(30 * time.Second)
	if resp := get(t, fake, "/crm/v3/owners"); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "" {
		t.Fatalf("the counted 503: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := get(t, fake, "/crm/v3/owners"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after both: %d", resp.StatusCode)
	}
}
