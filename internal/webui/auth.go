package webui

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/auth"
)

// Authentication. When LEADFLOW_API_TOKEN is set every /ui page except the
// login form and the static files needs either a bearer token
// ("Authorization: Bearer <token>", like the API) or the session cookie the
// login form sets. A token is one of (internal/auth):
//
//   - the admin token, LEADFLOW_API_TOKEN: every rep's inbox (?rep=<repId>)
//     and the dashboard;
//   - a rep token "lft_<id>_<secret>" (`starter rep token REP`): only that
//     rep's inbox and leads; another rep's inbox or lead, and the
//     dashboard, answer 403. Expired or revoked tokens are 401 saying so.
//
// Signing in with either opens a server-side session: the cookie
// (HttpOnly, SameSite=Strict, Path=/ui, Secure when LEADFLOW_PUBLIC_URL is
// https) holds only a random session ID, which no bearer check accepts, so
// a stolen cookie is no API credential and sign-out really ends it. Form
// POSTs are also checked to come from the same origin
// (http.CrossOriginProtection), on top of SameSite=Strict. With no
// LEADFLOW_API_TOKEN the UI is open like the API (development).

// CookieName is the UI's session cookie.
const CookieName = "leadflow_ui"

var repIDPattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,128}$`)

// principal is who a request is.
type principal struct {
	Admin bool   // the admin token, or an open UI
	Rep   string // a rep token's rep
	Open  bool   // no LEADFLOW_API_TOKEN: nobody is checked
}

// Label is what the header shows.
func (p principal) Label() string {
	switch {
	case p.Open:
		return "open (no token set)"
	case p.Rep != "":
		return "rep " + p.Rep
	default:
		return "admin"
	}
}

func fromAuth(p auth.Principal) principal { return principal{Admin: p.Admin, Rep: p.RepID} }

// who is the request's principal: its bearer token if it sends an
// Authorization header, else its session cookie. fromHeader tells which.
// A refusal is an *auth.Denied; another error is the store failing.
func (u *UI) who(r *http.Request) (p principal, fromHeader bool, err error) {
	if u.cfg.APIToken == "" {
		return principal{Admin: true, Open: true}, false, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return principal{}, true, &auth.Denied{Message: "the Authorization header must be \"Bearer <token>\""}
		}
		ap, err := u.cfg.Auth.Authenticate(r.Context(), tok)
		return fromAuth(ap), true, err
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return principal{}, false, &auth.Denied{Message: "no session; sign in first"}
	}
	ap, err := u.cfg.Auth.Session(r.Context(), c.Value)
	return fromAuth(ap), false, err
}

type access int

const (
	anyone    access = iota // admin or a rep
	adminOnly               // admin only
)

// authed applies the token rule. A browser without a usable session is
// sent to the login form; a refused bearer token (or a form post without a
// session) is a 401 that says why.
func (u *UI) authed(need access, h func(http.ResponseWriter, *http.Request, principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, fromHeader, err := u.who(r)
		var d *auth.Denied
		switch {
		case err == nil:
		case errors.As(err, &d):
			if _, err := r.Cookie(CookieName); err == nil && !fromHeader {
				u.clearCookie(w) // an ended session: the browser may forget it
			}
			if !fromHeader && r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="leadflow"`)
			u.fail(w, http.StatusUnauthorized, principal{}, "Not signed in: "+d.Message+".")
			return
		default:
			u.log.Error("webui: checking a sign-in", zap.Error(err))
			w.Header().Set("Retry-After", "5")
			u.fail(w, http.StatusServiceUnavailable, principal{}, "Your sign-in cannot be checked right now (the database does not answer); try again shortly.")
			return
		}
		if need == adminOnly && !p.Admin {
			u.fail(w, http.StatusForbidden, p, "This page is for managers: a rep token only opens that rep's inbox.")
			return
		}
		h(w, r, p)
	})
}

type loginPage struct {
	page
	Next string
}

func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	u.render(w, http.StatusOK, "login", loginPage{
		page: page{Title: "Sign in", Nav: "login", AuthOn: u.cfg.APIToken != ""},
		Next: safeNext(r.URL.Query().Get("next")),
	})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, http.StatusBadRequest, principal{}, "The form could not be read.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	refuse := func(code int, msg string) {
		u.render(w, code, "login", loginPage{
			page: page{Title: "Sign in", Nav: "login", AuthOn: u.cfg.APIToken != "", Error: msg},
			Next: next,
		})
	}
	switch {
	case u.cfg.APIToken == "" && strings.TrimSpace(r.PostForm.Get("token")) == "":
		http.Redirect(w, r, cmp.Or(next, "/ui/dashboard"), http.StatusSeeOther) // open: nothing to check
		return
	case u.cfg.APIToken == "":
		refuse(http.StatusUnauthorized, "No token is configured (LEADFLOW_API_TOKEN is unset): the UI is open, no sign-in needed.")
		return
	}
	s, err := u.cfg.Auth.Login(r.Context(), r.PostForm.Get("token"))
	var d *auth.Denied
	switch {
	case errors.As(err, &d):
		refuse(http.StatusUnauthorized, "That token is not valid: "+d.Message+".")
		return
	case err != nil:
		u.log.Error("webui: sign-in", zap.Error(err))
		w.Header().Set("Retry-After", "5")
		refuse(http.StatusServiceUnavailable, "Signing in is not possible right now (the database does not answer); try again shortly.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: s.ID, Path: "/ui", MaxAge: int(s.ExpiresAt.Sub(u.cfg.Now()) / time.Second),
		HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteStrictMode,
	})
	if next == "" {
		next = "/ui/dashboard"
		if !s.Principal.Admin {
			next = "/ui/inbox"
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session in the store, not only in this browser.
func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil && u.cfg.Auth != nil {
		if err := u.cfg.Auth.Logout(r.Context(), c.Value); err != nil {
			u.log.Error("webui: sign-out", zap.Error(err))
			w.Header().Set("Retry-After", "5")
			u.fail(w, http.StatusServiceUnavailable, principal{}, "Signing out did not reach the database, so the session is still open; try again shortly.")
			return
		}
	}
	u.clearCookie(w)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

func (u *UI) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/ui", MaxAge: -1,
		HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteStrictMode,
	})
}

// safeNext keeps a post-login redirect inside the UI (no open redirect).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "/ui//") {
		return ""
	}
	if strings.HasPrefix(next, "/ui/login") || strings.HasPrefix(next, "/ui/static/") {
		return ""
	}
	return next
}
