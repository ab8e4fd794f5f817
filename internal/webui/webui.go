// Package webui is leadflow's browser UI, served by `starter serve` under
// /ui/: the rep inbox (open handoffs with their context, Accept, Reject with
// a reason, Mark touched; accepted leads before they go stale — both from
// the leads' published state, see inbox_lists.go) and the dashboard
// (funnel, time to first touch, SLA adherence by week, rejection reasons by
// source, leads past their SLA or stale-SAL deadline).
//
// Pages are rendered on the server with html/template (so every value is
// escaped), styled by one small CSS file and work without JavaScript; a few
// lines of script only keep the SLA countdowns ticking. Charts are inline
// SVG drawn here, each next to a table with the same numbers.
//
// Authentication follows LEADFLOW_API_TOKEN (see auth.go): the admin token
// or a rep token as a bearer header, or a server-side session that signing
// in with either opens (internal/auth).
package webui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// DefaultTemporalUIURL is where a stuck lead's workflow link points unless
// Config.TemporalUIURL says otherwise; the path-escaped workflow ID
// ("lead%2F<leadId>") is appended.
const DefaultTemporalUIURL = "http://127.0.0.1:8233/namespaces/default/workflows/"

// Tasks is what the inbox needs from the CRM store (store.CRM): the
// handoff context of its leads' open tasks, and whether a rep has a task
// on a lead.
type Tasks interface {
	OpenTasks(ctx context.Context, ownerID string) ([]store.Task, error)
	Tasks(ctx context.Context, leadID string) ([]store.Task, error)
}

// Config configures the UI.
type Config struct {
	// APIToken is LEADFLOW_API_TOKEN, the admin token. Empty: the UI is
	// open, like the API.
	APIToken string
	// Auth checks tokens and keeps sessions; required with APIToken, and
	// built with the same admin token.
	Auth *auth.Service
	// PublicURL is LEADFLOW_PUBLIC_URL; an https URL makes the session cookie Secure.
	PublicURL string
	// TemporalUIURL is the Temporal UI's workflow list of the namespace
	// (default DefaultTemporalUIURL); "lead%2F<leadId>" is appended.
	TemporalUIURL string
	Tasks         Tasks         // required
	Data          DashboardData // required
	// States is the last state each lead published (the store's
	// lead_states), required: the inbox's lists come from it, and it shows
	// it, marked, for a lead whose workflow does not answer its state query.
	States LeadStates
	// Notifications, when set, is the record of what people were told:
	// the inbox lists the rep's recent notifications.
	Notifications Notifications
	// Policy, when set, serves /ui/policy/shadow.
	Policy PolicyShadow
	Now    func() time.Time // default time.Now
	Logger *zap.Logger      // default: none
	// Location is the policy's time zone: dashboard dates are days there,
	// as in `starter report` (default UTC).
	Location *time.Location
}

// pageBlocks are the template files a page uses besides its own: blocks
// kept apart so each part of a page changes on its own.
var pageBlocks = map[string][]string{
	"inbox": {"templates/inbox_lists.html"},
}

// UI serves the pages. Build it with Mount (or New for tests of the pieces).
type UI struct {
	cfg    Config
	leads  api.Leads
	log    *zap.Logger
	pages  map[string]*template.Template
	secure bool
}

// Mount builds the UI over the server's Leads port and mounts its routes on
// srv, which wraps them with its request metrics and logging. The UI applies
// the token rule itself (auth.go), so it refuses to run open when srv
// requires a token but cfg has none.
func Mount(srv *api.Server, cfg Config) error {
	if srv.TokenRequired() && cfg.APIToken == "" {
		return errors.New("webui: the API requires LEADFLOW_API_TOKEN but the UI was given none")
	}
	u, err := New(srv.Leads(), cfg)
	if err != nil {
		return err
	}
	for pattern, h := range u.routes() {
		srv.HandleSelfAuthenticated(pattern, h)
	}
	return nil
}

// New builds the UI; Mount is what a server uses.
func New(leads api.Leads, cfg Config) (*UI, error) {
	if leads == nil || cfg.Tasks == nil || cfg.Data == nil || cfg.States == nil {
		return nil, errors.New("webui: Leads, Tasks, States and Data are all required")
	}
	if cfg.APIToken != "" && (cfg.Auth == nil || !cfg.Auth.IsAdminToken(cfg.APIToken)) {
		return nil, errors.New("webui: LEADFLOW_API_TOKEN is set but Auth is missing or was built with another admin token")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.TemporalUIURL == "" {
		cfg.TemporalUIURL = DefaultTemporalUIURL
	}
	if !strings.HasSuffix(cfg.TemporalUIURL, "/") {
		cfg.TemporalUIURL += "/"
	}
	u := &UI{cfg: cfg, leads: leads, log: cfg.Logger, pages: map[string]*template.Template{},
		secure: strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://")}
	for _, name := range []string{"login", "inbox", "dashboard", "policy_shadow", "error"} {
		files := append([]string{"templates/layout.html", "templates/" + name + ".html"}, pageBlocks[name]...)
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("webui: template %s: %w", name, err)
		}
		u.pages[name] = t
	}
	return u, nil
}

// Handler serves the UI's routes on a mux of its own (tests, or a server
// that is not an api.Server).
func (u *UI) Handler() http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range u.routes() {
		mux.Handle(pattern, h)
	}
	return mux
}

func (u *UI) routes() map[string]http.Handler {
	static, _ := fs.Sub(staticFS, "static")
	cop := http.NewCrossOriginProtection() // every form POST: same origin only
	post := func(h http.Handler) http.Handler { return cop.Handler(h) }
	return map[string]http.Handler{
		"GET /ui/static/":                http.StripPrefix("/ui/static/", staticHandler(http.FileServerFS(static))),
		"GET /ui/login":                  http.HandlerFunc(u.loginForm),
		"POST /ui/login":                 post(http.HandlerFunc(u.login)),
		"POST /ui/logout":                post(http.HandlerFunc(u.logout)),
		"GET /ui/{$}":                    u.authed(anyone, u.home),
		"GET /ui/inbox":                  u.authed(anyone, u.inbox),
		"POST /ui/leads/{leadId}/accept": post(u.authed(anyone, u.accept)),
		"POST /ui/leads/{leadId}/reject": post(u.authed(anyone, u.reject)),
		"POST /ui/leads/{leadId}/touch":  post(u.authed(anyone, u.touch)),
		"GET /ui/dashboard":              u.authed(adminOnly, u.dashboard),
		"GET /ui/policy/shadow":          u.authed(adminOnly, u.policyShadow),
	}
}

func staticHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func (u *UI) home(w http.ResponseWriter, r *http.Request, p principal) {
	if p.Rep != "" {
		http.Redirect(w, r, "/ui/inbox", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/ui/dashboard", http.StatusSeeOther)
}

// page is what every template's layout needs.
type page struct {
	Title     string
	Nav       string // "inbox", "dashboard", "login"
	Who       principal
	AuthOn    bool
	Status    string // success, for the aria-live region
	Error     string // failure, for the aria-live region
	StatusOK  bool
	PageTitle string
}

func (u *UI) render(w http.ResponseWriter, code int, name string, data any) {
	t := u.pages[name]
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		u.log.Error("webui: rendering "+name, zap.Error(err))
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

type errorPage struct {
	page
	Code    int
	Message string
}

func (u *UI) fail(w http.ResponseWriter, code int, p principal, msg string) {
	u.render(w, code, "error", errorPage{
		page: page{Title: http.StatusText(code), Who: p, AuthOn: u.cfg.APIToken != "", Error: msg},
		Code: code, Message: msg,
	})
}

var funcs = template.FuncMap{
	"dur":  fmtDuration,
	"pct":  func(a, b int) string { return pct(a, b) },
	"utc":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"dec":  func(i int) int { return i - 1 },
	// percent is a metric's rate as `starter report` prints it.
	"percent": metrics.Percent,
}

func pct(a, b int) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(a)/float64(b))
}

// fmtDuration is a short human duration: "2d 3h", "1h 20m", "45m", "30s".
func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 24*time.Hour:
		return pair(int(d/(24*time.Hour)), "d", int(d%(24*time.Hour)/time.Hour), "h")
	case d >= time.Hour:
		return pair(int(d/time.Hour), "h", int(d%time.Hour/time.Minute), "m")
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	default:
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
}

func pair(a int, au string, b int, bu string) string {
	if b == 0 {
		return fmt.Sprint(a, au)
	}
	return fmt.Sprint(a, au, " ", b, bu)
}
