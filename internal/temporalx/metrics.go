package temporalx

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// The tally reporter registers each metric with Prometheus on first use, so
// two handlers on one registry would collide and the second one's series
// would be dropped. Handlers are therefore shared per registry, ref-counted.
var shared = struct {
	sync.Mutex
	m map[prometheus.Registerer]*sharedMetrics
}{m: map[prometheus.Registerer]*sharedMetrics{}}

type sharedMetrics struct {
	handler client.MetricsHandler
	scope   io.Closer
	refs    int
}

// NewPrometheusMetrics returns an SDK metrics handler whose metrics
// (temporal_request_total, temporal_workflow_task_execution_latency_seconds,
// …) are exported through reg, and a Closer that flushes and stops the
// reporting loop once every user of reg's handler has closed. Calling it
// again with the same registry (e.g. serve and worker in one process)
// returns the same handler. (After the last Close, a new handler on the same
// registry collides with the old series; use a fresh registry instead.)
// Timers become histograms so they can be
// aggregated across workers.
func NewPrometheusMetrics(reg prometheus.Registerer) (client.MetricsHandler, io.Closer, error) {
	if reg == nil {
		return nil, nil, errors.New("prometheus metrics: nil registerer")
	}
	shared.Lock()
	defer shared.Unlock()
	if s, ok := shared.m[reg]; ok {
		s.refs++
		return s.handler, &releaser{reg: reg}, nil
	}

	// The tally reporter panics by default when Prometheus refuses a metric
	// (e.g. the same name with another label set); a metrics quirk must not
	// take the worker down, so count it instead and keep going.
	registerErrors := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leadflow_temporal_metrics_register_errors_total",
		Help: "Temporal SDK metrics that could not be registered with Prometheus (label-set conflicts); those series are not exported.",
	})
	if err := reg.Register(registerErrors); err != nil {
		// Left over from a handler on this registry that was closed.
		var are prometheus.AlreadyRegisteredError
		existing, ok := prometheus.Counter(nil), false
		if errors.As(err, &are) {
			existing, ok = are.ExistingCollector.(prometheus.Counter)
		}
		if !ok {
			return nil, nil, fmt.Errorf("prometheus metrics: register error counter: %w", err)
		}
		registerErrors = existing
	}
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       reg,
		DefaultTimerType: tallyprom.HistogramTimerType,
		OnRegisterError:  func(error) { registerErrors.Inc() },
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	// Adds _total / _seconds suffixes so names follow OpenMetrics and match
	// the other Temporal SDKs' dashboards.
	scope = sdktally.NewPrometheusNamingScope(scope)
	s := &sharedMetrics{handler: sdktally.NewMetricsHandler(scope), scope: closer, refs: 1}
	shared.m[reg] = s
	return s.handler, &releaser{reg: reg}, nil
}

// releaser drops one reference; the last one closes the tally scope.
type releaser struct {
	reg  prometheus.Registerer
	once sync.Once
}

func (r *releaser) Close() error {
	var err error
	r.once.Do(func() {
		shared.Lock()
		defer shared.Unlock()
		s, ok := shared.m[r.reg]
		if !ok {
			return
		}
		if s.refs--; s.refs == 0 {
			delete(shared.m, r.reg)
			err = s.scope.Close()
		}
	})
	return err
}
