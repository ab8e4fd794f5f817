package policy

import (
	"os"
	"strings"
	"testing"
)

func TestReportDefaults(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(strings.Replace(base, "timezone: UTC", "timezone: Europe/Berlin", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Report.Cron != "0 8 * * MON" || p.Report.Timezone != "Europe/Berlin" || p.Report.Location == nil || p.Report.Location.String() != "Europe/Berlin" {
		t.Errorf("default report = %+v; want Monday 08:00 in the policy's zone", p.Report)
	}
	// The shared example has no report section and still loads.
	if _, err := os.Stat("../../deploy/policy.yaml"); err == nil {
		p, err := Load("../../deploy/policy.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if p.Report.Cron != DefaultReportCron || p.Report.Timezone != p.Timezone {
			t.Errorf("deploy policy report = %+v", p.Report)
		}
	}
}

func TestReportSection(t *testing.T) {
	src := base + "report:\n  cron: \"30 7 * * 1-5\"\n  timezone: America/New_York\n"
	p, err := Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Report.Cron != "30 7 * * 1-5" || p.Report.Timezone != "America/New_York" || p.Report.Location.String() != "America/New_York" {
		t.Errorf("report = %+v", p.Report)
	}
	// Only the cron: the zone stays the policy's.
	p, err = Parse("policy.yaml", []byte(base+"report: { cron: \"@weekly\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Report.Cron != "@weekly" || p.Report.Timezone != "UTC" {
		t.Errorf("report = %+v", p.Report)
	}
}

func TestReportValidationErrors(t *testing.T) {
	// The report section is appended to base: "report:" is on line n+1.
	n := strings.Count(base, "\n")
	cases := []struct {
		name, section string
		line          int
		key, msg      string
	}{
		{"four fields", "report:\n  cron: \"0 8 * *\"\n", n + 2, "report.cron", "has 4 fields; want 5"},
		{"minute out of range", "report:\n  cron: \"60 8 * * MON\"\n", n + 2, "report.cron", "minute: 60 is out of range 0-59"},
		{"hour out of range", "report:\n  cron: \"0 24 * * MON\"\n", n + 2, "report.cron", "hour: 24 is out of range 0-23"},
		{"bad weekday", "report:\n  cron: \"0 8 * * MOON\"\n", n + 2, "report.cron", `day of week: "MOON" is not a number`},
		{"backwards range", "report:\n  cron: \"0 8 * * 5-1\"\n", n + 2, "report.cron", "runs backwards"},
		{"bad step", "report:\n  cron: \"*/0 8 * * MON\"\n", n + 2, "report.cron", `bad step "0"`},
		{"bad descriptor", "report:\n  cron: \"@fortnightly\"\n", n + 2, "report.cron", "unknown cron descriptor"},
		{"bad timezone", "report:\n  cron: \"0 8 * * MON\"\n  timezone: Mars/Olympus\n", n + 3, "report.timezone", "unknown time zone"},
		{"Local timezone", "report:\n  timezone: Local\n", n + 2, "report.timezone", `"Local" is not allowed`},
		{"unknown key", "report:\n  cron: \"0 8 * * MON\"\n  when: weekly\n", n + 3, "report.when", "unknown key"},
		{"not a mapping", "report: weekly\n", n + 1, "report", "want a mapping"},
		{"cron not a string", "report:\n  cron: [0, 8]\n", n + 2, "report.cron", "want"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := parseErrors(t, base+c.section)
			for _, e := range errs {
				if e.Line == c.line && e.Key == c.key && strings.Contains(e.Msg, c.msg) && e.File == "policy.yaml" {
					return
				}
			}
			t.Errorf("want policy.yaml:%d: %s: ...%s..., got:\n%v", c.line, c.key, c.msg, errs)
		})
	}
}
