package policy

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// base is a small valid policy; each case below breaks it with one edit.
// Line numbers in the cases refer to this text (as edited).
const base = `version: "1"
timezone: UTC
scoring:
  mql_threshold: 50
  caps: { intent: 100, fit: 40 }
  decay: { half_life: 30d }
  rules:
    - name: pricing
      when: event.type == "web.page_view"
      points: 20
    - name: quote
      when: event.type == "form.submit"
      points: 40
      fast_track: true
  fit:
    - { name: big, when: lead.employees >= 50, points: 20 }
  required_for_handoff: [email, company]
segments:
  - { name: enterprise, when: lead.employees >= 1000 }
  - { name: smb, when: "true" }
routing:
  - name: owner
    account_owner: true
  - name: enterprise
    when: segment == "enterprise"
    pool: enterprise-aes
  - name: inbound
    pool: inbound-sdrs
sla:
  business_hours: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00", holidays: US }
  first_touch:
    - { when: trigger == "quote", within: 15m }
    - { within: 4h }
  acceptance: { within: 2d }
  ladder:
    - { at: 0.5, action: remind }
    - { at: 1.0, action: escalate }
    - { at: 1.5, action: reassign }
  max_reassigns: 2
  sal_stale_after: 14d
suppression:
  recent_rep_touch: 14d
  frequency_cap: { max: 3, per: 7d }
  quiet_hours: { start: "20:00", end: "08:00" }
plays:
  bad_fit:          { to: disqualified }
  duplicate:        { to: merged }
  no_response:      { to: recycle, nurture: default, cool_off: 30d, score: reset }
  timing:           { to: recycle, nurture: long-term, cool_off: 90d, score: halve }
  competitor:       { to: recycle, nurture: default, cool_off: 180d }
  other:            { to: recycle, nurture: default, cool_off: 30d, score: keep }
  opportunity_lost: { to: recycle, nurture: default, cool_off: 90d, score: reset }
  sal_stale:        { to: recycle, nurture: default, cool_off: 30d, score: halve }
nurture:
  on_enter_lead: default
  on_enter_customer: customer
  tracks:
    default:   { every: 7d, steps: 8 }
    long-term: { every: 30d, steps: 6 }
    customer:  { every: 30d, steps: 12 }
`

// edit replaces old, which must occur exactly once in base, by new.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if n := strings.Count(base, old); n != 1 {
		t.Fatalf("edit: %q occurs %d times in base", old, n)
	}
	return strings.Replace(base, old, new, 1)
}

func parseErrors(t *testing.T, src string) ErrorList {
	t.Helper()
	p, err := Parse("policy.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded, want errors (policy %+v)", p)
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, not ErrorList: %v", err, err)
	}
	return list
}

func TestBaseIsValid(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(base))
	if err != nil {
		t.Fatalf("base: %v", err)
	}
	if pl := p.Plays["competitor"]; pl.Score != ScoreKeep {
		t.Errorf("score defaults to %q, want keep", pl.Score)
	}
	if p.Location != time.UTC {
		t.Errorf("location = %v", p.Location)
	}
}

func TestValidationErrors(t *testing.T) {
	type tc struct {
		name     string
		old, new string
		line     int
		key      string
		msg      string // substring of Error.Msg
	}
	cases := []tc{
		{"missing version", "version: \"1\"\n", "", 1, "version", "required"},
		{"empty version", `version: "1"`, `version: ""`, 1, "version", "must not be empty"},
		{"unknown top-level key", "timezone: UTC", "timezon: UTC", 2, "timezon", "unknown key"},
		{"unknown key in scoring", "  rules:\n", "  rulez:\n", 7, "scoring.rulez", "unknown key"},
		{"unknown key in play", "nurture: long-term, cool_off: 90d", "nurture: long-term, cooloff: 90d", 49, "plays.timing.cooloff", "unknown key"},
		{"unknown key in rule", "      fast_track: true", "      fasttrack: true", 14, "scoring.rules[1].fasttrack", "unknown key"},
		{"repeated key", "  mql_threshold: 50\n", "  mql_threshold: 50\n  mql_threshold: 60\n", 5, "scoring.mql_threshold", "repeated key (first at line 4)"},
		{"bad timezone", "timezone: UTC", "timezone: Mars/Olympus", 2, "timezone", "unknown time zone"},
		{"negative first touch", "default:   { every: 7d, steps: 8 }", "default:   { every: 7d, steps: 8, first: -1d }", 58, "nurture.tracks.default.first", "bad duration"},
		{"bad CEL", `when: event.type == "web.page_view"`, `when: event.type ==`, 9, "scoring.rules[0].when", "Syntax error"},
		{"undeclared CEL variable", `when: event.type == "web.page_view"`, `when: evnt.type == "x"`, 9, "scoring.rules[0].when", "undeclared reference"},
		{"condition not boolean", "when: lead.employees >= 1000", "when: size(lead)", 19, "segments[0].when", "must be a boolean expression"},
		{"segment without when", `{ name: smb, when: "true" }`, `{ name: smb }`, 20, "segments[1].when", "required"},
		{"rule without points", "      points: 20\n", "", 8, "scoring.rules[0].points", "required"},
		{"points not a number", "      points: 20", "      points: lots", 10, "scoring.rules[0].points", "want a whole number"},
		{"once not a bool", "      fast_track: true", "      fast_track: yes please", 14, "scoring.rules[1].fast_track", "want true or false"},
		{"mql_threshold zero", "mql_threshold: 50", "mql_threshold: 0", 4, "scoring.mql_threshold", "must be 1 or more"},
		{"mql_threshold negative", "mql_threshold: 50", "mql_threshold: -5", 4, "scoring.mql_threshold", "must be 1 or more"},
		{"duplicate rule name", "    - name: quote", "    - name: pricing", 11, "scoring.rules[1].name", `duplicate name "pricing" (first at line 8)`},
		{"fit name repeats an intent rule", "name: big,", "name: quote,", 16, "scoring.fit[0].name", "duplicate name"},
		{"duplicate segment name", "name: smb,", "name: enterprise,", 20, "segments[1].name", "duplicate name"},
		{"duplicate routing name", "  - name: inbound", "  - name: owner", 27, "routing[2].name", "duplicate name"},
		{"unknown handoff field", "[email, company]", "[email, compnay]", 17, "scoring.required_for_handoff[1]", "unknown profile field"},
		{"routing last rule not catch-all", "  - name: inbound\n", "  - name: inbound\n    when: lead.country == \"US\"\n", 27, "routing[2]", "the last rule must match every lead"},
		{"routing last rule account_owner only", "    pool: inbound-sdrs", "    account_owner: true", 27, "routing[2]", "must name a pool"},
		{"routing rule without pool or owner", "    pool: enterprise-aes\n", "", 24, "routing[1]", "needs a pool, or account_owner: true"},
		{"routing rule unreachable", "    when: segment == \"enterprise\"\n", "", 26, "routing[2]", `unreachable: rule "enterprise" (line 24)`},
		{"ladder not ascending", "at: 1.0", "at: 0.4", 37, "sla.ladder[1].at", "fractions must ascend (0.5 then 0.4)"},
		{"ladder equal fractions", "at: 1.5", "at: 1.0", 38, "sla.ladder[2].at", "fractions must ascend (1.0 then 1.0)"},
		{"ladder fraction zero", "at: 0.5", "at: 0", 36, "sla.ladder[0].at", "must be more than 0"},
		{"ladder fraction negative", "at: 0.5", "at: -0.5", 36, "sla.ladder[0].at", "must be more than 0"},
		{"unknown ladder action", "action: remind", "action: nag", 36, "sla.ladder[0].action", `unknown action "nag"`},
		{"bad duration", "half_life: 30d", "half_life: 30 days", 6, "scoring.decay.half_life", "bad duration"},
		{"duration without unit", "within: 4h", "within: 4", 33, "sla.first_touch[1].within", "bad duration"},
		{"zero SLA window", "within: 2d", "within: 0m", 34, "sla.acceptance.within", "more than zero"},
		{"first_touch without catch-all", "    - { within: 4h }\n", "", 32, "sla.first_touch[0]", "the last window must match every handoff"},
		{"bad HH:MM", `start: "09:00"`, `start: "9am"`, 30, "sla.business_hours.start", "want HH:MM"},
		{"bad minutes", `end: "17:00"`, `end: "17:60"`, 30, "sla.business_hours.end", "want HH:MM"},
		{"bad quiet hours", `end: "08:00"`, `end: "25:00"`, 44, "suppression.quiet_hours.end", "want HH:MM"},
		{"end before start", `end: "17:00"`, `end: "08:00"`, 30, "sla.business_hours.end", "end (08:00) must be after start (09:00)"},
		{"unknown weekday", "thu, fri]", "thu, fry]", 30, "sla.business_hours.days[4]", `unknown day "fry"`},
		{"unknown holiday calendar", "holidays: US", "holidays: XX", 30, "sla.business_hours.holidays", "unknown holiday calendar"},
		{"bad business_hours word", `business_hours: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00", holidays: US }`, "business_hours: sometimes", 30, "sla.business_hours", `want "always"`},
		{"missing sal_stale_after", "  sal_stale_after: 14d\n", "", 29, "sla.sal_stale_after", "required"},
		{"frequency cap per zero", "per: 7d", "per: 0d", 43, "suppression.frequency_cap.per", "more than zero"},
		{"unknown play target", "bad_fit:          { to: disqualified }", "bad_fit:          { to: disqualify }", 46, "plays.bad_fit.to", "unknown play target"},
		{"duplicate play not merged", "duplicate:        { to: merged }", "duplicate:        { to: disqualified }", 47, "plays.duplicate.to", "must be to: merged"},
		{"unknown track in play", "nurture: long-term", "nurture: longterm", 49, "plays.timing.nurture", `unknown nurture track "longterm"`},
		{"unknown track on_enter_lead", "on_enter_lead: default", "on_enter_lead: welcome", 55, "nurture.on_enter_lead", `unknown nurture track "welcome"`},
		{"unknown track on_enter_customer", "on_enter_customer: customer", "on_enter_customer: customers", 56, "nurture.on_enter_customer", "unknown nurture track"},
		{"recycle without nurture", "{ to: recycle, nurture: default, cool_off: 180d }", "{ to: recycle, cool_off: 180d }", 50, "plays.competitor.nurture", "required"},
		{"recycle without cool_off", "{ to: recycle, nurture: default, cool_off: 180d }", "{ to: recycle, nurture: default }", 50, "plays.competitor.cool_off", "required"},
		{"nurture on a disqualify play", "{ to: disqualified }", "{ to: disqualified, nurture: default }", 46, "plays.bad_fit.nurture", "only a recycle play"},
		{"bad score rule", "score: keep", "score: zero", 51, "plays.other.score", `unknown score rule "zero"`},
		{"track steps zero", "steps: 8", "steps: 0", 58, "nurture.tracks.default.steps", "must be 1 or more"},
		{"track steps negative", "steps: 8", "steps: -1", 58, "nurture.tracks.default.steps", "must be 1 or more"},
		{"track every zero", "every: 7d, steps: 8", "every: 0d, steps: 8", 58, "nurture.tracks.default.every", "more than zero"},
		{"list where a mapping belongs", "acceptance: { within: 2d }", "acceptance: [2d]", 34, "sla.acceptance", "want a mapping, got a list"},
		{"YAML syntax error", "caps: { intent: 100, fit: 40 }", "caps: { intent: 100, fit: 40", 5, "", "bad YAML: did not find expected ',' or '}'"},
		{"YAML tab", "  max_reassigns: 2\n", "  max_reassigns: 2\n\tx: 1\n", 39, "", "bad YAML: found a tab character"},
		{"YAML unclosed list on first line", `version: "1"`, `version: [1`, 2, "", "bad YAML: did not find expected"}, // where the list was found unclosed,
	}
	// Every rejection reason, a lost opportunity and a stale SAL need a play.
	for _, name := range []string{"bad_fit", "duplicate", "no_response", "timing", "competitor", "other", "opportunity_lost", "sal_stale"} {
		i := strings.Index(base, "  "+name+":")
		line := base[i : i+strings.Index(base[i:], "\n")+1]
		cases = append(cases, tc{"missing play " + name, line, "", 45, "plays." + name, "required: no play"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := parseErrors(t, edit(t, c.old, c.new))
			for _, e := range errs {
				if e.Line == c.line && e.Key == c.key && strings.Contains(e.Msg, c.msg) {
					if e.File != "policy.yaml" {
						t.Errorf("File = %q", e.File)
					}
					return
				}
			}
			t.Errorf("want policy.yaml:%d: %s: ...%s..., got:\n%v", c.line, c.key, c.msg, errs)
		})
	}
}

func TestErrorFormat(t *testing.T) {
	errs := parseErrors(t, edit(t, "at: 1.0", "at: 0.4"))
	if len(errs) != 1 {
		t.Fatalf("errors: %v", errs)
	}
	want := "policy.yaml:37: sla.ladder[1].at: fractions must ascend (0.5 then 0.4)"
	if errs.Error() != want || errs[0].Error() != want {
		t.Errorf("got %q, want %q", errs.Error(), want)
	}
	if got := (Error{Msg: "empty policy"}).Error(); got != "empty policy" {
		t.Errorf("bare error = %q", got)
	}
}

// A file is checked to the end: every problem comes back, in line order.
func TestAllErrorsCollected(t *testing.T) {
	src := base
	for _, e := range [][2]string{
		{"nurture: long-term", "nurture: longterm"}, // line 49, found after nurture is read
		{"mql_threshold: 50", "mql_threshold: 0"},   // line 4
		{"action: remind", "action: nag"},           // line 36
		{"steps: 8", "steps: 0"},                    // line 58
	} {
		src = strings.Replace(src, e[0], e[1], 1)
	}
	errs := parseErrors(t, src)
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	if fmt.Sprint(lines) != "[4 36 49 58]" {
		t.Errorf("lines %v, errors:\n%v", lines, errs)
	}
	if n := strings.Count(errs.Error(), "\n"); n != 3 {
		t.Errorf("ErrorList.Error() has %d newlines:\n%v", n, errs)
	}
}

func TestValidVariants(t *testing.T) {
	cases := []struct {
		name, old, new string
		check          func(*Policy) error
	}{
		{"business_hours always",
			`business_hours: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00", holidays: US }`,
			"business_hours: always",
			func(p *Policy) error {
				if !p.SLA.BusinessHours.Always || p.SLA.BusinessHours.Days != nil {
					return fmt.Errorf("business hours = %+v", p.SLA.BusinessHours)
				}
				return nil
			}},
		{"first touch at once", "default:   { every: 7d, steps: 8 }", "default:   { every: 7d, steps: 8, first: 0s }", func(p *Policy) error {
			if d, l := p.Nurture.Tracks["default"].FirstTouch(), p.Nurture.Tracks["long-term"].FirstTouch(); d != 0 || l != 30*24*time.Hour {
				return fmt.Errorf("first touch: default %v (want 0), long-term %v (want its interval, 720h)", d, l)
			}
			return nil
		}},
		{"holidays none", "holidays: US", "holidays: none", func(p *Policy) error {
			if h := p.SLA.BusinessHours.Holidays; h != "" {
				return fmt.Errorf("holidays = %q", h)
			}
			return nil
		}},
		{"holidays GB", "holidays: US", "holidays: gb", func(p *Policy) error {
			if h := p.SLA.BusinessHours.Holidays; h != "GB" {
				return fmt.Errorf("holidays = %q", h)
			}
			return nil
		}},
		{"last routing rule when true", "  - name: inbound\n", "  - name: inbound\n    when: \"true\"\n", func(p *Policy) error {
			if r := p.Routing[2]; r.When == nil || r.Line != 27 {
				return fmt.Errorf("routing[2] = %+v", r)
			}
			return nil
		}},
		{"no quiet hours", "  quiet_hours: { start: \"20:00\", end: \"08:00\" }\n", "", func(p *Policy) error {
			if p.Suppression.QuietHours != nil {
				return fmt.Errorf("quiet hours = %+v", p.Suppression.QuietHours)
			}
			return nil
		}},
		{"timezone defaults to UTC", "timezone: UTC\n", "", func(p *Policy) error {
			if p.Timezone != "UTC" || p.Location != time.UTC {
				return fmt.Errorf("timezone %q %v", p.Timezone, p.Location)
			}
			return nil
		}},
		{"block-style play and anchors", "  other:            { to: recycle, nurture: default, cool_off: 30d, score: keep }\n",
			"  other: &o\n    to: recycle\n    nurture: default\n    cool_off: 30d\n  extra: *o\n", func(p *Policy) error {
				if p.Plays["extra"] != p.Plays["other"] || p.Plays["other"].Nurture != "default" {
					return fmt.Errorf("plays = %+v", p.Plays)
				}
				return nil
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("policy.yaml", []byte(edit(t, c.old, c.new)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := c.check(p); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestEmptyAndMultiDocument(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "~\n"} {
		if _, err := Parse("p.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), "empty policy") {
			t.Errorf("Parse(%q) = %v", src, err)
		}
	}
	errs := parseErrors(t, base+"---\nversion: 2\n")
	if !strings.Contains(errs.Error(), "more than one YAML document") {
		t.Errorf("got %v", errs)
	}
}

func TestCheckPools(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(p.Pools()); got != "[enterprise-aes inbound-sdrs]" {
		t.Errorf("Pools = %s", got)
	}
	if err := p.CheckPools(map[string]bool{"enterprise-aes": true, "inbound-sdrs": true}); err != nil {
		t.Errorf("CheckPools with all pools: %v", err)
	}
	err = p.CheckPools(map[string]bool{"inbound-sdrs": true})
	var errs ErrorList
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("CheckPools = %v", err)
	}
	want := `policy.yaml:24: routing[1].pool: unknown pool "enterprise-aes": not in the directory`
	if errs.Error() != want {
		t.Errorf("got %q, want %q", errs.Error(), want)
	}
	if err := p.CheckPools(nil); err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("CheckPools(nil) = %v", err)
	}
}

func TestFromSourceCaches(t *testing.T) {
	src := []byte(edit(t, `version: "1"`, `version: "cache-test"`))
	var wg sync.WaitGroup
	got := make([]*Policy, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := FromSource(src)
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		}()
	}
	wg.Wait()
	for i, p := range got {
		if p == nil || p != got[0] {
			t.Fatalf("FromSource call %d returned %p, want %p", i, p, got[0])
		}
	}
	again, _ := FromSource(append([]byte(nil), src...))
	if again != got[0] {
		t.Errorf("same source, different pointer")
	}
	other, _ := FromSource([]byte(base))
	if other == got[0] {
		t.Errorf("different source, same pointer")
	}
	if _, err := FromSource([]byte("version: [")); err == nil {
		t.Errorf("FromSource of bad YAML succeeded")
	}
}

func TestParseClock(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Clock
		ok   bool
	}{
		{"09:00", 540, true}, {"9:30", 570, true}, {"00:00", 0, true}, {"23:59", 1439, true}, {"24:00", 1440, true},
		{"24:01", 0, false}, {"12:60", 0, false}, {"+9:00", 0, false}, {"9", 0, false}, {"9:5", 0, false}, {"", 0, false}, {"ab:cd", 0, false},
	} {
		got, err := ParseClock(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseClock(%q) = %v, %v", c.in, got, err)
		}
	}
	if s := Clock(8*60 + 5).String(); s != "08:05" {
		t.Errorf("String = %q", s)
	}
}
