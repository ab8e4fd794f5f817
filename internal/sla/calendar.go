// Package sla is SLA arithmetic in business time: when a deadline falls, when
// each ladder rung fires, and how much business time a rep took. It is pure:
// no Temporal, no I/O, no clock reads; the same inputs always give the same
// instants, so workflows can call it during replay.
//
// Business time. Only time inside working hours, on working days that are not
// holidays, counts. Days, hours and holidays are those of the calendar's time
// zone: a timestamp is first converted to local wall-clock time, and all
// arithmetic is done on the wall clock. So a 09:00-17:00 day is 8 business
// hours even on a DST-change day, and a deadline on the other side of a DST
// change lands at the right local time with that date's UTC offset. (Only a
// working window that contains the DST transition itself, such as 00:00-24:00,
// sees the skipped or repeated local hour: the repeated hour counts once, and a
// result inside the skipped hour is moved forward by time.Date's rules.)
//
// Durations. A policy duration that is a whole number of days
// (policy.Duration.Days) means that many business days, each the length of one
// working day: "2d" on a 09:00-17:00 calendar is 16 business hours. Any other
// duration ("15m", "4h", "90m", "1h30m") is that much business time.
//
// Boundaries. Working periods are half-open, [Start, End): 09:00 is open, 17:00
// is closed. A count that starts outside business hours starts at the next
// opening (Friday 18:00 + 15m is Monday 09:15). A count that ends exactly at
// closing ends at closing (17:00), not at the next opening. A zero or
// negative duration adds nothing, even outside business hours.
//
// Always (24x7). Every instant counts, a day is 24 real hours, holidays do not
// apply, and Add is plain time.Time.Add: 24h after Sat 12:00 EST across the
// spring-forward night is Sun 13:00 EDT.
//
// Holidays. "US" is the US federal calendar from github.com/rickar/cal/v2/us
// (New Year, MLK, Presidents, Memorial, Juneteenth, Independence, Labor,
// Columbus, Veterans, Thanksgiving, Christmas). "CA", "GB" and "DE" are the national
// calendars of those packages. As in cal's IsHoliday, both the actual date and
// the observed weekday are days off (July 4 2026, a Saturday, is observed on
// Friday July 3). "" or "none" means no holidays.
//
// Results are in the calendar's location. A Calendar is immutable after
// NewCalendar and safe for concurrent use.
package sla

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/leadflow/leadflow/internal/policy"
	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/ca"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/us"
)

const day = 24 * time.Hour

// holidaySets maps a policy holiday code to its cal definitions.
var holidaySets = map[string][]*cal.Holiday{
	"US": us.Holidays,
	"CA": ca.Holidays,
	"GB": gb.Holidays,
	"DE": de.Holidays,
}

// Calendar is a business-hours calendar in one time zone.
type Calendar struct {
	loc      *time.Location
	always   bool
	workdays [7]bool
	start    time.Duration // opening, as wall-clock offset from local midnight
	end      time.Duration // closing, likewise
	dayLen   time.Duration // end - start: what one business day is worth

	holidays []*cal.Holiday
	// years caches, per year, a bitset of holiday YearDays, so the day loops
	// in Add and Elapsed cost a map load rather than a dozen holiday
	// calculations per day. Filled lazily; the values never change.
	years sync.Map // int → *yearSet
}

type yearSet [6]uint64 // bit n: YearDay n (1..366) is a holiday

// NewCalendar validates bh and builds its calendar in loc.
func NewCalendar(bh policy.BusinessHours, loc *time.Location) (*Calendar, error) {
	if loc == nil {
		return nil, errors.New("sla: nil time zone")
	}
	c := &Calendar{loc: loc, always: bh.Always}

	switch code := strings.ToUpper(strings.TrimSpace(bh.Holidays)); code {
	case "", "NONE":
	default:
		hs, ok := holidaySets[code]
		if !ok {
			return nil, fmt.Errorf("sla: unknown holiday calendar %q (want US, CA, GB or none)", bh.Holidays)
		}
		c.holidays = hs
	}
	if c.always {
		// 24x7 ignores days, hours and holidays; the code was still checked
		// above so a typo in the policy is not silently accepted.
		c.holidays = nil
		c.dayLen = day
		return c, nil
	}

	if len(bh.Days) == 0 {
		return nil, errors.New("sla: business hours have no working days")
	}
	for _, d := range bh.Days {
		if d < time.Sunday || d > time.Saturday {
			return nil, fmt.Errorf("sla: bad working day %d", d)
		}
		c.workdays[d] = true
	}
	if bh.Start < 0 || bh.End > 24*60 || bh.End <= bh.Start {
		return nil, fmt.Errorf("sla: bad working hours %s-%s: want 00:00 <= start < end <= 24:00",
			clock(bh.Start), clock(bh.End))
	}
	c.start = time.Duration(bh.Start) * time.Minute
	c.end = time.Duration(bh.End) * time.Minute
	c.dayLen = c.end - c.start
	return c, nil
}

func clock(c policy.Clock) string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// DayLength is what one business day is worth: End-Start, or 24h for Always.
func (c *Calendar) DayLength() time.Duration { return c.dayLen }

// Business is d in business time: whole days become that many working days.
func (c *Calendar) Business(d policy.Duration) time.Duration {
	if n, ok := d.Days(); ok {
		return time.Duration(n) * c.dayLen
	}
	return d.D()
}

// IsOpen reports whether t is inside business hours.
func (c *Calendar) IsOpen(t time.Time) bool {
	if c.always {
		return true
	}
	d, off := c.local(t)
	return c.working(d) && off >= c.start && off < c.end
}

// NextOpen is t if business hours are open at t, else the next opening.
func (c *Calendar) NextOpen(t time.Time) time.Time {
	if c.always {
		return t.In(c.loc)
	}
	d, off := c.local(t)
	if c.working(d) {
		if off < c.start {
			return c.wall(d, c.start)
		}
		if off < c.end {
			return t.In(c.loc)
		}
	}
	return c.wall(c.nextWorking(d), c.start)
}

// Add is the instant at which d of business time has elapsed after start.
func (c *Calendar) Add(start time.Time, d policy.Duration) time.Time {
	return c.AddBusiness(start, c.Business(d))
}

// AddFraction is Add of frac*d, for ladder rungs at fractions of the SLA.
// A frac that is not positive (or NaN) adds nothing.
func (c *Calendar) AddFraction(start time.Time, d policy.Duration, frac float64) time.Time {
	if frac == 1 {
		return c.Add(start, d) // exact, with no float round trip
	}
	if !(frac > 0) {
		return start.In(c.loc)
	}
	f := math.Round(float64(c.Business(d)) * frac)
	if f >= math.MaxInt64 {
		f = math.MaxInt64
	}
	return c.AddBusiness(start, time.Duration(f))
}

// AddBusiness is the instant at which b of business time has elapsed after
// start; b is already in business time (no day conversion).
func (c *Calendar) AddBusiness(start time.Time, b time.Duration) time.Time {
	if b <= 0 {
		return start.In(c.loc)
	}
	if c.always {
		return start.Add(b).In(c.loc)
	}
	d, off := c.local(start)
	if c.working(d) && off < c.end {
		pos := max(off, c.start)
		left := c.end - pos
		if b <= left { // <=: ending exactly at closing returns closing
			return c.wall(d, pos+b)
		}
		b -= left
	}
	// Whole working days from here on: one step per calendar day.
	for {
		d = c.nextWorking(d)
		if b <= c.dayLen {
			return c.wall(d, c.start+b)
		}
		b -= c.dayLen
	}
}

// Elapsed is the business time between from and to; 0 if to is not after from.
func (c *Calendar) Elapsed(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if c.always {
		return to.Sub(from)
	}
	fd, fromOff := c.local(from)
	td, toOff := c.local(to)
	var total time.Duration
	for d := fd; !d.After(td); d = d.Add(day) {
		if !c.working(d) {
			continue
		}
		lo, hi := c.start, c.end
		if d.Equal(fd) {
			lo = max(lo, fromOff)
		}
		if d.Equal(td) {
			hi = min(hi, toOff)
		}
		if hi > lo { // clamps partial days outside hours, and the repeated DST hour
			total += hi - lo
		}
	}
	return total
}

// local splits t into its local civil date (as midnight UTC, so stepping a day
// is a fixed 24h) and its wall-clock offset from local midnight.
func (c *Calendar) local(t time.Time) (date time.Time, off time.Duration) {
	lt := t.In(c.loc)
	y, m, d := lt.Date()
	h, mi, s := lt.Clock()
	off = time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(lt.Nanosecond())
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), off
}

// wall is the instant at wall-clock offset off from local midnight of date.
// time.Date normalizes the nanoseconds on the civil fields before applying
// the zone, which is exactly wall-clock arithmetic.
func (c *Calendar) wall(date time.Time, off time.Duration) time.Time {
	y, m, d := date.Date()
	return time.Date(y, m, d, 0, 0, 0, int(off), c.loc)
}

// nextWorking is the first working date after date. It terminates because a
// calendar has at least one working weekday and holidays are a few a year.
func (c *Calendar) nextWorking(date time.Time) time.Time {
	for {
		date = date.Add(day)
		if c.working(date) {
			return date
		}
	}
}

// working reports whether the civil date (midnight UTC) is a working day.
func (c *Calendar) working(date time.Time) bool {
	return c.workdays[date.Weekday()] && !c.holiday(date)
}

// IsHoliday reports whether t's local date is a holiday of the calendar.
func (c *Calendar) IsHoliday(t time.Time) bool {
	d, _ := c.local(t)
	return c.holiday(d)
}

func (c *Calendar) holiday(date time.Time) bool {
	if len(c.holidays) == 0 {
		return false
	}
	y := date.Year()
	v, ok := c.years.Load(y)
	if !ok {
		v, _ = c.years.LoadOrStore(y, c.buildYear(y))
	}
	n := date.YearDay()
	return v.(*yearSet)[n/64]&(1<<(n%64)) != 0
}

// buildYear collects year y's holidays the way cal.Calendar.IsHoliday matches
// them: the actual date and the observed date, including observed dates that
// fall in y for a neighbouring year's holiday (New Year's Day on a Saturday is
// observed on Friday December 31).
func (c *Calendar) buildYear(y int) *yearSet {
	var s yearSet
	mark := func(t time.Time) {
		if t.IsZero() {
			return
		}
		ty, tm, td := t.Date() // cal returns midnight in cal.DefaultLoc; only the date matters
		if ty != y {
			return
		}
		n := time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC).YearDay()
		s[n/64] |= 1 << (n % 64)
	}
	for _, h := range c.holidays {
		for yy := y - 1; yy <= y+1; yy++ {
			act, obs := h.Calc(yy)
			mark(act)
			mark(obs)
		}
	}
	return &s
}
