package codec

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// DefaultCORSOrigins are the dev server UI's origins (`temporal server
// start-dev` serves the UI on :8233).
var DefaultCORSOrigins = []string{"http://localhost:8233", "http://127.0.0.1:8233"}

// maxBody bounds a request: the UI sends one workflow's payloads at a time,
// and Temporal refuses payloads over 2 MiB anyway.
const maxBody = 8 << 20

// ServerOptions configures NewServer.
type ServerOptions struct {
	// Origins allowed by CORS (exact match, e.g. http://localhost:8233).
	Origins []string
	// Token, when set, must arrive as "Authorization: Bearer <Token>".
	Token string
}

// NewServer serves Temporal's Codec Server protocol over c: POST /encode,
// /decode, /{namespace}/encode and /{namespace}/decode, each a JSON
// temporal.api.common.v1.Payloads ({"payloads":[…]}) in and out. The UI
// calls it from the browser, so CORS preflights are answered for opts'
// origins, before any token check (a preflight carries no credentials).
func NewServer(c *Codec, opts ServerOptions) http.Handler {
	sdk := converter.NewPayloadCodecHTTPHandler(c)
	mux := http.NewServeMux()
	for _, p := range []string{"POST /encode", "POST /decode", "POST /{namespace}/encode", "POST /{namespace}/decode"} {
		mux.Handle(p, sdk)
	}
	s := &server{mux: mux, origins: opts.Origins, token: opts.Token}
	return s
}

type server struct {
	mux     *http.ServeMux
	origins []string
	token   string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(s.origins, origin) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Namespace")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if r.Method == http.MethodOptions {
		http.Error(w, "origin not allowed (LEADFLOW_CODEC_CORS_ORIGINS)", http.StatusForbidden)
		return
	}
	if s.token != "" && !bearerOK(r.Header.Get("Authorization"), s.token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="leadflow codec"`)
		http.Error(w, "missing or wrong bearer token (LEADFLOW_API_TOKEN)", http.StatusUnauthorized)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	s.mux.ServeHTTP(w, r)
}

func bearerOK(header, token string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}
