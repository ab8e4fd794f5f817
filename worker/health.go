package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/store"
)

// Dependency names, as /readyz reports them.
const (
	depWorker   = "worker"
	depPostgres = "postgres"
	depTemporal = "temporal"
)

// readyTimeout bounds one /readyz answer: each check gets at most this long.
const readyTimeout = 2 * time.Second

// health is what /healthz and /readyz know about the worker. The startup
// sequence fills it in as it connects; /readyz checks the connections live.
type health struct {
	mu sync.Mutex
	st *store.DB
	tc client.Client
	// pgErr and tcErr are the last connection errors, until connected.
	pgErr, tcErr error
	// phase is "" while running and polling; otherwise why the worker
	// is not: starting, stopping, or a fatal error.
	phase string
	log   *zap.Logger
}

func newHealth(log *zap.Logger) *health {
	return &health{phase: "starting: connecting to postgres and temporal", log: log}
}

func (h *health) setStore(st *store.DB, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st, h.pgErr = st, err
}

func (h *health) setTemporal(c client.Client, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tc, h.tcErr = c, err
}

func (h *health) setPhase(phase string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.phase = phase
}

// readyBody is /readyz's answer, in the shape of starter serve's.
type readyBody struct {
	Status string   `json:"status"`          // ready | down
	Error  string   `json:"error,omitempty"` // down: "not ready: <names>"
	Failed []string `json:"failed,omitempty"`
	// Worker says why the worker is not polling (starting, stopping,
	// fatal error), when it is not.
	Worker string `json:"worker,omitempty"`
}

// checks returns the failing dependencies, in a fixed order: the worker
// itself, Postgres (a ping), Temporal (the frontend's health check). The
// pings run at once, each bounded by ctx; their errors go to the log.
func (h *health) check(ctx context.Context) (failed []string, phase string) {
	h.mu.Lock()
	st, tc, pgErr, tcErr, phase := h.st, h.tc, h.pgErr, h.tcErr, h.phase
	h.mu.Unlock()
	notYet := func(err error) error {
		if err == nil {
			return errors.New("not connected yet")
		}
		return err
	}
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	set := func(name string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs[name] = err
		}
	}
	if st == nil {
		set(depPostgres, notYet(pgErr))
	} else {
		wg.Go(func() { set(depPostgres, st.Ping(ctx)) })
	}
	if tc == nil {
		set(depTemporal, notYet(tcErr))
	} else {
		wg.Go(func() {
			_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			set(depTemporal, err)
		})
	}
	wg.Wait()
	if phase != "" {
		failed = append(failed, depWorker)
	}
	for _, name := range []string{depPostgres, depTemporal} {
		if err := errs[name]; err != nil {
			failed = append(failed, name)
			h.log.Warn("readiness check failed", zap.String("check", name), zap.Error(err))
		}
	}
	return failed, phase
}

// readyz: 200 {"status":"ready"} when the worker has started and polls,
// Postgres answers a ping and Temporal a health check; otherwise 503
// {"status":"down","error":"not ready: …","failed":[…]} naming each.
func (h *health) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	failed, phase := h.check(ctx)
	body, code := readyBody{Status: "ready"}, http.StatusOK
	if len(failed) > 0 {
		body = readyBody{Status: "down", Error: "not ready: " + strings.Join(failed, ", "), Failed: failed, Worker: phase}
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// healthz is liveness: the process runs and serves HTTP. It checks no
// dependency, so an outage of Postgres or Temporal never gets workers
// restarted; a worker that can no longer work exits instead (OnFatalError).
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// serveMetrics serves /metrics, /healthz and /readyz on ln, or on a new
// listener on addr when ln is nil. It returns the server and the address
// it listens on.
func serveMetrics(addr string, ln net.Listener, reg *prometheus.Registry, h *health, log *zap.Logger) (*http.Server, string, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, "", fmt.Errorf("metrics listener on %s (LEADFLOW_METRICS_ADDR): %w", addr, err)
		}
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", zap.Error(err))
		}
	}()
	return srv, ln.Addr().String(), nil
}
