package activities

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/routing"
)

// Metrics are leadflow's own counters from the activities. Labels carry
// rule, kind and result names only: never a lead, a rep or an email.
type Metrics struct {
	routes *prometheus.CounterVec
	tasks  *prometheus.CounterVec
	alerts *prometheus.CounterVec
	sends  *prometheus.CounterVec
}

// NewMetrics registers the counters on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		routes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "leadflow_routes_total",
			Help: "Routing decisions by policy rule and whether the fallback owner was used."}, []string{"rule", "fallback"}),
		tasks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "leadflow_tasks_created_total",
			Help: "CRM tasks created (handoff, enrichment, upsell)."}, []string{"kind"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "leadflow_alerts_total",
			Help: "Alerts raised for ops, by kind."}, []string{"kind"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "leadflow_nurture_sends_total",
			Help: "Nurture touches attempted, by result (sent or suppressed)."}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.routes, m.tasks, m.alerts, m.sends)
	}
	return m
}

func (m *Metrics) routed(d routing.Decision) {
	if m != nil {
		m.routes.WithLabelValues(d.Rule, strconv.FormatBool(d.Fallback)).Inc()
	}
}

func (m *Metrics) task(kind string) {
	if m != nil {
		m.tasks.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) alert(kind string) {
	if m != nil {
		m.alerts.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) send(r actions.SendResult) {
	if m == nil {
		return
	}
	if r.Sent {
		m.sends.WithLabelValues("sent").Inc()
		return
	}
	m.sends.WithLabelValues("suppressed").Inc()
}
