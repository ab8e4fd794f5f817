package hubspottest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/hubspot"
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

func patch(t *testing.T, fake *hubspottest.Server, path, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, fake.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+hubspottest.DefaultToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// PATCH of a task, as HubSpot documents it: 200 with the object, an
// option outside hs_task_status's enumeration is a 400, an unknown or
// deleted ID a 404; injected faults apply to the path like any other.
func TestPatchTask(t *testing.T) {
	clk := hubspottest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	fake := hubspottest.New(t, hubspottest.WithClock(clk))
	c := fake.AddContact(nil)
	client, err := hubspot.New(fake.URL, hubspottest.DefaultToken, hubspot.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	id, err := client.CreateTask(t.Context(), map[string]string{"hs_timestamp": "1795338000000", "hs_task_status": "NOT_STARTED"}, c)
	if err != nil {
		t.Fatal(err)
	}
	path := "/crm/v3/objects/tasks/" + id
	resp, out := patch(t, fake, path, `{"properties":{"hs_task_status":"COMPLETED"}}`)
	props, _ := out["properties"].(map[string]any)
	if resp.StatusCode != http.StatusOK || out["id"] != id || props["hs_task_status"] != "COMPLETED" {
		t.Fatalf("PATCH = %d %v", resp.StatusCode, out)
	}
	if got := fake.Tasks()[0].Properties["hs_task_status"]; got != "COMPLETED" {
		t.Errorf("stored status = %q", got)
	}
	if resp, out := patch(t, fake, path, `{"properties":{"hs_task_status":"CANCELLED"}}`); resp.StatusCode != http.StatusBadRequest || out["category"] != "VALIDATION_ERROR" {
		t.Errorf("CANCELLED = %d %v, want 400 VALIDATION_ERROR (no such status)", resp.StatusCode, out)
	}
	fake.Inject(hubspottest.Fault{Kind: hubspottest.RateLimit, Method: http.MethodPatch, Path: path, RetryAfter: 4 * time.Second})
	if resp, _ := patch(t, fake, path, `{"properties":{"hs_task_status":"COMPLETED"}}`); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "4" {
		t.Errorf("injected 429 = %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, p := range []string{"/crm/v3/objects/tasks/424242", path} {
		if p == path && !fake.Delete(hubspot.Tasks, id) {
			t.Fatal("Delete found no task")
		}
		if resp, out := patch(t, fake, p, `{"properties":{"hs_task_status":"COMPLETED"}}`); resp.StatusCode != http.StatusNotFound || out["category"] != "OBJECT_NOT_FOUND" {
			t.Errorf("PATCH %s = %d %v, want 404 OBJECT_NOT_FOUND", p, resp.StatusCode, out)
		}
	}
	if resp := get(t, fake, path); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of a deleted task = %d", resp.StatusCode)
	}
}
