package webui

import (
	"context"
	"fmt"
	"time"

	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/store"
)

// DashboardData computes the dashboard's numbers for a period. StoreData
// computes them with internal/metrics, as `starter report` does; the
// templates see only Dashboard.
type DashboardData interface {
	Dashboard(ctx context.Context, p Period) (Dashboard, error)
}

// Period is the half-open window [From, To).
type Period struct{ From, To time.Time }

// Dashboard is everything the dashboard shows.
type Dashboard struct {
	Period Period
	// M is the period's numbers: metrics.ComputeAt over the whole ledger
	// ("" dimension) as of AsOf, the very Row `starter report` prints for
	// the same period. Its SLAWeeks are the period's weeks from Period.From.
	M metrics.Row
	// Stuck: leads whose current deadline (the SLA in force, or an
	// accepted lead's stale-SAL time) has passed right now, from the
	// state they last published (independent of the period), most overdue
	// first.
	Stuck []StuckLead
	// AsOf is "now" for M and Stuck.
	AsOf time.Time
}

// StuckLead is a lead past its deadline: Deadline says which
// ("first_touch SLA", "acceptance SLA", "stale SAL"), DueAt when it was.
type StuckLead struct {
	LeadID, Stage, OwnerID, Deadline string
	DueAt                            time.Time
}

// StoreData is the dashboard over internal/metrics and the store's
// published lead states (stuck leads are store.OverdueLeads).
type StoreData struct {
	Metrics    store.Metrics    // the ledger the numbers are computed from
	States     store.States     // the leads' published states
	Now        func() time.Time // default time.Now
	StuckLimit int              // default 50
}

// Dashboard implements DashboardData.
func (d StoreData) Dashboard(ctx context.Context, p Period) (Dashboard, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	out := Dashboard{Period: p, AsOf: now()}
	rep, err := metrics.ComputeAt(ctx, d.Metrics.Pool(), metrics.Period{From: p.From, To: p.To}, metrics.ByAll, out.AsOf)
	if err != nil {
		return out, fmt.Errorf("dashboard %s..%s: %w", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), err)
	}
	out.M = rep.Rows[0]
	if out.Stuck, err = d.stuck(ctx, out.AsOf); err != nil {
		return out, err
	}
	return out, nil
}

func (d StoreData) stuck(ctx context.Context, now time.Time) ([]StuckLead, error) {
	limit := d.StuckLimit
	if limit <= 0 {
		limit = 50
	}
	overdue, err := d.States.OverdueLeads(ctx, now, limit)
	if err != nil {
		return nil, fmt.Errorf("stuck leads: %w", err)
	}
	out := make([]StuckLead, 0, len(overdue))
	for _, o := range overdue {
		out = append(out, StuckLead{LeadID: o.LeadID, Stage: o.Stage, OwnerID: o.OwnerID, Deadline: deadlineLabel(o), DueAt: o.DueAt})
	}
	return out, nil
}

// deadlineLabel names the deadline that passed: "first_touch SLA", "stale SAL".
func deadlineLabel(o store.OverdueLead) string {
	if o.Deadline == store.DeadlineSALStale {
		return "stale SAL"
	}
	if o.Kind == "" {
		return "SLA"
	}
	return o.Kind + " SLA"
}
