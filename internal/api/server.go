// Package api is leadflow's HTTP edge: signed event intake, the lead state and
// explain queries, the rep updates, health, readiness and metrics. It talks to
// Temporal only through the Leads port, so it imports nothing of the SDK.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/lead"
)

// Config is the HTTP edge's configuration (CONTRACT.md, "Configuration").
type Config struct {
	WebhookSecret []byte           // LEADFLOW_WEBHOOK_SECRET: Leadflow-Signature HMAC key
	IDKey         []byte           // LEADFLOW_ID_KEY: lead.DeriveLeadID of email-only events
	APIToken      string           // LEADFLOW_API_TOKEN: bearer token for /v1 and /ui (empty: open)
	Now           func() time.Time // default time.Now
	Logger        *zap.Logger      // default: no logging
	Concurrency   int              // parallel deliveries across leads in one batch (default 16)
	Ready         []ReadyCheck     // readiness checks besides Temporal (e.g. Postgres)
	// States, when set, answers GET /v1/leads/{leadId} with the last
	// published state (marked stale) when no worker answers the query.
	States States
	// EventsRate and EventsBurst are each source's token bucket on POST
	// /v1/events (LEADFLOW_EVENTS_RATE, LEADFLOW_EVENTS_BURST; default 20/s, 40).
	EventsRate  float64
	EventsBurst int
	// MaxBodyReads bounds the signed endpoints' bodies read at once
	// (default 32); past it they answer 503 with Retry-After.
	MaxBodyReads int
}

// ReadyCheck is one dependency /readyz checks besides Temporal.
type ReadyCheck struct {
	Name  string // named in /readyz's "failed", e.g. "postgres"
	Check func(context.Context) error
	// Degrades marks a dependency the API can run without: when only such
	// checks fail, signed events are still accepted and /readyz answers 200
	// "degraded" with Impact, so a load balancer keeps sending traffic.
	// Otherwise (and always for Temporal) a failure is 503.
	Degrades bool
	Impact   string // what still works and what does not while it fails
}

const (
	defaultConcurrency = 16
	routeUnmatched     = "unmatched" // metric label for requests no pattern matched
)

// readyTimeout bounds /readyz; a variable so tests need not wait it out.
var readyTimeout = 3 * time.Second

// postgresTimeout bounds each Postgres lookup of a request (merges, the
// published state, receipts): Postgres answers in milliseconds or is down,
// and a hung pool must not hold the request.
var postgresTimeout = 3 * time.Second

// Server serves the HTTP API. Build it with New.
type Server struct {
	cfg      Config
	leads    Leads
	merges   Merges
	receipts Receipts
	log      *zap.Logger
	mux      *http.ServeMux
	gatherer prometheus.Gatherer
	tokenSum [sha256.Size]byte // sha256(APIToken): compared in constant time, length hidden

	requests *prometheus.CounterVec
	events   *prometheus.CounterVec
	duration *prometheus.HistogramVec

	edge // body-read slots and the per-source rate limit (edge.go)
}

// New builds the server. Both HMAC keys are required: without them events could
// not be authenticated or email-only leads identified, and failing here beats
// failing every request. An empty APIToken is allowed (local development) and
// logged as a warning. reg receives the metrics; nil means a private registry.
func New(cfg Config, leads Leads, merges Merges, receipts Receipts, reg prometheus.Registerer) (*Server, error) {
	if len(cfg.WebhookSecret) == 0 {
		return nil, errors.New("api: LEADFLOW_WEBHOOK_SECRET is empty: signed events cannot be verified")
	}
	if len(cfg.IDKey) == 0 {
		return nil, errors.New("api: LEADFLOW_ID_KEY is empty: email-only events cannot get a leadId")
	}
	if leads == nil || merges == nil || receipts == nil {
		return nil, errors.New("api: Leads, Merges and Receipts are all required")
	}
	names := map[string]bool{"temporal": true}
	for _, c := range cfg.Ready {
		if c.Name == "" || names[c.Name] || c.Check == nil {
			return nil, fmt.Errorf("api: readiness check %q needs a unique name (not temporal) and a Check", c.Name)
		}
		names[c.Name] = true
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = defaultConcurrency
	}
	s := &Server{
		cfg: cfg, leads: leads, merges: merges, receipts: receipts,
		log: cfg.Logger, mux: http.NewServeMux(),
		tokenSum: sha256.Sum256([]byte(cfg.APIToken)),
	}
	if err := s.initMetrics(reg); err != nil {
		return nil, err
	}
	if err := s.initEdge(reg); err != nil {
		return nil, err
	}
	if cfg.APIToken == "" {
		s.log.Warn("LEADFLOW_API_TOKEN is not set: /v1 and /ui endpoints are open to anyone who can reach this address; use this for local development only")
	}

	s.Handle("POST /v1/events", http.HandlerFunc(s.postEvents))
	s.Handle("GET /v1/leads/{leadId}", http.HandlerFunc(s.getState))
	s.Handle("GET /v1/leads/{leadId}/explain", http.HandlerFunc(s.getExplain))
	s.Handle("POST /v1/leads/{leadId}/accept", handleUpdate(s, lead.UpdateAccept,
		func(_ context.Context, q lead.AcceptRequest, _ string) (string, error) { return q.ID, q.Check() }))
	s.Handle("POST /v1/leads/{leadId}/reject", handleUpdate(s, lead.UpdateReject, s.checkReject))
	s.Handle("POST /v1/leads/{leadId}/reassign", handleUpdate(s, lead.UpdateReassign,
		func(_ context.Context, q lead.ReassignRequest, _ string) (string, error) { return q.ID, q.Check() }))
	// Admin only: like every /v1 route it needs LEADFLOW_API_TOKEN itself
	// when that is set; rep tokens open only the web UI.
	s.Handle("POST /v1/leads/{leadId}/retry-effects", handleUpdate(s, lead.UpdateRetryEffects,
		func(_ context.Context, q lead.RetryEffectsRequest, _ string) (string, error) { return q.ID, q.Check() }))
	s.Handle("GET /healthz", http.HandlerFunc(s.healthz))
	s.Handle("GET /readyz", http.HandlerFunc(s.readyz))
	s.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	return s, nil
}

// Handler is the whole API, with request metrics, logging and panic recovery.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Handle mounts another handler (e.g. the HubSpot webhook or the /ui pages) on
// the same mux, so it gets the same metrics, logging and token rule: patterns
// under /v1 and /ui need the bearer token, except POST /v1/events and
// /v1/webhooks/*, which carry their own signatures.
func (s *Server) Handle(pattern string, h http.Handler) {
	if s.cfg.APIToken != "" && needsToken(pattern) {
		h = s.requireToken(h)
	}
	s.mux.Handle(pattern, h)
}

// needsToken applies the contract's rule to a mux pattern ("[METHOD ][host]/path").
func needsToken(pattern string) bool {
	p := pattern
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = strings.TrimSpace(p[i+1:])
	}
	if i := strings.IndexByte(p, '/'); i > 0 { // drop a host
		p = p[i:]
	}
	switch {
	case p == "/v1/events" || strings.HasPrefix(p, "/v1/webhooks/"):
		return false
	case p == "/v1" || strings.HasPrefix(p, "/v1/"), p == "/ui" || strings.HasPrefix(p, "/ui/"):
		return true
	}
	return false
}

func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		// Hashing first makes the comparison constant-time in the token's length too.
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="leadflow"`)
			msg := "missing or invalid bearer token"
			// Rep tokens (internal/auth: "lft_…", before that "rep:…") open
			// the web UI only; saying so saves a rep a support ticket.
			if t := strings.TrimSpace(token); strings.HasPrefix(t, "lft_") || strings.HasPrefix(t, "rep:") {
				msg = "rep tokens open only the web UI (/ui); /v1 needs the admin token (LEADFLOW_API_TOKEN)"
			}
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) initMetrics(reg prometheus.Registerer) error {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.gatherer = prometheus.DefaultGatherer
	if g, ok := reg.(prometheus.Gatherer); ok {
		s.gatherer = g
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadflow_http_requests_total",
		Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	s.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadflow_events_received_total",
		Help: "Events received on POST /v1/events by result (accepted, duplicate, invalid).",
	}, []string{"result"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "leadflow_http_request_duration_seconds",
		Help:    "HTTP request duration by route pattern.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route"})
	var err error
	s.requests, err = register(reg, s.requests)
	if err == nil {
		s.events, err = register(reg, s.events)
	}
	if err == nil {
		s.duration, err = register(reg, s.duration)
	}
	return err
}

// register tolerates a second server on the same registry (tests, restarts
// in-process) by sharing the collector already there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("api: registering metrics: %w", err)
	}
	return c, nil
}

// serve wraps the mux: it records the route pattern (never the path, which
// carries lead IDs), status and duration, and turns the mux's own plain-text
// 404/405 answers into JSON.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, req: r}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", zap.String("method", r.Method),
				zap.String("route", route(r)), zap.Any("panic", p), zap.Stack("stack"))
			if !rec.wrote {
				writeError(rec, http.StatusInternalServerError, "internal error")
			}
		}
		d := time.Since(start)
		rt := route(r)
		code := rec.status
		if code == 0 {
			code = http.StatusOK
		}
		s.requests.WithLabelValues(rt, fmt.Sprint(code)).Inc()
		s.duration.WithLabelValues(rt).Observe(d.Seconds())
		lvl := zap.InfoLevel
		if code >= 500 {
			lvl = zap.WarnLevel
		}
		s.log.Log(lvl, "http request", zap.String("method", r.Method), zap.String("route", rt),
			zap.Int("status", code), zap.Duration("duration", d))
	}()
	s.mux.ServeHTTP(rec, r)
}

func route(r *http.Request) string {
	if r.Pattern == "" {
		return routeUnmatched
	}
	return r.Pattern
}

// recorder captures the status for metrics and logs.
type recorder struct {
	http.ResponseWriter
	req    *http.Request
	status int
	wrote  bool
	muted  bool // the mux's plain-text error was replaced; drop its body
}

func (w *recorder) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote, w.status = true, code
	// The mux answers unmatched paths and wrong methods itself (pattern "",
	// text/plain); every API error is JSON, so rewrite those.
	if w.req.Pattern == "" && code >= 400 {
		h := w.Header()
		h.Del("X-Content-Type-Options")
		h.Set("Content-Type", "application/json")
		w.ResponseWriter.WriteHeader(code)
		_ = json.NewEncoder(w.ResponseWriter).Encode(errorBody{Error: strings.ToLower(http.StatusText(code))})
		w.muted = true
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.muted {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"` // the request field a 400 is about
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing else to do
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// readyBody is /readyz's answer.
type readyBody struct {
	Status  string   `json:"status"`          // ready | degraded | down
	Error   string   `json:"error,omitempty"` // down: "not ready: <names>"
	Failed  []string `json:"failed,omitempty"`
	Message string   `json:"message,omitempty"` // degraded: what still works
}

// readyz checks Temporal and every Config.Ready check at once, each named:
//
//	all pass                                   200 {"status":"ready"}
//	only Degrades checks fail (e.g. postgres)  200 {"status":"degraded","failed":[…],"message":…}
//	temporal or another check fails            503 {"status":"down","error":"not ready: …","failed":[…]}
//
// The body names the failed checks; their errors go to the log only, since
// connection strings and hosts are not for unauthenticated callers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	checks := append([]ReadyCheck{{Name: "temporal", Check: s.leads.Ready}}, s.cfg.Ready...)
	// Results arrive on a buffered channel, so a check that ignores ctx
	// cannot hold readyz past its timeout; it counts as failed.
	type result struct {
		i   int
		err error
	}
	results := make(chan result, len(checks))
	for i, c := range checks {
		go func() { results <- result{i, c.Check(ctx)} }()
	}
	errs := make([]error, len(checks))
	for i := range errs {
		errs[i] = fmt.Errorf("no answer within %s", readyTimeout)
	}
collect:
	for range checks {
		select {
		case res := <-results:
			errs[res.i] = res.err
		case <-ctx.Done():
			break collect
		}
	}
	var failed, impacts []string
	down := false
	for i, err := range errs {
		if err != nil {
			c := checks[i]
			failed = append(failed, c.Name)
			s.log.Warn("readiness check failed", zap.String("check", c.Name), zap.Bool("degrades", c.Degrades), zap.Error(err))
			if !c.Degrades {
				down = true
			} else if c.Impact != "" {
				impacts = append(impacts, c.Name+" is unavailable: "+c.Impact)
			}
		}
	}
	switch {
	case down:
		writeJSON(w, http.StatusServiceUnavailable, readyBody{
			Status: "down", Error: "not ready: " + strings.Join(failed, ", "), Failed: failed,
		})
	case len(failed) > 0:
		writeJSON(w, http.StatusOK, readyBody{Status: "degraded", Failed: failed, Message: strings.Join(impacts, "; ")})
	default:
		writeJSON(w, http.StatusOK, readyBody{Status: "ready"})
	}
}
