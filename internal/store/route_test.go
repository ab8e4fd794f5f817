package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

var (
	accountRule = routing.Rule{Name: "named_accounts", AccountOwner: true}
	westRule    = routing.Rule{Name: "na_west", Territory: "na-west", Pool: "na-west-sdrs"}
	inboundRule = routing.Rule{Name: "inbound", Pool: "inbound-sdrs"}
	// Monday 2026-11-23, 09:00 in Los Angeles, 12:00 in New York.
	monday = date("2026-11-23T17:00:00Z")
)

func routeStore(t *testing.T) *store.DB {
	t.Helper()
	s := storetest.Open(t)
	if err := s.Directory().ImportDirectory(t.Context(), loadDir(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

func load(t *testing.T, s *store.DB, rep, day string) int {
	t.Helper()
	return count(t, s, `SELECT coalesce(sum(assigned), 0) FROM rep_load WHERE rep_id = $1 AND day = $2::date`, rep, day)
}

func cursor(t *testing.T, s *store.DB, pool string) int {
	t.Helper()
	return count(t, s, `SELECT coalesce(max(cursor), 0) FROM pool_cursor WHERE pool = $1`, pool)
}

func TestRouteAccountOwner(t *testing.T) {
	t.Parallel()
	s := routeStore(t)
	d, err := s.Directory().Route(t.Context(), actions.RouteInput{Key: "lead/L1/route-1", LeadID: "L1", Domain: "ana@INITECH.com",
		Rules: []routing.Rule{accountRule, westRule}, At: monday})
	if err != nil {
		t.Fatal(err)
	}
	if d.OwnerID != "rep-7" || d.ManagerID != "mgr-2" || d.AccountMatch != "initech.com" || d.Pool != "" || d.Fallback {
		t.Errorf("decision = %+v", d)
	}
	if n := load(t, s, "rep-7", "2026-11-23"); n != 1 {
		t.Errorf("rep-7 load = %d, want 1", n)
	}
	if c := cursor(t, s, "na-west-sdrs"); c != 0 {
		t.Errorf("cursor moved to %d on an account match", c)
	}
	// No account: the pool rule decides.
	d, err = s.Directory().Route(t.Context(), actions.RouteInput{Key: "lead/L2/route-1", LeadID: "L2", Domain: "example.org",
		Rules: []routing.Rule{accountRule, westRule}, At: monday})
	if err != nil || d.Rule != "na_west" || d.OwnerID != "rep-7" || d.NextCursor != 1 {
		t.Errorf("decision = %+v, %v", d, err)
	}
}

func TestRouteRoundRobinExclusionAway(t *testing.T) {
	t.Parallel()
	s := routeStore(t)
	route := func(key string, in actions.RouteInput) routing.Decision {
		t.Helper()
		in.Key, in.LeadID = "lead/"+key+"/route", key
		if in.At.IsZero() {
			in.At = monday
		}
		if in.Rules == nil {
			in.Rules = []routing.Rule{inboundRule}
		}
		d, err := s.Directory().Route(t.Context(), in)
		if err != nil {
			t.Fatalf("route %s: %v", key, err)
		}
		return d
	}
	var owners []string
	for i := range 4 {
		owners = append(owners, route(fmt.Sprint("L", i), actions.RouteInput{}).OwnerID)
	}
	if want := []string{"rep-1", "rep-2", "rep-1", "rep-2"}; !reflect.DeepEqual(owners, want) {
		t.Errorf("round robin = %v, want %v", owners, want)
	}
	if c := cursor(t, s, "inbound-sdrs"); c != 4 {
		t.Errorf("cursor = %d, want 4", c)
	}
	// Cursor 4 points at rep-1; excluded, so rep-2.
	if d := route("X1", actions.RouteInput{Exclude: []string{"rep-1"}}); d.OwnerID != "rep-2" || d.Fallback {
		t.Errorf("exclude rep-1: %+v", d)
	}
	// Both excluded: the pool's fallback.
	if d := route("X2", actions.RouteInput{Exclude: []string{"rep-1", "rep-2"}}); d.OwnerID != "queue-inbound" || !d.Fallback || d.ManagerID != "mgr-1" {
		t.Errorf("exclude both: %+v", d)
	}
	// Christmas: rep-2 is away, so rep-1 twice.
	xmas := date("2026-12-28T16:00:00Z")
	for _, k := range []string{"A1", "A2"} {
		if d := route(k, actions.RouteInput{At: xmas}); d.OwnerID != "rep-1" {
			t.Errorf("rep-2 away: %s went to %s", k, d.OwnerID)
		}
	}
	if n := load(t, s, "rep-1", "2026-12-28"); n != 2 {
		t.Errorf("rep-1 load on 12-28 = %d, want 2", n)
	}
	if n := load(t, s, "rep-1", "2026-11-23"); n != 2 {
		t.Errorf("rep-1 load on 11-23 = %d, want 2", n)
	}
}

func TestRouteForceOwnerAndFallbackOnly(t *testing.T) {
	t.Parallel()
	s := routeStore(t)
	d, err := s.Directory().Route(t.Context(), actions.RouteInput{Key: "k-force", LeadID: "L1", ForceOwner: "rep-8", At: monday,
		Rules: []routing.Rule{westRule}})
	if err != nil || d.Rule != store.RuleManual || d.OwnerID != "rep-8" || d.ManagerID != "mgr-2" {
		t.Errorf("force owner: %+v, %v", d, err)
	}
	if n := load(t, s, "rep-8", "2026-11-23"); n != 1 {
		t.Errorf("rep-8 load = %d, want 1", n)
	}
	_, err = s.Directory().Route(t.Context(), actions.RouteInput{Key: "k-force-bad", LeadID: "L1", ForceOwner: "rep-404", At: monday})
	if !errors.Is(err, store.ErrUnknownRep) {
		t.Errorf("unknown force owner: %v, want ErrUnknownRep", err)
	}
	if n := count(t, s, `SELECT count(*) FROM route_decisions WHERE key = 'k-force-bad'`); n != 0 {
		t.Error("a failed route stored a decision")
	}

	fb := actions.RouteInput{LeadID: "L1", FallbackOnly: true, At: monday, Rules: []routing.Rule{accountRule, westRule}}
	fb.Key = "k-fb1"
	d, err = s.Directory().Route(t.Context(), fb)
	if err != nil || d.OwnerID != "queue-inbound" || !d.Fallback || d.Pool != "na-west-sdrs" || d.Rule != "na_west" {
		t.Errorf("fallback only: %+v, %v", d, err)
	}
	fb.Key, fb.Exclude = "k-fb2", []string{"queue-inbound"}
	d, err = s.Directory().Route(t.Context(), fb)
	if err != nil || d.OwnerID != "mgr-1" || !d.Fallback {
		t.Errorf("fallback only, fallback excluded: %+v, %v", d, err)
	}
	// Then the first pool member not excluded (routing's fallback chain).
	fb.Key, fb.Exclude = "k-fb3", []string{"queue-inbound", "mgr-1"}
	d, err = s.Directory().Route(t.Context(), fb)
	if err != nil || d.OwnerID != "rep-7" || !d.Fallback {
		t.Errorf("fallback only, fallback and manager excluded: %+v, %v", d, err)
	}
	fb.Key, fb.Exclude = "k-fb4", []string{"queue-inbound", "mgr-1", "rep-7", "rep-8"}
	if _, err = s.Directory().Route(t.Context(), fb); !errors.Is(err, routing.ErrNoOwner) {
		t.Errorf("fallback only, all excluded: %v, want ErrNoOwner", err)
	}
	if c := cursor(t, s, "na-west-sdrs"); c != 0 {
		t.Errorf("fallback moved the cursor to %d", c)
	}

	_, err = s.Directory().Route(t.Context(), actions.RouteInput{Key: "k-pool", LeadID: "L1", At: monday,
		Rules: []routing.Rule{{Name: "r", Pool: "no-such-pool"}}})
	if !errors.Is(err, store.ErrUnknownPool) {
		t.Errorf("unknown pool: %v, want ErrUnknownPool", err)
	}
	if n := count(t, s, `SELECT count(*) FROM pool_cursor WHERE pool = 'no-such-pool'`); n != 0 {
		t.Error("cursor row created for an unknown pool")
	}
}

func TestRouteIdempotentKey(t *testing.T) {
	t.Parallel()
	s := routeStore(t)
	in := actions.RouteInput{Key: "lead/L1/mql-1", LeadID: "L1", Rules: []routing.Rule{westRule}, At: monday}
	first, err := s.Directory().Route(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := s.Directory().Route(t.Context(), in)
		if err != nil || !reflect.DeepEqual(again, first) {
			t.Errorf("retry = %+v, %v; want %+v", again, err, first)
		}
	}
	if c := cursor(t, s, "na-west-sdrs"); c != 1 {
		t.Errorf("cursor = %d, want 1", c)
	}
	if n := load(t, s, first.OwnerID, "2026-11-23"); n != 1 {
		t.Errorf("load = %d, want 1", n)
	}
}

// Capacity counts per rep-local day: 07:30 UTC is still yesterday in Los
// Angeles, 08:30 UTC is a new day there (but the same UTC day).
func TestRouteLoadPerLocalDay(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	if err := s.Directory().ImportDirectory(t.Context(), parseDir(t, `
reps:
  - { id: a, timezone: America/Los_Angeles, capacity_per_day: 1 }
  - { id: q, timezone: UTC }
pools:
  p: { strategy: round_robin, members: [a], fallback: q }
`)); err != nil {
		t.Fatal(err)
	}
	rules := []routing.Rule{{Name: "all", Pool: "p"}}
	for _, tc := range []struct{ key, at, want string }{
		{"1", "2026-11-24T07:00:00Z", "a"},
		{"2", "2026-11-24T07:30:00Z", "q"}, // a at capacity on the 23rd, LA time
		{"3", "2026-11-24T08:30:00Z", "a"}, // the 24th in LA
	} {
		d, err := s.Directory().Route(t.Context(), actions.RouteInput{Key: tc.key, LeadID: "L" + tc.key, Rules: rules, At: date(tc.at)})
		if err != nil || d.OwnerID != tc.want {
			t.Errorf("route %s at %s = %+v, %v; want %s", tc.key, tc.at, d, err, tc.want)
		}
	}
	if a23, a24, q := load(t, s, "a", "2026-11-23"), load(t, s, "a", "2026-11-24"), load(t, s, "q", "2026-11-24"); a23 != 1 || a24 != 1 || q != 1 {
		t.Errorf("loads a@23=%d a@24=%d q@24=%d, want 1 1 1", a23, a24, q)
	}
}

// routeConcurrently routes n leads through na-west-sdrs at once from
// several Stores (as several workers would) and returns the decisions by
// lead index.
func routeConcurrently(t *testing.T, s *store.DB, dbURL string, n int) []routing.Decision {
	t.Helper()
	stores := []*store.DB{s}
	for range 4 {
		o, err := store.Open(t.Context(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(o.Close)
		stores = append(stores, o)
	}
	decisions := make([]routing.Decision, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			decisions[i], errs[i] = stores[i%len(stores)].Directory().Route(t.Context(), actions.RouteInput{
				Key: fmt.Sprintf("lead/C%d/route", i), LeadID: fmt.Sprintf("C%d", i),
				Rules: []routing.Rule{westRule}, At: monday})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("route %d: %v", i, err)
		}
	}
	return decisions
}

// storeWithURL is storetest.Open that also returns the URL.
func storeWithURL(t *testing.T, dirYAML string) (*store.DB, string) {
	t.Helper()
	dbURL := storetest.NewDB(t)
	s, err := store.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Directory().ImportDirectory(t.Context(), parseDir(t, dirYAML)); err != nil {
		t.Fatal(err)
	}
	return s, dbURL
}

const westDir = `
reps:
  - { id: rep-7, manager: mgr-2, timezone: America/Los_Angeles, capacity_per_day: %d }
  - { id: rep-8, manager: mgr-2, timezone: America/Los_Angeles, capacity_per_day: %d }
  - { id: mgr-2, timezone: America/Los_Angeles }
  - { id: mgr-1, timezone: America/New_York }
  - { id: queue-inbound, manager: mgr-1, timezone: America/New_York }
pools:
  na-west-sdrs: { strategy: weighted_round_robin, members: { rep-7: 2, rep-8: 1 }, fallback: queue-inbound }
`

// 50 leads at once through rep-7:2, rep-8:1 with no capacity limit: every
// cursor 0..49 is used exactly once and each lead goes to the rep the smooth
// weighted sequence (rep-7, rep-8, rep-7, ...) puts at its cursor, 33/17.
func TestRouteConcurrentWeightedSplit(t *testing.T) {
	t.Parallel()
	s, dbURL := storeWithURL(t, fmt.Sprintf(westDir, 0, 0))
	const n = 50
	decisions := routeConcurrently(t, s, dbURL, n)

	seq := []string{"rep-7", "rep-8", "rep-7"}
	seen := map[int64]bool{}
	got := map[string]int{}
	for i, d := range decisions {
		c := d.NextCursor - 1
		if c < 0 || c >= n || seen[c] {
			t.Errorf("lead %d: cursor %d used twice or out of range", i, c)
		}
		seen[c] = true
		if want := seq[c%3]; d.OwnerID != want {
			t.Errorf("lead %d at cursor %d went to %s, want %s", i, c, d.OwnerID, want)
		}
		got[d.OwnerID]++
	}
	if want := map[string]int{"rep-7": 33, "rep-8": 17}; !reflect.DeepEqual(got, want) {
		t.Errorf("split = %v, want %v", got, want)
	}
	if c := cursor(t, s, "na-west-sdrs"); c != n {
		t.Errorf("cursor = %d, want %d", c, n)
	}
	for rep, k := range got {
		if l := load(t, s, rep, "2026-11-23"); l != k {
			t.Errorf("%s load = %d, want %d (its assignments)", rep, l, k)
		}
	}
	if k := count(t, s, `SELECT count(*) FROM route_decisions`); k != n {
		t.Errorf("decisions = %d, want %d", k, n)
	}

	// A retry of one of them changes nothing.
	again, err := s.Directory().Route(t.Context(), actions.RouteInput{Key: "lead/C7/route", LeadID: "C7", Rules: []routing.Rule{westRule}, At: monday})
	if err != nil || !reflect.DeepEqual(again, decisions[7]) {
		t.Errorf("retry = %+v, %v; want %+v", again, err, decisions[7])
	}
	if c := cursor(t, s, "na-west-sdrs"); c != n {
		t.Errorf("cursor after retry = %d, want %d", c, n)
	}
	if l := load(t, s, "rep-7", "2026-11-23") + load(t, s, "rep-8", "2026-11-23"); l != n {
		t.Errorf("total load after retry = %d, want %d", l, n)
	}
}

// The same with the file's capacity of 20 a day each: both fill exactly to
// 20 and the other 10 go to the fallback queue, which does not move the
// rotation.
func TestRouteConcurrentCapacity(t *testing.T) {
	t.Parallel()
	s, dbURL := storeWithURL(t, fmt.Sprintf(westDir, 20, 20))
	decisions := routeConcurrently(t, s, dbURL, 50)
	got := map[string]int{}
	fallbacks := 0
	for _, d := range decisions {
		got[d.OwnerID]++
		if d.Fallback {
			fallbacks++
		}
	}
	if want := map[string]int{"rep-7": 20, "rep-8": 20, "queue-inbound": 10}; !reflect.DeepEqual(got, want) {
		t.Errorf("split = %v, want %v", got, want)
	}
	if fallbacks != 10 {
		t.Errorf("fallback decisions = %d, want 10", fallbacks)
	}
	if c := cursor(t, s, "na-west-sdrs"); c != 40 {
		t.Errorf("cursor = %d, want 40", c)
	}
	for rep, k := range got {
		if l := load(t, s, rep, "2026-11-23"); l != k {
			t.Errorf("%s load = %d, want %d", rep, l, k)
		}
	}
}
