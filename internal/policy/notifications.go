package policy

import (
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
)

// Notifications says how often and when people are told (internal/notify).
// The section is optional:
//
//	notifications:
//	  rate_per_hour: 10                          # per recipient; 0: no limit
//	  quiet_hours: { start: "20:00", end: "08:00" } # recipient's time zone; start = end: none
//	  weekly_report_to: [revops@example.com]     # besides the managers
type Notifications struct {
	// RatePerHour caps the notifications one person receives in any hour;
	// past it the next ones wait (they are never dropped). 0: no cap.
	RatePerHour int
	// QuietStart and QuietEnd bound the quiet hours, in the recipient's time
	// zone: non-urgent notifications wait for them to end. Equal: none.
	QuietStart, QuietEnd Clock
	// WeeklyReportTo are the marketing recipients of the weekly report.
	WeeklyReportTo []string
}

// Defaults of the notifications section.
const (
	DefaultRatePerHour = 10
	DefaultQuietStart  = Clock(20 * 60)
	DefaultQuietEnd    = Clock(8 * 60)
)

// DefaultNotifications is the section's value when the policy has none.
func DefaultNotifications() Notifications {
	return Notifications{RatePerHour: DefaultRatePerHour, QuietStart: DefaultQuietStart, QuietEnd: DefaultQuietEnd}
}

// QuietUntil reports whether t, read in loc, falls in the quiet hours and,
// if so, when they end. A window whose start is after its end spans midnight.
func (n Notifications) QuietUntil(t time.Time, loc *time.Location) (time.Time, bool) {
	if n.QuietStart == n.QuietEnd {
		return time.Time{}, false
	}
	lt := t.In(loc)
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	now := Clock(lt.Hour()*60 + lt.Minute())
	at := func(day time.Time, c Clock) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), int(c)/60, int(c)%60, 0, 0, loc)
	}
	if n.QuietStart < n.QuietEnd { // e.g. 12:00–13:00, within one day
		if now >= n.QuietStart && now < n.QuietEnd {
			return at(midnight, n.QuietEnd), true
		}
		return time.Time{}, false
	}
	switch { // e.g. 20:00–08:00, over midnight
	case now >= n.QuietStart:
		return at(midnight.AddDate(0, 0, 1), n.QuietEnd), true
	case now < n.QuietEnd:
		return at(midnight, n.QuietEnd), true
	}
	return time.Time{}, false
}

// notifications decodes the optional notifications section.
func (d *decoder) notifications(f field) Notifications {
	n := DefaultNotifications()
	m := d.mapping(f, "rate_per_hour", "quiet_hours", "weekly_report_to")
	if m == nil {
		return n
	}
	if r, ok := m["rate_per_hour"]; ok {
		if v, ok := d.integer(r, 0); ok {
			n.RatePerHour = v
		}
	}
	if q, ok := m["quiet_hours"]; ok {
		// start/end, as suppression.quiet_hours spells them.
		qm := d.mapping(q, "start", "end")
		from, okFrom := d.need(q, qm, "start")
		to, okTo := d.need(q, qm, "end")
		if qm != nil && okFrom && okTo {
			a, okA := d.clock(from)
			b, okB := d.clock(to)
			if okA && okB {
				n.QuietStart, n.QuietEnd = a, b
			}
		}
	}
	if w, ok := m["weekly_report_to"]; ok {
		seen := map[string]bool{}
		for _, item := range d.list(w) {
			s, ok := d.str(item)
			if !ok {
				continue
			}
			s = strings.TrimSpace(s)
			switch {
			case !directory.ValidEmail(s):
				d.errorf(item.val.Line, item.path, "%q is not an email address", s)
			case seen[strings.ToLower(s)]:
				d.errorf(item.val.Line, item.path, "%s is listed twice", s)
			default:
				seen[strings.ToLower(s)] = true
				n.WeeklyReportTo = append(n.WeeklyReportTo, s)
			}
		}
	}
	return n
}
