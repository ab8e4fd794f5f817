package webhook

import (
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", minRetryGap, true}, // zero would mean "use the retry policy"
		{"-3", 0, false},
		{"soon", 0, false},
		{"Mon, 23 Nov 2026 15:00:30 GMT", 30 * time.Second, true},
		{"Mon, 23 Nov 2026 14:00:00 GMT", minRetryGap, true}, // in the past: now
	} {
		got, ok := retryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestReceiverMessage(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ raw, want string }{
		{`{"error":"unknown track"}`, "unknown track"},
		{`{"error":{"message":"nested","code":7}}`, "nested"},
		{`{"message":"plain message"}`, "plain message"},
		{"bad\n  request for Ana@Acme.io", "bad request for <email>"},
		{"", ""},
	} {
		if got := receiverMessage([]byte(c.raw), "ana@acme.io"); got != c.want {
			t.Errorf("receiverMessage(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
	long := receiverMessage([]byte(strings.Repeat("é", 600)), "")
	if !strings.HasSuffix(long, "…") || len(long) > maxMessage+len("…") || !strings.HasPrefix(long, "éé") {
		t.Errorf("long message cut to %d bytes: %q…", len(long), long[:10])
	}
	if strings.ContainsRune(strings.TrimSuffix(long, "…"), '\uFFFD') {
		t.Error("cut inside a rune")
	}
}

func TestStopReason(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"email.unsubscribe": "unsubscribed", "unsubscribe": "unsubscribed", "unsubscribed": "unsubscribed",
		"email.bounce": "bounced", "bounce": "bounced", "bounced": "bounced",
		"disqualified": "disqualified", "merged": "merged", "": "",
	} {
		if got := stopReason(in); got != want {
			t.Errorf("stopReason(%q) = %q, want %q", in, got, want)
		}
	}
}
