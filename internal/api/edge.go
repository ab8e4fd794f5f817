package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// edge is what keeps unauthenticated requests cheap: a bounded number of
// signed-endpoint bodies read at once, and a token bucket per source on
// POST /v1/events (docs/security.md, "The edge").
type edge struct {
	bodyReads   chan struct{}
	limiter     *rateLimiter
	bodyBusy    prometheus.Counter
	rateLimited prometheus.Counter
}

func (s *Server) initEdge(reg prometheus.Registerer) error {
	n := s.cfg.MaxBodyReads
	if n <= 0 {
		n = defaultMaxBodyReads
	}
	s.bodyReads = make(chan struct{}, n)
	s.limiter = newRateLimiter(s.cfg.EventsRate, s.cfg.EventsBurst, s.cfg.Now)
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	var err error
	s.bodyBusy, err = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leadflow_http_body_reads_refused_total",
		Help: "Signed-endpoint requests answered 503 because the maximum of bodies read at once was reached.",
	}))
	if err != nil {
		return err
	}
	s.rateLimited, err = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leadflow_events_rate_limited_total",
		Help: "POST /v1/events requests answered 429 by the per-source rate limit.",
	}))
	return err
}

// allowSource applies the per-source limit, answering 429 with Retry-After
// when the source's bucket is empty (ok false).
func (s *Server) allowSource(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := s.limiter.allow(source(r))
	if ok {
		return true
	}
	s.rateLimited.Inc()
	w.Header().Set("Retry-After", retryAfterSeconds(wait))
	writeError(w, http.StatusTooManyRequests, "rate limit of POST /v1/events exceeded for this source; retry after the Retry-After seconds")
	return false
}
