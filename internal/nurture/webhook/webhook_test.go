package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/nurture/webhook"
	"github.com/leadflow/leadflow/internal/nurture/webhook/webhooktest"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// The built-in store is the adapter's guard.
var _ webhook.Guard = store.Nurture{}

const email = "ana@acme.io"

var (
	secret = []byte("nurture-secret")
	rules  = policy.Suppression{
		RecentRepTouch: policy.Duration(72 * time.Hour),
		FrequencyCap:   policy.FrequencyCap{Max: 2, Per: policy.Duration(7 * 24 * time.Hour)},
		QuietHours:     &policy.QuietHours{Start: 20 * 60, End: 8 * 60},
	}
	// Monday 10:00 in New York: outside quiet hours.
	monday = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is the real store, a fake receiver and the adapter, all on one clock.
type env struct {
	store *store.DB
	recv  *webhooktest.Receiver
	nur   *webhook.Adapter
	clk   *clock
}

func setup(t *testing.T, opts ...webhook.Option) env {
	t.Helper()
	clk := &clock{t: monday}
	s := storetest.Open(t, store.WithClock(clk.Now))
	recv := webhooktest.New(t, secret, webhooktest.WithClock(clk.Now))
	a, err := webhook.New(recv.URL(), secret, s.Nurture(), append([]webhook.Option{webhook.WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return env{s, recv, a, clk}
}

func sendIn(key, leadID string, step int) actions.SendInput {
	return actions.SendInput{Key: key, LeadID: leadID, Email: email, Track: "default", Step: step,
		Stage: lead.StageLead, Rules: rules, Timezone: "America/New_York"}
}

func enrollIn(key, leadID string) actions.EnrollInput {
	return actions.EnrollInput{Key: key, LeadID: leadID, Email: email, Track: "default"}
}

// appErr is the Temporal application error err must be.
func appErr(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not a temporal application error", err, err)
	}
	return ae
}

func wantRetryable(t *testing.T, err error, typ string) *temporal.ApplicationError {
	t.Helper()
	ae := appErr(t, err)
	if ae.NonRetryable() || ae.Type() != typ {
		t.Fatalf("error %v: want retryable %s", err, typ)
	}
	return ae
}

func wantNonRetryable(t *testing.T, err error, typ string) *temporal.ApplicationError {
	t.Helper()
	ae := appErr(t, err)
	if !ae.NonRetryable() || ae.Type() != typ {
		t.Fatalf("error %v: want non-retryable %s", err, typ)
	}
	if strings.Contains(err.Error(), email) {
		t.Errorf("error names the contact's email: %v", err)
	}
	return ae
}

func bodies(ds []webhooktest.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Body))
	}
	return out
}

func TestLifecycleReachesReceiver(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := t.Context()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.nur.Enroll(ctx, enrollIn("lead/L1/nurture/enroll/e1/default", "L1")))
	must(e.nur.Pause(ctx, actions.PauseInput{Key: "lead/L1/nurture/pause/e2", LeadID: "L1", Email: email,
		Reasons: []string{lead.SuppressActiveSalesMotion}}))
	resume := enrollIn("lead/L1/nurture/enroll/e3/default", "L1")
	resume.Step = 1
	must(e.nur.Enroll(ctx, resume))
	res, err := e.nur.Send(ctx, sendIn("lead/L1/nurture/0/default/1", "L1", 1))
	if err != nil || !res.Sent {
		t.Fatalf("Send = %+v, %v; want sent", res, err)
	}
	e.clk.Add(time.Hour)
	must(e.nur.Stop(ctx, actions.StopInput{Key: "lead/L1/nurture/stop/e4", LeadID: "L1", Email: email, Reason: "email.unsubscribe"}))

	want := []string{
		`{"type":"enroll","idempotencyKey":"lead/L1/nurture/enroll/e1/default","leadId":"L1","email":"ana@acme.io","track":"default","step":0}`,
		`{"type":"pause","idempotencyKey":"lead/L1/nurture/pause/e2","leadId":"L1","email":"ana@acme.io","reasons":["active_sales_motion"]}`,
		`{"type":"resume","idempotencyKey":"lead/L1/nurture/enroll/e3/default","leadId":"L1","email":"ana@acme.io","track":"default","step":1}`,
		`{"type":"send","idempotencyKey":"lead/L1/nurture/0/default/1","leadId":"L1","email":"ana@acme.io","track":"default","step":1,"sentAt":"2026-11-23T15:00:00Z"}`,
		`{"type":"unenroll","idempotencyKey":"lead/L1/nurture/stop/e4","leadId":"L1","email":"ana@acme.io","reasons":["unsubscribed"]}`,
	}
	got := e.recv.Received()
	if !reflect.DeepEqual(bodies(got), want) {
		t.Fatalf("received:\n%s\nwant:\n%s", strings.Join(bodies(got), "\n"), strings.Join(want, "\n"))
	}
	// The receiver verified every signature (it answers 401 otherwise);
	// the headers are the contract's.
	for _, d := range got {
		h := d.Header
		if h.Get("Idempotency-Key") != d.Event.IdempotencyKey || h.Get("Content-Type") != "application/json" ||
			h.Get("User-Agent") != "leadflow" || !strings.HasPrefix(h.Get("Leadflow-Signature"), "t=") {
			t.Errorf("%s: headers %v", d.Key, h)
		}
		if strings.Contains(h.Get("Idempotency-Key")+h.Get("Leadflow-Signature"), email) {
			t.Errorf("%s: a header carries the email", d.Key)
		}
	}
	if n := len(e.recv.Refused()) + e.recv.Repeats(); n != 0 {
		t.Errorf("refused %v, repeats %d", e.recv.Refused(), e.recv.Repeats())
	}

	// The store holds the same facts as the built-in nurture would.
	st, ok, err := e.store.Nurture().Nurture(ctx, "L1")
	if err != nil || !ok || !st.Stopped || st.Paused || st.Step != 1 ||
		!reflect.DeepEqual(st.Suppressions, []string{lead.SuppressUnsubscribed}) {
		t.Errorf("store state = %+v, %v, %v", st, ok, err)
	}
	if ss, _ := e.store.Nurture().Sends(ctx, "L1"); len(ss) != 1 || ss[0].Key != "lead/L1/nurture/0/default/1" {
		t.Errorf("store sends = %+v", ss)
	}
}

func TestSendRefusedByGuardIsNotPosted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := t.Context()

	// Unsubscribed, as recorded by the store (by any path): refused, no request.
	if err := e.store.Nurture().Stop(ctx, actions.StopInput{Key: "lead/U1/stop", LeadID: "U1", Reason: lead.SuppressUnsubscribed}); err != nil {
		t.Fatal(err)
	}
	res, err := e.nur.Send(ctx, sendIn("lead/U1/s1", "U1", 0))
	want := actions.SendResult{Reasons: []string{lead.SuppressUnsubscribed, store.ReasonStopped}}
	if err != nil || !reflect.DeepEqual(res, want) {
		t.Errorf("Send unsubscribed = %+v, %v; want %+v", res, err, want)
	}
	if n := e.recv.Requests(); n != 0 {
		t.Errorf("receiver got %d requests for a refused send", n)
	}

	// Cap of 2 a week: two go out, the third is refused and not posted.
	for i, key := range []string{"lead/C1/s0", "lead/C1/s1"} {
		if res, err := e.nur.Send(ctx, sendIn(key, "C1", i)); err != nil || !res.Sent {
			t.Fatalf("Send %s = %+v, %v", key, res, err)
		}
		e.clk.Add(time.Hour)
	}
	res, err = e.nur.Send(ctx, sendIn("lead/C1/s2", "C1", 2))
	if err != nil || !reflect.DeepEqual(res, actions.SendResult{Reasons: []string{lead.SuppressFrequencyCap}}) {
		t.Errorf("Send over the cap = %+v, %v", res, err)
	}
	if n, got := e.recv.Requests(), len(e.recv.Received()); n != 2 || got != 2 {
		t.Errorf("receiver: %d requests, %d processed; want 2", n, got)
	}
	if ss, _ := e.store.Nurture().Sends(ctx, "C1"); len(ss) != 2 {
		t.Errorf("store sends = %d, want 2", len(ss))
	}

	// Active sales motion, known only to the workflow: refused too.
	in := sendIn("lead/H1/s0", "H1", 0)
	in.Stage = lead.StageHandoff
	if res, err := e.nur.Send(ctx, in); err != nil || res.Sent || !reflect.DeepEqual(res.Reasons, []string{lead.SuppressActiveSalesMotion}) {
		t.Errorf("Send in handoff = %+v, %v", res, err)
	}
	if n := e.recv.Requests(); n != 2 {
		t.Errorf("receiver got %d requests, want 2", n)
	}
}

func TestSameKeyTwiceProcessedOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := t.Context()
	in := sendIn("lead/K1/s0", "K1", 0)
	for range 2 {
		if res, err := e.nur.Send(ctx, in); err != nil || !res.Sent {
			t.Fatalf("Send = %+v, %v", res, err)
		}
		e.clk.Add(time.Minute)
	}
	for range 2 {
		if err := e.nur.Enroll(ctx, enrollIn("lead/K1/enroll", "K1")); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.recv.Received(); len(got) != 2 || got[0].Key != in.Key || got[1].Key != "lead/K1/enroll" {
		t.Errorf("received %v, want the send and the enroll once each", bodies(got))
	}
	if r := e.recv.Repeats(); r != 2 {
		t.Errorf("repeats = %d, want 2 (answered 409, taken as done)", r)
	}
	if ss, _ := e.store.Nurture().Sends(ctx, "K1"); len(ss) != 1 {
		t.Errorf("store sends = %d, want 1", len(ss))
	}
}

func TestCrashAfterProcessingThenRetry(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := t.Context()
	e.recv.Fail(1, webhooktest.Failure{Kind: webhooktest.CrashAfterProcessing})
	in := sendIn("lead/X1/s0", "X1", 0)
	_, err := e.nur.Send(ctx, in)
	wantRetryable(t, err, webhook.ErrUnavailable)
	if !strings.Contains(err.Error(), "502") {
		t.Errorf("error %v does not name the status", err)
	}
	// The activity's retry: the store has the send, the receiver the key.
	if res, err := e.nur.Send(ctx, in); err != nil || !res.Sent {
		t.Fatalf("retry = %+v, %v", res, err)
	}
	if got, r := e.recv.Received(), e.recv.Repeats(); len(got) != 1 || r != 1 {
		t.Errorf("processed %d, repeats %d; want 1 and 1", len(got), r)
	}
	if ss, _ := e.store.Nurture().Sends(ctx, "X1"); len(ss) != 1 {
		t.Errorf("store sends = %d, want 1", len(ss))
	}
}

func TestThrottledCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := t.Context()
	in := enrollIn("lead/T1/enroll", "T1")

	e.recv.Fail(1, webhooktest.Failure{Kind: webhooktest.Throttle, RetryAfter: "7"})
	ae := wantRetryable(t, e.nur.Enroll(ctx, in), webhook.ErrThrottled)
	if d := ae.NextRetryDelay(); d != 7*time.Second {
		t.Errorf("429 Retry-After 7: NextRetryDelay = %v", d)
	}

	at := e.clk.Now().Add(30 * time.Second).Format(http.TimeFormat)
	e.recv.Fail(1, webhooktest.Failure{Kind: webhooktest.Unavailable, RetryAfter: at})
	ae = wantRetryable(t, e.nur.Enroll(ctx, in), webhook.ErrThrottled)
	if d := ae.NextRetryDelay(); d != 30*time.Second {
		t.Errorf("503 Retry-After %s: NextRetryDelay = %v", at, d)
	}

	// Without Retry-After: the retry policy's own backoff.
	e.recv.Fail(1, webhooktest.Failure{Kind: webhooktest.Throttle})
	ae = wantRetryable(t, e.nur.Enroll(ctx, in), webhook.ErrUnavailable)
	if d := ae.NextRetryDelay(); d != 0 {
		t.Errorf("429 without Retry-After: NextRetryDelay = %v", d)
	}

	if err := e.nur.Enroll(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got := e.recv.Received(); len(got) != 1 || e.recv.Repeats() != 0 {
		t.Errorf("processed %d, repeats %d; want 1 and 0", len(got), e.recv.Repeats())
	}
}

func TestServerErrorAndTimeoutAreRetryable(t *testing.T) {
	t.Parallel()
	e := setup(t, webhook.WithTimeout(200*time.Millisecond))
	ctx := t.Context()
	in := actions.PauseInput{Key: "lead/S1/pause", LeadID: "S1", Email: email, Reasons: []string{lead.SuppressActiveSalesMotion}}

	e.recv.Fail(1, webhooktest.Failure{Kind: webhooktest.ServerError})
	ae := wantRetryable(t, e.nur.Pause(ctx, in), webhook.ErrUnavailable)
	if ae.NextRetryDelay() != 0 || !strings.Contains(ae.Error(), "500") {
		t.Errorf("500: %v, NextRetryDelay %v", ae, ae.NextRetryDelay())
	}

	e.recv.Fail(1, webhooktest.Failure{Kind: webhooktest.Slow})
	err := e.nur.Pause(ctx, in)
	wantRetryable(t, err, webhook.ErrUnavailable)
	if !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Errorf("timeout: %v", err)
	}

	if err := e.nur.Pause(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got := e.recv.Received(); len(got) != 1 {
		t.Errorf("processed %d, want 1", len(got))
	}
}

func TestRejectedIsNonRetryableWithMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.recv.Fail(1, webhooktest.Failure{Kind: webhooktest.Reject, Message: `track "vip" does not exist (contact ANA@acme.io)`})
	in := enrollIn("lead/R1/enroll", "R1")
	in.Track = "vip"
	err := e.nur.Enroll(t.Context(), in)
	wantNonRetryable(t, err, webhook.ErrRejected)
	for _, s := range []string{"400", `track "vip" does not exist`, "(contact <email>)", "lead R1"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
}

func TestWrongSecretIsNonRetryable(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	recv := webhooktest.New(t, []byte("the receiver's secret"))
	a, err := webhook.New(recv.URL(), []byte("a stale secret"), s.Nurture())
	if err != nil {
		t.Fatal(err)
	}
	err = a.Stop(t.Context(), actions.StopInput{Key: "lead/W1/stop", LeadID: "W1", Email: email, Reason: "merged"})
	wantNonRetryable(t, err, webhook.ErrRejected)
	for _, s := range []string{"401", "Leadflow-Signature", "does not match", "NURTURE_WEBHOOK_SECRET"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if got, refused := recv.Received(), recv.Refused(); len(got) != 0 || len(refused) != 1 || !strings.HasPrefix(refused[0], "401 ") {
		t.Errorf("processed %d, refused %v", len(got), refused)
	}

	// A sender clock ten minutes behind: a stale signature, refused the same way.
	behind := webhook.WithClock(func() time.Time { return time.Now().Add(-10 * time.Minute) })
	a, err = webhook.New(recv.URL(), []byte("the receiver's secret"), s.Nurture(), behind)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Enroll(t.Context(), enrollIn("lead/W2/enroll", "W2"))
	wantNonRetryable(t, err, webhook.ErrRejected)
	if !strings.Contains(err.Error(), "timestamp") {
		t.Errorf("stale signature: %v", err)
	}
}

func TestStoreErrorsComeFirst(t *testing.T) {
	t.Parallel()
	e := setup(t)
	err := e.nur.Enroll(t.Context(), actions.EnrollInput{LeadID: "E1", Track: "default"})
	if !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("empty key: %v, want store.ErrInvalidInput", err)
	}
	in := sendIn("lead/E1/s0", "E1", 0)
	in.Timezone = "Mars/Olympus"
	if _, err := e.nur.Send(t.Context(), in); !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("bad timezone: %v, want store.ErrInvalidInput", err)
	}
	if n := e.recv.Requests(); n != 0 {
		t.Errorf("receiver got %d requests", n)
	}
}

func TestConnectionErrorHidesURL(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	a, err := webhook.New(down.URL+"/hook?token=s3cr3t", secret, s.Nurture())
	if err != nil {
		t.Fatal(err)
	}
	err = a.Enroll(t.Context(), enrollIn("lead/D1/enroll", "D1"))
	wantRetryable(t, err, webhook.ErrUnavailable)
	if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "/hook") {
		t.Errorf("error %q: want the endpoint without its query", err)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	recv := webhooktest.New(t, secret)
	moved := httptest.NewServer(http.RedirectHandler(recv.URL(), http.StatusPermanentRedirect))
	t.Cleanup(moved.Close)
	a, err := webhook.New(moved.URL, secret, s.Nurture())
	if err != nil {
		t.Fatal(err)
	}
	err = a.Enroll(t.Context(), enrollIn("lead/M1/enroll", "M1"))
	wantNonRetryable(t, err, webhook.ErrRejected)
	if !strings.Contains(err.Error(), "308") || recv.Requests() != 0 {
		t.Errorf("error %v, receiver requests %d", err, recv.Requests())
	}
}

func TestCancelledActivity(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.recv.Fail(1, webhooktest.Failure{Kind: webhooktest.Slow})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- e.nur.Enroll(ctx, enrollIn("lead/Z1/enroll", "Z1")) }()
	// Cancel once the request is held by the receiver.
	select {
	case <-e.recv.Held():
	case err := <-errc:
		t.Fatalf("returned before reaching the receiver: %v", err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	s := store.Nurture{}
	for _, c := range []struct {
		url    string
		secret []byte
		guard  webhook.Guard
	}{
		{"", secret, s}, {"ftp://x/y", secret, s}, {"/relative", secret, s},
		{"http://x/y", nil, s}, {"http://x/y", secret, nil},
	} {
		if _, err := webhook.New(c.url, c.secret, c.guard); err == nil {
			t.Errorf("New(%q, %q, %v) accepted", c.url, c.secret, c.guard)
		}
	}
	if _, err := webhook.New("http://x/y", secret, s, webhook.WithTimeout(0)); err == nil {
		t.Error("zero timeout accepted")
	}
}
