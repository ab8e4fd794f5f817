package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func eventLines(n int, bad map[int]bool) string {
	var b strings.Builder
	for i := range n {
		typ := "email.open"
		if bad[i] {
			typ = "email.teleport"
		}
		fmt.Fprintf(&b, `{"id":"evt-%d","leadId":"L-%d","type":%q,"occurredAt":"2026-11-22T10:00:00Z"}`+"\n", i, i%7, typ)
	}
	return b.String()
}

func TestSendSignedBatches(t *testing.T) {
	ts, leads := fakeAPI(t, "", nil)
	ta := newTestApp(t, clientEnv(ts, ""))
	file := writeFile(t, "events.jsonl", eventLines(1203, nil))
	if code := ta.run(t, "send", file); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"batch 1/3 (events 0-499): accepted 500, duplicates 0",
		"batch 3/3 (events 1000-1202): accepted 203, duplicates 0",
		"total: 1203 events in 3 batches: accepted 1203, duplicates 0",
	} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if leads.EventCount() != 1203 {
		t.Errorf("delivered %d events, want 1203", leads.EventCount())
	}
	// Sending again is harmless: every event is a duplicate.
	if code := ta.run(t, "send", file); code != exitOK {
		t.Fatalf("resend: exit %d", code)
	}
	if !strings.Contains(ta.out.String(), "accepted 0, duplicates 1203") {
		t.Errorf("resend: stdout lacks the duplicates")
	}
}

func TestSendStdinAndURLFlag(t *testing.T) {
	ts, _ := fakeAPI(t, "", nil)
	env := clientEnv(ts, "")
	env["LEADFLOW_PUBLIC_URL"] = "http://127.0.0.1:1" // nothing there: --url must win
	ta := newTestApp(t, env)
	ta.stdin = strings.NewReader(`{"events":[` + ev(1) + `,` + ev(2) + `]}`)
	if code := ta.run(t, "send", "--url", ts.URL, "-"); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(ta.out.String(), "accepted 2, duplicates 0") {
		t.Errorf("stdout %q", ta.out)
	}
}

func TestSendInvalidEventsReportAbsoluteIndex(t *testing.T) {
	ts, leads := fakeAPI(t, "", nil)
	ta := newTestApp(t, clientEnv(ts, ""))
	file := writeFile(t, "events.json", "["+strings.ReplaceAll(strings.TrimSpace(eventLines(600, map[int]bool{503: true, 599: true})), "\n", ",")+"]")
	if code := ta.run(t, "send", file); code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(ta.out.String(), "batch 1/2 (events 0-499): accepted 500") {
		t.Errorf("first batch not reported as accepted: %q", ta.out)
	}
	for _, want := range []string{"event 503: type: unknown event type", "event 599: type: unknown event type", "events 500-599 were not"} {
		if !strings.Contains(ta.errOut.String(), want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if leads.EventCount() != 500 {
		t.Errorf("delivered %d, want only the first batch's 500", leads.EventCount())
	}
}

func TestSendRetries503(t *testing.T) {
	var calls atomic.Int32
	ts, leads := fakeAPI(t, "", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch calls.Add(1) {
			case 1:
				w.Header().Set("Retry-After", "7")
				http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
			case 2:
				http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable) // no Retry-After: backoff
			default:
				next.ServeHTTP(w, r)
			}
		})
	})
	ta := newTestApp(t, clientEnv(ts, ""))
	file := writeFile(t, "e.jsonl", eventLines(3, nil))
	if code := ta.run(t, "send", file); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if got := fmt.Sprint(ta.slept); got != fmt.Sprint([]time.Duration{7 * time.Second, 2 * time.Second}) {
		t.Errorf("waits %s, want [7s 2s] (Retry-After, then doubled backoff)", got)
	}
	if leads.EventCount() != 3 || !strings.Contains(ta.out.String(), "accepted 3") {
		t.Errorf("delivered %d; stdout %q", leads.EventCount(), ta.out)
	}
}

func TestSendGivesUpAfterFiveTries(t *testing.T) {
	var calls atomic.Int32
	ts, _ := fakeAPI(t, "", func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"temporal down"}`, http.StatusServiceUnavailable)
		})
	})
	ta := newTestApp(t, clientEnv(ts, ""))
	if code := ta.run(t, "send", writeFile(t, "e.jsonl", eventLines(2, nil))); code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if calls.Load() != 5 {
		t.Errorf("%d tries, want 5", calls.Load())
	}
	if !strings.Contains(ta.errOut.String(), "gave up after 5 tries") || !strings.Contains(ta.errOut.String(), "temporal down") {
		t.Errorf("stderr %q", ta.errOut)
	}
}

func TestSendWrongSecretFails(t *testing.T) {
	ts, _ := fakeAPI(t, "", nil)
	env := clientEnv(ts, "")
	env["LEADFLOW_WEBHOOK_SECRET"] = "not-the-secret"
	ta := newTestApp(t, env)
	if code := ta.run(t, "send", writeFile(t, "e.jsonl", eventLines(1, nil))); code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(ta.errOut.String(), "HTTP 401") {
		t.Errorf("stderr %q", ta.errOut)
	}
	delete(env, "LEADFLOW_WEBHOOK_SECRET")
	if code := ta.run(t, "send", writeFile(t, "e.jsonl", eventLines(1, nil))); code != exitFailure || !strings.Contains(ta.errOut.String(), "LEADFLOW_WEBHOOK_SECRET") {
		t.Fatalf("no secret: exit %d, stderr %q", code, ta.errOut)
	}
}

func TestSendBadInput(t *testing.T) {
	ts, _ := fakeAPI(t, "", nil)
	ta := newTestApp(t, clientEnv(ts, ""))
	if code := ta.run(t, "send", writeFile(t, "bad.jsonl", ev(1)+"\nnot json\n")); code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(ta.errOut.String(), "line 2") {
		t.Errorf("stderr %q does not name the line", ta.errOut)
	}
	if code := ta.run(t, "send", filepath.Join(t.TempDir(), "missing.json")); code != exitFailure {
		t.Fatalf("missing file: exit %d, want 1", code)
	}
}
