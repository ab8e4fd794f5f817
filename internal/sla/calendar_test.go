package sla

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/policy"
	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/ca"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/us"
)

var ny = mustLoad("America/New_York")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

// officeHours is the policy example: mon-fri 09:00-17:00, US holidays.
func officeHours() policy.BusinessHours {
	return policy.BusinessHours{Days: weekdays, Start: 9 * 60, End: 17 * 60, Holidays: "US"}
}

func newCal(t testing.TB, bh policy.BusinessHours, loc *time.Location) *Calendar {
	t.Helper()
	c, err := NewCalendar(bh, loc)
	if err != nil {
		t.Fatalf("NewCalendar: %v", err)
	}
	return c
}

// at is a New York wall-clock time.
func at(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, ny) }

func dur(s string) policy.Duration { return policy.MustDuration(s) }

// sameInstant fails unless got is want's instant, in the calendar's zone with
// want's UTC offset (so DST is visible in the failure, not just the instant).
func sameInstant(t *testing.T, got, want time.Time) {
	t.Helper()
	_, gotOff := got.Zone()
	_, wantOff := want.Zone()
	if !got.Equal(want) || gotOff != wantOff || got.Location() != want.Location() {
		t.Errorf("got %s, want %s", got.Format(time.RFC3339+" Mon MST"), want.Format(time.RFC3339+" Mon MST"))
	}
}

func TestAdd(t *testing.T) {
	c := newCal(t, officeHours(), ny)
	for _, tc := range []struct {
		name  string
		start time.Time
		d     string
		want  time.Time
	}{
		{"inside hours", at(2026, 11, 16, 10, 0), "15m", at(2026, 11, 16, 10, 15)},
		{"spills to next morning", at(2026, 11, 16, 16, 50), "15m", at(2026, 11, 17, 9, 5)},
		{"spills over weekend", at(2026, 11, 13, 16, 0), "4h", at(2026, 11, 16, 12, 0)},
		{"starts on Saturday", at(2026, 11, 14, 11, 0), "15m", at(2026, 11, 16, 9, 15)},
		{"starts Friday evening", at(2026, 11, 13, 18, 0), "15m", at(2026, 11, 16, 9, 15)},
		{"starts before opening", at(2026, 11, 16, 7, 30), "15m", at(2026, 11, 16, 9, 15)},
		{"starts exactly at closing", at(2026, 11, 16, 17, 0), "15m", at(2026, 11, 17, 9, 15)},
		{"ends exactly at closing", at(2026, 11, 16, 16, 45), "15m", at(2026, 11, 16, 17, 0)},
		{"ends at closing after full day", at(2026, 11, 16, 10, 0), "7h", at(2026, 11, 16, 17, 0)},
		{"1d from opening is closing", at(2026, 11, 16, 9, 0), "1d", at(2026, 11, 16, 17, 0)},
		{"90m over night", at(2026, 11, 16, 16, 0), "90m", at(2026, 11, 17, 9, 30)},
		{"1h30m", at(2026, 11, 16, 9, 0), "1h30m", at(2026, 11, 16, 10, 30)},
		{"9h spans two days", at(2026, 11, 16, 10, 0), "9h", at(2026, 11, 17, 11, 0)},
		{"thanksgiving skipped", at(2026, 11, 25, 16, 0), "4h", at(2026, 11, 27, 12, 0)},
		{"christmas (Fri) skipped", at(2026, 12, 24, 16, 0), "4h", at(2026, 12, 28, 12, 0)},
		{"observed July 4 (Fri Jul 3) skipped", at(2026, 7, 2, 16, 0), "4h", at(2026, 7, 6, 12, 0)},
		{"new year 2027 skipped", at(2026, 12, 31, 16, 0), "4h", at(2027, 1, 4, 12, 0)},
		{"new year 2028 observed Fri Dec 31 2027", at(2027, 12, 30, 16, 0), "4h", at(2028, 1, 3, 12, 0)},
		{"MLK day skipped", at(2026, 1, 16, 16, 0), "4h", at(2026, 1, 20, 12, 0)},
		{"2d from Monday", at(2026, 11, 16, 10, 0), "2d", at(2026, 11, 18, 10, 0)},
		{"2d from Friday", at(2026, 3, 13, 10, 0), "2d", at(2026, 3, 17, 10, 0)},
		{"2d from Saturday", at(2026, 3, 14, 10, 0), "2d", at(2026, 3, 17, 17, 0)},
		{"1w is 7 business days", at(2026, 3, 2, 9, 0), "1w", at(2026, 3, 10, 17, 0)},
		{"30d skips weekends and holidays", at(2026, 11, 16, 10, 0), "30d", at(2026, 12, 30, 10, 0)},
		{"DST spring forward", at(2026, 3, 6, 16, 0), "4h", at(2026, 3, 9, 12, 0)},
		{"DST fall back", at(2026, 10, 30, 16, 0), "4h", at(2026, 11, 2, 12, 0)},
		{"DST spring forward, 1d", at(2026, 3, 6, 13, 0), "1d", at(2026, 3, 9, 13, 0)},
		{"start given in UTC", time.Date(2026, 11, 16, 15, 0, 0, 0, time.UTC), "15m", at(2026, 11, 16, 10, 15)},
		{"start given in UTC, local date differs", time.Date(2026, 11, 17, 2, 0, 0, 0, time.UTC), "15m", at(2026, 11, 17, 9, 15)},
		{"sub-minute precision", time.Date(2026, 11, 16, 16, 59, 30, 5, ny), "1m", time.Date(2026, 11, 17, 9, 0, 30, 5, ny)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sameInstant(t, c.Add(tc.start, dur(tc.d)), tc.want)
		})
	}

	// The DST cases, spelled in UTC so the offset is checked independently.
	if got, want := c.Add(at(2026, 3, 6, 16, 0), dur("4h")), time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("spring forward: got %s, want %s (12:00 EDT)", got.UTC(), want)
	}
	if got, want := c.Add(at(2026, 10, 30, 16, 0), dur("4h")), time.Date(2026, 11, 2, 17, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("fall back: got %s, want %s (12:00 EST)", got.UTC(), want)
	}

	t.Run("zero duration adds nothing", func(t *testing.T) {
		s := at(2026, 11, 14, 11, 0) // Saturday
		sameInstant(t, c.Add(s, 0), s)
		sameInstant(t, c.AddBusiness(s, -time.Hour), s)
	})
}

func TestAlways(t *testing.T) {
	c := newCal(t, policy.BusinessHours{Always: true}, ny)
	sat := at(2026, 3, 7, 12, 0) // EST; DST starts Sun Mar 8 02:00
	for _, d := range []string{"24h", "1d"} {
		got := c.Add(sat, dur(d))
		sameInstant(t, got, at(2026, 3, 8, 13, 0))
		if _, off := got.Zone(); off != -4*3600 {
			t.Errorf("%s: offset %d, want EDT", d, off)
		}
		if e := c.Elapsed(sat, got); e != 24*time.Hour {
			t.Errorf("%s: Elapsed %s, want 24h real time", d, e)
		}
	}
	thanksgiving := at(2026, 11, 26, 3, 0)
	sameInstant(t, c.Add(thanksgiving, dur("15m")), at(2026, 11, 26, 3, 15))
	if !c.IsOpen(thanksgiving) || !c.IsOpen(at(2026, 11, 29, 23, 0)) {
		t.Error("24x7 must be open on holidays and Sundays")
	}
	sameInstant(t, c.NextOpen(thanksgiving), thanksgiving)
	sameInstant(t, c.AddFraction(sat, dur("4h"), 1.5), at(2026, 3, 7, 18, 0))
	if c.DayLength() != 24*time.Hour {
		t.Errorf("DayLength %s", c.DayLength())
	}
}

func TestElapsed(t *testing.T) {
	c := newCal(t, officeHours(), ny)
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     time.Duration
	}{
		{"across a weekend", at(2026, 11, 13, 16, 0), at(2026, 11, 16, 10, 0), 2 * time.Hour},
		{"same day", at(2026, 11, 16, 10, 0), at(2026, 11, 16, 10, 15), 15 * time.Minute},
		{"from before opening", at(2026, 11, 16, 6, 0), at(2026, 11, 16, 9, 30), 30 * time.Minute},
		{"to after closing", at(2026, 11, 16, 16, 0), at(2026, 11, 16, 20, 0), time.Hour},
		{"whole weekend only", at(2026, 11, 14, 8, 0), at(2026, 11, 15, 20, 0), 0},
		{"over thanksgiving", at(2026, 11, 25, 16, 0), at(2026, 11, 27, 12, 0), 4 * time.Hour},
		{"full week", at(2026, 3, 2, 0, 0), at(2026, 3, 9, 0, 0), 40 * time.Hour},
		{"across DST fall back", at(2026, 10, 30, 16, 0), at(2026, 11, 2, 12, 0), 4 * time.Hour},
		{"across DST spring forward", at(2026, 3, 6, 16, 0), at(2026, 3, 9, 12, 0), 4 * time.Hour},
		{"to before from", at(2026, 11, 16, 12, 0), at(2026, 11, 16, 10, 0), 0},
		{"to equals from", at(2026, 11, 16, 12, 0), at(2026, 11, 16, 12, 0), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Elapsed(tc.from, tc.to); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// refAdd is the obvious, slow definition: walk minute by minute and count the
// minutes that are open, judged with cal directly (not with Calendar).
func refAdd(hol *cal.Calendar, start time.Time, b time.Duration) time.Time {
	t := start.In(ny)
	var lastDay, lastOff int // ask cal once per date: it is slow, and this loop is long
	for b > 0 {
		lt := t.In(ny)
		wd := lt.Weekday()
		if yd := lt.Year()*1000 + lt.YearDay(); yd != lastDay {
			act, obs, _ := hol.IsHoliday(lt)
			lastDay, lastOff = yd, 0
			if act || obs {
				lastOff = 1
			}
		}
		if wd != time.Saturday && wd != time.Sunday && lastOff == 0 && lt.Hour() >= 9 && lt.Hour() < 17 {
			b -= time.Minute
		}
		t = t.Add(time.Minute)
	}
	return t
}

// TestAddProperties checks Add against refAdd and Elapsed, and that every
// result is an open instant or a closing time, over deterministic random input.
func TestAddProperties(t *testing.T) {
	c := newCal(t, officeHours(), ny)
	hol := &cal.Calendar{}
	hol.AddHoliday(us.Holidays...)
	r := rand.New(rand.NewPCG(20261122, 1))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, ny).Unix()
	span := time.Date(2029, 1, 1, 0, 0, 0, 0, ny).Unix() - base
	named := []string{"15m", "90m", "4h", "8h", "1d", "2d", "14d", "30d", "1h30m"}

	for i := range 3000 {
		start := time.Unix(base+r.Int64N(span), int64(r.IntN(1000))*int64(time.Millisecond))
		var d policy.Duration
		if i%2 == 0 {
			d = dur(named[r.IntN(len(named))])
		} else {
			d = policy.Duration(time.Duration(1+r.IntN(3*8*60)) * time.Minute)
		}
		b := c.Business(d)
		got := c.Add(start, d)

		if e := c.Elapsed(start, got); e != b {
			t.Fatalf("Elapsed(%s, Add(+%s)=%s) = %s, want %s", start.In(ny), d, got, e, b)
		}
		if !got.After(start) {
			t.Fatalf("Add(%s, %s) = %s, not after start", start.In(ny), d, got)
		}
		lt := got.In(ny)
		closing := lt.Hour() == 17 && lt.Minute() == 0 && lt.Second() == 0 && lt.Nanosecond() == 0
		if !c.IsOpen(got) && !(closing && c.IsOpen(got.Add(-time.Nanosecond))) {
			t.Fatalf("Add(%s, %s) = %s: neither open nor a closing time", start.In(ny), d, got)
		}
		if e := c.Elapsed(start, c.NextOpen(start)); e != 0 {
			t.Fatalf("Elapsed to NextOpen(%s) = %s", start.In(ny), e)
		}
		// The reference is minute-stepped, so compare minute-aligned, short cases.
		if i < 400 && b <= 2*8*time.Hour {
			ms := start.Truncate(time.Minute)
			if want := refAdd(hol, ms, b); !c.Add(ms, d).Equal(want) {
				t.Fatalf("Add(%s, %s) = %s, reference %s", ms.In(ny), d, c.Add(ms, d), want.In(ny))
			}
		}
	}
}

func TestAddFraction(t *testing.T) {
	c := newCal(t, officeHours(), ny)
	mon := at(2026, 11, 16, 9, 0)
	for _, tc := range []struct {
		frac float64
		want time.Time
	}{
		{0.5, at(2026, 11, 16, 11, 0)},
		{1.0, at(2026, 11, 16, 13, 0)},
		{1.5, at(2026, 11, 16, 15, 0)},
		{3, at(2026, 11, 17, 13, 0)},
		{0, mon},
		{-1, mon},
	} {
		t.Run(fmt.Sprint(tc.frac), func(t *testing.T) {
			sameInstant(t, c.AddFraction(mon, dur("4h"), tc.frac), tc.want)
		})
	}
	// Fractions of a day-based SLA are fractions of business days.
	sameInstant(t, c.AddFraction(at(2026, 11, 16, 10, 0), dur("2d"), 0.5), at(2026, 11, 17, 10, 0))
	sameInstant(t, c.AddFraction(at(2026, 11, 16, 10, 0), dur("15m"), 0.5), time.Date(2026, 11, 16, 10, 7, 30, 0, ny))
}

func TestLadder(t *testing.T) {
	c := newCal(t, officeHours(), ny)
	steps := []policy.LadderStep{
		{At: 0.5, Action: policy.ActionRemind},
		{At: 1.0, Action: policy.ActionEscalate},
		{At: 1.5, Action: policy.ActionReassign},
	}
	for _, tc := range []struct {
		name   string
		start  time.Time
		within string
		want   []time.Time
	}{
		{"4h from Monday opening", at(2026, 11, 16, 9, 0), "4h",
			[]time.Time{at(2026, 11, 16, 11, 0), at(2026, 11, 16, 13, 0), at(2026, 11, 16, 15, 0)}},
		{"15m straddling the weekend", at(2026, 11, 13, 16, 55), "15m",
			[]time.Time{time.Date(2026, 11, 16, 9, 2, 30, 0, ny), at(2026, 11, 16, 9, 10), time.Date(2026, 11, 16, 9, 17, 30, 0, ny)}},
		{"2d acceptance", at(2026, 11, 16, 10, 0), "2d",
			[]time.Time{at(2026, 11, 17, 10, 0), at(2026, 11, 18, 10, 0), at(2026, 11, 19, 10, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Ladder(c, tc.start, dur(tc.within), steps)
			if len(got) != 3 {
				t.Fatalf("got %d steps, want 3", len(got))
			}
			for i, s := range got {
				if s.Index != i || s.Action != steps[i].Action {
					t.Errorf("step %d = %+v", i, s)
				}
				sameInstant(t, s.At, tc.want[i])
			}
			if !got[1].At.Equal(c.Add(tc.start, dur(tc.within))) {
				t.Errorf("rung 1.0 %s is not the deadline %s", got[1].At, c.Add(tc.start, dur(tc.within)))
			}
		})
	}
	if got := Ladder(c, at(2026, 11, 16, 9, 0), dur("4h"), nil); len(got) != 0 {
		t.Errorf("empty ladder: %v", got)
	}
}

func TestIsOpenAndNextOpen(t *testing.T) {
	c := newCal(t, officeHours(), ny)
	for _, tc := range []struct {
		name string
		t    time.Time
		open bool
		next time.Time
	}{
		{"opening", at(2026, 11, 16, 9, 0), true, at(2026, 11, 16, 9, 0)},
		{"last minute", at(2026, 11, 16, 16, 59), true, at(2026, 11, 16, 16, 59)},
		{"closing", at(2026, 11, 16, 17, 0), false, at(2026, 11, 17, 9, 0)},
		{"before opening", at(2026, 11, 16, 8, 59), false, at(2026, 11, 16, 9, 0)},
		{"saturday", at(2026, 11, 14, 12, 0), false, at(2026, 11, 16, 9, 0)},
		{"friday evening", at(2026, 11, 13, 18, 0), false, at(2026, 11, 16, 9, 0)},
		{"thanksgiving", at(2026, 11, 26, 10, 0), false, at(2026, 11, 27, 9, 0)},
		{"wednesday before thanksgiving, closed", at(2026, 11, 25, 17, 0), false, at(2026, 11, 27, 9, 0)},
		{"observed July 4", at(2026, 7, 3, 10, 0), false, at(2026, 7, 6, 9, 0)},
		{"christmas", at(2026, 12, 25, 10, 0), false, at(2026, 12, 28, 9, 0)},
		{"thanksgiving by local date, not UTC", time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC), false, at(2026, 11, 27, 9, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.IsOpen(tc.t); got != tc.open {
				t.Errorf("IsOpen = %v, want %v", got, tc.open)
			}
			sameInstant(t, c.NextOpen(tc.t), tc.next)
		})
	}
	if !c.IsHoliday(at(2026, 11, 26, 12, 0)) || !c.IsHoliday(at(2026, 7, 3, 12, 0)) || c.IsHoliday(at(2026, 11, 27, 12, 0)) {
		t.Error("IsHoliday wrong for Thanksgiving / observed July 4 / day after Thanksgiving")
	}
	if c.IsHoliday(at(2026, 7, 4, 12, 0)) != true {
		t.Error("the actual date of a shifted holiday is a holiday too (as in cal)")
	}
}

// TestWallClockDay pins the documented DST behaviour of a window that spans
// the transition: a business day is its wall-clock length.
func TestWallClockDay(t *testing.T) {
	all := []time.Weekday{0, 1, 2, 3, 4, 5, 6}
	c := newCal(t, policy.BusinessHours{Days: all, Start: 0, End: 24 * 60}, ny)
	sun := at(2026, 3, 8, 0, 0) // 23 real hours long
	sameInstant(t, c.Add(sun, dur("1d")), at(2026, 3, 9, 0, 0))
	if e := c.Elapsed(sun, at(2026, 3, 9, 0, 0)); e != 24*time.Hour {
		t.Errorf("Elapsed over spring-forward day = %s, want 24h of wall clock", e)
	}
}

func TestOtherZoneAndCalendars(t *testing.T) {
	london := mustLoad("Europe/London")
	c := newCal(t, policy.BusinessHours{Days: weekdays, Start: 9 * 60, End: 17*60 + 30, Holidays: "GB"}, london)
	// Boxing Day 2026 is a Saturday: observed Monday Dec 28; Christmas Fri Dec 25.
	sameInstant(t, c.Add(time.Date(2026, 12, 24, 17, 30, 0, 0, london), dur("1h")), time.Date(2026, 12, 29, 10, 0, 0, 0, london))
	if c.DayLength() != 8*time.Hour+30*time.Minute {
		t.Errorf("DayLength = %s", c.DayLength())
	}
	sameInstant(t, c.Add(time.Date(2026, 12, 29, 9, 0, 0, 0, london), dur("1d")), time.Date(2026, 12, 29, 17, 30, 0, 0, london))

	toronto := mustLoad("America/Toronto")
	cc := newCal(t, policy.BusinessHours{Days: weekdays, Start: 9 * 60, End: 17 * 60, Holidays: "CA"}, toronto)
	if cc.IsOpen(time.Date(2026, 7, 1, 10, 0, 0, 0, toronto)) {
		t.Error("Canada Day should be closed")
	}
	// The same instant on a US calendar in Toronto's zone is open.
	cu := newCal(t, officeHours(), toronto)
	if !cu.IsOpen(time.Date(2026, 7, 1, 10, 0, 0, 0, toronto)) {
		t.Error("July 1 is not a US holiday")
	}
}

// TestHolidaysMatchCal checks the per-year cache against cal's own IsHoliday
// for every day of many years, including observed days that cross a year end.
func TestHolidaysMatchCal(t *testing.T) {
	for code, hs := range map[string][]*cal.Holiday{"US": us.Holidays, "CA": ca.Holidays, "GB": gb.Holidays} {
		c := newCal(t, policy.BusinessHours{Days: weekdays, Start: 540, End: 1020, Holidays: code}, time.UTC)
		ref := &cal.Calendar{}
		ref.AddHoliday(hs...)
		n := 0
		for d := time.Date(2015, 1, 1, 12, 0, 0, 0, time.UTC); d.Year() < 2041; d = d.AddDate(0, 0, 1) {
			act, obs, _ := ref.IsHoliday(d)
			got := c.IsHoliday(d)
			if got != (act || obs) {
				t.Errorf("%s %s: IsHoliday = %v, cal says %v", code, d.Format("Mon 2006-01-02"), got, act || obs)
			}
			if got {
				n++
			}
		}
		if n < 26*8 { // sanity: the cache is not just empty
			t.Errorf("%s: only %d holidays in 26 years", code, n)
		}
	}
}

func TestNewCalendar(t *testing.T) {
	ok := officeHours()
	for _, tc := range []struct {
		name string
		bh   func(*policy.BusinessHours)
		loc  *time.Location
		err  bool
	}{
		{"example policy", func(*policy.BusinessHours) {}, ny, false},
		{"no holidays", func(b *policy.BusinessHours) { b.Holidays = "" }, ny, false},
		{"none", func(b *policy.BusinessHours) { b.Holidays = "none" }, ny, false},
		{"lower case", func(b *policy.BusinessHours) { b.Holidays = "us" }, ny, false},
		{"CA", func(b *policy.BusinessHours) { b.Holidays = "CA" }, ny, false},
		{"GB", func(b *policy.BusinessHours) { b.Holidays = "GB" }, ny, false},
		{"until midnight", func(b *policy.BusinessHours) { b.End = 24 * 60 }, ny, false},
		{"always without days", func(b *policy.BusinessHours) { *b = policy.BusinessHours{Always: true} }, ny, false},
		{"unknown holidays", func(b *policy.BusinessHours) { b.Holidays = "XX" }, ny, true},
		{"always, unknown holidays", func(b *policy.BusinessHours) { b.Always, b.Holidays = true, "XX" }, ny, true},
		{"no working days", func(b *policy.BusinessHours) { b.Days = nil }, ny, true},
		{"bad weekday", func(b *policy.BusinessHours) { b.Days = []time.Weekday{7} }, ny, true},
		{"end before start", func(b *policy.BusinessHours) { b.Start, b.End = 17*60, 9*60 }, ny, true},
		{"end equals start", func(b *policy.BusinessHours) { b.End = b.Start }, ny, true},
		{"zero hours", func(b *policy.BusinessHours) { b.Start, b.End = 0, 0 }, ny, true},
		{"negative start", func(b *policy.BusinessHours) { b.Start = -1 }, ny, true},
		{"end past midnight", func(b *policy.BusinessHours) { b.End = 24*60 + 1 }, ny, true},
		{"nil location", func(*policy.BusinessHours) {}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bh := ok
			bh.Days = append([]time.Weekday(nil), ok.Days...)
			tc.bh(&bh)
			_, err := NewCalendar(bh, tc.loc)
			if (err != nil) != tc.err {
				t.Errorf("err = %v, want error: %v", err, tc.err)
			}
		})
	}
}

// TestConcurrent shares one calendar between goroutines filling its holiday
// cache for different years at once (run with -race).
func TestConcurrent(t *testing.T) {
	c := newCal(t, officeHours(), ny)
	want := make([]time.Time, 8)
	for i := range want {
		want[i] = refAdd(func() *cal.Calendar { h := &cal.Calendar{}; h.AddHoliday(us.Holidays...); return h }(),
			at(2030+i, 12, 24, 16, 0), 4*time.Hour)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range want {
				k := (i + g) % len(want)
				if got := c.Add(at(2030+k, 12, 24, 16, 0), dur("4h")); !got.Equal(want[k]) {
					t.Errorf("year %d: got %s, want %s", 2030+k, got, want[k])
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkAdd(b *testing.B) {
	c := newCal(b, officeHours(), ny)
	starts := make([]time.Time, 256)
	for i := range starts {
		starts[i] = at(2026, 1, 1, 0, 0).Add(time.Duration(i) * 37 * time.Hour)
	}
	for _, d := range []string{"4h", "30d"} {
		b.Run(d, func(b *testing.B) {
			pd := dur(d)
			i := 0
			for b.Loop() {
				c.Add(starts[i%len(starts)], pd)
				i++
			}
		})
	}
}
