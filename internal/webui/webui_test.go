package webui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/auth/authtest"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/webui"
	"github.com/leadflow/leadflow/internal/webui/webuitest"
)

const token = "admin-secret-token"

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type merges struct{}

func (merges) MergedInto(context.Context, string) (string, bool, error) { return "", false, nil }

type receipts struct{}

func (receipts) Record(context.Context, string, string) (bool, error) { return true, nil }

type env struct {
	h     http.Handler
	leads *webuitest.Leads
	st    *store.DB
	tasks map[string]string // leadId -> taskId
	// With a token: sign-ins and rep tokens, on a clock the test moves.
	auth  *auth.Service
	clock *authtest.Clock
}

// setup serves the API with the UI mounted, over a fake Leads port and a
// real store holding one open task per view.
func setup(t *testing.T, tok string, views ...lead.View) *env {
	t.Helper()
	return setupWith(t, setupOpts{token: tok}, views...)
}

type setupOpts struct {
	token string
	// port wraps the fake as the Leads port the server and UI see.
	port      func(*webuitest.Leads) api.Leads
	publicURL string
	// notifications: the inbox lists the store's notification record.
	notifications bool
	// policy serves the policy shadow page.
	policy webui.PolicyShadow
}

func setupWith(t *testing.T, o setupOpts, views ...lead.View) *env {
	t.Helper()
	st := storetest.Open(t)
	leads := webuitest.NewLeads(views...)
	leads.Now = func() time.Time { return now }
	webuitest.PublishTo(t, st, leads) // the lists come from the published states
	var port api.Leads = leads
	if o.port != nil {
		port = o.port(leads)
	}
	srv := newServer(t, o.token, port)
	cfg := webui.Config{APIToken: o.token, PublicURL: o.publicURL, Tasks: st.CRM(), States: st.States(), Now: func() time.Time { return now },
		Data: webui.StoreData{Metrics: st.Metrics(), States: st.States(), Now: func() time.Time { return now }}}
	e := &env{leads: leads, st: st, tasks: map[string]string{}}
	if o.token != "" {
		webuitest.Reps(t, st, "rep-1", "rep-2", "rep-3")
		e.auth, e.clock = authtest.New(t, st.Auth(), o.token, now)
		cfg.Auth = e.auth
	}
	if o.notifications {
		cfg.Notifications = st.Deliveries()
	}
	cfg.Policy = o.policy
	if err := webui.Mount(srv, cfg); err != nil {
		t.Fatal(err)
	}
	e.h = srv.Handler()
	for _, v := range views {
		e.tasks[v.LeadID] = webuitest.Task(t, st, v, now)
	}
	return e
}

// newServer is the API over port, requiring tok when it is not empty.
func newServer(t *testing.T, tok string, port api.Leads) *api.Server {
	t.Helper()
	srv, err := api.New(api.Config{WebhookSecret: []byte("wh"), IDKey: []byte("id"), APIToken: tok, Now: func() time.Time { return now }},
		port, merges{}, receipts{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

type req struct {
	method, path string
	form         url.Values
	bearer       string
	cookie       string
	header       map[string]string
}

func (e *env) do(t *testing.T, r req) *httptest.ResponseRecorder {
	t.Helper()
	var hr *http.Request
	if r.method == "" {
		r.method = http.MethodGet
	}
	if r.form != nil {
		hr = httptest.NewRequest(r.method, r.path, strings.NewReader(r.form.Encode()))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		hr = httptest.NewRequest(r.method, r.path, nil)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: webui.CookieName, Value: r.cookie})
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, hr)
	return w
}

func want(t *testing.T, w *httptest.ResponseRecorder, code int, contains ...string) {
	t.Helper()
	if w.Code != code {
		t.Fatalf("status %d, want %d; body:\n%s", w.Code, code, w.Body.String())
	}
	for _, s := range contains {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("body lacks %q:\n%s", s, w.Body.String())
		}
	}
}

func fourLeads() []lead.View {
	return []lead.View{
		webuitest.Handoff("L-a", "rep-1", 50, now.Add(2*time.Hour)),
		webuitest.Handoff("L-b", "rep-1", 80, now.Add(3*time.Hour)),
		webuitest.Handoff("L-c", "rep-1", 50, now.Add(time.Hour)),
		webuitest.Handoff("L-x", "rep-2", 99, now.Add(time.Hour)),
	}
}

// openIDs are the leads of the open-handoffs list, in order.
func openIDs(body string) []string {
	var got []string
	for _, m := range regexp.MustCompile(`<li class="card lead" id="lead-([^"]+)"`).FindAllStringSubmatch(body, -1) {
		got = append(got, m[1])
	}
	return got
}

func salIDs(body string) []string {
	var got []string
	for _, m := range regexp.MustCompile(`<li class="card lead sal" id="sal-([^"]+)"`).FindAllStringSubmatch(body, -1) {
		got = append(got, m[1])
	}
	return got
}

func TestInboxOrderAndContext(t *testing.T) {
	t.Parallel()
	e := setup(t, "", fourLeads()...)
	w := e.do(t, req{path: "/ui/inbox?rep=rep-1"})
	want(t, w, 200, `<time datetime="2026-11-22T13:00:00Z" data-countdown`, "due in 1h<", "(2026-11-22 13:00 UTC)",
		`Contact L-a <span class="lead-id">L-a</span>`, `<span class="job-title">VP Sales</span>, <span class="company">Acme</span>`,
		"Why now:", "Requested a quote", "utm_campaign", "q4-pricing", "quote_request", `<label for="reason-L-a">Reason</label>`,
		`role="status" aria-live="polite"`, `<th scope="col">Rule</th>`, `action="/ui/leads/L-a/touch"`)
	// SLA urgency first: the soonest deadline, whatever the score.
	if got := openIDs(w.Body.String()); strings.Join(got, ",") != "L-c,L-a,L-b" {
		t.Errorf("inbox order %v, want L-c, L-a, L-b (and not rep-2's L-x)", got)
	}
	// Without ?rep the admin is asked for one.
	want(t, e.do(t, req{path: "/ui/inbox"}), 200, `<label for="rep">Rep ID</label>`)
}

// The lists come from the leads' state: a breached SLA first, then the
// deadline, then the score decayed to now (with a breakdown that adds up
// to it); accepted leads in their own list with their stale-SAL deadline;
// a recycled lead in neither, whatever its tasks say.
func TestInboxListsFromLeadState(t *testing.T) {
	t.Parallel()
	due := now.Add(time.Hour)
	// 20 fit + 40 intent a day ago, half-life one day: 20 + 20 = 40 now.
	decayed := webuitest.Handoff("L-decayed", "rep-1", 60, due)
	decayed.Score = lead.ScoreView{Total: 60, Fit: 20, Intent: 40, IntentExact: 40, AsOf: now.Add(-24 * time.Hour), HalfLife: "24h0m0s",
		Breakdown: []lead.ScoreItem{{Rule: "fit:employees", Points: 20, Kind: "fit"}, {Rule: "quote_request", Points: 40, Kind: "intent"},
			{Rule: "decay", Points: 0, Kind: "decay"}}}
	breached := webuitest.Handoff("L-breached", "rep-1", 10, now.Add(-5*time.Minute))
	breached.SLA.Breached = true
	accepted := webuitest.Handoff("L-sal", "rep-1", 70, time.Time{})
	accepted.Stage, accepted.SLA = lead.StageSAL, nil
	accepted.SAL = &lead.SALView{Since: now.Add(-48 * time.Hour), StaleAt: now.Add(26 * time.Hour)}
	recycled := webuitest.Handoff("L-recycled", "rep-1", 90, now.Add(-time.Hour))
	recycled.Stage, recycled.SLA = lead.StageRecycle, nil
	e := setup(t, "", decayed, webuitest.Handoff("L-50", "rep-1", 50, due), breached, accepted, recycled)
	w := e.do(t, req{path: "/ui/inbox?rep=rep-1"})
	body := w.Body.String()
	want(t, w, 200, "first_touch SLA breached", "overdue by 5m",
		`<th scope="row">decay</th><td class="num">-20</td>`, `<tfoot><tr><th scope="row">Total</th><td class="num">40</td>`,
		"score <strong>40</strong>", "fit 20, intent 20",
		`SAL <time datetime="2026-11-23T14:00:00Z"`, "stale in 1d 2h", "(2026-11-23 14:00 UTC)", "Accepted <time")
	if got := openIDs(body); strings.Join(got, ",") != "L-breached,L-50,L-decayed" {
		t.Errorf("open handoffs %v, want L-breached, L-50, L-decayed (40 decayed is below 50)", got)
	}
	if got := salIDs(body); strings.Join(got, ",") != "L-sal" {
		t.Errorf("accepted %v, want L-sal", got)
	}
	if strings.Contains(body, "L-recycled") {
		t.Error("a recycled lead is listed (its handoff task is still open)")
	}
}

func TestAccept(t *testing.T) {
	t.Parallel()
	e := setup(t, "", fourLeads()...)
	form := url.Values{"rep": {"rep-1"}, "taskId": {e.tasks["L-b"]}, "requestId": {"ui-accept-0123456789abcdef01234567"}}
	w := e.do(t, req{method: "POST", path: "/ui/leads/L-b/accept", form: form})
	want(t, w, http.StatusSeeOther)
	loc := w.Header().Get("Location")
	if loc != "/ui/inbox?done=accepted&lead=L-b&rep=rep-1" {
		t.Errorf("Location %q", loc)
	}
	// The same form again is the same update.
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-b/accept", form: form}), http.StatusSeeOther)
	ups := e.leads.AllUpdates()
	if len(ups) != 1 || ups[0].Name != lead.UpdateAccept || ups[0].UpdateID != "ui-accept-0123456789abcdef01234567" ||
		ups[0].Req.(lead.AcceptRequest).RepID != "rep-1" {
		t.Errorf("updates %+v", ups)
	}
	w = e.do(t, req{path: loc})
	want(t, w, 200, "Accepted lead L-b.", `id="sal-L-b"`, "stale in 7d")
	if strings.Contains(w.Body.String(), `action="/ui/leads/L-b/accept"`) || slices.Contains(openIDs(w.Body.String()), "L-b") {
		t.Error("an accepted lead is still an open handoff")
	}
	// Accepting in the wrong stage shows the validator's message, 422.
	w = e.do(t, req{method: "POST", path: "/ui/leads/L-b/accept", form: url.Values{"rep": {"rep-1"}, "taskId": {e.tasks["L-b"]}}})
	want(t, w, http.StatusUnprocessableEntity, "Could not accept lead L-b: lead L-b is in stage sal: accept needs handoff", `role="alert"`)
}

func TestReject(t *testing.T) {
	t.Parallel()
	e := setup(t, "", fourLeads()...)
	post := func(leadID string, f url.Values) *httptest.ResponseRecorder {
		f.Set("taskId", e.tasks[leadID])
		return e.do(t, req{method: "POST", path: "/ui/leads/" + leadID + "/reject", form: f})
	}
	// A static refusal re-renders the form with what was typed.
	w := post("L-a", url.Values{"rep": {"rep-1"}, "reason": {"other"}, "duplicateOf": {"L-zz"}})
	want(t, w, http.StatusUnprocessableEntity, "Could not reject lead L-a: reason other needs a note saying why",
		`<option value="other" selected>`, `value="L-zz"`, `aria-invalid="true"`)
	// The workflow validator's refusal: rep-1 does not own L-x.
	w = post("L-x", url.Values{"rep": {"rep-1"}, "reason": {"bad_fit"}})
	want(t, w, http.StatusUnprocessableEntity, "rep-1 is not the owner of lead L-x (the owner is rep-2)")
	if n := len(e.leads.AllUpdates()); n != 0 {
		t.Fatalf("%d updates after refusals", n)
	}
	// timing with a revisit date from <input type=datetime-local>, in UTC.
	w = post("L-a", url.Values{"rep": {"rep-1"}, "reason": {"timing"}, "revisitAt": {"2027-01-15T09:30"}})
	want(t, w, http.StatusSeeOther)
	ups := e.leads.AllUpdates()
	if len(ups) != 1 {
		t.Fatalf("updates %+v", ups)
	}
	r := ups[0].Req.(lead.RejectRequest)
	if r.Reason != lead.ReasonTiming || r.RevisitAt != "2027-01-15T09:30:00Z" || r.RepID != "rep-1" || r.ID != ups[0].UpdateID || !strings.HasPrefix(r.ID, "ui-reject-") {
		t.Errorf("reject request %+v", r)
	}
	want(t, e.do(t, req{path: w.Header().Get("Location")}), 200, "Rejected lead L-a.")
}

// Mark touched records the touch and keeps the lead in the inbox, touched,
// with its task open, until it is accepted or rejected.
func TestTouch(t *testing.T) {
	t.Parallel()
	e := setup(t, "", fourLeads()...)
	form := url.Values{"rep": {"rep-1"}, "requestId": {"ui-touch-0123456789abcdef01234567"}}
	w := e.do(t, req{method: "POST", path: "/ui/leads/L-c/touch", form: form})
	want(t, w, http.StatusSeeOther)
	evs := e.leads.LeadEvents("L-c")
	if len(evs) != 1 || evs[0].Type != lead.EventRepTouch || evs[0].ID != "ui-touch-0123456789abcdef01234567" ||
		evs[0].Attr("repId") != "rep-1" || evs[0].Attr("channel") != "inbox" || !evs[0].OccurredAt.Equal(now) {
		t.Errorf("events %+v", evs)
	}
	open, err := e.st.CRM().OpenTasks(t.Context(), "rep-1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(open, func(tk store.Task) bool { return tk.LeadID == "L-c" }) {
		t.Error("L-c's task was closed by a touch")
	}
	w = e.do(t, req{path: w.Header().Get("Location")})
	want(t, w, 200, "Marked lead L-c touched; it stays here until you accept or reject it.",
		`<span class="badge touched" id="touched-L-c">touched <time datetime="2026-11-22T12:00:00Z"`, `action="/ui/leads/L-c/accept"`)
	if !slices.Contains(openIDs(w.Body.String()), "L-c") {
		t.Error("a touched lead left the open handoffs")
	}
	if strings.Contains(w.Body.String(), `action="/ui/leads/L-c/touch"`) {
		t.Error("a touched lead still offers Mark touched")
	}
	// Touched already: another click sends nothing more.
	form.Set("requestId", "ui-touch-76543210fedcba9876543210")
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-c/touch", form: form}), http.StatusSeeOther)
	if n := len(e.leads.LeadEvents("L-c")); n != 1 {
		t.Errorf("%d touch events after touching twice", n)
	}
	// Another rep's lead cannot be touched through rep-1.
	w = e.do(t, req{method: "POST", path: "/ui/leads/L-x/touch", form: url.Values{"rep": {"rep-1"}}})
	want(t, w, http.StatusUnprocessableEntity, "lead L-x is not an open handoff of rep-1 (stage handoff, owner rep-2)")
	if n := len(e.leads.LeadEvents("L-x")); n != 0 {
		t.Errorf("%d events on L-x", n)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	e := setup(t, token, fourLeads()...)
	rep1, _ := authtest.Mint(t, e.auth, "rep-1", 0)
	if !regexp.MustCompile(`^lft_[0-9a-f]{16}_[0-9a-f]{64}$`).MatchString(rep1) {
		t.Fatalf("rep token %q", rep1)
	}

	// No credential: a browser goes to the login form; a wrong bearer is 401.
	w := e.do(t, req{path: "/ui/inbox?rep=rep-1"})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/login?next=%2Fui%2Finbox%3Frep%3Drep-1" {
		t.Errorf("no credential: %d %q", w.Code, w.Header().Get("Location"))
	}
	want(t, e.do(t, req{path: "/ui/inbox?rep=rep-1", bearer: "wrong"}), http.StatusUnauthorized)
	// The HMAC tokens of before are refused, with what to do instead.
	want(t, e.do(t, req{path: "/ui/dashboard", bearer: "rep:rep-1:" + strings.Repeat("0", 64)}), http.StatusUnauthorized,
		"old rep token", "starter rep token REP")
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-a/accept", form: url.Values{"rep": {"rep-1"}}}), http.StatusUnauthorized)
	want(t, e.do(t, req{path: "/ui/login"}), 200, `<label for="token">Token</label>`)
	want(t, e.do(t, req{path: "/ui/static/app.css"}), 200)

	// The admin token: any rep's inbox, and the dashboard.
	want(t, e.do(t, req{path: "/ui/inbox?rep=rep-2", bearer: token}), 200, `id="lead-L-x"`)
	want(t, e.do(t, req{path: "/ui/dashboard", bearer: token}), 200, "Funnel")

	// A rep token: its own inbox only.
	w = e.do(t, req{path: "/ui/inbox", bearer: rep1})
	want(t, w, 200, `id="lead-L-a"`, "Signed in: rep rep-1")
	if strings.Contains(w.Body.String(), "L-x") || strings.Contains(w.Body.String(), `href="/ui/dashboard"`) {
		t.Error("rep-1's inbox shows rep-2's lead or the dashboard link")
	}
	want(t, e.do(t, req{path: "/ui/inbox?rep=rep-2", bearer: rep1}), http.StatusForbidden)
	want(t, e.do(t, req{path: "/ui/dashboard", bearer: rep1}), http.StatusForbidden)
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-x/accept", bearer: rep1, form: url.Values{}}), http.StatusForbidden)
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-x/reject", bearer: rep1, form: url.Values{"reason": {"bad_fit"}}}), http.StatusForbidden)
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-x/touch", bearer: rep1, form: url.Values{}}), http.StatusForbidden)
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-a/accept", bearer: rep1, form: url.Values{"rep": {"rep-2"}}}), http.StatusForbidden)
	w = e.do(t, req{method: "POST", path: "/ui/leads/L-a/accept", bearer: rep1, form: url.Values{}})
	want(t, w, http.StatusSeeOther)
	if loc := w.Header().Get("Location"); loc != "/ui/inbox?done=accepted&lead=L-a" {
		t.Errorf("Location %q", loc)
	}
	if v := e.leads.View("L-a"); v.Stage != lead.StageSAL {
		t.Errorf("L-a stage %s after rep-1 accepted", v.Stage)
	}
	if v := e.leads.View("L-x"); v.Stage != lead.StageHandoff {
		t.Errorf("L-x stage %s", v.Stage)
	}
	// Rep tokens are for the UI; the API keeps its admin token.
	want(t, e.do(t, req{path: "/v1/leads/L-a", bearer: rep1}), http.StatusUnauthorized)

	// Cookie login.
	w = e.do(t, req{method: "POST", path: "/ui/login", form: url.Values{"token": {"nope"}}})
	want(t, w, http.StatusUnauthorized, "That token is not valid: invalid token.")
	w = e.do(t, req{method: "POST", path: "/ui/login", form: url.Values{"token": {rep1}, "next": {"https://evil.example/"}}})
	want(t, w, http.StatusSeeOther)
	if loc := w.Header().Get("Location"); loc != "/ui/inbox" {
		t.Errorf("login redirect %q", loc)
	}
	sc := w.Header().Get("Set-Cookie")
	for _, attr := range []string{webui.CookieName + "=", "HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age=43200"} {
		if !strings.Contains(sc, attr) {
			t.Errorf("Set-Cookie %q lacks %s", sc, attr)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("Set-Cookie %q is Secure on a plain-http UI", sc)
	}
	repSession := sessionCookie(t, w)
	want(t, e.do(t, req{path: "/ui/inbox", cookie: repSession}), 200, `id="lead-L-b"`)
	want(t, e.do(t, req{path: "/ui/dashboard", cookie: repSession}), http.StatusForbidden)
	want(t, e.do(t, req{path: "/ui/inbox?rep=rep-2", cookie: repSession}), http.StatusForbidden)
	// A token in the cookie is no session: the cookie only ever holds a session ID.
	for _, tok := range []string{token, rep1} {
		if w := e.do(t, req{path: "/ui/dashboard", cookie: tok}); w.Code != http.StatusSeeOther {
			t.Errorf("a token as the cookie: %d, want 303 to the login form", w.Code)
		}
	}
	w = e.do(t, req{method: "POST", path: "/ui/login", form: url.Values{"token": {token}, "next": {"/ui/inbox?rep=rep-2"}}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/inbox?rep=rep-2" {
		t.Errorf("admin login: %d %q", w.Code, w.Header().Get("Location"))
	}
	want(t, e.do(t, req{path: "/ui/dashboard", cookie: sessionCookie(t, w)}), 200, "Funnel")
	// A cross-site form post is refused even with the cookie.
	w = e.do(t, req{method: "POST", path: "/ui/leads/L-b/accept", cookie: repSession, form: url.Values{},
		header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	want(t, w, http.StatusForbidden)
	// Sign out clears the cookie.
	w = e.do(t, req{method: "POST", path: "/ui/logout", cookie: repSession, form: url.Values{}})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("logout: %d %q", w.Code, w.Header().Get("Set-Cookie"))
	}
}

// sessionCookie is the session ID a sign-in answer sets.
func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == webui.CookieName && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("no %s cookie set: %d %v", webui.CookieName, w.Code, w.Header())
	return ""
}

func TestMountRefusesOpenUIBehindToken(t *testing.T) {
	t.Parallel()
	srv, err := api.New(api.Config{WebhookSecret: []byte("wh"), IDKey: []byte("id"), APIToken: token},
		webuitest.NewLeads(), merges{}, receipts{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := webui.Mount(srv, webui.Config{Tasks: store.CRM{}, States: store.States{}, Data: webui.StoreData{}}); err == nil {
		t.Error("Mount accepted an open UI on an API that requires a token")
	}
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	stuck := webuitest.Handoff("L-stuck", "rep-3", 40, now.Add(-90*time.Minute))
	stale := webuitest.Handoff("L-stale", "rep-3", 40, time.Time{})
	stale.Stage, stale.SLA = lead.StageSAL, nil
	stale.SAL = &lead.SALView{Since: now.Add(-8 * 24 * time.Hour), StaleAt: now.Add(-26 * time.Hour)}
	coolOff := now.Add(-time.Hour)
	cooling := webuitest.Handoff("L-cooling", "rep-3", 40, time.Time{})
	cooling.Stage, cooling.SLA, cooling.CoolOffUntil = lead.StageRecycle, nil, &coolOff
	e := setup(t, token, stuck, stale, cooling, webuitest.Handoff("L-on-time", "rep-3", 40, now.Add(time.Minute)))
	webuitest.Ledger(t, e.st)
	w := e.do(t, req{path: "/ui/dashboard?from=2026-11-16&to=2026-11-23", bearer: token})
	want(t, w, 200,
		// The ledger's week as of noon on 11-22 (webuitest.Ledger): L1..L4
		// are the cohort; L3 came back once; L4 is not touched yet.
		`data-stage="lead">4<`, `data-stage="mql">4<`, `data-stage="handoff">4<`, `data-stage="sal">2<`, `data-stage="opportunity">1<`, `data-stage="customer">0<`,
		`data-flow="handoff">5<`, `data-again="handoff">1<`, `data-flow="recycle">1<`,
		`<strong id="acceptance">50.0%</strong> (2 of 4 decided handoffs accepted; 1 of 5 handoffs pending)`,
		// Business seconds 600, 1800, 3600, 7200: p50 2700, p90 3600 + .7 * 3600.
		`id="ttft-p50">45m<`, `id="ttft-p90">1h 42m<`, `id="ttft-max">2h<`, `<strong id="untouched">1</strong> handoffs not touched yet`,
		// Signal to handoff: L1 2h, L2 1h, L3 1h and 0, L4 30m.
		`id="speed-p50">1h<`, `id="speed-p90">1h 36m<`,
		`<th scope="row">Nov 16–Nov 22</th><td class="num">3</td><td class="num">1</td><td class="num">0</td><td class="num">75.0%</td>`,
		`<th scope="row">quote_request</th><td class="num">1</td><td class="num">1</td><td class="num">0</td><td class="num">50.0%</td>`,
		`<th scope="row">r1</th><td class="num">1</td><td class="num">1</td><td class="num">1</td><td class="num">50.0%</td>`,
		`<th scope="row">website</th><td class="num">1</td><td class="num">0</td><td class="num">1</td>`,
		`<th scope="row">webinar</th><td class="num">0</td><td class="num">1</td><td class="num">1</td>`,
		`<th scope="row">demo_request</th><td class="num">1</td><td class="num">0</td><td class="num">1</td>`,
		`<tr id="stuck-L-stuck"><th scope="row">L-stuck</th><td>handoff</td><td>rep-3</td><td class="deadline">first_touch SLA</td><td><time datetime="2026-11-22T10:30:00Z">2026-11-22 10:30 UTC</time></td><td class="overdue-by">1h 30m</td>`,
		`href="http://127.0.0.1:8233/namespaces/default/workflows/lead%2FL-stuck"`,
		`<tr id="stuck-L-stale"><th scope="row">L-stale</th><td>sal</td><td>rep-3</td><td class="deadline">stale SAL</td>`, `<td class="overdue-by">1d 2h</td>`,
		`<svg class="chart"`, `<title id="cohort-title">`)
	if strings.Contains(w.Body.String(), "stuck-L-cooling") || strings.Contains(w.Body.String(), "stuck-L-on-time") {
		t.Error("a cooling-off recycle or a handoff within its SLA is listed as stuck")
	}
	if i, j := strings.Index(w.Body.String(), "stuck-L-stale"), strings.Index(w.Body.String(), "stuck-L-stuck"); i < 0 || j < 0 || i > j {
		t.Error("stuck leads are not most overdue first")
	}
	// The stuck list follows the lead's state: accepted, L-stuck is not stuck any more.
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-stuck/accept", bearer: token, form: url.Values{"rep": {"rep-3"}}}), http.StatusSeeOther)
	if strings.Contains(e.do(t, req{path: "/ui/dashboard", bearer: token}).Body.String(), "stuck-L-stuck") {
		t.Error("L-stuck is still stuck after it was accepted")
	}
	// TTFT histogram: 600 s in 0–15m; 1800 s in 30m–1h; 3600 in 1h–2h; 7200 in 2h–4h.
	for _, row := range []string{`<th scope="row">&lt; 15m</th><td class="num">1</td>`, `<th scope="row">15m–30m</th><td class="num">0</td>`,
		`<th scope="row">30m–1h</th><td class="num">1</td>`, `<th scope="row">1h–2h</th><td class="num">1</td>`,
		`<th scope="row">2h–4h</th><td class="num">1</td>`} {
		if !strings.Contains(w.Body.String(), row) {
			t.Errorf("histogram lacks %s", row)
		}
	}
	// Two weeks: the second has L4's deadline, not yet due at noon on 11-22.
	want(t, e.do(t, req{path: "/ui/dashboard?from=2026-11-16&to=2026-11-30", bearer: token}), 200,
		`<th scope="row">Nov 23–Nov 29</th><td class="num">0</td><td class="num">0</td><td class="num">1</td><td class="num">–</td>`)
	want(t, e.do(t, req{path: "/ui/dashboard?from=2026-11-23&to=2026-11-16", bearer: token}), http.StatusBadRequest, "from must be before to")
	want(t, e.do(t, req{path: "/ui/dashboard?from=yesterday", bearer: token}), http.StatusBadRequest, "is neither a date")
}

// noWorker is what temporalx answers when no worker takes an update.
func noWorker(name string) error {
	return &api.Unavailable{Message: "no worker took the " + name + " update within 10s: the lead's workflow is not being processed; retry later",
		Err: context.DeadlineExceeded}
}

// A 503 from the Leads port is not a refusal: the page says why, 503, and
// keeps the form — what the rep typed and its request ID, so submitting it
// again is the same update.
func TestActionUnavailableKeepsForm(t *testing.T) {
	t.Parallel()
	e := setup(t, "", fourLeads()...)
	e.leads.UpdateErr = map[string]error{lead.UpdateAccept: noWorker("accept"), lead.UpdateReject: noWorker("reject")}
	acceptID := "ui-accept-0123456789abcdef01234567"
	form := url.Values{"rep": {"rep-1"}, "taskId": {e.tasks["L-b"]}, "requestId": {acceptID}}
	w := e.do(t, req{method: "POST", path: "/ui/leads/L-b/accept", form: form})
	want(t, w, http.StatusServiceUnavailable,
		"Could not accept lead L-b now: no worker took the accept update within 10s: the lead&#39;s workflow is not being processed; retry later",
		`<p class="error" id="err-L-b" role="alert">Not done (accept), try again: no worker took the accept update within 10s`,
		`action="/ui/leads/L-b/accept"`, `name="requestId" value="`+acceptID+`"`)
	if w.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if strings.Contains(w.Body.String(), "Refused (accept)") {
		t.Error("a 503 is shown as a refusal")
	}

	rejectID := "ui-reject-0123456789abcdef01234567"
	rform := url.Values{"rep": {"rep-1"}, "taskId": {e.tasks["L-a"]}, "requestId": {rejectID},
		"reason": {"other"}, "note": {"Wants to talk again after their budget review"}}
	w = e.do(t, req{method: "POST", path: "/ui/leads/L-a/reject", form: rform})
	want(t, w, http.StatusServiceUnavailable, "no worker took the reject update within 10s",
		`<option value="other" selected>`, "Wants to talk again after their budget review</textarea>",
		`name="requestId" value="`+rejectID+`"`, `aria-describedby="err-L-a"`)
	if strings.Contains(w.Body.String(), `aria-invalid="true"`) {
		t.Error("the reason is marked invalid, but nothing was wrong with it")
	}
	if n := len(e.leads.AllUpdates()); n != 0 {
		t.Fatalf("%d updates applied while unavailable", n)
	}

	// The worker is back: the kept form goes through as the same update.
	e.leads.UpdateErr = nil
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-a/reject", form: rform}), http.StatusSeeOther)
	if ups := e.leads.AllUpdates(); len(ups) != 1 || ups[0].UpdateID != rejectID {
		t.Errorf("updates %+v, want the kept request ID %s", ups, rejectID)
	}

	// A port error that is not *api.Unavailable is 503 too, with a generic reason.
	e.leads.UpdateErr = map[string]error{lead.UpdateAccept: fmt.Errorf("update accept on lead/L-b: %w", context.Canceled)}
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-b/accept", form: form}), http.StatusServiceUnavailable,
		"leadflow could not reach Temporal or its database; try again shortly")
}

// A duplicate's duplicateOf must be an open lead (api.OpenLeads, as the API
// checks it); the check not answering is 503; a port without OpenLeads
// sends the reject as is.
func TestRejectDuplicateOfMustBeOpen(t *testing.T) {
	t.Parallel()
	merged := webuitest.Handoff("L-gone", "rep-9", 10, now.Add(time.Hour))
	merged.Stage = lead.StageMerged
	e := setup(t, "", append(fourLeads(), merged)...)
	post := func(dup string) *httptest.ResponseRecorder {
		return e.do(t, req{method: "POST", path: "/ui/leads/L-a/reject", form: url.Values{"rep": {"rep-1"},
			"taskId": {e.tasks["L-a"]}, "reason": {"duplicate"}, "duplicateOf": {dup}, "note": {"same person"}}})
	}
	for _, dup := range []string{"L-nope", "L-gone"} {
		want(t, post(dup), http.StatusUnprocessableEntity,
			"duplicate of "+dup+": leadflow has no open lead "+dup+" (it does not exist, or it was merged or closed)",
			`<option value="duplicate" selected>`, `value="`+dup+`"`, "same person</textarea>", `aria-invalid="true"`)
	}
	e.leads.IsOpenErr = context.DeadlineExceeded
	want(t, post("L-c"), http.StatusServiceUnavailable, "could not check that L-c is an open lead", `value="L-c"`)
	if n := len(e.leads.AllUpdates()); n != 0 {
		t.Fatalf("%d updates after the duplicateOf refusals", n)
	}
	e.leads.IsOpenErr = nil
	want(t, post("L-c"), http.StatusSeeOther)
	if ups := e.leads.AllUpdates(); len(ups) != 1 || ups[0].Req.(lead.RejectRequest).DuplicateOf != "L-c" {
		t.Errorf("updates %+v", ups)
	}

	// A Leads port without IsOpen: nothing to check with; the workflow decides.
	e2 := setupWith(t, setupOpts{port: func(l *webuitest.Leads) api.Leads { return struct{ api.Leads }{l} }}, fourLeads()...)
	w := e2.do(t, req{method: "POST", path: "/ui/leads/L-a/reject", form: url.Values{"rep": {"rep-1"},
		"taskId": {e2.tasks["L-a"]}, "reason": {"duplicate"}, "duplicateOf": {"L-nope"}}})
	want(t, w, http.StatusSeeOther)
	if n := len(e2.leads.Opened); n != 0 {
		t.Errorf("IsOpen called %d times through a port that does not offer it", n)
	}
}

// manyLeads are n handoffs of rep-1 with scores 1…n, due in 1…n minutes.
func manyLeads(n int) []lead.View {
	views := make([]lead.View, n)
	for i := range views {
		views[i] = webuitest.Handoff(fmt.Sprintf("L-%03d", i+1), "rep-1", i+1, now.Add(time.Duration(i+1)*time.Minute))
	}
	return views
}

// A page of many leads queries at most InboxQueryConcurrency leads at once,
// and at most MaxInboxItems in all (the most urgent); it says how many it
// left out.
func TestInboxBoundsQueries(t *testing.T) {
	t.Parallel()
	const extra = 5
	e := setup(t, "", manyLeads(webui.MaxInboxItems+extra)...)
	gate, entered := make(chan struct{}), make(chan string, webui.MaxInboxItems+extra)
	e.leads.QueryGate, e.leads.QueryEntered = gate, entered
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- e.do(t, req{path: "/ui/inbox?rep=rep-1"}) }()
	// Hold the queries until the pool is full, then let them all go.
	for range webui.InboxQueryConcurrency {
		<-entered
	}
	close(gate)
	w := <-done
	want(t, w, 200, fmt.Sprintf(`<p class="more" id="hidden-count">%d more open handoffs not shown`, extra))
	if got := e.leads.MaxInFlight(); got != webui.InboxQueryConcurrency {
		t.Errorf("%d state queries in flight at once, want %d", got, webui.InboxQueryConcurrency)
	}
	if got := e.leads.Queries(); got != webui.MaxInboxItems {
		t.Errorf("%d state queries, want %d (one per shown lead)", got, webui.MaxInboxItems)
	}
	ids := openIDs(w.Body.String())
	if len(ids) != webui.MaxInboxItems || ids[0] != "L-001" {
		t.Fatalf("%d items, first %v", len(ids), ids[:1])
	}
	for _, id := range ids {
		if id > fmt.Sprintf("L-%03d", webui.MaxInboxItems) {
			t.Errorf("%s (among the %d latest deadlines) is shown", id, extra)
		}
	}
}

// No worker answers: the page shows the states the leads last published
// (marked), and asks Temporal at most once per pool goroutine.
func TestInboxFallsBackToPublishedStates(t *testing.T) {
	t.Parallel()
	views := manyLeads(20)
	e := setup(t, "", views...)
	at := now.Add(-3 * time.Minute)
	for _, v := range views[1:] {
		v.Score.Total += 100 // the live state (the fake) keeps the old score
		if err := e.st.States().PublishState(t.Context(), actions.StateSnapshot{LeadID: v.LeadID, Seq: 1 << 40, At: at, View: v}); err != nil {
			t.Fatal(err)
		}
	}
	e.leads.SetQueryErr(&api.Unavailable{Message: "no worker answered the state query within 5s"})
	w := e.do(t, req{path: "/ui/inbox?rep=rep-1"})
	want(t, w, 200, `id="stale-note"`, `State as of <time datetime="2026-11-22T11:57:00Z">`, "score <strong>120</strong>",
		`action="/ui/leads/L-020/accept"`)
	if got := e.leads.Queries(); got > webui.InboxQueryConcurrency {
		t.Errorf("%d state queries while none could answer, want at most %d", got, webui.InboxQueryConcurrency)
	}
}

// Right after an accept the lead may not have published its new state yet:
// the live state decides the list, so it shows as accepted at once.
func TestInboxLiveStateBeatsAPublishedOneThatLags(t *testing.T) {
	t.Parallel()
	e := setup(t, "", fourLeads()...)
	e.leads.Publish = nil // the workflow has not published since
	want(t, e.do(t, req{method: "POST", path: "/ui/leads/L-a/accept", form: url.Values{"rep": {"rep-1"}}}), http.StatusSeeOther)
	body := e.do(t, req{path: "/ui/inbox?rep=rep-1"}).Body.String()
	if got := openIDs(body); strings.Join(got, ",") != "L-c,L-b" {
		t.Errorf("open handoffs %v, want L-c, L-b", got)
	}
	if got := salIDs(body); strings.Join(got, ",") != "L-a" {
		t.Errorf("accepted %v, want L-a", got)
	}
}

// With no worker to ask the lead's state, Mark touched still sends the
// touch: the workflow, when it runs, ignores one that breaks its rules.
func TestTouchWithoutAWorkerStillSendsTheEvent(t *testing.T) {
	t.Parallel()
	e := setup(t, "", fourLeads()...)
	e.leads.SetQueryErr(&api.Unavailable{Message: "no worker answered the state query within 5s"})
	w := e.do(t, req{method: "POST", path: "/ui/leads/L-a/touch", form: url.Values{"rep": {"rep-1"}}})
	want(t, w, http.StatusSeeOther)
	if evs := e.leads.LeadEvents("L-a"); len(evs) != 1 || evs[0].Type != lead.EventRepTouch {
		t.Errorf("events %+v", evs)
	}
}
