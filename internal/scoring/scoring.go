// Package scoring turns events and profiles into a lead score: intent (what
// the lead does, decaying with silence) plus fit (who the lead is).
//
// It is pure and deterministic so the lead workflow can call it directly: no
// clock (time comes from event timestamps), no I/O, no map iteration without
// sorted keys. State is plain exported data with JSON tags, because it rides
// in the workflow's state across Continue-As-New.
package scoring

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
)

// Item kinds.
const (
	KindIntent = "intent"
	KindFit    = "fit"
)

// MaxItems bounds State.Items so the workflow state stays small however
// chatty a lead is.
const MaxItems = 50

// Item is one rule hit, as shown in the score breakdown.
type Item struct {
	Rule    string    `json:"rule"`
	Points  int       `json:"points"`
	EventID string    `json:"eventId,omitempty"`
	Kind    string    `json:"kind"` // KindIntent or KindFit
	At      time.Time `json:"at,omitzero"`
}

// State is a lead's score between events.
type State struct {
	// Intent is the decayed intent as of IntentAt, within [0, caps.intent].
	Intent float64 `json:"intent"`
	// IntentAt is the timestamp of the newest event applied.
	IntentAt time.Time `json:"intentAt"`
	// Fit comes from the current profile, capped above at caps.fit; it may
	// be negative (a negative fit disqualifies).
	Fit      int    `json:"fit"`
	FitItems []Item `json:"fitItems"`
	// Items are the intent rule hits of this cycle, newest last, at most
	// MaxItems. Points are as awarded, not decayed.
	Items []Item `json:"items"`
	// Fired names the `once` rules already fired this cycle, sorted.
	Fired []string `json:"fired"`
	// Counts is events per type in this cycle, including the current one.
	Counts map[string]int64 `json:"counts"`
}

// Result is what one event did to the score.
type Result struct {
	Matched       []Item `json:"matched"` // intent rules that matched this event
	FastTrack     bool   `json:"fastTrack"`
	FastTrackRule string `json:"fastTrackRule,omitempty"` // first fast_track rule that matched
	// Trigger is the rule to name as the handoff trigger: FastTrackRule if
	// any, else the highest-points positive rule this event matched (first
	// in policy order on a tie), else "".
	Trigger string `json:"trigger,omitempty"`
	Total   int    `json:"total"`
	Intent  int    `json:"intent"`
	Fit     int    `json:"fit"`
}

// Apply scores one event. On error s is returned unchanged.
func Apply(sc policy.Scoring, s State, ev lead.Event, profile map[string]any, segment string) (State, Result, error) {
	orig := s
	s = s.clone()

	// 1. Decay up to this event. An older (out-of-order) event neither
	// decays intent nor moves the clock back.
	s = s.DecayedTo(sc.Decay.HalfLife, ev.OccurredAt)

	// 2. Counts include the current event, so `counts["email.open"] >= 3`
	// fires on the third open.
	if s.Counts == nil {
		s.Counts = map[string]int64{}
	}
	s.Counts[ev.Type]++

	// 3. Intent rules, in policy order.
	vars := policy.Vars{Event: ev.CELMap(), Lead: profile, Counts: s.Counts, Segment: segment}
	var r Result
	best := 0
	for _, rule := range sc.Rules {
		if rule.Once && s.fired(rule.Name) {
			continue
		}
		ok, err := rule.When.Match(vars)
		if err != nil {
			return orig, Result{}, fmt.Errorf("score rule %s on event %s: %w", rule.Name, ev.ID, err)
		}
		if !ok {
			continue
		}
		it := Item{Rule: rule.Name, Points: rule.Points, EventID: ev.ID, Kind: KindIntent, At: ev.OccurredAt}
		r.Matched = append(r.Matched, it)
		s.Intent += float64(rule.Points)
		s.Items = append(s.Items, it)
		if rule.Once {
			i, _ := slices.BinarySearch(s.Fired, rule.Name)
			s.Fired = slices.Insert(s.Fired, i, rule.Name)
		}
		if rule.FastTrack && !r.FastTrack {
			r.FastTrack, r.FastTrackRule = true, rule.Name
		}
		if rule.Points > best {
			best, r.Trigger = rule.Points, rule.Name
		}
	}
	if r.FastTrack {
		r.Trigger = r.FastTrackRule
	}
	if n := len(s.Items); n > MaxItems {
		s.Items = slices.Clone(s.Items[n-MaxItems:])
	}

	// 4. Clamp after all of this event's rules, so a negative rule can
	// pull intent to 0 but never below.
	s.Intent = clampIntent(sc, s.Intent)

	// 5. Fit follows the profile as it is now.
	var err error
	if s, err = Refit(sc, s, profile, segment); err != nil {
		return orig, Result{}, fmt.Errorf("event %s: %w", ev.ID, err)
	}

	r.Intent, r.Fit, r.Total = s.IntentPoints(), s.Fit, s.Total()
	return s, r, nil
}

// Fit sums the fit rules the profile matches, capped above at caps.fit
// (no lower bound: a negative fit is meaningful).
func Fit(sc policy.Scoring, profile map[string]any, segment string) (int, []Item, error) {
	vars := policy.Vars{Lead: profile, Segment: segment}
	total := 0
	var items []Item
	for _, rule := range sc.Fit {
		ok, err := rule.When.Match(vars)
		if err != nil {
			return 0, nil, fmt.Errorf("fit rule %s: %w", rule.Name, err)
		}
		if ok {
			total += rule.Points
			items = append(items, Item{Rule: rule.Name, Points: rule.Points, Kind: KindFit})
		}
	}
	if sc.Caps.Fit > 0 && total > sc.Caps.Fit {
		total = sc.Caps.Fit
	}
	return total, items, nil
}

// Refit recomputes fit only, for a profile change. On error s is returned
// unchanged.
func Refit(sc policy.Scoring, s State, profile map[string]any, segment string) (State, error) {
	fit, items, err := Fit(sc, profile, segment)
	if err != nil {
		return s, err
	}
	s.Fit, s.FitItems = fit, items
	return s, nil
}

// IntentPoints is intent rounded to whole points.
func (s State) IntentPoints() int { return int(math.Round(s.Intent)) }

// Total is the score: rounded intent plus fit.
func (s State) Total() int { return s.IntentPoints() + s.Fit }

// DecayedTo is the state with intent decayed to `at` (for display, or before
// applying an event). It never increases intent and never moves IntentAt
// back, so an out-of-order time is a no-op.
func (s State) DecayedTo(halfLife policy.Duration, at time.Time) State {
	dt := at.Sub(s.IntentAt)
	if dt <= 0 {
		return s
	}
	if halfLife > 0 && s.Intent != 0 {
		s.Intent *= math.Pow(0.5, float64(dt)/float64(halfLife))
	}
	s.IntentAt = at
	return s
}

// NewCycle starts a new cycle after a play (recycle): scoreRule "reset"
// zeroes intent, "halve" halves it, "keep" (or anything else, since the
// policy loader validates the names) leaves it. Counts, Fired and Items
// always start over; fit is kept because the profile has not changed.
func (s State) NewCycle(scoreRule string) State {
	switch scoreRule {
	case policy.ScoreReset:
		s.Intent = 0
	case policy.ScoreHalve:
		s.Intent /= 2
	}
	s.Counts, s.Fired, s.Items = nil, nil, nil
	s.FitItems = slices.Clone(s.FitItems)
	return s
}

// Breakdown is the fit items then the intent items, for the state query.
// Never nil, so it serialises as [].
func (s State) Breakdown() []Item {
	out := make([]Item, 0, len(s.FitItems)+len(s.Items))
	out = append(out, s.FitItems...)
	return append(out, s.Items...)
}

// Qualifies reports whether the lead is an MQL after r, and why (or why
// not). A negative fit disqualifies even a fast track: a student asking for
// a quote is not a sales lead.
func Qualifies(sc policy.Scoring, s State, r Result) (mql bool, why string) {
	total := s.Total()
	switch {
	case s.Fit < 0:
		return false, fmt.Sprintf("fit %d is negative", s.Fit)
	case r.FastTrack:
		return true, "fast track: " + r.FastTrackRule
	case s.Fit < sc.MinFit:
		return false, fmt.Sprintf("fit %d < min_fit %d", s.Fit, sc.MinFit)
	case s.IntentPoints() < sc.MinIntent:
		return false, fmt.Sprintf("intent %d < min_intent %d", s.IntentPoints(), sc.MinIntent)
	case total >= sc.MQLThreshold:
		return true, fmt.Sprintf("score %d >= %d", total, sc.MQLThreshold)
	default:
		return false, fmt.Sprintf("score %d < %d", total, sc.MQLThreshold)
	}
}

// UnknownFit lists the profile fields the lead lacks that a fit rule
// awarding points reads (in rule order): while they are missing, that
// rule cannot be judged and fit is unknown. Negative rules (a student) do
// not count: a lead is not held back to prove it is not one.
func UnknownFit(sc policy.Scoring, profile map[string]any) []string {
	var out []string
	for _, rule := range sc.Fit {
		if rule.Points <= 0 || rule.When == nil {
			continue
		}
		for _, f := range rule.When.LeadFields {
			if _, ok := profile[f]; !ok && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// Missing lists the required_for_handoff fields that are absent or empty in
// the profile map (keys as in lead.Profile.CELMap), in the order given.
// Blank strings and zero numbers count as empty, matching CELMap, which
// leaves unset fields out.
func Missing(required []string, profile map[string]any) []string {
	var out []string
	for _, k := range required {
		if isEmpty(profile[k]) {
			out = append(out, k)
		}
	}
	return out
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case int:
		return x == 0
	case int64:
		return x == 0
	case float64:
		return x == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func clampIntent(sc policy.Scoring, v float64) float64 {
	if v < 0 {
		return 0
	}
	if sc.Caps.Intent > 0 && v > float64(sc.Caps.Intent) {
		return float64(sc.Caps.Intent)
	}
	return v
}

func (s State) fired(rule string) bool {
	_, ok := slices.BinarySearch(s.Fired, rule)
	return ok
}

// clone copies the reference fields so Apply never mutates the caller's
// state (the workflow may still hold it).
func (s State) clone() State {
	s.FitItems = slices.Clone(s.FitItems)
	s.Items = slices.Clone(s.Items)
	s.Fired = slices.Clone(s.Fired)
	s.Counts = maps.Clone(s.Counts)
	return s
}
