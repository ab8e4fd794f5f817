package metrics

import (
	"math"
	"slices"
	"time"
)

// dist is the distribution of xs: p50 and p90 interpolated between the
// nearest ranks (as Postgres' percentile_cont), max the largest.
func dist(xs []float64) Dist {
	if len(xs) == 0 {
		return Dist{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return Dist{N: len(s), P50: percentile(s, 0.5), P90: percentile(s, 0.9), Max: s[len(s)-1]}
}

// percentile of sorted s, linear between ranks: rank p*(n-1).
func percentile(s []float64, p float64) float64 {
	rank := p * float64(len(s)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return s[lo] + (rank-float64(lo))*(s[hi]-s[lo])
}

// TTFTBuckets are the upper bounds of the time-to-first-touch histogram
// (business time); the last bucket has no upper bound.
var TTFTBuckets = []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
	4 * time.Hour, 8 * time.Hour, 24 * time.Hour}

// Label is "< 15m", "30m–1h", "≥ 1d".
func (b Bucket) Label() string {
	switch {
	case b.HiSeconds == 0:
		return "≥ " + HumanSeconds(b.LoSeconds)
	case b.LoSeconds == 0:
		return "< " + HumanSeconds(b.HiSeconds)
	}
	return HumanSeconds(b.LoSeconds) + "–" + HumanSeconds(b.HiSeconds)
}

func newHistogram() []Bucket {
	out := make([]Bucket, len(TTFTBuckets)+1)
	for i := range out {
		if i > 0 {
			out[i].LoSeconds = TTFTBuckets[i-1].Seconds()
		}
		if i < len(TTFTBuckets) {
			out[i].HiSeconds = TTFTBuckets[i].Seconds()
		}
	}
	return out
}

// bucketOf is the histogram bucket [Lo, Hi) of s seconds.
func bucketOf(s float64) int {
	for i, b := range TTFTBuckets {
		if s < b.Seconds() {
			return i
		}
	}
	return len(TTFTBuckets)
}

// MaxWeeks bounds the weeks of a period (one year).
const MaxWeeks = 53

// Weeks splits p into 7-day weeks from p.From; the last may be shorter.
func Weeks(p Period) []WeekSLA {
	var out []WeekSLA
	for from := p.From; from.Before(p.To) && len(out) < MaxWeeks; from = from.AddDate(0, 0, 7) {
		to := from.AddDate(0, 0, 7)
		if to.After(p.To) {
			to = p.To
		}
		out = append(out, WeekSLA{From: from.UTC(), To: to.UTC()})
	}
	return out
}

// reasonCounts lists reasons most frequent first, then by name, each with
// its share of all of them.
func reasonCounts(m map[string]int) []ReasonCount {
	total := 0
	for _, n := range m {
		total += n
	}
	out := make([]ReasonCount, 0, len(m))
	for reason, n := range m {
		out = append(out, ReasonCount{Reason: reason, Count: n, Share: ratio(n, total)})
	}
	slices.SortFunc(out, func(a, b ReasonCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return cmpString(a.Reason, b.Reason)
	})
	return out
}

func sortBy[T any](s []T, key func(T) string) {
	slices.SortFunc(s, func(a, b T) int { return cmpString(key(a), key(b)) })
}
