package lead

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// ScoreItemDecay is the kind (and rule) of the breakdown item that carries
// intent's decay, so that the items add up to the total.
const ScoreItemDecay = "decay"

// DecayedTo is the score as of now: intent is IntentExact halved every
// HalfLife since AsOf, rounded as internal/scoring rounds it (math.Round),
// Total is Fit plus that, and the breakdown's decay item (added when
// absent) takes up the difference so the items still add up to Total. A
// score without a half-life or an AsOf, or a now not after AsOf, is
// returned unchanged. v itself is never modified.
func (v ScoreView) DecayedTo(now time.Time) ScoreView {
	if v.HalfLife == "" || v.AsOf.IsZero() || !now.After(v.AsOf) {
		return v
	}
	hl, ok := parseHalfLife(v.HalfLife)
	if !ok {
		return v // a view this code did not write; show it as it is
	}
	exact := v.IntentExact * math.Pow(0.5, float64(now.Sub(v.AsOf))/float64(hl))
	out := v
	out.AsOf, out.IntentExact = now, exact
	out.Intent = int(math.Round(exact))
	out.Total = out.Fit + out.Intent
	out.Breakdown = make([]ScoreItem, 0, len(v.Breakdown)+1)
	decay, others := -1, 0
	for _, it := range v.Breakdown {
		if it.Kind == ScoreItemDecay && decay < 0 {
			decay = len(out.Breakdown)
		} else {
			others += it.Points
		}
		out.Breakdown = append(out.Breakdown, it)
	}
	if decay < 0 {
		decay = len(out.Breakdown)
		out.Breakdown = append(out.Breakdown, ScoreItem{Rule: ScoreItemDecay, Kind: ScoreItemDecay})
	}
	out.Breakdown[decay].Points = out.Total - others
	return out
}

// parseHalfLife reads a Go duration ("168h0m0s"), or whole days or weeks
// as the policy writes them ("7d", "2w"); ok is false for anything else or
// a duration that is not positive.
func parseHalfLife(s string) (time.Duration, bool) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, d > 0
	}
	unit := 24 * time.Hour
	n, found := strings.CutSuffix(s, "d")
	if !found {
		if n, found = strings.CutSuffix(s, "w"); !found {
			return 0, false
		}
		unit *= 7
	}
	k, err := strconv.Atoi(n)
	if err != nil || k <= 0 {
		return 0, false
	}
	return time.Duration(k) * unit, true
}
