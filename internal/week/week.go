// Package week is the calendar arithmetic of the weekly report: weeks run
// Monday 00:00 to the next Monday 00:00 in a time zone. Pure: no clock, no
// I/O beyond the time zone database, so the workflow may call it.
package week

import (
	"fmt"
	"time"
)

// Span is the half-open week [From, To).
type Span struct {
	From time.Time
	To   time.Time
}

// Last is the last full week in loc before the week that contains now.
func Last(now time.Time, loc *time.Location) Span {
	if loc == nil {
		loc = time.UTC
	}
	n := now.In(loc)
	back := (int(n.Weekday()) + 6) % 7 // days since Monday
	monday := time.Date(n.Year(), n.Month(), n.Day()-back, 0, 0, 0, 0, loc)
	return Span{From: monday.AddDate(0, 0, -7), To: monday}
}

// Reported is the week a report run at now covers: the week starting on
// monday (YYYY-MM-DD, a manual rerun or backfill), or when monday is "",
// the last full week before now. The week runs in timezone (IANA; "" is
// UTC).
func Reported(timezone, monday string, now time.Time) (Span, error) {
	loc := time.UTC
	if timezone != "" {
		l, err := time.LoadLocation(timezone)
		if err != nil {
			return Span{}, fmt.Errorf("weekly report: time zone %q: %w", timezone, err)
		}
		loc = l
	}
	if monday == "" {
		return Last(now, loc), nil
	}
	d, err := time.ParseInLocation("2006-01-02", monday, loc)
	if err != nil || d.Weekday() != time.Monday {
		return Span{}, fmt.Errorf("weekly report: week %q is not a Monday (YYYY-MM-DD)", monday)
	}
	return Span{From: d, To: d.AddDate(0, 0, 7)}, nil
}
