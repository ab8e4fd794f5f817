package metrics

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Compute is ComputeAt as of the current time.
func Compute(ctx context.Context, q Querier, p Period, by string) (Report, error) {
	return ComputeAt(ctx, q, p, by, time.Now())
}

// ComputeAt runs every query for p broken down by by, with no fact after
// now, and assembles one Row per dimension value, sorted by Key. With by ""
// there is exactly one row.
func ComputeAt(ctx context.Context, q Querier, p Period, by string, now time.Time) (Report, error) {
	if !ValidBy(by) {
		_, err := dimExpr(by)
		return Report{}, err
	}
	if !p.From.Before(p.To) {
		return Report{}, fmt.Errorf("metrics: empty period %s..%s", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339))
	}
	c := &collector{ctx: ctx, q: q, p: p, now: now, by: by, rows: map[string]*Row{}}
	if by == ByAll {
		c.row("")
	}
	aggs := map[string]*handoffAgg{}
	c.each(QueryHandoffFacts, func(s *scan) error {
		var f handoffFact
		if err := s.Scan(&f.at, &f.owner, &f.journey, &f.trig, &f.due, &f.touchAt, &f.ttft, &f.ttftBusiness,
			&f.via, &f.owners, &f.ownerMet, &f.outcome, &f.decidedBy, &f.reason, &f.currentOwner, &f.signalAt, &f.form); err != nil {
			return err
		}
		r := s.row()
		if aggs[r.Key] == nil {
			aggs[r.Key] = newHandoffAgg()
		}
		aggs[r.Key].add(r, f, p, now)
		return nil
	})
	c.each(QueryAcceptanceSLA, func(s *scan) error {
		var sh Share
		if err := s.Scan(&sh.Total, &sh.Met); err != nil {
			return err
		}
		s.row().AcceptanceSLA = sh
		return nil
	})
	c.each(QuerySLASteps, func(s *scan) error {
		var t Row
		if err := s.Scan(&t.Breaches, &t.Escalations, &t.Reassignments); err != nil {
			return err
		}
		r := s.row()
		r.Breaches, r.Escalations, r.Reassignments = t.Breaches, t.Escalations, t.Reassignments
		return nil
	})
	reached := map[string]map[string]int{}
	c.each(QueryCohort, func(s *scan) error {
		var stage string
		var n int
		if err := s.Scan(&stage, &n); err != nil {
			return err
		}
		r := s.row()
		if reached[r.Key] == nil {
			reached[r.Key] = map[string]int{}
		}
		reached[r.Key][stage] = n
		return nil
	})
	flow := map[string]map[string]FlowCount{}
	c.each(QueryFlow, func(s *scan) error {
		var f FlowCount
		if err := s.Scan(&f.Stage, &f.Transitions, &f.New); err != nil {
			return err
		}
		r := s.row()
		if flow[r.Key] == nil {
			flow[r.Key] = map[string]FlowCount{}
		}
		flow[r.Key][f.Stage] = f
		return nil
	})
	velocity := map[string]map[string]StageDays{}
	c.each(QueryVelocity, func(s *scan) error {
		var v StageDays
		if err := s.Scan(&v.Stage, &v.Stays, &v.MedianDays); err != nil {
			return err
		}
		r := s.row()
		if velocity[r.Key] == nil {
			velocity[r.Key] = map[string]StageDays{}
		}
		velocity[r.Key][v.Stage] = v
		return nil
	})
	c.each(QueryPipeline, func(s *scan) error {
		var stage string
		var m Money
		if err := s.Scan(&stage, &m.Count, &m.Priced, &m.Amount); err != nil {
			return err
		}
		r := s.row()
		if stage == "customer" {
			r.Won = m
		} else {
			r.Pipeline = m
		}
		return nil
	})
	c.each(QueryRecycles, func(s *scan) error {
		var rc Recycle
		if err := s.Scan(&rc.Play, &rc.Recycled, &rc.BackToMQL, &rc.Won, &rc.Lost, &rc.RecycledAgain); err != nil {
			return err
		}
		r := s.row()
		r.Recycles = append(r.Recycles, rc)
		return nil
	})
	c.each(QueryEnrichment, func(s *scan) error {
		var n int
		if err := s.Scan(&n); err != nil {
			return err
		}
		s.row().WaitedEnrichment = n
		return nil
	})
	if c.err != nil {
		return Report{}, c.err
	}

	keys := make([]string, 0, len(c.rows))
	for k := range c.rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := Report{Period: Period{From: p.From.UTC(), To: p.To.UTC()}, AsOf: now.UTC(), By: by, Rows: make([]Row, 0, len(keys))}
	for _, k := range keys {
		r := c.rows[k]
		agg := aggs[k]
		if agg == nil {
			agg = newHandoffAgg()
		}
		agg.finish(r)
		r.AcceptanceSLA.Rate = ratio(r.AcceptanceSLA.Met, r.AcceptanceSLA.Total)
		r.Cohort, r.CohortRecycled = cohortRows(reached[k])
		r.Flow = flowRows(flow[k])
		r.Velocity = []StageDays{}
		for _, st := range VelocityStages {
			if v, ok := velocity[k][st]; ok {
				r.Velocity = append(r.Velocity, v)
			}
		}
		slices.SortFunc(r.Recycles, func(a, b Recycle) int { return cmpString(a.Play, b.Play) })
		if r.Recycles == nil {
			r.Recycles = []Recycle{}
		}
		out.Rows = append(out.Rows, *r)
	}
	return out, nil
}

// scan reads one result row whose first column is the dimension value.
type scan struct {
	rows pgx.Rows
	key  string
	c    *collector
}

// Scan reads the dimension value and then dest.
func (s *scan) Scan(dest ...any) error {
	return s.rows.Scan(append([]any{&s.key}, dest...)...)
}

// row is the Row of the value last scanned.
func (s *scan) row() *Row { return s.c.row(s.key) }

// collector runs "dim, ..." queries and hands each result row to the Row of
// its dimension value; the first error stops the rest.
type collector struct {
	ctx  context.Context
	q    Querier
	p    Period
	now  time.Time
	by   string
	rows map[string]*Row
	err  error
}

func (c *collector) row(key string) *Row {
	r, ok := c.rows[key]
	if !ok {
		r = &Row{Key: key, SLAWeeks: Weeks(c.p)}
		c.rows[key] = r
	}
	return r
}

func (c *collector) each(query string, read func(*scan) error) {
	if c.err != nil {
		return
	}
	sql, err := Query(query, c.by)
	if err != nil {
		c.err = err
		return
	}
	args := []any{c.p.From, c.p.To}
	if strings.Contains(query, "$3") {
		args = append(args, c.now) // the queries that read facts after the period stop at now
	}
	rows, err := c.q.Query(c.ctx, sql, args...)
	if err != nil {
		c.err = fmt.Errorf("metrics %s..%s by %q: %w", c.p.From.Format(time.RFC3339), c.p.To.Format(time.RFC3339), c.by, err)
		return
	}
	defer rows.Close()
	s := &scan{rows: rows, c: c}
	for rows.Next() {
		if err := read(s); err != nil {
			c.err = fmt.Errorf("metrics: %w", err)
			return
		}
	}
	if err := rows.Err(); err != nil {
		c.err = fmt.Errorf("metrics: %w", err)
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
