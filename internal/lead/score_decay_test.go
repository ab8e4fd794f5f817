package lead_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

func TestScoreDecayedTo(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	fit := lead.ScoreItem{Rule: "fit:employees", Points: 20, Kind: "fit"}
	quote := lead.ScoreItem{Rule: "quote_request", Points: 40, EventID: "e1", Kind: "intent"}
	pricing := lead.ScoreItem{Rule: "pricing_visit", Points: 10, EventID: "e2", Kind: "intent"}
	decay := func(p int) lead.ScoreItem { return lead.ScoreItem{Rule: "decay", Points: p, Kind: "decay"} }
	// 20 fit + 40 intent as of t0, decay item 0, half-life one day.
	day := lead.ScoreView{Total: 60, Fit: 20, Intent: 40, IntentExact: 40, AsOf: t0, HalfLife: "24h0m0s",
		Breakdown: []lead.ScoreItem{fit, quote, decay(0)}}
	// 45 intent at t0 (items 50, decayed by 5 so far).
	rounding := lead.ScoreView{Total: 65, Fit: 20, Intent: 45, IntentExact: 45, AsOf: t0, HalfLife: "24h",
		Breakdown: []lead.ScoreItem{fit, quote, pricing, decay(-5)}}
	noItem := lead.ScoreView{Total: 5, Intent: 5, IntentExact: 5, AsOf: t0, HalfLife: "1h",
		Breakdown: []lead.ScoreItem{{Rule: "email_click", Points: 5, Kind: "intent"}}}

	for _, tc := range []struct {
		name string
		in   lead.ScoreView
		now  time.Time
		want lead.ScoreView
	}{
		{"one half-life halves intent", day, t0.Add(24 * time.Hour), lead.ScoreView{Total: 40, Fit: 20, Intent: 20, IntentExact: 20,
			AsOf: t0.Add(24 * time.Hour), HalfLife: "24h0m0s", Breakdown: []lead.ScoreItem{fit, quote, decay(-20)}}},
		{"two half-lives quarter it", day, t0.Add(48 * time.Hour), lead.ScoreView{Total: 30, Fit: 20, Intent: 10, IntentExact: 10,
			AsOf: t0.Add(48 * time.Hour), HalfLife: "24h0m0s", Breakdown: []lead.ScoreItem{fit, quote, decay(-30)}}},
		// 45 × 0.5^0.5 = 31.82 → 32; total 52; decay 52 − (20+40+10) = −18.
		{"half a half-life rounds like scoring", rounding, t0.Add(12 * time.Hour), lead.ScoreView{Total: 52, Fit: 20, Intent: 32,
			IntentExact: 45 * 0.7071067811865476, AsOf: t0.Add(12 * time.Hour), HalfLife: "24h",
			Breakdown: []lead.ScoreItem{fit, quote, pricing, decay(-18)}}},
		// 5 × 0.5 = 2.5 → 3 (math.Round: half away from zero); the decay item is created.
		{"a missing decay item is added", noItem, t0.Add(time.Hour), lead.ScoreView{Total: 3, Intent: 3, IntentExact: 2.5,
			AsOf: t0.Add(time.Hour), HalfLife: "1h", Breakdown: []lead.ScoreItem{noItem.Breakdown[0], decay(-2)}}},
		{"now at AsOf: unchanged", day, t0, day},
		{"now before AsOf: unchanged", day, t0.Add(-time.Hour), day},
		{"no half-life: unchanged", func() lead.ScoreView { v := day; v.HalfLife = ""; return v }(), t0.Add(time.Hour),
			func() lead.ScoreView { v := day; v.HalfLife = ""; return v }()},
		{"no AsOf: unchanged", func() lead.ScoreView { v := day; v.AsOf = time.Time{}; return v }(), t0.Add(time.Hour),
			func() lead.ScoreView { v := day; v.AsOf = time.Time{}; return v }()},
		{"a half-life that is not a duration: unchanged", func() lead.ScoreView { v := day; v.HalfLife = "soon"; return v }(), t0.Add(time.Hour),
			func() lead.ScoreView { v := day; v.HalfLife = "soon"; return v }()},
		{"a negative half-life: unchanged", func() lead.ScoreView { v := day; v.HalfLife = "-24h"; return v }(), t0.Add(time.Hour),
			func() lead.ScoreView { v := day; v.HalfLife = "-24h"; return v }()},
		// The policy's own spelling of days and weeks: 1w = 7 days, so 14 days is two half-lives.
		{"days as the policy writes them", func() lead.ScoreView { v := day; v.HalfLife = "1d"; return v }(), t0.Add(24 * time.Hour),
			lead.ScoreView{Total: 40, Fit: 20, Intent: 20, IntentExact: 20, AsOf: t0.Add(24 * time.Hour), HalfLife: "1d",
				Breakdown: []lead.ScoreItem{fit, quote, decay(-20)}}},
		{"weeks as the policy writes them", func() lead.ScoreView { v := day; v.HalfLife = "1w"; return v }(), t0.Add(14 * 24 * time.Hour),
			lead.ScoreView{Total: 30, Fit: 20, Intent: 10, IntentExact: 10, AsOf: t0.Add(14 * 24 * time.Hour), HalfLife: "1w",
				Breakdown: []lead.ScoreItem{fit, quote, decay(-30)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := append([]lead.ScoreItem(nil), tc.in.Breakdown...)
			got := tc.in.DecayedTo(tc.now)
			if math.Abs(got.IntentExact-tc.want.IntentExact) > 1e-9 {
				t.Errorf("IntentExact %v, want %v", got.IntentExact, tc.want.IntentExact)
			}
			got.IntentExact = tc.want.IntentExact
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DecayedTo:\n got %+v\nwant %+v", got, tc.want)
			}
			sum := 0
			for _, it := range got.Breakdown {
				sum += it.Points
			}
			if got.AsOf.Equal(tc.now) && sum != got.Total {
				t.Errorf("breakdown adds up to %d, total %d", sum, got.Total)
			}
			if !reflect.DeepEqual(tc.in.Breakdown, before) {
				t.Errorf("the receiver's breakdown changed: %+v", tc.in.Breakdown)
			}
		})
	}
}
