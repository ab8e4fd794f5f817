package notify

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/notify/notifytest"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

const testDirectory = `
reps:
  - { id: rep-1, name: Dana Whitfield, manager: mgr-1, timezone: America/New_York, email: dana@example.com, slack: U024BE7LH }
  - { id: rep-2, name: Luis Ortega, manager: mgr-1, timezone: America/Chicago, email: luis@example.com }
  - { id: mgr-1, name: Chris Doyle, timezone: America/New_York, slack: W012A3CDE }
pools:
  p: { strategy: round_robin, members: [rep-1, rep-2], fallback: mgr-1 }
`

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

type rig struct {
	d     *Dispatcher
	st    *store.DB
	smtp  *notifytest.SMTPServer
	slack *notifytest.Slack
	clock *testClock
	pol   Policy
	logs  *observer.ObservedLogs
}

// noon in New York on a weekday: outside the default quiet hours.
var noonNY = time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)

func newRig(t *testing.T) *rig {
	t.Helper()
	st := storetest.Open(t)
	dir, err := directory.Parse("directory.yaml", []byte(testDirectory))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Directory().ImportDirectory(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st, smtp: notifytest.StartSMTP(t, true, "", ""), slack: notifytest.NewSlack(t), clock: &testClock{t: noonNY},
		pol: Policy{Notifications: policy.DefaultNotifications(), Location: time.UTC}}
	email, err := NewEmailURL(r.smtp.URL(), "leadflow@example.com", WithTLSConfig(r.smtp.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	bot, err := NewSlackBot(r.slack.Token, WithSlackAPIURL(r.slack.APIURL()))
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	r.logs = logs
	r.d = &Dispatcher{Store: st.Deliveries(), Channels: []Channel{bot, email}, Policy: func() Policy { return r.pol },
		Links: testLinks, Now: r.clock.Now, Log: zap.New(core)}
	return r
}

func handoff(key string) actions.NotifyInput {
	return actions.NotifyInput{Key: key, LeadID: "L-1001", Email: "ana@acme.io", To: "rep-1", Kind: actions.NotifyHandoff,
		OwnerID: "rep-1", Body: "Ana Lima at Acme asked for a quote.", WhyNow: "quote_request +40", DueAt: noonNY.Add(15 * time.Minute)}
}

func (r *rig) counts() (slack, email int) { return len(r.slack.Received()), len(r.smtp.Received()) }

// A retried activity sends nothing twice.
func TestDispatchIsIdempotentAcrossARetry(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	in := handoff("lead/L-1001:handoff:1")
	for attempt := 1; attempt <= 2; attempt++ {
		if err := r.d.Dispatch(t.Context(), in); err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		if s, e := r.counts(); s != 1 || e != 1 {
			t.Fatalf("after attempt %d: slack %d email %d, want 1 and 1", attempt, s, e)
		}
	}
	if p := r.slack.Received()[0]; p.Channel != "U024BE7LH" || p.ShapeErr != "" {
		t.Errorf("slack post %+v", p)
	}
	r.noPIIInLogs(t)
}

// Slack down, email up: the retry sends only the Slack message.
func TestDispatchPartialDeliveryRetriesOnlyWhatIsMissing(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.slack.Answer(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	in := handoff("lead/L-1001:handoff:1")
	err := r.d.Dispatch(t.Context(), in)
	if err == nil || isNonRetryable(err) {
		t.Fatalf("first attempt: %v; want a retryable error", err)
	}
	if s, e := r.counts(); s != 1 || e != 1 {
		t.Fatalf("first attempt reached slack %d, email %d times", s, e)
	}
	if err := r.d.Dispatch(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if s, e := r.counts(); s != 2 || e != 1 {
		t.Fatalf("after the retry: slack %d email %d, want 2 and 1 (email not sent again)", s, e)
	}
	r.noPIIInLogs(t)
}

// Over the rate limit a notification waits, with the retry delay at the
// time the oldest one leaves the hour; it is never dropped.
func TestDispatchRateLimitHolds(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.pol.Notifications.RatePerHour = 2
	for i, key := range []string{"k1", "k2"} {
		r.clock.Set(noonNY.Add(time.Duration(i) * 10 * time.Minute))
		if err := r.d.Dispatch(t.Context(), handoff(key)); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.Set(noonNY.Add(30 * time.Minute))
	err := r.d.Dispatch(t.Context(), handoff("k3"))
	if d, ok := heldFor(err); !ok || d != 30*time.Minute {
		t.Fatalf("third notification: %v; want held for 30m (k1 leaves the hour)", err)
	}
	if s, e := r.counts(); s != 2 || e != 2 {
		t.Fatalf("held notification was sent: slack %d email %d", s, e)
	}
	r.clock.Set(noonNY.Add(61 * time.Minute))
	if err := r.d.Dispatch(t.Context(), handoff("k3")); err != nil {
		t.Fatalf("after the hour: %v", err)
	}
	if s, e := r.counts(); s != 3 || e != 3 {
		t.Fatalf("after the hour: slack %d email %d, want 3 and 3", s, e)
	}
}

// In the recipient's quiet hours a reminder waits for them to end; an
// escalation goes at once.
func TestDispatchQuietHours(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	// 22:00 in New York (rep-1's zone); 21:00 in Chicago.
	r.clock.Set(time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC))
	remind := handoff("lead/L-1001:remind:1")
	remind.Kind = actions.NotifyRemind
	err := r.d.Dispatch(t.Context(), remind)
	if d, ok := heldFor(err); !ok || d != 10*time.Hour {
		t.Fatalf("reminder at 22:00: %v; want held 10h, until 08:00 New York", err)
	}
	if s, e := r.counts(); s != 0 || e != 0 {
		t.Fatalf("sent in quiet hours: slack %d email %d", s, e)
	}
	esc := actions.NotifyInput{Key: "lead/L-1001:escalate:1", LeadID: "L-1001", To: "mgr-1", Kind: actions.NotifyEscalate,
		OwnerID: "rep-1", Body: "rep-1 has not touched L-1001", Urgent: true}
	if err := r.d.Dispatch(t.Context(), esc); err != nil {
		t.Fatalf("urgent escalation: %v", err)
	}
	if s, e := r.counts(); s != 1 || e != 0 { // mgr-1 has Slack only
		t.Fatalf("escalation: slack %d email %d, want 1 and 0", s, e)
	}
	// An escalation is urgent even when the caller did not say so.
	esc.Key, esc.Urgent = "lead/L-1001:escalate:2", false
	if err := r.d.Dispatch(t.Context(), esc); err != nil {
		t.Fatalf("escalation without Urgent: %v", err)
	}
	if s, _ := r.counts(); s != 2 {
		t.Fatalf("escalation without Urgent: slack %d, want 2", s)
	}
	r.clock.Set(time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)) // 08:00 New York
	if err := r.d.Dispatch(t.Context(), remind); err != nil {
		t.Fatalf("reminder after quiet hours: %v", err)
	}
	if s, e := r.counts(); s != 3 || e != 1 {
		t.Fatalf("after quiet hours: slack %d email %d, want 3 and 1", s, e)
	}
}

// A refusal is non-retryable once everything else is delivered.
func TestDispatchRefusalIsNonRetryable(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.slack.Answer(func(w http.ResponseWriter, _ *http.Request) {
		notifytest.WriteJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
	})
	err := r.d.Dispatch(t.Context(), handoff("k1"))
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != ErrRefused || !strings.Contains(err.Error(), "channel_not_found") {
		t.Fatalf("error %v; want non-retryable %s", err, ErrRefused)
	}
	if _, e := r.counts(); e != 1 {
		t.Fatalf("email %d, want 1: a Slack refusal must not stop the email", e)
	}
}

// A Slack 429 comes back as the activity's next retry delay.
func TestDispatchHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.slack.Answer(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "42")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	if d, ok := heldFor(r.d.Dispatch(t.Context(), handoff("k1"))); !ok || d != 42*time.Second {
		t.Fatalf("held %s %t; want 42s", d, ok)
	}
}

// Extra recipients get email only, keyed without their address.
func TestDispatchExtraRecipients(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	in := actions.NotifyInput{Key: "weekly-report:2026-11-23:marketing", LeadID: "weekly-report-2026-11-23", To: "marketing",
		Kind: actions.NotifyWeekly, Body: "Acceptance 80%", ToEmails: []string{"revops@example.com", "REVOPS@example.com ", "cmo@example.com"}}
	if err := r.d.Dispatch(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if s, e := r.counts(); s != 0 || e != 2 {
		t.Fatalf("slack %d email %d, want 0 and 2", s, e)
	}
	var n int
	if err := r.st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM notification_deliveries WHERE recipient LIKE 'ext-%' AND recipient NOT LIKE '%@%'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("external deliveries recorded: %d, %v", n, err)
	}
	if err := r.d.Dispatch(t.Context(), actions.NotifyInput{Key: "x", LeadID: "L-1", To: "rep-404", Kind: actions.NotifyRemind}); !isNonRetryable(err) {
		t.Fatalf("unknown person: %v; want non-retryable", err)
	}
	r.noPIIInLogs(t)
}

func TestDispatchWithoutChannelsDoesNothing(t *testing.T) {
	t.Parallel()
	d := &Dispatcher{}
	if err := d.Dispatch(t.Context(), handoff("k1")); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) noPIIInLogs(t *testing.T) {
	t.Helper()
	if r.logs.Len() == 0 {
		t.Fatal("no log lines: the check would prove nothing")
	}
	for _, e := range r.logs.All() {
		line := e.Message
		for k, v := range e.ContextMap() {
			line += " " + k + "=" + toString(v)
		}
		for _, pii := range []string{"@example.com", "ana@acme.io", "Ana Lima", "Dana"} {
			if strings.Contains(line, pii) {
				t.Errorf("log line has PII %q: %s", pii, line)
			}
		}
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return ""
}

func isNonRetryable(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable()
}

// heldFor is an ErrHeld error's retry delay.
func heldFor(err error) (time.Duration, bool) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrHeld || app.NonRetryable() {
		return 0, false
	}
	return app.NextRetryDelay(), true
}
