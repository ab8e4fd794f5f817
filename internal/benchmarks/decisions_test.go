package benchmarks

import (
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/suppression"
)

// decideLead is what the workflow computes for a lead from its first event
// to its handoff: three events scored, the segment, the matched routing
// rules, the routing decision, the SLA deadline with its ladder, and the
// nurture guard.
func decideLead(b testing.TB, p *policy.Policy, cal *sla.Calendar, dir *directory.Directory, cursors map[string]int64, load map[string]int, at time.Time) routing.Decision {
	prof := &lead.Profile{Email: "ana@acme.io", Company: "Acme", Domain: "acme.io", Country: "US", Region: "CA", Employees: 250, Industry: "insurance", Title: "VP Sales"}
	profile := prof.CELMap()
	events := []lead.Event{
		{ID: "e1", Type: lead.EventEmailOpen, OccurredAt: at.Add(-48 * time.Hour)},
		{ID: "e2", Type: lead.EventWebPageView, OccurredAt: at.Add(-24 * time.Hour), Attributes: map[string]any{"category": "pricing"}},
		{ID: "e3", Type: lead.EventFormSubmit, OccurredAt: at, Attributes: map[string]any{"form": "quote_request"}},
	}
	var segment string
	vars := policy.Vars{Lead: profile}
	for _, s := range p.Segments {
		if ok, _ := s.When.Match(vars); ok {
			segment = s.Name
			break
		}
	}
	var st scoring.State
	var res scoring.Result
	var err error
	for _, ev := range events {
		if st, res, err = scoring.Apply(p.Scoring, st, ev, profile, segment); err != nil {
			b.Fatal(err)
		}
	}
	if ok, _ := scoring.Qualifies(p.Scoring, st, res); !ok {
		b.Fatal("lead should qualify")
	}
	rv := policy.Vars{Lead: profile, Segment: segment, Trigger: res.Trigger}
	var rules []routing.Rule
	for _, r := range p.Routing {
		if ok, _ := r.When.Match(rv); ok {
			rules = append(rules, routing.Rule{Name: r.Name, AccountOwner: r.AccountOwner, Territory: r.Territory, Pool: r.Pool})
		}
	}
	d, err := routing.Decide(routing.Request{LeadID: "L-1", Domain: prof.EmailDomain(), Rules: rules, At: at},
		routing.Snapshot{Dir: dir, Load: load, Cursors: cursors})
	if err != nil {
		b.Fatal(err)
	}
	cursors[d.Pool] = d.NextCursor
	var within policy.Duration
	for _, w := range p.SLA.FirstTouch {
		if ok, _ := w.When.Match(rv); ok {
			within = w.Within
			break
		}
	}
	_ = cal.Add(at, within)
	_ = sla.Ladder(cal, at, within, p.SLA.Ladder)
	_ = suppression.Check(p.Suppression, p.Location, suppression.Input{Stage: lead.StageHandoff, Now: at})
	return d
}

// BenchmarkDecisionsPerLead: the whole pure decision path of one lead.
func BenchmarkDecisionsPerLead(b *testing.B) {
	p, err := policy.Load("../../deploy/policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir, err := directory.Load("../../deploy/directory.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cal, err := sla.NewCalendar(p.SLA.BusinessHours, p.Location)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	cursors, load := map[string]int64{}, map[string]int{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		decideLead(b, p, cal, dir, cursors, load, at)
	}
}

// TestDecisionPathIsSound keeps the benchmark honest: the path it measures
// routes the example lead to the na-west pool.
func TestDecisionPathIsSound(t *testing.T) {
	p, err := policy.Load("../../deploy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := directory.Load("../../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cal, err := sla.NewCalendar(p.SLA.BusinessHours, p.Location)
	if err != nil {
		t.Fatal(err)
	}
	d := decideLead(t, p, cal, dir, map[string]int64{}, map[string]int{}, time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	if d.Pool != "na-west-sdrs" || d.OwnerID != "rep-7" {
		t.Fatalf("decision: %+v", d)
	}
}
