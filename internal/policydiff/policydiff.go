// Package policydiff is `starter policy shadow`: what a candidate policy
// would decide for each open lead, beside what the running policy decides
// for the same lead now, and where the two differ. Pure: no Temporal, no
// I/O, no clock (the caller passes the time routing judges away-ness at).
//
// Both policies are evaluated on the same inputs (the lead's published view
// and decision inputs), so every difference comes from the policy alone.
// The lead's events are not re-run: intent is the lead's own, with the
// intent rules it matched re-weighted at each policy's points; a new or
// changed intent condition shows only on the lead's next events.
package policydiff

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/scoring"
)

// Lead is one open lead as it last published.
type Lead struct {
	View   lead.View
	Inputs *actions.DecisionInputs // nil: published before inputs were kept
}

// Outcome is what one policy decides for a lead now.
type Outcome struct {
	Segment string
	Fit     int
	Intent  int
	Score   int
	MQL     bool
	Why     string // Qualifies' reason
	// The route, when the lead is or would be an MQL ("" otherwise).
	Rule, Territory, Pool, Owner string
	RouteErr                     string
	// SLA is the first-touch window, the acceptance window and the ladder,
	// as one comparable line.
	SLA string
}

func (o Outcome) route() string {
	if o.RouteErr != "" {
		return "error: " + o.RouteErr
	}
	parts := []string{o.Rule}
	if o.Territory != "" {
		parts = append(parts, "territory "+o.Territory)
	}
	if o.Pool != "" {
		parts = append(parts, "pool "+o.Pool)
	}
	return strings.Join(parts, " · ")
}

// What changes for a lead.
const (
	BecomesMQL = "becomes_mql"
	StopsMQL   = "stops_mql"
	Segment    = "segment"
	Route      = "route"
	Owner      = "owner"
	SLA        = "sla"
)

// Change is a lead whose outcome differs.
type Change struct {
	LeadID             string
	Stage              lead.Stage
	Current, Candidate Outcome
	What               []string // of the constants above, in that order
}

// Report is the whole comparison.
type Report struct {
	Current, Candidate string // versions
	Leads              int    // open leads evaluated
	NoInputs           []string
	Counts             map[string]int // leads per kind of change
	Changes            []Change       // by lead ID
}

// Diff evaluates both policies on every lead. dir is the directory routing
// reads (loads and rotation cursors as at zero: a round robin's pick is
// the pool's first eligible member under both policies alike).
func Diff(current, candidate *policy.Policy, dir *directory.Directory, at time.Time, leads []Lead) Report {
	rep := Report{Current: current.Version, Candidate: candidate.Version, Counts: map[string]int{}}
	sorted := append([]Lead(nil), leads...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].View.LeadID < sorted[j].View.LeadID })
	for _, l := range sorted {
		if !Open(l.View.Stage) {
			continue
		}
		if l.Inputs == nil {
			rep.NoInputs = append(rep.NoInputs, l.View.LeadID)
			continue
		}
		rep.Leads++
		cur := Evaluate(current, dir, at, l)
		cand := Evaluate(candidate, dir, at, l)
		what := compare(l.View.Stage, cur, cand)
		if len(what) == 0 {
			continue
		}
		for _, w := range what {
			rep.Counts[w]++
		}
		rep.Changes = append(rep.Changes, Change{LeadID: l.View.LeadID, Stage: l.View.Stage, Current: cur, Candidate: cand, What: what})
	}
	return rep
}

// Open reports whether a lead in stage st is still worked: not
// disqualified, merged or (never published) empty.
func Open(st lead.Stage) bool {
	switch st {
	case "", lead.StageDisqualified, lead.StageMerged:
		return false
	}
	return true
}

func compare(st lead.Stage, cur, cand Outcome) []string {
	var what []string
	if cand.MQL && !cur.MQL {
		what = append(what, BecomesMQL)
	}
	if cur.MQL && !cand.MQL {
		what = append(what, StopsMQL)
	}
	if cur.Segment != cand.Segment {
		what = append(what, Segment)
	}
	// Routes and SLAs compare where both policies route the lead, or where
	// Sales already has it (its next reassignment is the policy's).
	routed := cur.MQL && cand.MQL || atSales(st)
	if routed && cur.route() != cand.route() {
		what = append(what, Route)
	}
	if routed && cur.Owner != cand.Owner {
		what = append(what, Owner)
	}
	if routed && cur.SLA != cand.SLA {
		what = append(what, SLA)
	}
	return what
}

func atSales(st lead.Stage) bool {
	switch st {
	case lead.StageMQL, lead.StageHandoff, lead.StageSAL, lead.StageOpportunity, lead.StageCustomer:
		return true
	}
	return false
}

// Evaluate is what p decides for l now.
func Evaluate(p *policy.Policy, dir *directory.Directory, at time.Time, l Lead) Outcome {
	in := l.Inputs
	profile := in.Profile.CELMap()
	var o Outcome
	o.Segment = segmentOf(p, profile)
	fit, _, err := scoring.Fit(p.Scoring, profile, o.Segment)
	if err != nil {
		o.Why = err.Error()
		return o
	}
	o.Fit = fit
	intent := reweighted(p.Scoring, l.View.Score)
	st := scoring.State{Intent: intent, Fit: fit}
	o.Intent, o.Score = st.IntentPoints(), st.Total()
	o.MQL, o.Why = scoring.Qualifies(p.Scoring, st, scoring.Result{FastTrack: fastTrack(p.Scoring, in.Trigger), FastTrackRule: in.Trigger})
	vars := policy.Vars{Lead: profile, Segment: o.Segment, Trigger: in.Trigger, Counts: in.Counts}
	o.SLA = slaLine(p, vars)
	if o.MQL || atSales(l.View.Stage) {
		route(p, dir, at, &in.Profile, vars, l.View.LeadID, &o)
	}
	return o
}

func segmentOf(p *policy.Policy, profile map[string]any) string {
	vars := policy.Vars{Lead: profile}
	for _, sg := range p.Segments {
		if ok, err := sg.When.Match(vars); err == nil && ok {
			return sg.Name
		}
	}
	return ""
}

// reweighted is the lead's intent with each intent rule it matched counted
// at sc's points instead of those awarded, decayed and capped as the lead's
// intent is: intent × (Σ sc points / Σ awarded points).
func reweighted(sc policy.Scoring, s lead.ScoreView) float64 {
	points := map[string]int{}
	for _, r := range sc.Rules {
		points[r.Name] = r.Points
	}
	awarded, now := 0, 0
	for _, it := range s.Breakdown {
		if it.Kind != scoring.KindIntent {
			continue
		}
		awarded += it.Points
		now += points[it.Rule]
	}
	intent := s.IntentExact
	if intent == 0 && s.Intent != 0 {
		intent = float64(s.Intent)
	}
	if awarded > 0 {
		intent *= float64(now) / float64(awarded)
	}
	intent = math.Max(intent, 0)
	if sc.Caps.Intent > 0 {
		intent = math.Min(intent, float64(sc.Caps.Intent))
	}
	return intent
}

func fastTrack(sc policy.Scoring, trigger string) bool {
	for _, r := range sc.Rules {
		if r.Name == trigger {
			return r.FastTrack
		}
	}
	return false
}

// defaultFirstTouch is the workflow's window when no first_touch rule matches.
const defaultFirstTouch = policy.Duration(4 * time.Hour)

func slaLine(p *policy.Policy, vars policy.Vars) string {
	within := defaultFirstTouch
	for _, w := range p.SLA.FirstTouch {
		if ok, err := w.When.Match(vars); err == nil && ok {
			within = w.Within
			break
		}
	}
	steps := make([]string, len(p.SLA.Ladder))
	for i, s := range p.SLA.Ladder {
		steps[i] = fmt.Sprintf("%s@%g%%", s.Action, s.At*100)
	}
	hours := "24x7"
	if bh := p.SLA.BusinessHours; !bh.Always {
		hours = fmt.Sprintf("%v %02d:%02d-%02d:%02d %s %s", bh.Days, int(bh.Start)/60, int(bh.Start)%60, int(bh.End)/60, int(bh.End)%60, bh.Holidays, p.Timezone)
	}
	return fmt.Sprintf("first touch %s · acceptance %s · ladder %s · max reassigns %d · hours %s",
		within, p.SLA.Acceptance.Within, strings.Join(steps, " "), p.SLA.MaxReassigns, hours)
}

func route(p *policy.Policy, dir *directory.Directory, at time.Time, prof *lead.Profile, vars policy.Vars, leadID string, o *Outcome) {
	var rules []routing.Rule
	for _, r := range p.Routing {
		if ok, err := r.When.Match(vars); err == nil && ok {
			rules = append(rules, routing.Rule{Name: r.Name, AccountOwner: r.AccountOwner, Territory: r.Territory, Pool: r.Pool})
		}
	}
	d, err := routing.Decide(routing.Request{LeadID: leadID, Domain: prof.EmailDomain(), Rules: rules, At: at}, routing.Snapshot{Dir: dir})
	if err != nil {
		o.RouteErr = err.Error()
		return
	}
	o.Rule, o.Territory, o.Pool, o.Owner = d.Rule, d.Territory, d.Pool, d.OwnerID
}
