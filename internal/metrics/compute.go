package metrics

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// Compute runs every query for p broken down by by and assembles one Row
// per dimension value, sorted by Key. With by "" there is exactly one row.
func Compute(ctx context.Context, q Querier, p Period, by string) (Report, error) {
	if !ValidBy(by) {
		_, err := dimExpr(by)
		return Report{}, err
	}
	if !p.From.Before(p.To) {
		return Report{}, fmt.Errorf("metrics: empty period %s..%s", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339))
	}
	c := &collector{ctx: ctx, q: q, p: p, by: by, rows: map[string]*Row{}}
	if by == ByAll {
		c.row("")
	}
	c.each(QueryHandoffs, func(s *scan) error {
		var t Row
		if err := s.Scan(&t.HandedOff, &t.Accepted, &t.Rejected); err != nil {
			return err
		}
		r := s.row()
		r.HandedOff, r.Accepted, r.Rejected = t.HandedOff, t.Accepted, t.Rejected
		return nil
	})
	c.each(QueryReasons, func(s *scan) error {
		var rc ReasonCount
		if err := s.Scan(&rc.Reason, &rc.Count); err != nil {
			return err
		}
		r := s.row()
		r.RejectionReasons = append(r.RejectionReasons, rc)
		return nil
	})
	c.each(QueryFirstTouch, func(s *scan) error {
		var met int
		var t Row
		if err := s.Scan(&t.TTFT.N, &t.TTFT.P50, &t.TTFT.P90, &t.TTFT.Max,
			&t.TTFTBusiness.P50, &t.TTFTBusiness.P90, &t.TTFTBusiness.Max, &met); err != nil {
			return err
		}
		r := s.row()
		r.TTFT, r.TTFTBusiness = t.TTFT, t.TTFTBusiness
		r.TTFTBusiness.N = r.TTFT.N
		r.FirstTouchSLA = Share{Met: met, Total: r.TTFT.N}
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
	c.each(QueryStages, func(s *scan) error {
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
	out := Report{Period: Period{From: p.From.UTC(), To: p.To.UTC()}, By: by, Rows: make([]Row, 0, len(keys))}
	for _, k := range keys {
		r := c.rows[k]
		r.AcceptanceRate = ratio(r.Accepted, r.HandedOff)
		r.FirstTouchSLA.Rate = ratio(r.FirstTouchSLA.Met, r.FirstTouchSLA.Total)
		r.AcceptanceSLA.Rate = ratio(r.AcceptanceSLA.Met, r.AcceptanceSLA.Total)
		total := 0
		for _, rc := range r.RejectionReasons {
			total += rc.Count
		}
		for i := range r.RejectionReasons {
			r.RejectionReasons[i].Share = ratio(r.RejectionReasons[i].Count, total)
		}
		// Most frequent first, then by name.
		slices.SortFunc(r.RejectionReasons, func(a, b ReasonCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return cmpString(a.Reason, b.Reason)
		})
		if r.RejectionReasons == nil {
			r.RejectionReasons = []ReasonCount{}
		}
		r.Funnel = make([]StageCount, len(FunnelStages))
		for i, st := range FunnelStages {
			r.Funnel[i] = StageCount{Stage: st, Leads: reached[k][st]}
			if i > 0 {
				r.Funnel[i].Rate = ratio(r.Funnel[i].Leads, r.Funnel[i-1].Leads)
			}
		}
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
	by   string
	rows map[string]*Row
	err  error
}

func (c *collector) row(key string) *Row {
	r, ok := c.rows[key]
	if !ok {
		r = &Row{Key: key}
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
	rows, err := c.q.Query(c.ctx, sql, c.p.From, c.p.To)
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
