package webui

import (
	"net/url"
	"testing"
	"time"
)

// Dashboard dates are days in the policy's time zone, as starter report's.
func TestPeriodDaysInPolicyZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	u := &UI{cfg: Config{Location: ny, Now: func() time.Time { return time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC) }}}
	p, _, _, err := u.period(url.Values{"from": {"2026-11-16"}, "to": {"2026-11-23"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 16, 5, 0, 0, 0, time.UTC); !p.From.Equal(want) {
		t.Errorf("from %s, want %s", p.From, want)
	}
	// The default ends at the end of today in New York (22 Nov there at 03:00 UTC on the 23rd).
	p, _, to, err := u.period(url.Values{})
	if err != nil || to != "2026-11-23" || !p.To.Equal(time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("default: %+v %q %v", p, to, err)
	}
}
