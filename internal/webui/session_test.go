package webui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/auth/authtest"
	"github.com/leadflow/leadflow/internal/webui"
	"github.com/leadflow/leadflow/internal/webui/webuitest"
)

// login signs in with tok through the form and returns the session ID.
func (e *env) login(t *testing.T, tok string) string {
	t.Helper()
	w := e.do(t, req{method: "POST", path: "/ui/login", form: url.Values{"token": {tok}}})
	want(t, w, http.StatusSeeOther)
	return sessionCookie(t, w)
}

// signedIn reports whether a GET with the cookie gets the page (200) or
// the login form (303); anything else fails the test.
func (e *env) signedIn(t *testing.T, cookie, path string) bool {
	t.Helper()
	w := e.do(t, req{path: path, cookie: cookie})
	switch {
	case w.Code == http.StatusOK:
		return true
	case w.Code == http.StatusSeeOther && strings.HasPrefix(w.Header().Get("Location"), "/ui/login?next="):
		if !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("an ended session's cookie is not cleared: %q", w.Header().Get("Set-Cookie"))
		}
		return false
	}
	t.Fatalf("GET %s: status %d, want 200 or 303 to the login form; body:\n%s", path, w.Code, w.Body.String())
	return false
}

// acceptAs posts an Accept with the session cookie (a form post is not
// redirected, so it shows why a session is refused).
func (e *env) acceptAs(t *testing.T, cookie, leadID string) *http.Response {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/ui/leads/" + leadID + "/accept", cookie: cookie, form: url.Values{}}).Result()
}

func TestSessionCookieIsNoBearer(t *testing.T) {
	t.Parallel()
	e := setup(t, token, fourLeads()...)
	rep1, _ := authtest.Mint(t, e.auth, "rep-1", 0)
	for who, tok := range map[string]string{"admin": token, "rep": rep1} {
		sid := e.login(t, tok)
		if !e.signedIn(t, sid, "/ui/inbox?rep=rep-1") {
			t.Fatalf("%s: the session does not open the inbox", who)
		}
		// The cookie's value, replayed as a bearer: neither the API nor the UI takes it.
		w := e.do(t, req{path: "/v1/leads/L-a", bearer: sid})
		want(t, w, http.StatusUnauthorized, "missing or invalid bearer token")
		want(t, e.do(t, req{path: "/ui/inbox?rep=rep-1", bearer: sid}), http.StatusUnauthorized, "invalid token")
		if strings.Contains(sid, tok) || len(sid) != 43 {
			t.Errorf("%s: session ID %q (want 32 random bytes, base64url)", who, sid)
		}
		// Postgres keeps SHA-256 of the ID, never the ID.
		var hashed, raw int
		if err := e.st.Pool().QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE id_hash = sha256(convert_to($1, 'UTF8'))),
			count(*) FILTER (WHERE position(convert_to($1, 'UTF8') in id_hash) > 0) FROM ui_sessions`, sid).Scan(&hashed, &raw); err != nil {
			t.Fatal(err)
		}
		if hashed != 1 || raw != 0 {
			t.Errorf("%s: %d rows under SHA-256 of the session ID, %d holding the ID itself", who, hashed, raw)
		}
	}
	// The admin token is still the API's bearer.
	want(t, e.do(t, req{path: "/v1/leads/L-a", bearer: token}), http.StatusOK)
}

func TestSessionAfterLogout(t *testing.T) {
	t.Parallel()
	e := setup(t, token, fourLeads()...)
	rep1, _ := authtest.Mint(t, e.auth, "rep-1", 0)
	sid, other := e.login(t, rep1), e.login(t, rep1)
	want(t, e.do(t, req{method: "POST", path: "/ui/logout", cookie: sid, form: url.Values{}}), http.StatusSeeOther)
	// The session is gone from the server, not only from the browser: the
	// old cookie, replayed, is refused.
	if e.signedIn(t, sid, "/ui/inbox") {
		t.Fatal("the session still opens the inbox after sign-out")
	}
	res := e.acceptAs(t, sid, "L-a")
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("accept after sign-out: %d", res.StatusCode)
	}
	if v := e.leads.View("L-a"); v.Stage != "handoff" {
		t.Errorf("L-a is %s after a signed-out accept", v.Stage)
	}
	// Signing out ends that session only.
	if !e.signedIn(t, other, "/ui/inbox") {
		t.Error("signing out one session ended another")
	}
}

func TestSessionIdleTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t, token, fourLeads()...)
	sid := e.login(t, token)
	lastSeen := func() time.Time {
		var at time.Time
		if err := e.st.Pool().QueryRow(t.Context(), `SELECT last_seen FROM ui_sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`, sid).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	// Activity within a minute of the last recorded one writes nothing.
	e.clock.Advance(30 * time.Second)
	if !e.signedIn(t, sid, "/ui/dashboard") || !lastSeen().Equal(now) {
		t.Fatalf("after 30 s: last_seen %s, want %s (touched at most once a minute)", lastSeen(), now)
	}
	// Each use under an hour apart keeps the session, well past one hour in all.
	for i := range 3 {
		e.clock.Advance(59 * time.Minute)
		if !e.signedIn(t, sid, "/ui/dashboard") {
			t.Fatalf("use %d, 59 min after the last: signed out", i+1)
		}
	}
	if got, want := lastSeen(), e.clock.Now(); !got.Equal(want) {
		t.Errorf("last_seen %s, want %s", got, want)
	}
	e.clock.Advance(time.Hour)
	res := e.acceptAs(t, sid, "L-a")
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after an idle hour: %d", res.StatusCode)
	}
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-a/accept", cookie: sid, form: url.Values{}}),
		http.StatusUnauthorized, "session ended after 1h0m0s without activity")
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	e := setup(t, token, fourLeads()...)
	sid := e.login(t, token)
	// Busy all day: a page every 50 minutes never lets it idle out…
	for e.clock.Now().Add(50 * time.Minute).Before(now.Add(12 * time.Hour)) {
		e.clock.Advance(50 * time.Minute)
		if !e.signedIn(t, sid, "/ui/dashboard") {
			t.Fatalf("signed out at %s, before 12 h", e.clock.Now())
		}
	}
	// …but 12 hours after sign-in it ends anyway.
	e.clock.Advance(now.Add(12 * time.Hour).Sub(e.clock.Now()))
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-a/accept", cookie: sid, form: url.Values{}}),
		http.StatusUnauthorized, "session expired at 2026-11-23T00:00:00Z")
	if e.signedIn(t, sid, "/ui/dashboard") {
		t.Error("the session outlived its 12 hours")
	}
}

func TestExpiredToken(t *testing.T) {
	t.Parallel()
	e := setup(t, token, fourLeads()...)
	rep1, id := authtest.Mint(t, e.auth, "rep-1", 2*time.Hour)
	sid := e.login(t, rep1)
	e.clock.Advance(2*time.Hour - time.Second)
	want(t, e.do(t, req{path: "/ui/inbox", bearer: rep1}), http.StatusOK)
	e.clock.Advance(time.Second)
	msg := "token expired at 2026-11-22T14:00:00Z (token ID " + id + ")"
	want(t, e.do(t, req{path: "/ui/inbox", bearer: rep1}), http.StatusUnauthorized, msg)
	want(t, e.do(t, req{method: "POST", path: "/ui/login", form: url.Values{"token": {rep1}}}), http.StatusUnauthorized, msg)
	// The session opened with it ends with it, although 12 h have not passed.
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-a/accept", cookie: sid, form: url.Values{}}), http.StatusUnauthorized,
		"session expired at 2026-11-22T14:00:00Z")
}

func TestRevokedToken(t *testing.T) {
	t.Parallel()
	e := setup(t, token, fourLeads()...)
	rep1, id := authtest.Mint(t, e.auth, "rep-1", 0)
	spare, _ := authtest.Mint(t, e.auth, "rep-1", 0)
	sid := e.login(t, rep1)
	e.clock.Advance(time.Minute)
	if _, err := e.auth.RevokeRepToken(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	msg := "token revoked at 2026-11-22T12:01:00Z (token ID " + id + ")"
	want(t, e.do(t, req{path: "/ui/inbox", bearer: rep1}), http.StatusUnauthorized, msg)
	want(t, e.do(t, req{method: "POST", path: "/ui/login", form: url.Values{"token": {rep1}}}), http.StatusUnauthorized, msg)
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-a/accept", cookie: sid, form: url.Values{}}), http.StatusUnauthorized,
		"session ended: "+msg)
	if e.signedIn(t, sid, "/ui/inbox") {
		t.Error("the revoked token's session still opens the inbox")
	}
	// Revoked one at a time: the rep's other token still works.
	want(t, e.do(t, req{path: "/ui/inbox", bearer: spare}), http.StatusOK, "Signed in: rep rep-1")
}

func TestForgedTokens(t *testing.T) {
	t.Parallel()
	e := setup(t, token, fourLeads()...)
	rep1, id1 := authtest.Mint(t, e.auth, "rep-1", 0)
	_, id2 := authtest.Mint(t, e.auth, "rep-2", 0)
	secret1 := strings.TrimPrefix(rep1, "lft_"+id1+"_")
	flip := func(s string) string { // the last hex digit changed
		last := s[len(s)-1]
		return s[:len(s)-1] + map[bool]string{true: "1", false: "0"}[last == '0']
	}
	if _, err := e.auth.RevokeRepToken(t.Context(), id2); err != nil {
		t.Fatal(err)
	}
	forged := map[string]string{
		"rep-2's token ID with rep-1's secret": "lft_" + id2 + "_" + secret1,
		"rep-1's token, secret changed":        flip(rep1),
		"an ID that was never minted":          "lft_" + flip(id1) + "_" + secret1,
		"the old format, rep ID swapped":       "rep:rep-2:" + strings.Repeat("ab", 32),
		"rep-1's token, truncated":             rep1[:len(rep1)-2],
	}
	for what, tok := range forged {
		w := e.do(t, req{path: "/ui/inbox", bearer: tok})
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", what, w.Code)
		}
		// Nothing about a token is told to someone without its secret: a
		// wrong secret for a revoked token is just invalid.
		if body := w.Body.String(); strings.Contains(body, "token revoked") || strings.Contains(body, "rep-2") {
			t.Errorf("%s: the refusal tells about the token: %s", what, body)
		}
		want(t, e.do(t, req{method: "POST", path: "/ui/login", form: url.Values{"token": {tok}}}), http.StatusUnauthorized)
	}
	want(t, e.do(t, req{path: "/ui/inbox", bearer: rep1}), http.StatusOK)
}

// A valid rep token, and a session opened with it, open only the rep's
// own inbox and leads.
func TestRepSessionScope(t *testing.T) {
	t.Parallel()
	e := setup(t, token, fourLeads()...)
	rep1, _ := authtest.Mint(t, e.auth, "rep-1", 0)
	sid := e.login(t, rep1)
	want(t, e.do(t, req{path: "/ui/inbox?rep=rep-2", cookie: sid}), http.StatusForbidden)
	for _, action := range []string{"accept", "reject", "touch"} {
		f := url.Values{"reason": {"bad_fit"}, "taskId": {e.tasks["L-x"]}}
		want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-x/" + action, cookie: sid, form: f}), http.StatusForbidden, "Lead L-x is not in your inbox.")
	}
	if v := e.leads.View("L-x"); v.Stage != "handoff" || len(e.leads.LeadEvents("L-x")) != 0 {
		t.Errorf("rep-2's lead changed through rep-1: %+v", v)
	}
	// A rep who leaves the directory loses access with the next request.
	webuitest.Reps(t, e.st, "rep-2", "rep-3")
	want(t, e.do(t, req{path: "/ui/inbox", bearer: rep1}), http.StatusUnauthorized, "rep rep-1 is no longer an active rep")
	if e.signedIn(t, sid, "/ui/inbox") {
		t.Error("an inactive rep's session still opens the inbox")
	}
}

// Rotating LEADFLOW_API_TOKEN (a restart with the new one) ends admin
// sessions and the old token; rep tokens and their sessions stay.
func TestAdminTokenRotation(t *testing.T) {
	t.Parallel()
	old := setup(t, token, fourLeads()...)
	rep1, _ := authtest.Mint(t, old.auth, "rep-1", 0)
	adminSession, repSession := old.login(t, token), old.login(t, rep1)

	const rotated = "the-next-admin-token"
	srv := newServer(t, rotated, old.leads)
	next, _ := authtest.New(t, old.st.Auth(), rotated, now)
	if err := webui.Mount(srv, webui.Config{APIToken: rotated, Auth: next, Tasks: old.st.CRM(), States: old.st.States(), Now: func() time.Time { return now },
		Data: webui.StoreData{Metrics: old.st.Metrics(), States: old.st.States(), Now: func() time.Time { return now }}}); err != nil {
		t.Fatal(err)
	}
	e := &env{h: srv.Handler(), leads: old.leads, st: old.st}
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-a/accept", cookie: adminSession, form: url.Values{"rep": {"rep-1"}}}),
		http.StatusUnauthorized, "the admin token has changed")
	want(t, e.do(t, req{path: "/ui/dashboard", bearer: token}), http.StatusUnauthorized)
	want(t, e.do(t, req{path: "/v1/leads/L-a", bearer: token}), http.StatusUnauthorized)
	want(t, e.do(t, req{path: "/ui/dashboard", bearer: rotated}), http.StatusOK)
	if !e.signedIn(t, repSession, "/ui/inbox") {
		t.Error("a rep session ended with the admin token's rotation")
	}
	want(t, e.do(t, req{path: "/ui/inbox", bearer: rep1}), http.StatusOK)
}

func TestSessionCookieSecureOnHTTPS(t *testing.T) {
	t.Parallel()
	e := setupWith(t, setupOpts{token: token, publicURL: "https://leadflow.example"}, fourLeads()...)
	w := e.do(t, req{method: "POST", path: "/ui/login", form: url.Values{"token": {token}}})
	want(t, w, http.StatusSeeOther)
	if sc := w.Header().Get("Set-Cookie"); !strings.Contains(sc, "; Secure") || !strings.Contains(sc, "HttpOnly") {
		t.Errorf("Set-Cookie %q: want Secure and HttpOnly", sc)
	}
}

// Postgres down: no page opens (503 saying why), and nobody is let in.
func TestSessionStoreDown(t *testing.T) {
	t.Parallel()
	e := setup(t, token, fourLeads()...)
	rep1, _ := authtest.Mint(t, e.auth, "rep-1", 0)
	sid := e.login(t, token)
	e.st.Close()
	want(t, e.do(t, req{path: "/ui/dashboard", cookie: sid}), http.StatusServiceUnavailable, "cannot be checked right now")
	want(t, e.do(t, req{path: "/ui/inbox", bearer: rep1}), http.StatusServiceUnavailable)
	want(t, e.do(t, req{method: "POST", path: "/ui/login", form: url.Values{"token": {rep1}}}), http.StatusServiceUnavailable, "not possible right now")
}
