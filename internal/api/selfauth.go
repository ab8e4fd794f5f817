package api

import (
	"fmt"
	"net/http"
	"strings"
)

// HandleSelfAuthenticated mounts h with Handle's metrics, logging and panic
// recovery but without Handle's bearer-token check, for handlers that apply
// the LEADFLOW_API_TOKEN rule themselves and accept more than the exact token
// in the Authorization header: the web UI (internal/webui), whose login page
// must be reachable without a token and which also takes its session cookie
// and rep tokens (internal/auth). Only /ui patterns may be mounted this
// way; any other pattern panics, so a /v1 route cannot lose its token rule
// by mistake.
func (s *Server) HandleSelfAuthenticated(pattern string, h http.Handler) {
	if !uiPattern(pattern) {
		panic(fmt.Sprintf("api: HandleSelfAuthenticated(%q): only /ui patterns authenticate themselves", pattern))
	}
	s.mux.Handle(pattern, h)
}

// Leads is the port the server was built with, for handlers mounted beside
// the API (the web UI) that talk to the lead workflows the same way.
func (s *Server) Leads() Leads { return s.leads }

// TokenRequired reports whether LEADFLOW_API_TOKEN is set, so a handler
// mounted with HandleSelfAuthenticated can refuse to run open while the
// API is not.
func (s *Server) TokenRequired() bool { return s.cfg.APIToken != "" }

func uiPattern(pattern string) bool {
	p := pattern
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = strings.TrimSpace(p[i+1:])
	}
	if i := strings.IndexByte(p, '/'); i > 0 { // drop a host
		p = p[i:]
	}
	return p == "/ui" || strings.HasPrefix(p, "/ui/")
}
