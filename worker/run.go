package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/activities"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/crm"
	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/nurture/webhook"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/workflows"
)

// hooks are run's seams for tests; the zero value is production.
type hooks struct {
	// ready, if not nil, is closed once the worker polls its task queue.
	ready chan<- struct{}
	// metricsLn, if not nil, serves /metrics, /healthz and /readyz instead
	// of a listener on LEADFLOW_METRICS_ADDR.
	metricsLn net.Listener
	// register adds workflows and activities to the worker.
	register func(worker.Registry)
	// options has the last word on the worker's options.
	options func(*worker.Options)
	// retrying hears of each failed attempt to reach a dependency at
	// start (depPostgres, depTemporal); connected of each success.
	retrying  func(dep string, err error)
	connected func(dep string)
	// notifyChecked hears the outcome of each notification channel's
	// start check (nil: it answered).
	notifyChecked func(channel string, err error)
	// policies, if not nil, is where the worker reads the active policy
	// version instead of Postgres.
	policies policyStore
}

// Startup retries: a worker that starts before Postgres or Temporal
// answers waits for them (saying so in its log and /readyz) instead of
// exiting in a loop.
const (
	connectAttemptTimeout = 15 * time.Second
	connectFirstBackoff   = 500 * time.Millisecond
	connectMaxBackoff     = 15 * time.Second
)

// run wires config → clients → registration → run, and blocks until ctx is
// done or the worker hits a fatal error:
//
//   - The metrics listener comes first, so /healthz answers and /readyz says
//     what the worker waits for from the start.
//   - Postgres and Temporal are connected side by side, each retried with
//     backoff until it answers (or ctx ends: nil).
//   - ctx done (SIGTERM): the worker stops polling and lets running
//     activities finish for up to cfg.WorkerStopTimeout; nil.
//   - A fatal worker error (OnFatalError: e.g. the namespace is gone, or
//     the credentials were revoked), after which the SDK no longer polls:
//     run returns it, so the process exits 1 and its supervisor restarts it,
//     rather than leaving a process that looks alive and does nothing.
func run(ctx context.Context, cfg config.Config, log *zap.Logger, hk hooks) error {
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

	temporalx.LogCodec(log, cfg)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sdkMetrics, closeMetrics, err := temporalx.NewPrometheusMetrics(reg)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer func() { _ = closeMetrics.Close() }()
	hl := newHealth(log)
	metricsSrv, metricsAddr, err := serveMetrics(cfg.MetricsAddr, hk.metricsLn, reg, hl, log)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = metricsSrv.Shutdown(sctx)
	}()

	var (
		st *store.DB
		c  client.Client
		wg sync.WaitGroup
	)
	wg.Go(func() {
		st = connect(ctx, log, hk, depPostgres, func(actx context.Context) (*store.DB, error) {
			if err := store.EnsureDatabase(actx, cfg.DatabaseURL); err != nil {
				return nil, err
			}
			return store.Open(actx, cfg.DatabaseURL)
		}, hl.setStore)
	})
	wg.Go(func() {
		c = connect(ctx, log, hk, depTemporal, func(actx context.Context) (client.Client, error) {
			return temporalx.Dial(actx, cfg, log, sdkMetrics)
		}, hl.setTemporal)
	})
	wg.Wait()
	if st != nil {
		defer st.Close()
	}
	if c != nil {
		defer c.Close()
	}
	if ctx.Err() != nil {
		log.Info("stopped before the worker started")
		return nil
	}

	hl.setPhase("starting: migrating the database")
	if err := st.Migrate(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("migrate: %w", err)
	}
	// The activated version, if any, before the worker takes a task: a new
	// lead then starts on it, not on the file.
	var policies policyStore = st.Policies()
	if hk.policies != nil {
		policies = hk.policies
	}
	identity := workerIdentity()
	pols.poll(ctx, policies, identity, 10*time.Second)
	go pols.watch(ctx, policies, identity, cfg.PolicyPoll)
	checkPools(ctx, st.Directory(), pols, log)
	hl.setPhase("starting: registering search attributes")
	if err := temporalx.EnsureSearchAttributes(ctx, c, cfg.Namespace); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("search attributes: %w", err)
	}

	crmPort, nurturePort, err := adapters(cfg, st)
	if err != nil {
		return err
	}
	dispatcher, channelEnv, err := notifier(cfg, st.Deliveries(), pols)
	if err != nil {
		return err
	}
	// The SDK calls OnFatalError once, on a goroutine of its own, when
	// polling can no longer succeed; it then stops the worker itself.
	fatal := make(chan error, 1)
	opts := worker.Options{
		// SIGTERM: stop polling, then give running activities this long to
		// finish before their contexts are cancelled (default 0: at once).
		WorkerStopTimeout: cfg.WorkerStopTimeout,
		OnFatalError: func(err error) {
			select {
			case fatal <- err:
			default:
			}
		},
		// Versioned or not, with the build ID when there is one
		// (versioning.go); the SaaS worker below shares it, so a versioned
		// lead's third-party calls run on its own build too.
		DeploymentOptions: deploymentOptions(cfg.Versioning),
	}
	if hk.options != nil {
		hk.options(&opts)
	}
	// Process-wide, and read when the first worker starts.
	worker.SetStickyWorkflowCacheSize(cfg.StickyCacheSize)
	w := worker.New(c, cfg.TaskQueue, opts)
	// A lead lives for months: it moves to each new current version
	// (AutoUpgrade), which is why every change to its command sequence is
	// gated by workflow.GetVersion (docs/upgrading.md). Ignored by an
	// unversioned worker.
	w.RegisterWorkflowWithOptions(workflows.New(workflows.Config{Policies: pols, SaaSQueue: cfg.SaaS.TaskQueue,
		SaaSKinds: saasKinds(cfg, dispatcher != nil)}).LeadWorkflow,
		workflow.RegisterOptions{Name: lead.WorkflowType, VersioningBehavior: workflow.VersioningBehaviorAutoUpgrade})
	// Third-party calls run on their own queue, whose activity rate the
	// server enforces across every worker (the last worker to start sets
	// it: every worker must be given the same LEADFLOW_SAAS_RATE).
	saasOpts := opts
	saasOpts.TaskQueueActivitiesPerSecond = cfg.SaaS.Rate
	saas := worker.New(c, cfg.SaaS.TaskQueue, saasOpts)
	acts := &activities.Activities{Router: st.Directory(), Ledger: st.Ledger(), States: st.States(), Merges: st.Merges(),
		CRM: crmPort, Nurture: nurturePort, Temporal: c,
		TaskQueue: cfg.TaskQueue, Metrics: activities.NewMetrics(reg)}
	var notifyChannels []string
	if dispatcher != nil {
		dispatcher.Log = log.Named("notify")
		acts.Notifier = dispatcher
		for _, ch := range dispatcher.Channels {
			notifyChannels = append(notifyChannels, ch.Name())
		}
	} else {
		log.Info("notifications: no channel configured (" + config.EnvSlackWebhookURL + ", " + config.EnvSlackBotToken + ", " +
			config.EnvSMTPURL + " unset); each notification is only recorded by the CRM and shown in the inbox")
	}
	acts.Register(w)
	acts.Register(saas)
	// The weekly governance report: its workflow and activities on the
	// main queue (its CRM calls are a handful a week). A run takes
	// minutes: it finishes on the build it started on (Pinned), so a
	// deploy never replays it on other code. Ignored by an unversioned
	// worker.
	w.RegisterWorkflowWithOptions(workflows.WeeklyReport, workflow.RegisterOptions{Name: workflows.WeeklyReportType,
		VersioningBehavior: workflow.VersioningBehaviorPinned})
	(&activities.Report{Metrics: st.Metrics(), Directory: st.Directory(), Records: st.CRM(), CRM: crmPort,
		Notifier: acts.Notifier, Policy: pols.Current}).Register(w)
	if hk.register != nil {
		hk.register(w)
	}

	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if err := saas.Start(); err != nil {
		w.Stop()
		return fmt.Errorf("start the SaaS worker (%s): %w", cfg.SaaS.TaskQueue, err)
	}
	stop := func() {
		// Both at once: each waits up to the stop timeout for its activities.
		done := make(chan struct{})
		go func() { saas.Stop(); close(done) }()
		w.Stop()
		<-done
	}
	if cfg.Versioning.On() {
		hl.setPhase("starting: checking the worker deployment's current version")
		h := c.WorkerDeploymentClient().GetHandle(cfg.Versioning.Version.DeploymentName)
		if err := promoteFirst(ctx, h, cfg.Versioning, log, promoteTimeout); err != nil {
			stop()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	// The weekly governance report: one schedule, created or updated to the
	// current policy's report section on every start.
	if err := ensureReportSchedule(ctx, c, cfg.TaskQueue, reportSpecFrom(pols.Current())); err != nil {
		stop()
		return fmt.Errorf("weekly report schedule: %w", err)
	}
	checkChannels(ctx, dispatcher, channelEnv, log, hk)
	hl.setPhase("")
	log.Info("worker running", zap.String("taskQueue", cfg.TaskQueue), zap.String("saasTaskQueue", cfg.SaaS.TaskQueue),
		zap.Float64("saasRate", cfg.SaaS.Rate), zap.String("namespace", cfg.Namespace),
		zap.String("temporal", cfg.TemporalAddress), zap.String("policy", pols.Current().Version),
		zap.String("crm", cfg.CRM), zap.String("nurture", cfg.Nurture), zap.String("metrics", metricsAddr),
		zap.Duration("stopTimeout", cfg.WorkerStopTimeout), zap.Strings("notify", notifyChannels),
		zap.String("versioning", cfg.Versioning.Mode), zap.String("deployment", cfg.Versioning.Version.DeploymentName),
		zap.String("buildId", cfg.Versioning.Version.BuildID))
	if hk.ready != nil {
		close(hk.ready)
	}
	select {
	case <-ctx.Done():
		hl.setPhase("stopping")
		log.Info("stopping worker: no new tasks; running activities may finish", zap.Duration("stopTimeout", cfg.WorkerStopTimeout))
		stop()
		log.Info("worker stopped")
		return nil
	case err := <-fatal:
		hl.setPhase("stopped: fatal error")
		log.Error("worker hit a fatal error and no longer polls; exiting so that it is restarted", zap.Error(err))
		stop()
		return fmt.Errorf("worker fatal error: %w", err)
	}
}

// connect tries open until it succeeds or ctx ends (zero T), with backoff,
// bounding each attempt; report hears of each outcome (for /readyz).
func connect[T any](ctx context.Context, log *zap.Logger, hk hooks, dep string, open func(context.Context) (T, error), report func(T, error)) T {
	var zero T
	wait := connectFirstBackoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, connectAttemptTimeout)
		v, err := open(actx)
		cancel()
		if err == nil {
			report(v, nil)
			if attempt > 1 {
				log.Info("connected", zap.String("dependency", dep), zap.Int("attempt", attempt))
			}
			if hk.connected != nil {
				hk.connected(dep)
			}
			return v
		}
		if ctx.Err() != nil {
			return zero
		}
		report(zero, err)
		log.Warn("cannot reach a dependency; retrying", zap.String("dependency", dep), zap.Int("attempt", attempt),
			zap.Duration("retryIn", wait), zap.Error(err))
		if hk.retrying != nil {
			hk.retrying(dep, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return zero
		case <-t.C:
		}
		wait = min(2*wait, connectMaxBackoff)
	}
}

// adapters picks the CRM and nurture implementations.
func adapters(cfg config.Config, st *store.DB) (crm.CRM, nurture.Nurture, error) {
	var c crm.CRM
	switch cfg.CRM {
	case config.CRMBuiltin:
		c = st.CRM()
	case config.CRMHubSpot:
		client, err := hubspot.New(cfg.HubSpotBaseURL, cfg.HubSpotToken,
			hubspot.WithRateLimiter(hubspot.NewLimiter(cfg.SaaS.HubSpotBurst, cfg.SaaS.HubSpotWindow, nil)))
		if err != nil {
			return nil, nil, fmt.Errorf("LEADFLOW_CRM=hubspot: %w", err)
		}
		stages, err := hubspot.ParseStageMap(cfg.HubSpotStageMap)
		if err != nil {
			return nil, nil, err
		}
		c = hubspot.NewCRM(client, st.HubSpot(), hubspot.NewOwners(st.Directory(), client, 0, nil), hubspot.WithStages(stages))
	default:
		return nil, nil, fmt.Errorf("LEADFLOW_CRM=%s is not available in this build yet; use builtin", cfg.CRM)
	}
	var n nurture.Nurture
	switch cfg.Nurture {
	case config.NurtureBuiltin:
		n = st.Nurture()
	case config.NurtureWebhook:
		// The store still records enrollments and sends and re-checks the
		// guard; the webhook tells the marketing tool.
		w, err := webhook.New(cfg.NurtureWebhookURL, []byte(cfg.NurtureWebhookSecret), st.Nurture())
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
func checkPools(ctx context.Context, st store.Directory, pols *policySource, log *zap.Logger) {
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

// Compile-time checks: the built-in CRM and nurture are the Postgres store.
var (
	_ crm.CRM         = store.CRM{}
	_ nurture.Nurture = store.Nurture{}
)
