package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Report is when the weekly governance report runs: a Temporal Schedule
// with this cron spec, in this time zone. The section is optional:
//
//	report:
//	  cron: "0 8 * * MON"        # default: Mondays 08:00
//	  timezone: America/New_York # default: the policy's timezone
type Report struct {
	Cron     string
	Timezone string
	Location *time.Location
}

// DefaultReportCron is Monday 08:00.
const DefaultReportCron = "0 8 * * MON"

// cronField is one of the five fields of a cron spec.
type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: map[string]int{
		"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}},
	{name: "day of week", min: 0, max: 7, names: map[string]int{
		"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}},
}

// cronDescriptors are the shorthands Temporal's cron parser accepts.
var cronDescriptors = []string{"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}

// CheckCron validates a five-field cron spec ("minute hour day-of-month
// month day-of-week": numbers, *, ranges a-b, steps /n, lists a,b, and
// month and weekday names) or a descriptor such as @weekly.
func CheckCron(spec string) error {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "@") {
		for _, d := range cronDescriptors {
			if spec == d {
				return nil
			}
		}
		return fmt.Errorf("unknown cron descriptor %q (want one of %s, or five fields)", spec, strings.Join(cronDescriptors, ", "))
	}
	parts := strings.Fields(spec)
	if len(parts) != 5 {
		return fmt.Errorf("cron %q has %d fields; want 5: minute hour day-of-month month day-of-week", spec, len(parts))
	}
	for i, part := range parts {
		if err := cronFields[i].check(part); err != nil {
			return fmt.Errorf("cron %q: %s: %w", spec, cronFields[i].name, err)
		}
	}
	return nil
}

func (f cronField) check(s string) error {
	for _, item := range strings.Split(s, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 {
				return fmt.Errorf("bad step %q", step)
			}
		}
		if rng == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := f.value(lo)
		if err != nil {
			return err
		}
		if isRange {
			b, err := f.value(hi)
			if err != nil {
				return err
			}
			if b < a {
				return fmt.Errorf("range %q runs backwards", rng)
			}
		}
	}
	return nil
}

func (f cronField) value(s string) (int, error) {
	if n, ok := f.names[strings.ToUpper(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}

// report decodes the optional report section; def is the policy's time
// zone, the default.
func (d *decoder) report(f field, tz string, loc *time.Location) Report {
	r := Report{Cron: DefaultReportCron, Timezone: tz, Location: loc}
	m := d.mapping(f, "cron", "timezone")
	if m == nil {
		return r
	}
	if c, ok := m["cron"]; ok {
		if s, ok := d.str(c); ok {
			if err := CheckCron(s); err != nil {
				d.errorf(c.val.Line, c.path, "%v", err)
			} else {
				r.Cron = strings.TrimSpace(s)
			}
		}
	}
	if z, ok := m["timezone"]; ok {
		if s, ok := d.str(z); ok {
			if l := d.location(z, s); l != nil {
				r.Timezone, r.Location = s, l
			}
		}
	}
	return r
}
