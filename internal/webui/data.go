package webui

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/leadflow/leadflow/internal/store"
)

// DashboardData computes the dashboard's numbers for a period. StoreData
// computes them from the store's ledger queries; a provider over
// internal/metrics can replace it without touching the templates, which
// see only Dashboard.
type DashboardData interface {
	Dashboard(ctx context.Context, p Period) (Dashboard, error)
}

// Period is the half-open window [From, To).
type Period struct{ From, To time.Time }

// Dashboard is everything the dashboard shows.
type Dashboard struct {
	Period Period
	// Funnel: leads that reached each stage in the period, in funnel order
	// (FunnelStages), then the side stages.
	Funnel []StageCount
	// Acceptance: handoffs made in the period, and how many were accepted.
	Accepted, HandedOff int
	TTFT                TTFT
	// Weeks: SLA adherence of first touches, week by week from Period.From
	// (the last week may be shorter).
	Weeks []WeekSLA
	// Rejections by lead source.
	Rejections []SourceRejections
	// Stuck: leads whose current deadline (the SLA in force, or an
	// accepted lead's stale-SAL time) has passed right now, from the
	// state they last published (independent of the period), most overdue
	// first.
	Stuck []StuckLead
	// AsOf is when Stuck was computed.
	AsOf time.Time
}

// StageCount is one funnel step.
type StageCount struct {
	Stage string
	Leads int
	Side  bool // recycle, disqualified, merged: not a funnel step
}

// TTFT is time to first touch in business time.
type TTFT struct {
	P50, P90, Max time.Duration
	N             int
	Histogram     []Bucket
}

// Bucket is one histogram bar: [Lo, Hi) (Hi zero: no upper bound).
type Bucket struct {
	Lo, Hi time.Duration
	Count  int
}

// Label is "30m–1h", "≥ 1d".
func (b Bucket) Label() string {
	if b.Hi == 0 {
		return "≥ " + fmtDuration(b.Lo)
	}
	if b.Lo == 0 {
		return "< " + fmtDuration(b.Hi)
	}
	return fmtDuration(b.Lo) + "–" + fmtDuration(b.Hi)
}

// WeekSLA is one week's first touches and how many met the SLA.
type WeekSLA struct {
	From, To   time.Time
	Met, Total int
}

// SourceRejections is one source's rejections by reason.
type SourceRejections struct {
	Source  string
	Reasons map[string]int
	Total   int
}

// StuckLead is a lead past its deadline: Deadline says which
// ("first_touch SLA", "acceptance SLA", "stale SAL"), DueAt when it was.
type StuckLead struct {
	LeadID, Stage, OwnerID, Deadline string
	DueAt                            time.Time
}

// FunnelStages are the funnel's steps, in order; side stages follow.
var (
	FunnelStages = []string{"mql", "handoff", "sal", "opportunity", "customer"}
	SideStages   = []string{"recycle", "disqualified", "merged"}
)

// TTFTBuckets are the histogram's upper bounds (business time).
var TTFTBuckets = []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
	4 * time.Hour, 8 * time.Hour, 24 * time.Hour}

// MaxWeeks bounds a period (one year of weeks).
const MaxWeeks = 53

// StoreData is the dashboard over the store's metric queries
// (internal/store/metrics.go), plus two read-only queries of its own for
// what the store does not offer yet: the TTFT histogram and rejections by
// source (store.QueryRejectionReasonsBySource); stuck leads are
// store.OverdueLeads.
type StoreData struct {
	Store      *store.Store
	Now        func() time.Time // default time.Now
	StuckLimit int              // default 50
}

// Dashboard implements DashboardData.
func (d StoreData) Dashboard(ctx context.Context, p Period) (Dashboard, error) {
	s := d.Store
	out := Dashboard{Period: p}
	stages, err := s.StageCounts(ctx, p.From, p.To)
	if err != nil {
		return out, err
	}
	out.Funnel = funnel(stages)
	if out.Accepted, out.HandedOff, err = s.AcceptanceRate(ctx, p.From, p.To); err != nil {
		return out, err
	}
	t := &out.TTFT
	if t.P50, t.P90, t.Max, t.N, err = s.TTFT(ctx, p.From, p.To); err != nil {
		return out, err
	}
	if t.Histogram, err = d.histogram(ctx, p); err != nil {
		return out, err
	}
	for _, w := range Weeks(p) {
		if w.Met, w.Total, err = s.SLAAdherence(ctx, w.From, w.To); err != nil {
			return out, err
		}
		out.Weeks = append(out.Weeks, w)
	}
	if out.Rejections, err = d.rejections(ctx, p); err != nil {
		return out, err
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	out.AsOf = now()
	if out.Stuck, err = d.stuck(ctx, out.AsOf); err != nil {
		return out, err
	}
	return out, nil
}

func funnel(stages map[string]int) []StageCount {
	var out []StageCount
	for _, st := range FunnelStages {
		out = append(out, StageCount{Stage: st, Leads: stages[st]})
	}
	for _, st := range SideStages {
		out = append(out, StageCount{Stage: st, Leads: stages[st], Side: true})
	}
	return out
}

// Weeks splits p into 7-day weeks from p.From; the last may be shorter.
func Weeks(p Period) []WeekSLA {
	var out []WeekSLA
	for from := p.From; from.Before(p.To) && len(out) < MaxWeeks; from = from.AddDate(0, 0, 7) {
		to := from.AddDate(0, 0, 7)
		if to.After(p.To) {
			to = p.To
		}
		out = append(out, WeekSLA{From: from, To: to})
	}
	return out
}

const queryTTFTHistogram = `
SELECT width_bucket((data->>'ttftBusinessSeconds')::float8, $3::float8[]), count(*)
FROM ledger
WHERE kind = 'first_touch' AND at >= $1 AND at < $2 AND data ? 'ttftBusinessSeconds'
GROUP BY 1`

func (d StoreData) histogram(ctx context.Context, p Period) ([]Bucket, error) {
	bounds := make([]float64, len(TTFTBuckets))
	for i, b := range TTFTBuckets {
		bounds[i] = b.Seconds()
	}
	rows, err := d.Store.Pool().Query(ctx, queryTTFTHistogram, p.From, p.To, bounds)
	if err != nil {
		return nil, fmt.Errorf("ttft histogram: %w", err)
	}
	defer rows.Close()
	out := make([]Bucket, len(TTFTBuckets)+1)
	for i := range out {
		if i > 0 {
			out[i].Lo = TTFTBuckets[i-1]
		}
		if i < len(TTFTBuckets) {
			out[i].Hi = TTFTBuckets[i]
		}
	}
	for rows.Next() {
		var b, n int
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("ttft histogram: %w", err)
		}
		if b >= 0 && b < len(out) {
			out[b].Count += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ttft histogram: %w", err)
	}
	return out, nil
}

func (d StoreData) rejections(ctx context.Context, p Period) ([]SourceRejections, error) {
	rows, err := d.Store.Pool().Query(ctx, store.QueryRejectionReasonsBySource, p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("rejections by source: %w", err)
	}
	defer rows.Close()
	by := map[string]*SourceRejections{}
	for rows.Next() {
		var src, reason string
		var n int
		if err := rows.Scan(&src, &reason, &n); err != nil {
			return nil, fmt.Errorf("rejections by source: %w", err)
		}
		sr := by[src]
		if sr == nil {
			sr = &SourceRejections{Source: src, Reasons: map[string]int{}}
			by[src] = sr
		}
		sr.Reasons[reason] += n
		sr.Total += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rejections by source: %w", err)
	}
	out := make([]SourceRejections, 0, len(by))
	for _, sr := range by {
		out = append(out, *sr)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Source < out[j].Source
	})
	return out, nil
}

func (d StoreData) stuck(ctx context.Context, now time.Time) ([]StuckLead, error) {
	limit := d.StuckLimit
	if limit <= 0 {
		limit = 50
	}
	overdue, err := d.Store.OverdueLeads(ctx, now, limit)
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
