package webui

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Authentication. When LEADFLOW_API_TOKEN is set every /ui page except the
// login form and the static files needs a credential, given either as
// "Authorization: Bearer <credential>" (like the API) or as the session
// cookie the login form sets (HttpOnly, SameSite=Strict, Path=/ui, Secure
// when LEADFLOW_PUBLIC_URL is https; its value is the credential itself).
// A credential is one of:
//
//   - the admin token, LEADFLOW_API_TOKEN: every rep's inbox (?rep=<repId>)
//     and the dashboard;
//   - a rep-scoped token "rep:<repId>:<hex HMAC-SHA256(LEADFLOW_API_TOKEN,
//     "rep:"+repId)>" (RepToken mints one): only that rep's inbox and leads;
//     another rep's inbox or lead, and the dashboard, answer 403.
//
// Rotating LEADFLOW_API_TOKEN revokes every rep token with it. Form POSTs are
// also checked to come from the same origin (http.CrossOriginProtection), on
// top of SameSite=Strict. Unset, the UI is open like the API (development).

// CookieName is the UI's session cookie.
const CookieName = "leadflow_ui"

const cookieMaxAge = 12 * 60 * 60 // seconds

var repIDPattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,128}$`)

// RepToken mints the rep-scoped token of repID under secret
// (LEADFLOW_API_TOKEN). It returns "" when secret is empty (the UI is open
// then, and a token made with no key would prove nothing) or repID is not a
// valid rep ID ([A-Za-z0-9._@-]{1,128}).
func RepToken(secret, repID string) string {
	if secret == "" || !repIDPattern.MatchString(repID) {
		return ""
	}
	return "rep:" + repID + ":" + hex.EncodeToString(repMAC(secret, repID))
}

func repMAC(secret, repID string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("rep:" + repID))
	return m.Sum(nil)
}

// principal is who a request is.
type principal struct {
	Admin bool   // the admin token, or an open UI
	Rep   string // a rep-scoped token's rep
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

// authenticate checks one credential.
func (u *UI) authenticate(cred string) (principal, bool) {
	secret := u.cfg.APIToken
	if secret == "" {
		return principal{Admin: true, Open: true}, true
	}
	cred = strings.TrimSpace(cred)
	if cred == "" {
		return principal{}, false
	}
	// Hashing first keeps the comparison constant-time in the length too.
	a, b := sha256.Sum256([]byte(cred)), sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(a[:], b[:]) == 1 {
		return principal{Admin: true}, true
	}
	rest, ok := strings.CutPrefix(cred, "rep:")
	if !ok {
		return principal{}, false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return principal{}, false
	}
	repID, macHex := rest[:i], rest[i+1:]
	if !repIDPattern.MatchString(repID) {
		return principal{}, false
	}
	got, err := hex.DecodeString(macHex)
	if err != nil || !hmac.Equal(got, repMAC(secret, repID)) {
		return principal{}, false
	}
	return principal{Rep: repID}, true
}

// credential is the bearer token, else the cookie; fromHeader tells which.
func credential(r *http.Request) (cred string, fromHeader bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return tok, true
		}
		return "", true
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value, false
	}
	return "", false
}

type access int

const (
	anyone    access = iota // admin or a rep
	adminOnly               // admin only
)

// authed applies the token rule. A browser without a credential is sent to
// the login form; a wrong bearer token is a 401 like the API's.
func (u *UI) authed(need access, h func(http.ResponseWriter, *http.Request, principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred, fromHeader := credential(r)
		p, ok := u.authenticate(cred)
		if !ok {
			if !fromHeader && r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="leadflow"`)
			u.fail(w, http.StatusUnauthorized, principal{}, "Missing or invalid token: sign in again.")
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
	token := strings.TrimSpace(r.PostForm.Get("token"))
	p, ok := u.authenticate(token)
	if !ok || u.cfg.APIToken == "" && token != "" {
		msg := "That token is not valid."
		if u.cfg.APIToken == "" {
			msg = "No token is configured (LEADFLOW_API_TOKEN is unset): the UI is open, no sign-in needed."
		}
		u.render(w, http.StatusUnauthorized, "login", loginPage{
			page: page{Title: "Sign in", Nav: "login", AuthOn: u.cfg.APIToken != "", Error: msg},
			Next: next,
		})
		return
	}
	if u.cfg.APIToken != "" {
		http.SetCookie(w, &http.Cookie{
			Name: CookieName, Value: token, Path: "/ui", MaxAge: cookieMaxAge,
			HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteStrictMode,
		})
	}
	if next == "" {
		next = "/ui/dashboard"
		if p.Rep != "" {
			next = "/ui/inbox"
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/ui", MaxAge: -1,
		HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
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
