package bench

import (
	"math"
	"testing"
	"time"
)

func ms(n ...int) []time.Duration {
	out := make([]time.Duration, len(n))
	for i, v := range n {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	// 1..100 ms, shuffled order: the p-th percentile is p ms.
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {90, 90 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := Percentile(ds, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if ds[0] != 100*time.Millisecond {
		t.Error("Percentile sorted its argument in place")
	}
	small := ms(30, 10, 20)
	if got := Percentile(small, 50); got != 20*time.Millisecond {
		t.Errorf("p50 of 3 = %v, want 20ms", got)
	}
	if got := Percentile(small, 99); got != 30*time.Millisecond {
		t.Errorf("p99 of 3 = %v, want the max", got)
	}
	if Percentile(nil, 50) != 0 || Max(nil) != 0 {
		t.Error("no samples should give 0")
	}
	if Max(small) != 30*time.Millisecond {
		t.Errorf("Max = %v", Max(small))
	}
}

func TestRatioAndFormatting(t *testing.T) {
	if r := Ratio(30, 10); r != 3 {
		t.Errorf("Ratio(30,10) = %v", r)
	}
	if !math.IsNaN(Ratio(1, 0)) || FormatRatio(Ratio(1, 0)) != "–" {
		t.Error("a zero floor should give no ratio")
	}
	if got := FormatRatio(2.345); got != "2.35×" {
		t.Errorf("FormatRatio = %q", got)
	}
	if got := Ms(34567 * time.Microsecond); got != "34.6 ms" {
		t.Errorf("Ms = %q", got)
	}
	if got := PerSecond(100, 4*time.Second); got != 25 {
		t.Errorf("PerSecond = %v", got)
	}
	if PerSecond(5, 0) != 0 {
		t.Error("PerSecond over no time should be 0")
	}
}

func TestVerdicts(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{AtMost(1.5, 2, "×"), "met"},
		{AtMost(2, 2, "×"), "met"},
		{AtMost(3, 2, "×"), "missed by 1× (50% over)"},
		{AtMost(162, 150, " ms"), "missed by 12 ms (8% over)"},
		{AtLeast(0.95, 0.9, "×"), "met"},
		{AtLeast(0.74, 0.9, "×"), "missed by 0.16× (18% short)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestFreshDatabaseKeepsServerAndOptions(t *testing.T) {
	u, name, err := freshDatabase("postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"; u != want {
		t.Errorf("URL = %q, want %q", u, want)
	}
	if _, _, err := freshDatabase("mysql://x/y"); err == nil {
		t.Error("a non-postgres URL should be refused")
	}
}
