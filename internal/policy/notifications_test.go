package policy

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNotificationsDefaultAndSection(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Notifications; got.RatePerHour != DefaultRatePerHour || got.QuietStart != DefaultQuietStart || got.QuietEnd != DefaultQuietEnd || got.WeeklyReportTo != nil {
		t.Errorf("defaults = %+v", got)
	}
	for _, path := range []string{"../../deploy/policy.yaml", "../../deploy/policy.demo.yaml"} {
		if _, err := Load(path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	p, err = Parse("policy.yaml", []byte(base+`notifications:
  rate_per_hour: 3
  quiet_hours: { start: "22:30", end: "07:00" }
  weekly_report_to: [revops@example.com, " cmo@example.com"]
`))
	if err != nil {
		t.Fatal(err)
	}
	n := p.Notifications
	if n.RatePerHour != 3 || n.QuietStart.String() != "22:30" || n.QuietEnd.String() != "07:00" ||
		!slices.Equal(n.WeeklyReportTo, []string{"revops@example.com", "cmo@example.com"}) {
		t.Errorf("section = %+v", n)
	}
}

func TestNotificationsValidationErrors(t *testing.T) {
	head := strings.Count(base, "\n")
	for src, want := range map[string]string{
		"notifications:\n  rate_per_hour: -1\n":                                 "notifications.rate_per_hour: must be 0 or more",
		"notifications:\n  rate_per_hour: lots\n":                               "notifications.rate_per_hour: want a whole number",
		"notifications:\n  quiet_hours: { start: \"25:00\", end: \"08:00\" }\n": "notifications.quiet_hours.start: bad time of day",
		"notifications:\n  quiet_hours: { start: \"20:00\" }\n":                 "notifications.quiet_hours.end: required",
		"notifications:\n  weekly_report_to: [revops]\n":                        `notifications.weekly_report_to[0]: "revops" is not an email address`,
		"notifications:\n  weekly_report_to: [a@x.io, A@x.io]\n":                "notifications.weekly_report_to[1]: A@x.io is listed twice",
		"notifications:\n  quiet: yes\n":                                        "notifications.quiet: unknown key",
	} {
		_, err := Parse("policy.yaml", []byte(base+src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v; want it to mention %q", src, err, want)
			continue
		}
		// The section starts on the line after base; its key on the next.
		if !strings.Contains(err.Error(), "policy.yaml:"+itoa(head+2)+":") {
			t.Errorf("%q: error %v does not point at line %d", src, err, head+2)
		}
	}
}

func TestQuietUntil(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	n := DefaultNotifications()
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		now, until string // until "": not quiet
	}{
		{"2026-12-01 19:59", ""},
		{"2026-12-01 20:00", "2026-12-02 08:00"},
		{"2026-12-01 23:30", "2026-12-02 08:00"},
		{"2026-12-02 03:00", "2026-12-02 08:00"},
		{"2026-12-02 08:00", ""},
		{"2026-12-02 12:00", ""},
	} {
		// Given in UTC: the window is read in the recipient's zone.
		until, quiet := n.QuietUntil(at(tc.now).UTC(), ny)
		switch {
		case tc.until == "" && quiet:
			t.Errorf("%s: quiet until %s; want not quiet", tc.now, until)
		case tc.until != "" && (!quiet || !until.Equal(at(tc.until))):
			t.Errorf("%s: quiet=%t until %s; want %s", tc.now, quiet, until, tc.until)
		}
	}
	lunch := Notifications{QuietStart: 12 * 60, QuietEnd: 13 * 60}
	if u, q := lunch.QuietUntil(at("2026-12-02 12:30"), ny); !q || !u.Equal(at("2026-12-02 13:00")) {
		t.Errorf("same-day window: %t %s", q, u)
	}
	if _, q := (Notifications{QuietStart: 0, QuietEnd: 0}).QuietUntil(at("2026-12-02 03:00"), ny); q {
		t.Error("start = end should mean no quiet hours")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
