package routing

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
)

// The policy example's routing rules, as the caller passes them when their
// `when` matched.
var (
	accountRule    = Rule{Name: "account_owner", AccountOwner: true}
	enterpriseRule = Rule{Name: "enterprise_named", Territory: "global", Pool: "enterprise-aes"}
	naWestRule     = Rule{Name: "na_west", Territory: "na-west", Pool: "na-west-sdrs"}
	inboundRule    = Rule{Name: "inbound", Territory: "global", Pool: "inbound-sdrs"}
)

var (
	// An ordinary Wednesday afternoon: nobody away.
	weekday = time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	// rep-2 is away 2026-12-24..2027-01-02.
	holidays = time.Date(2026, 12, 28, 15, 0, 0, 0, time.UTC)
)

func loadDir(t testing.TB) *directory.Directory {
	t.Helper()
	d, err := directory.Load("../../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// withPool returns a copy of d with one more pool, leaving d untouched.
func withPool(d *directory.Directory, p directory.Pool) *directory.Directory {
	c := *d
	c.Pools = maps.Clone(d.Pools)
	c.Pools[p.Name] = p
	return &c
}

// withAway returns a copy of d with one more away range.
func withAway(d *directory.Directory, a directory.Away) *directory.Directory {
	c := *d
	c.Away = append(slices.Clone(d.Away), a)
	return &c
}

func TestDecide(t *testing.T) {
	dir := loadDir(t)
	rep7Away := withAway(dir, directory.Away{RepID: "rep-7", From: "2026-11-20", To: "2026-11-30"})
	llDir := withPool(dir, directory.Pool{Name: "ll", Strategy: directory.LeastLoaded,
		Members: []directory.Member{{RepID: "rep-1", Weight: 1}, {RepID: "rep-2", Weight: 1}, {RepID: "rep-9", Weight: 1}}, Fallback: "mgr-3"})
	ghostDir := withPool(dir, directory.Pool{Name: "ghosts", Strategy: directory.RoundRobin,
		Members: []directory.Member{{RepID: "ghost", Weight: 1}, {RepID: "rep-1", Weight: 1}}, Fallback: "queue-inbound"})

	for _, tc := range []struct {
		name string
		req  Request
		snap Snapshot
		want Decision
	}{
		{
			name: "account owner match",
			req:  Request{LeadID: "l1", Domain: "Initech.COM", Rules: []Rule{accountRule, inboundRule}, At: weekday},
			snap: Snapshot{Dir: dir, Load: map[string]int{"rep-7": 3}},
			want: Decision{Rule: "account_owner", OwnerID: "rep-7", ManagerID: "mgr-2", AccountMatch: "initech.com",
				Candidates: []Candidate{{RepID: "rep-7", Chosen: true, Load: 3}},
				Why:        "account_owner: rep-7 owns account initech.com"},
		},
		{
			name: "no account: next rule",
			req:  Request{LeadID: "l1", Domain: "hooli.com", Rules: []Rule{accountRule, inboundRule}, At: weekday},
			snap: Snapshot{Dir: dir, Cursors: map[string]int64{"inbound-sdrs": 4}},
			want: Decision{Rule: "inbound", Territory: "global", Pool: "inbound-sdrs", Strategy: "round_robin",
				OwnerID: "rep-1", ManagerID: "mgr-1", NextCursor: 5,
				Candidates: []Candidate{{RepID: "rep-1", Chosen: true}, {RepID: "rep-2"}},
				Why:        "inbound: round_robin in inbound-sdrs chose rep-1"},
		},
		{
			name: "account owner away: falls to next rule",
			req:  Request{LeadID: "l1", Domain: "initech.com", Rules: []Rule{accountRule, naWestRule, inboundRule}, At: weekday},
			snap: Snapshot{Dir: rep7Away},
			want: Decision{Rule: "na_west", Territory: "na-west", Pool: "na-west-sdrs", Strategy: "weighted_round_robin",
				OwnerID: "rep-8", ManagerID: "mgr-2", NextCursor: 1,
				Candidates: []Candidate{{RepID: "rep-7", Skipped: "away"}, {RepID: "rep-7", Skipped: "away"}, {RepID: "rep-8", Chosen: true}},
				Why:        "na_west: weighted_round_robin in na-west-sdrs chose rep-8 (account owner rep-7 away, rep-7 away)"},
		},
		{
			name: "account owner at capacity: falls to next rule",
			req:  Request{LeadID: "l1", Domain: "initech.com", Rules: []Rule{accountRule, inboundRule}, At: weekday},
			snap: Snapshot{Dir: dir, Load: map[string]int{"rep-7": 20}},
			want: Decision{Rule: "inbound", Territory: "global", Pool: "inbound-sdrs", Strategy: "round_robin",
				OwnerID: "rep-1", ManagerID: "mgr-1", NextCursor: 1,
				Candidates: []Candidate{{RepID: "rep-7", Skipped: "at_capacity", Load: 20}, {RepID: "rep-1", Chosen: true}, {RepID: "rep-2"}},
				Why:        "inbound: round_robin in inbound-sdrs chose rep-1 (account owner rep-7 at capacity)"},
		},
		{
			name: "account owner excluded on reassignment: falls to next rule",
			req:  Request{LeadID: "l1", Domain: "initech.com", Rules: []Rule{accountRule, inboundRule}, Exclude: []string{"rep-7"}, At: weekday},
			snap: Snapshot{Dir: dir, Cursors: map[string]int64{"inbound-sdrs": 1}},
			want: Decision{Rule: "inbound", Territory: "global", Pool: "inbound-sdrs", Strategy: "round_robin",
				OwnerID: "rep-2", ManagerID: "mgr-1", NextCursor: 2,
				Candidates: []Candidate{{RepID: "rep-7", Skipped: "excluded"}, {RepID: "rep-1"}, {RepID: "rep-2", Chosen: true}},
				Why:        "inbound: round_robin in inbound-sdrs chose rep-2 (account owner rep-7 excluded)"},
		},
		{
			name: "round robin skips away rep",
			req:  Request{LeadID: "l1", Rules: []Rule{inboundRule}, At: holidays},
			snap: Snapshot{Dir: dir, Cursors: map[string]int64{"inbound-sdrs": 1}},
			want: Decision{Rule: "inbound", Territory: "global", Pool: "inbound-sdrs", Strategy: "round_robin",
				OwnerID: "rep-1", ManagerID: "mgr-1", NextCursor: 2,
				Candidates: []Candidate{{RepID: "rep-1", Chosen: true}, {RepID: "rep-2", Skipped: "away"}},
				Why:        "inbound: round_robin in inbound-sdrs chose rep-1 (rep-2 away)"},
		},
		{
			name: "excluded rep skipped: reassignment never the same rep",
			req:  Request{LeadID: "l1", Rules: []Rule{inboundRule}, Exclude: []string{"rep-1"}, At: weekday},
			snap: Snapshot{Dir: dir, Cursors: map[string]int64{"inbound-sdrs": 0}},
			want: Decision{Rule: "inbound", Territory: "global", Pool: "inbound-sdrs", Strategy: "round_robin",
				OwnerID: "rep-2", ManagerID: "mgr-1", NextCursor: 1,
				Candidates: []Candidate{{RepID: "rep-1", Skipped: "excluded"}, {RepID: "rep-2", Chosen: true}},
				Why:        "inbound: round_robin in inbound-sdrs chose rep-2 (rep-1 excluded)"},
		},
		{
			name: "capacity reached: skipped",
			req:  Request{LeadID: "l1", Rules: []Rule{naWestRule}, At: weekday},
			snap: Snapshot{Dir: dir, Load: map[string]int{"rep-7": 20, "rep-8": 19}, Cursors: map[string]int64{"na-west-sdrs": 3}},
			want: Decision{Rule: "na_west", Territory: "na-west", Pool: "na-west-sdrs", Strategy: "weighted_round_robin",
				OwnerID: "rep-8", ManagerID: "mgr-2", NextCursor: 4,
				Candidates: []Candidate{{RepID: "rep-7", Skipped: "at_capacity", Load: 20}, {RepID: "rep-8", Chosen: true, Load: 19}},
				Why:        "na_west: weighted_round_robin in na-west-sdrs chose rep-8 (rep-7 at capacity)"},
		},
		{
			name: "all unavailable: pool fallback, cursor unchanged",
			req:  Request{LeadID: "l1", Rules: []Rule{naWestRule, inboundRule}, At: weekday},
			snap: Snapshot{Dir: dir, Load: map[string]int{"rep-7": 20, "rep-8": 25}, Cursors: map[string]int64{"na-west-sdrs": 7}},
			want: Decision{Rule: "na_west", Territory: "na-west", Pool: "na-west-sdrs", Strategy: "weighted_round_robin",
				OwnerID: "queue-inbound", ManagerID: "mgr-1", Fallback: true, NextCursor: 7,
				Candidates: []Candidate{{RepID: "rep-7", Skipped: "at_capacity", Load: 20}, {RepID: "rep-8", Skipped: "at_capacity", Load: 25},
					{RepID: "queue-inbound", Chosen: true}},
				Why: "na_west: no eligible member in na-west-sdrs (rep-7 at capacity, rep-8 at capacity); fallback queue-inbound"},
		},
		{
			name: "away and excluded: fallback",
			req:  Request{LeadID: "l1", Rules: []Rule{inboundRule}, Exclude: []string{"rep-1"}, At: holidays},
			snap: Snapshot{Dir: dir},
			want: Decision{Rule: "inbound", Territory: "global", Pool: "inbound-sdrs", Strategy: "round_robin",
				OwnerID: "queue-inbound", ManagerID: "mgr-1", Fallback: true,
				Candidates: []Candidate{{RepID: "rep-1", Skipped: "excluded"}, {RepID: "rep-2", Skipped: "away"}, {RepID: "queue-inbound", Chosen: true}},
				Why:        "inbound: no eligible member in inbound-sdrs (rep-1 excluded, rep-2 away); fallback queue-inbound"},
		},
		{
			name: "fallback taken even when away",
			req:  Request{LeadID: "l1", Rules: []Rule{enterpriseRule}, Exclude: []string{"rep-9"}, At: weekday},
			snap: Snapshot{Dir: withAway(dir, directory.Away{RepID: "mgr-3", From: "2026-11-25", To: "2026-11-25"})},
			want: Decision{Rule: "enterprise_named", Territory: "global", Pool: "enterprise-aes", Strategy: "least_loaded",
				OwnerID: "mgr-3", Fallback: true,
				Candidates: []Candidate{{RepID: "rep-9", Skipped: "excluded"}, {RepID: "mgr-3", Skipped: "away", Chosen: true}},
				Why:        "enterprise_named: no eligible member in enterprise-aes (rep-9 excluded); fallback mgr-3 (away)"},
		},
		{
			name: "fallback excluded: its manager",
			req:  Request{LeadID: "l1", Rules: []Rule{naWestRule}, Exclude: []string{"rep-7", "queue-inbound"}, At: weekday},
			snap: Snapshot{Dir: dir, Load: map[string]int{"rep-8": 20}},
			want: Decision{Rule: "na_west", Territory: "na-west", Pool: "na-west-sdrs", Strategy: "weighted_round_robin",
				OwnerID: "mgr-1", Fallback: true,
				Candidates: []Candidate{{RepID: "rep-7", Skipped: "excluded"}, {RepID: "rep-8", Skipped: "at_capacity", Load: 20},
					{RepID: "queue-inbound", Skipped: "excluded"}, {RepID: "mgr-1", Chosen: true}},
				Why: "na_west: no eligible member in na-west-sdrs (rep-7 excluded, rep-8 at capacity); " +
					"fallback chain passed over queue-inbound excluded, so fallback's manager mgr-1"},
		},
		{
			name: "fallback and its manager excluded: first non-excluded member",
			req:  Request{LeadID: "l1", Rules: []Rule{naWestRule}, Exclude: []string{"rep-7", "queue-inbound", "mgr-1"}, At: weekday},
			snap: Snapshot{Dir: dir, Load: map[string]int{"rep-8": 20}},
			want: Decision{Rule: "na_west", Territory: "na-west", Pool: "na-west-sdrs", Strategy: "weighted_round_robin",
				OwnerID: "rep-8", ManagerID: "mgr-2", Fallback: true,
				Candidates: []Candidate{{RepID: "rep-7", Skipped: "excluded"}, {RepID: "rep-8", Skipped: "at_capacity", Chosen: true, Load: 20},
					{RepID: "queue-inbound", Skipped: "excluded"}, {RepID: "mgr-1", Skipped: "excluded"}},
				Why: "na_west: no eligible member in na-west-sdrs (rep-7 excluded, rep-8 at capacity); " +
					"fallback chain passed over queue-inbound excluded, mgr-1 excluded, so first non-excluded member rep-8 (at capacity)"},
		},
		{
			name: "least loaded, ties by member order",
			req:  Request{LeadID: "l1", Rules: []Rule{{Name: "ll", Pool: "ll"}}, At: weekday},
			snap: Snapshot{Dir: llDir, Load: map[string]int{"rep-1": 3, "rep-2": 1, "rep-9": 1}, Cursors: map[string]int64{"ll": 9}},
			want: Decision{Rule: "ll", Pool: "ll", Strategy: "least_loaded", OwnerID: "rep-2", ManagerID: "mgr-1", NextCursor: 9,
				Candidates: []Candidate{{RepID: "rep-1", Load: 3}, {RepID: "rep-2", Chosen: true, Load: 1}, {RepID: "rep-9", Load: 1}},
				Why:        "ll: least_loaded in ll chose rep-2"},
		},
		{
			name: "least loaded skips the away rep however idle",
			req:  Request{LeadID: "l1", Rules: []Rule{{Name: "ll", Pool: "ll"}}, At: holidays},
			snap: Snapshot{Dir: llDir, Load: map[string]int{"rep-1": 3, "rep-9": 2}},
			want: Decision{Rule: "ll", Pool: "ll", Strategy: "least_loaded", OwnerID: "rep-9", ManagerID: "mgr-3",
				Candidates: []Candidate{{RepID: "rep-1", Load: 3}, {RepID: "rep-2", Skipped: "away"}, {RepID: "rep-9", Chosen: true, Load: 2}},
				Why:        "ll: least_loaded in ll chose rep-9 (rep-2 away)"},
		},
		{
			name: "unknown member is skipped",
			req:  Request{LeadID: "l1", Rules: []Rule{{Name: "g", Pool: "ghosts"}}, At: weekday},
			snap: Snapshot{Dir: ghostDir},
			want: Decision{Rule: "g", Pool: "ghosts", Strategy: "round_robin", OwnerID: "rep-1", ManagerID: "mgr-1", NextCursor: 1,
				Candidates: []Candidate{{RepID: "ghost", Skipped: "unknown_rep"}, {RepID: "rep-1", Chosen: true}},
				Why:        "g: round_robin in ghosts chose rep-1 (ghost unknown)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decide(tc.req, tc.snap)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %s\nwant %s", js(got), js(tc.want))
			}
		})
	}
}

func TestRoundRobinRotation(t *testing.T) {
	dir := loadDir(t)
	cursors := map[string]int64{}
	var owners []string
	for i := 0; i < 5; i++ {
		d, err := Decide(Request{LeadID: "l", Rules: []Rule{inboundRule}, At: weekday}, Snapshot{Dir: dir, Cursors: cursors})
		if err != nil {
			t.Fatal(err)
		}
		if d.NextCursor != int64(i+1) {
			t.Fatalf("lead %d: NextCursor = %d, want %d", i, d.NextCursor, i+1)
		}
		cursors = map[string]int64{d.Pool: d.NextCursor} // a fresh map: the snapshot is the caller's
		owners = append(owners, d.OwnerID)
	}
	if want := []string{"rep-1", "rep-2", "rep-1", "rep-2", "rep-1"}; !reflect.DeepEqual(owners, want) {
		t.Errorf("owners = %v, want %v", owners, want)
	}
}

// Reassignment passes the previous owners; none of them may come back,
// wherever the cursor stands.
func TestExcludedNeverChosen(t *testing.T) {
	dir := loadDir(t)
	for _, at := range []time.Time{weekday, holidays} {
		for cursor := int64(-3); cursor < 7; cursor++ {
			for _, rule := range []Rule{inboundRule, naWestRule, enterpriseRule} {
				for _, prev := range [][]string{{"rep-1"}, {"rep-2"}, {"rep-7"}, {"rep-8"}, {"rep-9"}, {"rep-1", "rep-2"}, {"rep-7", "rep-8", "queue-inbound"}} {
					d, err := Decide(Request{LeadID: "l", Rules: []Rule{rule}, Exclude: prev, At: at},
						Snapshot{Dir: dir, Cursors: map[string]int64{rule.Pool: cursor}})
					if err != nil {
						t.Fatal(err)
					}
					if slices.Contains(prev, d.OwnerID) || d.OwnerID == "" {
						t.Errorf("%s cursor %d exclude %v at %v: owner %q", rule.Pool, cursor, prev, at, d.OwnerID)
					}
				}
			}
		}
	}
}

// Every combination of excluded reps and full capacity: Decide either
// names an owner who is not excluded, or fails with ErrNoOwner.
func TestNeverEmptyOwner(t *testing.T) {
	dir := loadDir(t)
	ids := slices.Sorted(maps.Keys(dir.Reps))
	full := map[string]int{}
	for _, id := range ids {
		full[id] = 1000
	}
	for mask := 0; mask < 1<<len(ids); mask++ {
		var excl []string
		for i, id := range ids {
			if mask&(1<<i) != 0 {
				excl = append(excl, id)
			}
		}
		for _, rule := range []Rule{inboundRule, naWestRule, enterpriseRule} {
			for _, load := range []map[string]int{nil, full} {
				d, err := Decide(Request{LeadID: "l", Rules: []Rule{accountRule, rule}, Domain: "initech.com", Exclude: excl, At: holidays},
					Snapshot{Dir: dir, Load: load})
				switch {
				case err != nil && !errors.Is(err, ErrNoOwner):
					t.Fatalf("exclude %v: %v", excl, err)
				case err == nil && (d.OwnerID == "" || slices.Contains(excl, d.OwnerID)):
					t.Fatalf("exclude %v: owner %q", excl, d.OwnerID)
				}
			}
		}
	}
}

func TestNoOwnerWhenEveryoneExcluded(t *testing.T) {
	dir := loadDir(t)
	_, err := Decide(Request{LeadID: "l9", Rules: []Rule{enterpriseRule}, Exclude: []string{"rep-9", "mgr-3"}, At: weekday}, Snapshot{Dir: dir})
	if !errors.Is(err, ErrNoOwner) || !strings.Contains(err.Error(), "l9") {
		t.Errorf("err = %v, want ErrNoOwner naming the lead", err)
	}
}

func TestWeightedSplit(t *testing.T) {
	dir := loadDir(t)
	var cursor int64
	count := map[string]int{}
	var first []string
	for i := 0; i < 300; i++ {
		d, err := Decide(Request{LeadID: "l", Rules: []Rule{naWestRule}, At: weekday},
			Snapshot{Dir: dir, Cursors: map[string]int64{"na-west-sdrs": cursor}})
		if err != nil {
			t.Fatal(err)
		}
		cursor = d.NextCursor
		count[d.OwnerID]++
		if i < 6 {
			first = append(first, d.OwnerID)
		}
	}
	if count["rep-7"] != 200 || count["rep-8"] != 100 || len(count) != 2 {
		t.Errorf("split = %v, want rep-7:200 rep-8:100", count)
	}
	// Smooth: interleaved, not rep-7 twice then rep-8.
	if want := []string{"rep-7", "rep-8", "rep-7", "rep-7", "rep-8", "rep-7"}; !reflect.DeepEqual(first, want) {
		t.Errorf("sequence = %v, want %v", first, want)
	}
}

func TestWeightedRotation(t *testing.T) {
	m := func(ws ...int) []directory.Member {
		var out []directory.Member
		for i, w := range ws {
			out = append(out, directory.Member{RepID: string(rune('a' + i)), Weight: w})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		members []directory.Member
		cursor  int64
		want    []int
	}{
		{"5:1:1 as in nginx", m(5, 1, 1), 0, []int{0, 0, 1, 0, 2, 0, 0}},
		{"rotated", m(2, 1), 1, []int{1, 0, 0}},
		{"negative cursor", m(2, 1), -1, []int{0, 0, 1}},
		{"gcd reduced", m(4, 2), 0, []int{0, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := weightedRotation(tc.members, tc.cursor); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	dir := loadDir(t)
	req := Request{LeadID: "l", Domain: "initech.com", Rules: []Rule{accountRule, naWestRule, inboundRule}, Exclude: []string{"rep-8"}, At: holidays}
	snap := Snapshot{Dir: dir, Load: map[string]int{"rep-7": 20, "rep-1": 2}, Cursors: map[string]int64{"na-west-sdrs": 11, "inbound-sdrs": 3}}
	first, err := Decide(req, snap)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		again, err := Decide(req, snap)
		if err != nil || !reflect.DeepEqual(again, first) {
			t.Fatalf("run %d: %s, %v; first %s", i, js(again), err, js(first))
		}
	}
	// Also byte-identical once encoded, since workflows record it.
	again, _ := Decide(req, snap)
	if js(first) != js(again) {
		t.Errorf("encoding differs")
	}
}

func TestDecideErrors(t *testing.T) {
	dir := loadDir(t)
	badStrategy := withPool(dir, directory.Pool{Name: "odd", Strategy: "random", Members: []directory.Member{{RepID: "rep-1", Weight: 1}}, Fallback: "mgr-1"})
	for _, tc := range []struct {
		name string
		req  Request
		snap Snapshot
		want string
	}{
		{"no directory", Request{LeadID: "l1", Rules: []Rule{inboundRule}}, Snapshot{}, "routing lead l1: no directory"},
		{"unknown pool", Request{LeadID: "l1", Rules: []Rule{{Name: "x", Pool: "nope"}}}, Snapshot{Dir: dir},
			`routing lead l1: rule x: unknown pool "nope"`},
		{"unknown strategy", Request{LeadID: "l1", Rules: []Rule{{Name: "x", Pool: "odd"}}}, Snapshot{Dir: badStrategy},
			`routing lead l1: rule x: pool odd: unknown strategy "random"`},
		{"rule with neither", Request{LeadID: "l1", Rules: []Rule{{Name: "x"}}}, Snapshot{Dir: dir},
			"routing lead l1: rule x has neither account_owner nor pool"},
		{"only an account rule, no account", Request{LeadID: "l1", Domain: "hooli.com", Rules: []Rule{accountRule}}, Snapshot{Dir: dir},
			"routing lead l1: no pool rule among 1 matched rules (the policy's last rule should match everything): routing: no owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide(tc.req, tc.snap)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if d.OwnerID != "" {
				t.Errorf("owner %q with an error", d.OwnerID)
			}
		})
	}
}

func TestDecisionJSON(t *testing.T) {
	dir := loadDir(t)
	d, err := Decide(Request{LeadID: "l", Domain: "initech.com", Rules: []Rule{accountRule}, At: weekday}, Snapshot{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rule":"account_owner","ownerId":"rep-7","managerId":"mgr-2","accountMatch":"initech.com",` +
		`"candidates":[{"repId":"rep-7","chosen":true,"load":0}],"why":"account_owner: rep-7 owns account initech.com","nextCursor":0}`
	if got := js(d); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func BenchmarkDecide(b *testing.B) {
	dir := loadDir(b)
	req := Request{LeadID: "l", Domain: "hooli.com", Rules: []Rule{accountRule, naWestRule, inboundRule}, Exclude: []string{"rep-8"}, At: holidays}
	snap := Snapshot{Dir: dir, Load: map[string]int{"rep-7": 5}, Cursors: map[string]int64{"na-west-sdrs": 0}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		snap.Cursors["na-west-sdrs"] = int64(i)
		if _, err := Decide(req, snap); err != nil {
			b.Fatal(err)
		}
	}
}

func TestForceOwnerAndFallbackOnly(t *testing.T) {
	dir := loadDir(t)
	snap := Snapshot{Dir: dir, Load: map[string]int{}, Cursors: map[string]int64{}}
	at := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	rules := []Rule{{Name: "account_owner", AccountOwner: true}, {Name: "inbound", Territory: "global", Pool: "inbound-sdrs"}}

	d, err := Decide(Request{LeadID: "L1", ForceOwner: "rep-9", Exclude: []string{"rep-9"}, At: at}, snap)
	if err != nil || d.OwnerID != "rep-9" || d.ManagerID != "mgr-3" || d.Rule != "manual" {
		t.Fatalf("force owner: %+v, %v", d, err)
	}
	if _, err := Decide(Request{LeadID: "L1", ForceOwner: "rep-404", At: at}, snap); !errors.Is(err, ErrUnknownRep) {
		t.Fatalf("force unknown rep: want ErrUnknownRep, got %v", err)
	}
	// initech.com is rep-7's account, but FallbackOnly skips account ownership and rotation.
	d, err = Decide(Request{LeadID: "L1", Domain: "initech.com", Rules: rules, FallbackOnly: true, At: at}, snap)
	if err != nil || d.OwnerID != "queue-inbound" || !d.Fallback || d.NextCursor != 0 {
		t.Fatalf("fallback only: %+v, %v", d, err)
	}
}

// A sticky owner is taken when they can take a lead; away, at capacity or
// excluded, the rules decide as if there were none.
func TestPreferOwner(t *testing.T) {
	dir, at := loadDir(t), holidays
	rules := []Rule{{Name: "inbound", Pool: "inbound-sdrs"}}
	d, err := Decide(Request{LeadID: "L", Rules: rules, At: at, PreferOwner: "rep-1"}, Snapshot{Dir: dir})
	if err != nil || d.OwnerID != "rep-1" || d.Rule != "sticky_owner" {
		t.Fatalf("sticky rep-1: %+v %v", d, err)
	}
	d, err = Decide(Request{LeadID: "L", Rules: rules, At: at, PreferOwner: "rep-2"}, Snapshot{Dir: dir})
	if err != nil || d.Rule == "sticky_owner" || d.OwnerID == "rep-2" || !strings.Contains(d.Why, "previous owner rep-2 away") {
		t.Fatalf("away sticky owner taken: %+v %v", d, err)
	}
	d, err = Decide(Request{LeadID: "L", Rules: rules, At: at, PreferOwner: "rep-1", Exclude: []string{"rep-1"}}, Snapshot{Dir: dir})
	if err != nil || d.OwnerID == "rep-1" {
		t.Fatalf("excluded sticky owner taken: %+v %v", d, err)
	}
}
