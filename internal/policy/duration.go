package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a policy duration: an integer and a unit, "90s", "15m", "4h",
// "2d", "3w", or a combination such as "1h30m". A day is 24 hours here; the
// SLA calendar decides what a day means in business time.
type Duration time.Duration

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Days reports whether d is a whole number of days, and how many.
func (d Duration) Days() (int, bool) {
	day := 24 * time.Hour
	if d <= 0 || time.Duration(d)%day != 0 {
		return 0, false
	}
	return int(time.Duration(d) / day), true
}

func (d Duration) String() string {
	if n, ok := d.Days(); ok {
		if n%7 == 0 {
			return strconv.Itoa(n/7) + "w"
		}
		return strconv.Itoa(n) + "d"
	}
	return time.Duration(d).String()
}

var units = map[byte]time.Duration{
	's': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour,
}

// ParseDuration parses "15m", "4h", "2d", "30d", "1h30m".
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	for in != "" {
		i := 0
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == 0 || i == len(in) {
			return 0, fmt.Errorf("bad duration %q: want a number and a unit (s, m, h, d, w), e.g. 15m, 4h, 2d", s)
		}
		n, err := strconv.ParseInt(in[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: %v", s, err)
		}
		u, ok := units[in[i]]
		if !ok {
			return 0, fmt.Errorf("bad duration %q: unknown unit %q (s, m, h, d, w)", s, in[i])
		}
		total += time.Duration(n) * u
		in = in[i+1:]
	}
	return Duration(total), nil
}

// MustDuration is ParseDuration for tests; it panics on error.
func MustDuration(s string) Duration {
	d, err := ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}
