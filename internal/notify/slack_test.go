package notify

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/notify/notifytest"
)

var testLinks = Links{PublicURL: "http://127.0.0.1:8080", TemporalUIURL: "http://127.0.0.1:8233", Namespace: "default"}

// sample is a handoff for Dana (New York) due at 15:00 UTC.
func sample(t *testing.T) Message {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	in := actions.NotifyInput{Key: "lead/L-1001:handoff:1:notify", LeadID: "L-1001", Email: "ana@acme.io", To: "rep-1",
		Kind: actions.NotifyHandoff, OwnerID: "rep-1", Body: "Ana Lima, VP Sales at Acme, asked for a quote.",
		WhyNow: "quote_request +40", DueAt: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)}
	return Build(in, Person{ID: "rep-1", Name: "Dana Whitfield", Email: "dana@example.com", Slack: "U024BE7LH", Timezone: "America/New_York"}, ny, testLinks)
}

func TestSlackWebhookPostsBlockKit(t *testing.T) {
	f := notifytest.NewSlack(t)
	s, err := NewSlackWebhook(f.WebhookURL())
	if err != nil {
		t.Fatal(err)
	}
	p := sendOne(t, s, f)
	if p.ShapeErr != "" {
		t.Fatalf("Block Kit shape: %s", p.ShapeErr)
	}
	if p.Blocks[0]["type"] != "header" || p.Text != "New lead for you: L-1001" {
		t.Errorf("first block %v, fallback text %q", p.Blocks[0], p.Text)
	}
	all := flatten(p.Blocks)
	for _, want := range []string{
		"New lead for you: L-1001", "<@U024BE7LH>", "L-1001", "ana@acme.io", "quote_request +40",
		"Tue 1 Dec 10:00 EST", // 15:00 UTC in the recipient's zone
		"http://127.0.0.1:8080/ui/inbox?rep=rep-1",
		"http://127.0.0.1:8233/namespaces/default/workflows/lead%2FL-1001",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("blocks lack %q:\n%s", want, all)
		}
	}
}

func TestSlackBotPostsToTheUserID(t *testing.T) {
	f := notifytest.NewSlack(t)
	s, err := NewSlackBot(f.Token, WithSlackAPIURL(f.APIURL()))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Reaches(Person{ID: "rep-1", Slack: "U024BE7LH"}) || s.Reaches(Person{ID: "rep-2"}) {
		t.Error("a bot reaches exactly the people with a Slack ID")
	}
	p := sendOne(t, s, f)
	if p.Path != "/api/chat.postMessage" || p.Channel != "U024BE7LH" || p.Auth != "Bearer xoxb-test-token" || p.ShapeErr != "" {
		t.Errorf("post = path %s channel %s auth %q shape %q", p.Path, p.Channel, p.Auth, p.ShapeErr)
	}
}

// Each Slack answer maps to what Temporal should do.
func TestSlackErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bot    bool
		answer http.HandlerFunc
		check  func(error) bool
	}{
		{"webhook 429 with Retry-After", false, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		}, limitedFor(7 * time.Second)},
		{"bot 429 with Retry-After", true, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "12")
			w.WriteHeader(http.StatusTooManyRequests)
		}, limitedFor(12 * time.Second)},
		{"webhook 503", false, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}, isUnavailable},
		{"bot 500", true, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "oops", http.StatusInternalServerError)
		}, isUnavailable},
		{"webhook 404 no_service", false, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no_service", http.StatusNotFound)
		}, isRefused},
		{"webhook 403 invalid_token", false, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "invalid_token", http.StatusForbidden)
		}, isRefused},
		{"bot channel_not_found", true, func(w http.ResponseWriter, _ *http.Request) {
			notifytest.WriteJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		}, isRefused},
		{"bot internal_error", true, func(w http.ResponseWriter, _ *http.Request) {
			notifytest.WriteJSON(w, map[string]any{"ok": false, "error": "internal_error"})
		}, isUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := notifytest.NewSlack(t)
			f.Answer(tc.answer)
			var s *Slack
			var err error
			if tc.bot {
				s, err = NewSlackBot(f.Token, WithSlackAPIURL(f.APIURL()))
			} else {
				s, err = NewSlackWebhook(f.WebhookURL())
			}
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), sample(t))
			if !tc.check(err) {
				t.Fatalf("error %T %v", err, err)
			}
			if strings.Contains(err.Error(), "ana@acme.io") || strings.Contains(err.Error(), "XXXX") {
				t.Errorf("error leaks PII or the webhook URL: %v", err)
			}
		})
	}
}

// A Slack that does not answer in time is an outage, retried.
func TestSlackTimeout(t *testing.T) {
	f := notifytest.NewSlack(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.Answer(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	s, err := NewSlackWebhook(f.WebhookURL(), WithSlackHTTPClient(&http.Client{Timeout: 200 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), sample(t))
	var u *Unavailable
	if !errors.As(err, &u) || !strings.Contains(u.Reason, "timeout") {
		t.Fatalf("error %T %v; want Unavailable timeout", err, err)
	}
}

func TestSlackConfigErrorsHideTheSecret(t *testing.T) {
	if _, err := NewSlackWebhook("hooks.slack.com/services/T/B/SECRET"); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("relative URL: %v", err)
	}
	if _, err := NewSlackBot("xoxb bad"); err == nil {
		t.Error("a token with a space should be refused")
	}
}

func limitedFor(d time.Duration) func(error) bool {
	return func(err error) bool {
		var l *Limited
		return errors.As(err, &l) && l.RetryAfter == d
	}
}

func isUnavailable(err error) bool {
	var u *Unavailable
	return errors.As(err, &u)
}

func isRefused(err error) bool {
	var r *Refused
	return errors.As(err, &r)
}

// flatten is every string in the blocks, for "does it say X" checks.
func flatten(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x + "\n")
		case []any:
			for _, e := range x {
				walk(e)
			}
		case []map[string]any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

// sendOne sends the sample and returns the one post f received.
func sendOne(t *testing.T, s *Slack, f *notifytest.Slack) notifytest.Post {
	t.Helper()
	if err := s.Send(t.Context(), sample(t)); err != nil {
		t.Fatal(err)
	}
	posts := f.Received()
	if len(posts) != 1 {
		t.Fatalf("posts = %d, want 1", len(posts))
	}
	return posts[0]
}
