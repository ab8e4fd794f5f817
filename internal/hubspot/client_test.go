package hubspot_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/hubspot/hubspottest"
)

var t0 = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

// newClient is a client on the fake with the fake's clock and no
// client-side limits (tests that are about the limiter set their own).
func newClient(t *testing.T, fake *hubspottest.Server, clk hubspot.Clock, opts ...hubspot.Option) *hubspot.Client {
	t.Helper()
	base := []hubspot.Option{hubspot.WithClock(clk), hubspot.WithTimeout(5 * time.Second),
		hubspot.WithRateLimiter(nil), hubspot.WithSearchLimiter(nil)}
	c, err := hubspot.New(fake.URL, hubspottest.DefaultToken, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func apiError(t *testing.T, err error) *hubspot.APIError {
	t.Helper()
	var e *hubspot.APIError
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	return e
}

func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var e *temporal.ApplicationError
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a temporal application error", err, err)
	}
	return e
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := hubspot.New("ftp://x", "t"); err == nil {
		t.Error("ftp base URL accepted")
	}
	if _, err := hubspot.New("", " "); err == nil {
		t.Error("empty token accepted")
	}
	if _, err := hubspot.New("", "t"); err != nil {
		t.Errorf("default base URL: %v", err)
	}
}

func TestUnauthorized(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk))
	c, err := hubspot.New(fake.URL, "wrong-token", hubspot.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Owners(t.Context())
	e := apiError(t, err)
	if e.Status != 401 || e.Category != "INVALID_AUTHENTICATION" || e.CorrelationID == "" || !strings.Contains(e.Message, "Authentication credentials not found") {
		t.Errorf("401 = %+v", e)
	}
	if !hubspot.IsUnauthorized(err) || hubspot.IsRetryable(err) || hubspot.IsBadRequest(err) {
		t.Errorf("401 classified unauthorized=%v retryable=%v badRequest=%v", hubspot.IsUnauthorized(err), hubspot.IsRetryable(err), hubspot.IsBadRequest(err))
	}
	ae := appError(t, hubspot.ActivityError("list owners", err))
	if ae.Type() != hubspot.ErrUnauthorized || !ae.NonRetryable() {
		t.Errorf("activity error = %v", ae)
	}
}

func TestRateLimitedCarriesRetryAfter(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk))
	id := fake.AddContact(map[string]string{"email": "ana@acme.io"})
	c := newClient(t, fake, clk)

	fake.Inject(hubspottest.Fault{Kind: hubspottest.RateLimit, RetryAfter: 7 * time.Second})
	err := c.UpdateContact(t.Context(), id, map[string]string{"firstname": "Ana"})
	e := apiError(t, err)
	if e.Status != 429 || e.PolicyName != "TEN_SECONDLY_ROLLING" || e.Category != "RATE_LIMIT" {
		t.Errorf("429 = %+v", e)
	}
	if d, ok := hubspot.IsRateLimited(err); !ok || d != 7*time.Second {
		t.Errorf("IsRateLimited = %v, %v; want 7s", d, ok)
	}
	if !hubspot.IsRetryable(err) || hubspot.IsBadRequest(err) {
		t.Error("429 must be retryable and not a bad request")
	}
	ae := appError(t, hubspot.RetryAfterError(err))
	if ae.Type() != hubspot.ErrRateLimited || ae.NonRetryable() || ae.NextRetryDelay() != 7*time.Second {
		t.Errorf("RetryAfterError = %v (next retry %v)", ae, ae.NextRetryDelay())
	}

	// Without Retry-After the interval header decides.
	fake.Inject(hubspottest.Fault{Kind: hubspottest.RateLimit, NoRetryAfter: true})
	err = c.UpdateContact(t.Context(), id, map[string]string{"firstname": "Ana"})
	if d, ok := hubspot.IsRateLimited(err); !ok || d != 10*time.Second {
		t.Errorf("IsRateLimited without Retry-After = %v, %v; want the 10 s interval", d, ok)
	}
	if err := hubspot.RetryAfterError(errors.New("other")); err.Error() != "other" {
		t.Errorf("RetryAfterError changed a non-429 error: %v", err)
	}
}

// A 429 holds every later request of the client until Retry-After.
func TestRateLimitPausesLimiter(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk))
	id := fake.AddContact(nil)
	c := newClient(t, fake, clk, hubspot.WithRateLimiter(hubspot.NewLimiter(100, 10*time.Second, nil)))
	fake.Inject(hubspottest.Fault{Kind: hubspottest.RateLimit, RetryAfter: 3 * time.Second})
	if _, ok := hubspot.IsRateLimited(c.UpdateContact(t.Context(), id, map[string]string{"firstname": "A"})); !ok {
		t.Fatal("want 429")
	}
	done := make(chan error, 1)
	go func() { done <- c.UpdateContact(context.Background(), id, map[string]string{"firstname": "B"}) }()
	<-clk.Waiting()
	if n := fake.CountRequests("PATCH", "/crm/v3/objects/contacts"); n != 1 {
		t.Fatalf("requests during the pause = %d, want 1", n)
	}
	clk.Advance(3 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests(); !got[len(got)-1].At.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("second request at %v, want after the 3 s pause", got[len(got)-1].At)
	}
}

func TestServerErrorAndTimeoutAreRetryable(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk))
	id := fake.AddContact(nil)
	c := newClient(t, fake, clk, hubspot.WithTimeout(200*time.Millisecond))

	fake.Inject(hubspottest.Fault{Kind: hubspottest.ServerError})
	err := c.UpdateContact(t.Context(), id, map[string]string{"firstname": "A"})
	if e := apiError(t, err); e.Status != 500 || !hubspot.IsRetryable(err) || hubspot.IsBadRequest(err) {
		t.Errorf("500: %+v retryable=%v", e, hubspot.IsRetryable(err))
	}
	var ae *temporal.ApplicationError
	if err := hubspot.ActivityError("op", err); errors.As(err, &ae) {
		t.Errorf("500 became an application error %v; want a plain retryable error", ae)
	}

	fake.Inject(hubspottest.Fault{Kind: hubspottest.Slow, Delay: time.Minute})
	err = c.UpdateContact(t.Context(), id, map[string]string{"firstname": "B"})
	var te *hubspot.TransportError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || !hubspot.IsRetryable(err) {
		t.Errorf("slow answer: %v (%T); want a retryable timeout", err, err)
	}

	fake.Inject(hubspottest.Fault{Kind: hubspottest.BadGatewayAfterWrite})
	err = c.UpdateContact(t.Context(), id, map[string]string{"firstname": "C"})
	if e := apiError(t, err); e.Status != 502 || !hubspot.IsRetryable(err) || !strings.Contains(e.Message, "Bad Gateway") {
		t.Errorf("502: %+v", e)
	}

	fake.Inject(hubspottest.Fault{Kind: hubspottest.CrashAfterWrite})
	err = c.UpdateContact(t.Context(), id, map[string]string{"firstname": "D"})
	if !errors.As(err, &te) || !hubspot.IsRetryable(err) {
		t.Errorf("dropped connection: %v (%T); want a retryable transport error", err, err)
	}
	if got, _ := fake.Contact(id); got.Properties["firstname"] != "D" {
		t.Errorf("the write before the drop did not happen: %+v", got.Properties)
	}
}

func TestValidationErrorIsBadRequest(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk))
	id := fake.AddContact(nil)
	c := newClient(t, fake, clk)
	err := c.UpdateContact(t.Context(), id, map[string]string{"hs_lead_status": "MAYBE"})
	e := apiError(t, err)
	if e.Status != 400 || e.Category != "VALIDATION_ERROR" || !strings.Contains(e.Message, "MAYBE was not one of the allowed options") {
		t.Errorf("400 = %+v", e)
	}
	if !hubspot.IsBadRequest(err) || hubspot.IsRetryable(err) {
		t.Error("400 must be a bad request, not retryable")
	}
	ae := appError(t, hubspot.ActivityError("set status", err))
	if ae.Type() != hubspot.ErrRejected || !ae.NonRetryable() || !strings.Contains(ae.Error(), "MAYBE was not one of the allowed options") {
		t.Errorf("activity error = %v", ae)
	}
	// HubSpot's messages may quote an email: it never reaches our errors.
	_, _, err = c.CreateContact(t.Context(), map[string]string{"email": "ana.b@acme"})
	if e := apiError(t, err); e.Status != 400 || strings.Contains(err.Error(), "ana.b@acme") || !strings.Contains(e.Message, "Email address <email> is invalid") {
		t.Errorf("error leaks an email: %v", err)
	}
	if _, err := c.GetContact(t.Context(), "999"); !hubspot.IsNotFound(err) || !hubspot.IsBadRequest(err) {
		t.Errorf("unknown contact: %v", err)
	}
}

func TestContactsByEmailAndCreate(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk), hubspottest.WithIndexLag(5*time.Second))
	ana := fake.AddContact(map[string]string{"email": "ana@acme.io"})
	c := newClient(t, fake, clk)
	if id, ok, err := c.FindContactByEmail(t.Context(), " Ana@Acme.IO "); err != nil || !ok || id != ana {
		t.Errorf("find ana = %q, %v, %v", id, ok, err)
	}
	if _, ok, err := c.FindContactByEmail(t.Context(), "bo@acme.io"); err != nil || ok {
		t.Errorf("find bo = %v, %v", ok, err)
	}
	bo, existed, err := c.CreateContact(t.Context(), map[string]string{"email": "bo@acme.io"})
	if err != nil || existed {
		t.Fatalf("create bo = %q, %v, %v", bo, existed, err)
	}
	// Not in the search index yet, but the unique email gives it away.
	if _, ok, _ := c.FindContactByEmail(t.Context(), "bo@acme.io"); ok {
		t.Error("search shows a contact before the index lag")
	}
	if id, existed, err := c.CreateContact(t.Context(), map[string]string{"email": "BO@acme.io"}); err != nil || !existed || id != bo {
		t.Errorf("create bo again = %q, %v, %v; want %s from the 409", id, existed, err, bo)
	}
	clk.Advance(5 * time.Second)
	if id, ok, _ := c.FindContactByEmail(t.Context(), "bo@acme.io"); !ok || id != bo {
		t.Errorf("after the lag find bo = %q, %v", id, ok)
	}
}

func TestOwnersAndDealContactsPage(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk), hubspottest.WithPageSize(2))
	var want []string
	for _, e := range []string{"a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"} {
		want = append(want, fake.AddOwner(hubspot.Owner{Email: e}))
	}
	c := newClient(t, fake, clk)
	owners, err := c.Owners(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range owners {
		got = append(got, o.ID)
		if o.UserID == 0 || o.Email == "" {
			t.Errorf("owner %+v lacks userId or email", o)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("owners = %v, want %v", got, want)
	}
	if n := fake.CountRequests("GET", "/crm/v3/owners"); n != 3 {
		t.Errorf("owner pages = %d, want 3", n)
	}
	contacts := []string{fake.AddContact(nil), fake.AddContact(nil), fake.AddContact(nil)}
	deal := fake.AddDeal(contacts...)
	ids, err := c.DealContacts(t.Context(), deal)
	if err != nil || !slices.Equal(ids, contacts) {
		t.Errorf("DealContacts = %v, %v; want %v", ids, err, contacts)
	}
	if ids, err := c.DealContacts(t.Context(), "424242"); err != nil || len(ids) != 0 {
		t.Errorf("unknown deal = %v, %v", ids, err)
	}
}

func TestTasksNotesAndSearch(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk), hubspottest.WithIndexLag(3*time.Second))
	contact := fake.AddContact(nil)
	owner := fake.AddOwner(hubspot.Owner{Email: "o@x.io"})
	c := newClient(t, fake, clk)
	task, err := c.CreateTask(t.Context(), map[string]string{
		"hs_task_subject": "Call", "hs_task_body": "ref lfkabc123", "hs_timestamp": hubspot.Millis(t0), "hubspot_owner_id": owner,
	}, contact)
	if err != nil {
		t.Fatal(err)
	}
	note, err := c.CreateNote(t.Context(), "<p>hello lfkabc123</p>", owner, contact, t0)
	if err != nil {
		t.Fatal(err)
	}
	tasks, notes := fake.Tasks(), fake.Notes()
	if len(tasks) != 1 || tasks[0].ID != task || tasks[0].Associations[0] != (hubspottest.Association{ToType: "contacts", ToID: contact, TypeID: 204}) {
		t.Errorf("tasks = %+v", tasks)
	}
	if len(notes) != 1 || notes[0].ID != note || notes[0].Associations[0].TypeID != 202 || notes[0].Properties["hubspot_owner_id"] != owner {
		t.Errorf("notes = %+v", notes)
	}
	if ids, err := c.SearchTasksByProperty(t.Context(), "hs_task_body", "lfkabc123"); err != nil || len(ids) != 0 {
		t.Errorf("search before the lag = %v, %v", ids, err)
	}
	clk.Advance(3 * time.Second)
	if ids, err := c.SearchTasksByProperty(t.Context(), "hs_task_body", "lfkabc123"); err != nil || !slices.Equal(ids, []string{task}) {
		t.Errorf("task search = %v, %v", ids, err)
	}
	if ids, err := c.SearchNotesByProperty(t.Context(), "hs_note_body", "LFKABC123"); err != nil || !slices.Equal(ids, []string{note}) {
		t.Errorf("note search = %v, %v", ids, err)
	}
	if _, err := c.CreateTask(t.Context(), map[string]string{"hs_task_subject": "no due date"}, contact); !hubspot.IsBadRequest(err) {
		t.Errorf("task without hs_timestamp: %v", err)
	}
}

func TestLimiterWindow(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	l := hubspot.NewLimiter(3, 10*time.Second, clk)
	ctx := t.Context()
	for range 3 {
		if err := l.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { _ = l.Wait(ctx); close(done) }()
	<-clk.Waiting()
	clk.Advance(9 * time.Second)
	select {
	case <-done:
		t.Fatal("4th request went within the window")
	default:
	}
	clk.Advance(time.Second)
	<-done
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Wait(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait = %v", err)
	}
}

// 150 calls as fast as the client allows stay under 100 per rolling 10 s
// against a fake that enforces HubSpot's burst limit: no 429.
func TestLimiterKeepsUnderBurstLimit(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk), hubspottest.WithBurstLimit(100, 10*time.Second))
	id := fake.AddContact(nil)
	c, err := hubspot.New(fake.URL, hubspottest.DefaultToken, hubspot.WithClock(clk)) // default limiters
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := range 150 {
			if err := c.UpdateContact(context.Background(), id, map[string]string{"firstname": "n" + string(rune('a'+i%26))}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("call failed: %v", err)
			}
			waiting = false
		case <-clk.Waiting():
			clk.AdvanceToNextWaiter()
		}
	}
	reqs := fake.Requests()
	if len(reqs) != 150 {
		t.Fatalf("requests = %d, want 150", len(reqs))
	}
	for i, r := range reqs {
		if r.Status != 200 {
			t.Fatalf("request %d: status %d", i, r.Status)
		}
		n := 0
		for _, q := range reqs {
			if !q.At.After(r.At) && q.At.After(r.At.Add(-10*time.Second)) {
				n++
			}
		}
		if n > 100 {
			t.Fatalf("%d requests in the 10 s before %v", n, r.At)
		}
	}
	if last := reqs[149].At.Sub(t0); last < 10*time.Second || last > 11*time.Second {
		t.Errorf("last request at +%v; want just past 10 s (full throughput, no more)", last)
	}
}

// IDs are path segments: escaped, never able to change the path.
func TestPathEscaping(t *testing.T) {
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk))
	c := newClient(t, fake, clk)
	_, err := c.GetContact(t.Context(), "1/../../owners")
	if !hubspot.IsNotFound(err) {
		t.Errorf("GetContact with a slash: %v", err)
	}
	if r := fake.Requests(); len(r) != 1 || r[0].Path != "/crm/v3/objects/contacts/1/../../owners" {
		t.Errorf("requests = %+v", r)
	}
}
