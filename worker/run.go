package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/activities"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/crm"
	"github.com/leadflow/leadflow/internal/governance"
	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/nurture/webhook"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/workflows"
)

// run wires config → clients → registration → run, and blocks until ctx is
// done. ready, if not nil, is closed once the worker polls its task queue.
func run(ctx context.Context, cfg config.Config, log *zap.Logger, ready chan<- struct{}) error {
	pols, err := loadPolicySource(cfg.PolicyPath, log)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			pols.reload()
		}
	}()

	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	checkPools(ctx, st, pols, log)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sdkMetrics, closeMetrics, err := temporalx.NewPrometheusMetrics(reg)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer func() { _ = closeMetrics.Close() }()
	metricsSrv, err := serveMetrics(cfg.MetricsAddr, reg, log)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = metricsSrv.Shutdown(sctx)
	}()

	c, err := temporalx.Dial(ctx, cfg, log, sdkMetrics)
	if err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	defer c.Close()
	if err := temporalx.EnsureSearchAttributes(ctx, c, cfg.Namespace); err != nil {
		return fmt.Errorf("search attributes: %w", err)
	}

	crmPort, nurturePort, err := adapters(cfg, st)
	if err != nil {
		return err
	}
	w := worker.New(c, cfg.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.New(workflows.Config{Policies: pols}).LeadWorkflow,
		workflow.RegisterOptions{Name: lead.WorkflowType})
	acts := &activities.Activities{Store: st, CRM: crmPort, Nurture: nurturePort, Temporal: c,
		TaskQueue: cfg.TaskQueue, Metrics: activities.NewMetrics(reg)}
	acts.Register(w)
	governance.Register(w, &governance.Activities{Store: st, CRM: crmPort})

	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	// The weekly governance report: one schedule, created or updated to the
	// current policy's report section on every start.
	if err := governance.EnsureSchedule(ctx, c, cfg.TaskQueue, governance.SpecFrom(pols.Current())); err != nil {
		w.Stop()
		return fmt.Errorf("weekly report schedule: %w", err)
	}
	log.Info("worker running", zap.String("taskQueue", cfg.TaskQueue), zap.String("namespace", cfg.Namespace),
		zap.String("temporal", cfg.TemporalAddress), zap.String("policy", pols.Current().Version),
		zap.String("crm", cfg.CRM), zap.String("nurture", cfg.Nurture), zap.String("metrics", cfg.MetricsAddr))
	if ready != nil {
		close(ready)
	}
	<-ctx.Done()
	log.Info("stopping worker: finishing in-flight tasks")
	w.Stop()
	return nil
}

// adapters picks the CRM and nurture implementations.
func adapters(cfg config.Config, st *store.Store) (crm.CRM, nurture.Nurture, error) {
	var c crm.CRM
	switch cfg.CRM {
	case config.CRMBuiltin:
		c = st
	case config.CRMHubSpot:
		client, err := hubspot.New(cfg.HubSpotBaseURL, cfg.HubSpotToken)
		if err != nil {
			return nil, nil, fmt.Errorf("LEADFLOW_CRM=hubspot: %w", err)
		}
		stages, err := hubspot.ParseStageMap(cfg.HubSpotStageMap)
		if err != nil {
			return nil, nil, err
		}
		c = hubspot.NewCRM(client, st, hubspot.NewOwners(st, client, 0, nil), hubspot.WithStages(stages))
	default:
		return nil, nil, fmt.Errorf("LEADFLOW_CRM=%s is not available in this build yet; use builtin", cfg.CRM)
	}
	var n nurture.Nurture
	switch cfg.Nurture {
	case config.NurtureBuiltin:
		n = st
	case config.NurtureWebhook:
		// The store still records enrollments and sends and re-checks the
		// guard; the webhook tells the marketing tool.
		w, err := webhook.New(cfg.NurtureWebhookURL, []byte(cfg.NurtureWebhookSecret), st)
		if err != nil {
			return nil, nil, fmt.Errorf("LEADFLOW_NURTURE=webhook: %w", err)
		}
		n = w
	default:
		return nil, nil, fmt.Errorf("LEADFLOW_NURTURE=%s is not available in this build yet; use builtin", cfg.Nurture)
	}
	return c, n, nil
}

// checkPools warns about routing rules whose pool the directory lacks: the
// directory changes without a deploy, so this is a warning, not a refusal.
func checkPools(ctx context.Context, st *store.Store, pols *policySource, log *zap.Logger) {
	dir, err := st.Directory(ctx)
	if err != nil {
		log.Warn("cannot read the directory to check the policy's pools", zap.Error(err))
		return
	}
	known := map[string]bool{}
	for name := range dir.Pools {
		known[name] = true
	}
	if len(known) == 0 {
		log.Warn("the directory is empty: import one with `starter directory import FILE` before leads are routed")
		return
	}
	if err := pols.Current().CheckPools(known); err != nil {
		log.Warn("the policy routes to pools the directory does not have", zap.Error(err))
	}
}

func serveMetrics(addr string, reg *prometheus.Registry, log *zap.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener on %s (LEADFLOW_METRICS_ADDR): %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", zap.Error(err))
		}
	}()
	return srv, nil
}

// Compile-time checks: the built-in CRM and nurture are the Postgres store.
var (
	_ crm.CRM          = (*store.Store)(nil)
	_ nurture.Nurture  = (*store.Store)(nil)
	_ activities.Store = (*store.Store)(nil)
)
