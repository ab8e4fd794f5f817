package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/webui"
)

// Server timeouts. Updates wait for the workflow, so writes get more room
// than reads; a slow client cannot hold a connection by trickling headers.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 90 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 10 * time.Second
	searchAttrTimeout = 15 * time.Second
)

func cmdServe(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	if _, err := parseArgs(c, fs, args, 0, 0); err != nil {
		return err
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	if err := cfg.ForServe(); err != nil {
		return &configError{err} // exit 2, naming each variable
	}
	logger, err := newLogger(a.stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()
	if err := runServe(ctx, cfg, logger, nil); err != nil {
		// Said once, as JSON like every other line of the server's log.
		logger.Error("serve failed", zap.Error(err))
		return errReported
	}
	return nil
}

// runServe serves the API until ctx ends, then shuts down gracefully. It
// listens on ln, or on cfg.HTTPAddr when ln is nil (tests pass a listener on
// a free port). It logs "listening" with the address once requests can come.
func runServe(ctx context.Context, cfg config.Config, logger *zap.Logger, ln net.Listener) error {
	if err := cfg.ForServe(); err != nil {
		return err
	}
	if ln != nil {
		defer ln.Close() // ours from here on, whatever happens
	}
	logger.Info("starting", zap.Stringer("config", cfg))
	temporalx.LogCodec(logger, cfg)
	if w := cfg.InsecureDemoWarning(); w != "" {
		logger.Warn(w)
	}

	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics, metricsCloser, err := temporalx.NewPrometheusMetrics(reg)
	if err != nil {
		return fmt.Errorf("temporal metrics: %w", err)
	}
	defer metricsCloser.Close()

	tc, err := temporalx.Dial(ctx, cfg, logger, metrics)
	if err != nil {
		return err
	}
	defer tc.Close()

	saCtx, cancel := context.WithTimeout(ctx, searchAttrTimeout)
	if err := temporalx.EnsureSearchAttributes(saCtx, tc, cfg.Namespace); err != nil {
		// The worker owns registration and fails without them; the API can
		// run meanwhile (SignalWithStart does not need them).
		logger.Warn("could not ensure search attributes; the worker registers them at start",
			zap.String("namespace", cfg.Namespace), zap.Error(err))
	}
	cancel()

	// The policy gives new leads' summaries their segment and the
	// dashboard its time zone (days as in starter report). Serve runs
	// without it, with UTC and no segment in summaries.
	loc := time.UTC
	leads := temporalx.NewLeadClient(tc, cfg.TaskQueue)
	leads.UpdateTimeout = cfg.UpdateTimeout
	if p, err := policy.Load(cfg.PolicyPath); err == nil {
		loc = p.Location
		leads.Segment = temporalx.SegmentBy(p)
	} else {
		logger.Warn("cannot read the policy: dashboard dates are UTC and lead summaries name no segment", zap.Error(err))
	}
	srv, err := api.New(api.Config{
		WebhookSecret: []byte(cfg.WebhookSecret),
		IDKey:         []byte(cfg.IDKey),
		APIToken:      cfg.APIToken,
		Logger:        logger,
		Ready: []api.ReadyCheck{{
			Name: "postgres", Check: st.Ping, Degrades: true,
			Impact: "signed events for leads that are not merged are still accepted and delivered; " +
				"merged leads' events, HubSpot webhook lookups, the stale-state fallback of GET /v1/leads/{leadId} and the web UI fail until it is back",
		}},
		States:      st.States(), // the last published state, when no worker answers
		EventsRate:  cfg.EventsRate,
		EventsBurst: cfg.EventsBurst,
	}, leads, st.Merges(), st.Receipts(), reg)
	if err != nil {
		return err
	}
	if err := mountHubSpot(srv, cfg, st, logger); err != nil {
		return err
	}
	// Rep tokens and UI sessions (internal/auth), in Postgres.
	sessions, err := auth.New(st.Auth(), auth.Config{AdminToken: cfg.APIToken, Logger: logger})
	if err != nil {
		return err
	}
	if err := webui.Mount(srv, webui.Config{APIToken: cfg.APIToken, Auth: sessions, PublicURL: cfg.PublicURL,
		Tasks: st.CRM(), Data: webui.StoreData{Metrics: st.Metrics(), States: st.States()}, States: st.States(),
		Notifications: st.Deliveries(), Logger: logger,
		Policy:        policyShadows{st: st, file: cfg.PolicyPath, now: time.Now},
		TemporalUIURL: cfg.Notify.TemporalUIURL + "/namespaces/" + url.PathEscape(cfg.Namespace) + "/workflows/", Location: loc}); err != nil {
		return fmt.Errorf("mount the web UI: %w", err)
	}

	if ln == nil {
		ln, err = net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
		}
		defer ln.Close()
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          zap.NewStdLog(logger.Named("http")),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	// Logged before Serve starts: the listener already queues connections,
	// and whoever waits for the server may see "listening" before its first answer.
	logger.Info("listening", zap.String("addr", ln.Addr().String()), zap.String("publicURL", cfg.PublicURL))
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", zap.Duration("grace", shutdownTimeout))
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// mountHubSpot serves POST /v1/webhooks/hubspot when HUBSPOT_CLIENT_SECRET is
// set. With HUBSPOT_TOKEN too, deal, owner and engagement notifications are
// looked up in HubSpot; without it only contact property changes map.
func mountHubSpot(srv *api.Server, cfg config.Config, st *store.DB, logger *zap.Logger) error {
	if cfg.HubSpotClientSecret == "" {
		return nil
	}
	var client *hubspot.Client
	if cfg.HubSpotToken != "" {
		c, err := hubspot.New(cfg.HubSpotBaseURL, cfg.HubSpotToken)
		if err != nil {
			return fmt.Errorf("HubSpot client: %w", err)
		}
		client = c
	} else {
		logger.Warn("HUBSPOT_CLIENT_SECRET is set without HUBSPOT_TOKEN: deal and engagement webhooks cannot be looked up and are skipped")
	}
	if err := srv.MountHubSpot(api.HubSpotConfig{
		ClientSecret: []byte(cfg.HubSpotClientSecret),
		PublicURL:    cfg.PublicURL,
		PortalID:     cfg.HubSpotPortalID,
		Deps:         hubspot.WebhookDeps(client, st.HubSpot(), st.Directory()),
	}); err != nil {
		return fmt.Errorf("mount the HubSpot webhook: %w", err)
	}
	logger.Info("HubSpot webhook enabled", zap.String("path", "/v1/webhooks/hubspot"), zap.String("publicURL", cfg.PublicURL))
	return nil
}
