// Package routing decides who owns a lead: the account owner when the
// company is already an account, else a member of the pool named by the
// first matching policy rule, else that pool's fallback, so that no lead is
// ever left unassigned.
//
// Decide is pure: no I/O and no clock. The caller passes the time, the
// directory, each rep's load for the day and the pool cursors, and stores
// Decision.NextCursor afterwards. The same inputs always give the same
// Decision, which is what lets a Temporal workflow call it directly.
//
// Fallback chain, used when a pool rule has no eligible member:
//
//  1. the pool's Fallback rep, even if away or at capacity (someone must own
//     the lead; the fallback is usually a queue) — unless it is excluded;
//  2. then the fallback's Manager, unless excluded;
//  3. then the first rep of the pool, in file order, that is not excluded,
//     even if away or at capacity;
//  4. then there is nobody left who has not already owned this handoff, and
//     Decide returns ErrNoOwner: the caller keeps the current owner and alerts.
//
// Unknown rep ids are never chosen at any step.
package routing

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
)

// Rule is a policy routing rule whose `when` already matched (the caller
// evaluates CEL), passed in policy order.
type Rule struct {
	Name         string
	AccountOwner bool // owner of the account matched by the lead's domain
	Territory    string
	Pool         string
}

// Request is one lead to route.
type Request struct {
	LeadID  string
	Domain  string // company or email domain; an email address works too
	Rules   []Rule
	Exclude []string // reps never to choose: previous owners of this handoff
	At      time.Time
	// ForceOwner is a manual reassignment: this rep, who must be in the
	// directory (away or at capacity is noted, not refused: a person chose).
	ForceOwner string
	// PreferOwner is a sticky owner (the rep who had the lead before its
	// recycle): taken when they can take a lead now (in the directory, not
	// away, not at capacity, not excluded); otherwise the rules decide.
	PreferOwner string
	// FallbackOnly skips rotation and account ownership and goes straight to
	// the fallback chain of the first pool rule: the SLA ladder uses it once
	// max_reassigns is spent.
	FallbackOnly bool
}

// Snapshot is the state routing reads, taken by the caller at one moment.
type Snapshot struct {
	Dir     *directory.Directory
	Load    map[string]int   // leads assigned to each rep on the rep's current local day
	Cursors map[string]int64 // pool name → assignments made so far by rotation
}

// Why a candidate was not eligible.
const (
	SkipAway       = "away"
	SkipAtCapacity = "at_capacity"
	SkipExcluded   = "excluded"
	SkipUnknownRep = "unknown_rep"
)

// Candidate is one rep that was considered. A rep taken by the fallback
// chain although away or at capacity has Chosen set and keeps Skipped, so
// the record says it was taken regardless.
type Candidate struct {
	RepID   string `json:"repId"`
	Skipped string `json:"skipped,omitempty"` // a Skip* constant, "" if eligible
	Chosen  bool   `json:"chosen,omitempty"`
	Load    int    `json:"load"`
}

// Decision is who owns the lead and why, kept with the lead for audit.
type Decision struct {
	Rule         string      `json:"rule"`
	Territory    string      `json:"territory,omitempty"`
	Pool         string      `json:"pool,omitempty"`
	Strategy     string      `json:"strategy,omitempty"`
	OwnerID      string      `json:"ownerId"`
	ManagerID    string      `json:"managerId,omitempty"`
	AccountMatch string      `json:"accountMatch,omitempty"` // account domain when the account_owner rule chose
	Fallback     bool        `json:"fallback,omitempty"`     // the pool's fallback chain was used
	Candidates   []Candidate `json:"candidates"`             // every rep considered, in rule then member order
	Why          string      `json:"why"`                    // one sentence for humans
	// NextCursor is the cursor to store for Pool after this assignment:
	// Cursor+1 when a round robin chose a member, else unchanged (0 when
	// the account owner chose and there is no pool).
	NextCursor int64 `json:"nextCursor"`
}

// ErrNoOwner means no rule could choose anyone: every rep the chain could
// fall back to is excluded, or no pool rule matched.
var ErrNoOwner = errors.New("routing: no owner")

// ErrUnknownRep: a forced owner is not in the directory.
var ErrUnknownRep = errors.New("routing: unknown rep")

// Decide routes one lead. It returns an error, never an empty OwnerID, when
// it cannot choose: no directory, an unknown pool or strategy, a rule with
// neither account_owner nor pool, or ErrNoOwner.
func Decide(req Request, snap Snapshot) (Decision, error) {
	if snap.Dir == nil {
		return Decision{}, fmt.Errorf("routing lead %s: no directory", req.LeadID)
	}
	s := &state{req: req, snap: snap, excluded: make(map[string]bool, len(req.Exclude))}
	for _, id := range req.Exclude {
		s.excluded[id] = true
	}
	if req.ForceOwner != "" {
		return s.forced()
	}
	if req.PreferOwner != "" && !req.FallbackOnly {
		if d, ok := s.preferred(); ok {
			return d, nil
		}
	}
	for _, rule := range req.Rules {
		switch {
		case rule.AccountOwner && req.FallbackOnly:
			continue
		case rule.AccountOwner:
			if d, ok := s.account(rule); ok {
				return d, nil
			}
		case rule.Pool != "":
			d, err := s.pool(rule)
			if err != nil {
				return Decision{}, fmt.Errorf("routing lead %s: rule %s: %w", req.LeadID, rule.Name, err)
			}
			return d, nil
		default:
			return Decision{}, fmt.Errorf("routing lead %s: rule %s has neither account_owner nor pool", req.LeadID, rule.Name)
		}
	}
	return Decision{}, fmt.Errorf("routing lead %s: no pool rule among %d matched rules (the policy's last rule should match everything): %w",
		req.LeadID, len(req.Rules), ErrNoOwner)
}

// forced is a manual reassignment to req.ForceOwner.
func (s *state) forced() (Decision, error) {
	id := s.req.ForceOwner
	rep, ok := s.snap.Dir.Reps[id]
	if !ok {
		return Decision{}, fmt.Errorf("routing lead %s: %q is not in the directory: %w", s.req.LeadID, id, ErrUnknownRep)
	}
	c := s.check(id)
	if c.Skipped == SkipExcluded {
		c.Skipped = "" // a person chose this rep; exclusion guards automatic choices only
	}
	c.Chosen = true
	return Decision{
		Rule: "manual", OwnerID: id, ManagerID: rep.Manager, Candidates: []Candidate{c},
		Why: "manual reassignment to " + id + status(c),
	}, nil
}

// preferred takes the sticky owner when they can take the lead now.
func (s *state) preferred() (Decision, bool) {
	id := s.req.PreferOwner
	c := s.check(id)
	if c.Skipped != "" {
		s.candidates = append(s.candidates, c)
		s.notes = append(s.notes, fmt.Sprintf("previous owner %s %s", id, reason(c.Skipped)))
		return Decision{}, false
	}
	c.Chosen = true
	s.candidates = append(s.candidates, c)
	return Decision{
		Rule: "sticky_owner", OwnerID: id, ManagerID: s.snap.Dir.Reps[id].Manager, Candidates: s.candidates,
		Why: "sticky_owner: back to previous owner " + id,
	}, true
}

type state struct {
	req        Request
	snap       Snapshot
	excluded   map[string]bool
	candidates []Candidate // across rules, so a skipped account owner stays on record
	notes      []string    // "rep-8 away", for Why
	poolStart  int         // index in candidates of the pool's first member
}

// check says why rep cannot take the lead now, or "" if it can.
func (s *state) check(id string) Candidate {
	c := Candidate{RepID: id, Load: s.snap.Load[id]}
	rep, known := s.snap.Dir.Reps[id]
	switch {
	case !known:
		c.Skipped = SkipUnknownRep
	case s.excluded[id]:
		c.Skipped = SkipExcluded
	case s.snap.Dir.IsAway(id, s.req.At):
		c.Skipped = SkipAway
	case rep.CapacityPerDay > 0 && c.Load >= rep.CapacityPerDay:
		c.Skipped = SkipAtCapacity
	}
	return c
}

func (s *state) account(rule Rule) (Decision, bool) {
	acc, ok := s.snap.Dir.Account(s.req.Domain)
	if !ok {
		return Decision{}, false
	}
	c := s.check(acc.Owner)
	if c.Skipped != "" {
		s.candidates = append(s.candidates, c)
		s.notes = append(s.notes, fmt.Sprintf("account owner %s %s", acc.Owner, reason(c.Skipped)))
		return Decision{}, false
	}
	c.Chosen = true
	s.candidates = append(s.candidates, c)
	return Decision{
		Rule:         rule.Name,
		Territory:    rule.Territory,
		OwnerID:      acc.Owner,
		ManagerID:    s.snap.Dir.Reps[acc.Owner].Manager,
		AccountMatch: acc.Domain,
		Candidates:   s.candidates,
		Why:          fmt.Sprintf("%s: %s owns account %s", rule.Name, acc.Owner, acc.Domain),
	}, true
}

func (s *state) pool(rule Rule) (Decision, error) {
	pool, ok := s.snap.Dir.Pools[rule.Pool]
	if !ok {
		return Decision{}, fmt.Errorf("unknown pool %q", rule.Pool)
	}
	cursor := s.snap.Cursors[pool.Name]
	d := Decision{
		Rule:       rule.Name,
		Territory:  rule.Territory,
		Pool:       pool.Name,
		Strategy:   pool.Strategy,
		NextCursor: cursor,
	}

	// Judge every member once, in file order, so each is on record.
	s.poolStart = len(s.candidates)
	eligible := make([]bool, len(pool.Members))
	if s.req.FallbackOnly {
		s.notes = append(s.notes, "max reassignments reached")
	}
	for i, m := range pool.Members {
		c := s.check(m.RepID)
		eligible[i] = c.Skipped == "" && !s.req.FallbackOnly
		s.candidates = append(s.candidates, c)
		if c.Skipped != "" {
			s.notes = append(s.notes, m.RepID+" "+reason(c.Skipped))
		}
	}

	chosen := -1 // index into pool.Members
	switch pool.Strategy {
	case directory.RoundRobin:
		chosen = firstEligible(rotation(len(pool.Members), cursor), eligible)
	case directory.WeightedRoundRobin:
		chosen = firstEligible(weightedRotation(pool.Members, cursor), eligible)
	case directory.LeastLoaded:
		for i, m := range pool.Members {
			if eligible[i] && (chosen < 0 || s.snap.Load[m.RepID] < s.snap.Load[pool.Members[chosen].RepID]) {
				chosen = i // strict <: ties go to the earlier member
			}
		}
	default:
		return Decision{}, fmt.Errorf("pool %s: unknown strategy %q", pool.Name, pool.Strategy)
	}

	if chosen >= 0 {
		id := pool.Members[chosen].RepID
		s.candidates[s.poolStart+chosen].Chosen = true
		if pool.Strategy != directory.LeastLoaded {
			d.NextCursor = cursor + 1
		}
		d.OwnerID = id
		d.ManagerID = s.snap.Dir.Reps[id].Manager
		d.Candidates = s.candidates
		d.Why = fmt.Sprintf("%s: %s in %s chose %s%s", rule.Name, pool.Strategy, pool.Name, id, s.skippedNote())
		return d, nil
	}

	owner, how, err := s.fallback(pool)
	if err != nil {
		return Decision{}, err
	}
	d.OwnerID = owner
	d.ManagerID = s.snap.Dir.Reps[owner].Manager
	d.Fallback = true
	d.Candidates = s.candidates
	d.Why = fmt.Sprintf("%s: no eligible member in %s%s; %s", rule.Name, pool.Name, s.skippedNote(), how)
	return d, nil
}

// fallback walks the chain in the package comment. Steps 1-3 may pick a rep
// who is away or at capacity: an owner who is out is better than none, and
// the SLA ladder escalates from there. Only excluded and unknown reps are
// passed over.
func (s *state) fallback(pool directory.Pool) (owner, how string, err error) {
	fb := pool.Fallback
	mgr := s.snap.Dir.Reps[fb].Manager
	var passed []string // "queue-inbound excluded", for Why
	for _, id := range []string{fb, mgr} {
		if id == "" {
			continue
		}
		c := s.check(id)
		if c.Skipped == SkipExcluded || c.Skipped == SkipUnknownRep {
			s.candidates = append(s.candidates, c)
			passed = append(passed, id+" "+reason(c.Skipped))
			continue
		}
		c.Chosen = true // even if away or at capacity; Skipped keeps that on record
		s.candidates = append(s.candidates, c)
		how = "fallback " + id
		if id != fb {
			how = "fallback's manager " + id
		}
		return id, chain(passed) + how + status(c), nil
	}
	for i, m := range pool.Members {
		// Members were judged in file order into the tail of candidates,
		// just before the fallback entries appended above.
		c := &s.candidates[s.poolStart+i]
		if c.Skipped == SkipExcluded || c.Skipped == SkipUnknownRep {
			continue
		}
		c.Chosen = true
		return m.RepID, chain(passed) + "first non-excluded member " + m.RepID + status(*c), nil
	}
	return "", "", fmt.Errorf("pool %s: fallback %q, its manager %q and every member are excluded or unknown: %w",
		pool.Name, fb, mgr, ErrNoOwner)
}

func chain(passed []string) string {
	if len(passed) == 0 {
		return ""
	}
	return "fallback chain passed over " + strings.Join(passed, ", ") + ", so "
}

// status is " (away)" or " (at capacity)" for a rep taken although not
// available.
func status(c Candidate) string {
	if c.Skipped == "" {
		return ""
	}
	return " (" + reason(c.Skipped) + ")"
}

func (s *state) skippedNote() string {
	if len(s.notes) == 0 {
		return ""
	}
	return " (" + strings.Join(s.notes, ", ") + ")"
}

func reason(skip string) string {
	switch skip {
	case SkipAtCapacity:
		return "at capacity"
	case SkipUnknownRep:
		return "unknown"
	}
	return skip
}

// rotation is the member indexes in round-robin order starting at cursor.
func rotation(n int, cursor int64) []int {
	if n == 0 {
		return nil
	}
	start := int(mod(cursor, int64(n)))
	order := make([]int, n)
	for k := range order {
		order[k] = (start + k) % n
	}
	return order
}

// weightedRotation is the smooth weighted round-robin sequence of the
// members (the nginx algorithm: it interleaves, e.g. 2:1 gives a,b,a, rather
// than a,a,b, so a burst of leads does not all land on one rep), rotated to
// start at cursor modulo the sum of the weights. Walking it forward from the
// start and taking the first eligible member keeps the long-run split equal
// to the weights while everyone is available.
func weightedRotation(members []directory.Member, cursor int64) []int {
	n := len(members)
	if n == 0 {
		return nil
	}
	weights := make([]int, n)
	total := 0
	for i, m := range members {
		// Validate keeps weights in 1..MaxWeight; clamp rather than fail a lead
		// on a Directory built in code.
		weights[i] = min(max(m.Weight, 1), directory.MaxWeight)
	}
	// Dividing by the gcd gives the same split with a shorter sequence.
	g := weights[0]
	for _, w := range weights[1:] {
		g = gcd(g, w)
	}
	for i := range weights {
		weights[i] /= g
		total += weights[i]
	}
	seq := make([]int, total)
	current := make([]int, n)
	for k := range seq {
		best := 0
		for i := range current {
			current[i] += weights[i]
			if current[i] > current[best] {
				best = i // strict >: ties go to the earlier member, as in nginx
			}
		}
		current[best] -= total
		seq[k] = best
	}
	start := int(mod(cursor, int64(total)))
	return append(seq[start:], seq[:start]...)
}

// firstEligible returns the first member index in order that is eligible,
// or -1.
func firstEligible(order []int, eligible []bool) int {
	for _, i := range order {
		if eligible[i] {
			return i
		}
	}
	return -1
}

// mod is the non-negative remainder, so a corrupt negative cursor still
// lands inside the rotation.
func mod(a, n int64) int64 {
	r := a % n
	if r < 0 {
		r += n
	}
	return r
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
