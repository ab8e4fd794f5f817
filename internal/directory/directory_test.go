package directory

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The example file, copied to deploy/, must import as it stands.
func TestLoadExample(t *testing.T) {
	d, err := Load("../../deploy/directory.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(d.Reps) != 9 {
		t.Errorf("reps = %d, want 9", len(d.Reps))
	}
	if got, want := d.Reps["rep-7"], (Rep{ID: "rep-7", Name: "Mei Tanaka", Manager: "mgr-2", Timezone: "America/Los_Angeles", CapacityPerDay: 20}); got != want {
		t.Errorf("rep-7 = %+v, want %+v", got, want)
	}
	if got := d.Reps["mgr-1"]; got.Manager != "" || got.CapacityPerDay != 0 {
		t.Errorf("mgr-1 = %+v, want no manager and unlimited capacity", got)
	}
	pools := []Pool{
		{Name: "inbound-sdrs", Strategy: RoundRobin, Members: []Member{{"rep-1", 1}, {"rep-2", 1}}, Fallback: "queue-inbound"},
		{Name: "na-west-sdrs", Strategy: WeightedRoundRobin, Members: []Member{{"rep-7", 2}, {"rep-8", 1}}, Fallback: "queue-inbound"},
		{Name: "enterprise-aes", Strategy: LeastLoaded, Members: []Member{{"rep-9", 1}}, Fallback: "mgr-3"},
	}
	if len(d.Pools) != len(pools) {
		t.Errorf("pools = %d, want %d", len(d.Pools), len(pools))
	}
	for _, want := range pools {
		if got := d.Pools[want.Name]; !reflect.DeepEqual(got, want) {
			t.Errorf("pool %s = %+v, want %+v", want.Name, got, want)
		}
	}
	if got, want := d.Accounts["initech.com"], (Account{Domain: "initech.com", Owner: "rep-7", Name: "Initech"}); got != want {
		t.Errorf("initech.com = %+v, want %+v", got, want)
	}
	if a, ok := d.Account("Sales@GLOBEX.com"); !ok || a.Owner != "rep-9" {
		t.Errorf("Account(Sales@GLOBEX.com) = %+v, %v; want owner rep-9", a, ok)
	}
	if want := []Away{{RepID: "rep-2", From: "2026-12-24", To: "2027-01-02"}}; !reflect.DeepEqual(d.Away, want) {
		t.Errorf("away = %+v, want %+v", d.Away, want)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Validate after Load: %v", err)
	}
}

func TestIsAway(t *testing.T) {
	d, err := Load("../../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	chicago, _ := time.LoadLocation("America/Chicago")
	for _, tc := range []struct {
		name string
		rep  string
		at   time.Time
		want bool
	}{
		{"first day, Chicago", "rep-2", time.Date(2026, 12, 24, 0, 30, 0, 0, chicago), true},
		{"day before", "rep-2", time.Date(2026, 12, 23, 23, 59, 0, 0, chicago), false},
		// 05:30 UTC on the 24th is still the 23rd in Chicago.
		{"first day in UTC, not yet in Chicago", "rep-2", time.Date(2026, 12, 24, 5, 30, 0, 0, time.UTC), false},
		{"last day, late", "rep-2", time.Date(2027, 1, 2, 23, 59, 0, 0, chicago), true},
		{"day after", "rep-2", time.Date(2027, 1, 3, 0, 0, 0, 0, chicago), false},
		{"day after, noon", "rep-2", time.Date(2027, 1, 3, 12, 0, 0, 0, chicago), false},
		{"other rep", "rep-1", time.Date(2026, 12, 25, 12, 0, 0, 0, chicago), false},
		{"unknown rep", "rep-404", time.Date(2026, 12, 25, 12, 0, 0, 0, chicago), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.IsAway(tc.rep, tc.at); got != tc.want {
				t.Errorf("IsAway(%s, %v) = %v, want %v", tc.rep, tc.at, got, tc.want)
			}
		})
	}
}

// base is a valid directory; each validation case edits one line of it so
// the expected line number is easy to check by eye.
var base = []string{
	/* 1 */ "reps:",
	/* 2 */ "  - { id: rep-1, name: A, manager: mgr-1, timezone: America/New_York }",
	/* 3 */ "  - { id: mgr-1, name: M, timezone: America/New_York }",
	/* 4 */ "  - { id: q, name: Q, timezone: UTC }",
	/* 5 */ "pools:",
	/* 6 */ "  p1: { strategy: round_robin, members: [rep-1], fallback: q }",
	/* 7 */ "accounts:",
	/* 8 */ "  - { domain: a.com, owner: rep-1, name: A }",
	/* 9 */ "away:",
	/* 10 */ `  - { rep: rep-1, from: "2026-01-01", to: "2026-01-02" }`,
}

// edit replaces line n (1-based) of base with lines; n = len(base)+1 appends.
func edit(n int, lines ...string) []byte {
	out := append([]string{}, base[:n-1]...)
	out = append(out, lines...)
	if n <= len(base) {
		out = append(out, base[n:]...)
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

func TestParseBaseIsValid(t *testing.T) {
	if _, err := Parse("directory.yaml", edit(1, base[0])); err != nil {
		t.Fatalf("base: %v", err)
	}
}

func TestValidationErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  []byte
		want []string // every error, in order
	}{
		{"unknown top-level key", edit(11, "teams: []"),
			[]string{"directory.yaml:11: teams: unknown key (want one of reps, pools, accounts, away)"}},
		{"unknown rep key", edit(2, "  - { id: rep-1, manager: mgr-1, timezone: America/New_York, team: x }"),
			[]string{"directory.yaml:2: reps[rep-1].team: unknown key (want one of id, name, manager, timezone, capacity_per_day, email, hubspot_owner_id, slack)"}},
		{"unknown pool key", edit(6, "  p1: { strategy: round_robin, members: [rep-1], fallback: q, sticky: true }"),
			[]string{"directory.yaml:6: pools.p1.sticky: unknown key (want one of strategy, members, fallback)"}},
		{"duplicate rep id", edit(5, "  - { id: rep-1, timezone: UTC }", "pools:"),
			[]string{"directory.yaml:5: reps[rep-1].id: duplicate rep id (first on line 2)"}},
		{"rep without id", edit(5, "  - { name: Nobody, timezone: UTC }", "pools:"),
			[]string{"directory.yaml:5: reps[3].id: missing"}},
		{"unknown manager", edit(2, "  - { id: rep-1, manager: mgr-9, timezone: America/New_York }"),
			[]string{`directory.yaml:2: reps[rep-1].manager: unknown rep "mgr-9"`}},
		{"bad timezone", edit(2, "  - { id: rep-1, manager: mgr-1, timezone: Mars/Olympus_Mons }"),
			[]string{`directory.yaml:2: reps[rep-1].timezone: unknown time zone "Mars/Olympus_Mons"`}},
		{"missing timezone", edit(4, "  - { id: q, name: Q }"),
			[]string{"directory.yaml:4: reps[q].timezone: missing (away dates and daily capacity are in the rep's timezone)"}},
		{"capacity not a number", edit(4, "  - { id: q, timezone: UTC, capacity_per_day: lots }"),
			[]string{`directory.yaml:4: reps[q].capacity_per_day: want an integer, got "lots"`}},
		{"unknown strategy", edit(6, "  p1: { strategy: random, members: [rep-1], fallback: q }"),
			[]string{`directory.yaml:6: pools.p1.strategy: unknown strategy "random" (want round_robin, weighted_round_robin or least_loaded)`}},
		{"unknown member in list", edit(6, "  p1: { strategy: round_robin, members: [rep-1, rep-77], fallback: q }"),
			[]string{"directory.yaml:6: pools.p1.members.rep-77: unknown rep"}},
		{"unknown member in weighted map", edit(6,
			"  p1:",
			"    strategy: weighted_round_robin",
			"    members:",
			"      rep-1: 2",
			"      rep-77: 1",
			"    fallback: q"),
			[]string{"directory.yaml:10: pools.p1.members.rep-77: unknown rep"}},
		{"duplicate member", edit(6, "  p1: { strategy: round_robin, members: [rep-1, rep-1], fallback: q }"),
			[]string{"directory.yaml:6: pools.p1.members.rep-1: duplicate member (first on line 6)"}},
		{"no members", edit(6, "  p1: { strategy: round_robin, members: [], fallback: q }"),
			[]string{"directory.yaml:6: pools.p1.members: no members"}},
		{"unknown fallback", edit(6, "  p1: { strategy: round_robin, members: [rep-1], fallback: nobody }"),
			[]string{`directory.yaml:6: pools.p1.fallback: unknown rep "nobody"`}},
		{"pool without fallback", edit(6, "  p1: { strategy: round_robin, members: [rep-1] }"),
			[]string{"directory.yaml:6: pools.p1.fallback: missing: every pool needs a fallback owner for when no member is available"}},
		{"weight zero", edit(6, "  p1: { strategy: weighted_round_robin, members: { rep-1: 0 }, fallback: q }"),
			[]string{"directory.yaml:6: pools.p1.members.rep-1: weight must be between 1 and 1000, got 0"}},
		{"weight not a number", edit(6, "  p1: { strategy: weighted_round_robin, members: { rep-1: two }, fallback: q }"),
			[]string{`directory.yaml:6: pools.p1.members.rep-1: want an integer, got "two"`}},
		{"unknown account owner", edit(8, "  - { domain: a.com, owner: rep-5 }"),
			[]string{`directory.yaml:8: accounts[a.com].owner: unknown rep "rep-5"`}},
		{"duplicate account domain", edit(9, "  - { domain: A.com, owner: rep-1 }", "away:"),
			[]string{"directory.yaml:9: accounts[a.com].domain: duplicate account domain (first on line 8)"}},
		{"bad away date", edit(10, `  - { rep: rep-1, from: "2026-02-30", to: "2026-03-02" }`),
			[]string{`directory.yaml:10: away[0].from: "2026-02-30" is not a date (want YYYY-MM-DD)`}},
		{"reversed away dates", edit(10, `  - { rep: rep-1, from: "2026-01-05", to: "2026-01-02" }`),
			[]string{"directory.yaml:10: away[0].to: 2026-01-02 is before from 2026-01-05"}},
		{"unknown away rep", edit(10, `  - { rep: rep-5, from: "2026-01-01", to: "2026-01-02" }`),
			[]string{`directory.yaml:10: away[0].rep: unknown rep "rep-5"`}},
		{"bad rep email", edit(2, "  - { id: rep-1, manager: mgr-1, timezone: America/New_York, email: dana }"),
			[]string{`directory.yaml:2: reps[rep-1].email: "dana" is not an email address`}},
		{"duplicate rep email", edit(4, "  - { id: q, timezone: UTC, email: A@x.io }", "  - { id: q2, timezone: UTC, email: a@X.io }"),
			[]string{`directory.yaml:5: reps[q2].email: a@X.io is also the email of rep "q"`}},
		{"hubspot owner id not digits", edit(4, "  - { id: q, timezone: UTC, hubspot_owner_id: owner-7 }"),
			[]string{`directory.yaml:4: reps[q].hubspot_owner_id: want the owner's numeric ID, got "owner-7"`}},
		{"duplicate hubspot owner id", edit(4, "  - { id: q, timezone: UTC, hubspot_owner_id: 77 }", "  - { id: q2, timezone: UTC, hubspot_owner_id: \"77\" }"),
			[]string{`directory.yaml:5: reps[q2].hubspot_owner_id: 77 is also the owner ID of rep "q"`}},
		{"slack id lower case", edit(4, "  - { id: q, timezone: UTC, slack: u024be7lh }"),
			[]string{`directory.yaml:4: reps[q].slack: want a Slack user ID (U or W followed by upper-case letters and digits, e.g. U024BE7LH), got "u024be7lh"`}},
		{"slack id is a channel", edit(4, "  - { id: q, timezone: UTC, slack: C024BE7LH }"),
			[]string{`directory.yaml:4: reps[q].slack: want a Slack user ID (U or W followed by upper-case letters and digits, e.g. U024BE7LH), got "C024BE7LH"`}},
		{"duplicate slack id", edit(4, "  - { id: q, timezone: UTC, slack: U024BE7LH }", "  - { id: q2, timezone: UTC, slack: U024BE7LH }"),
			[]string{`directory.yaml:5: reps[q2].slack: U024BE7LH is also the Slack ID of rep "q"`}},
		{"duplicate key", edit(4, "  - { id: q, timezone: UTC, timezone: UTC }"),
			[]string{"directory.yaml:4: reps[q].timezone: duplicate key (first on line 4)"}},
		{"all errors collected, by line", edit(10, `  - { rep: rep-5, from: "2026-01-05", to: "2026-01-02" }`, "oops: 1"),
			[]string{
				`directory.yaml:10: away[0].rep: unknown rep "rep-5"`,
				"directory.yaml:10: away[0].to: 2026-01-02 is before from 2026-01-05",
				"directory.yaml:11: oops: unknown key (want one of reps, pools, accounts, away)",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse("directory.yaml", tc.src)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if d != nil {
				t.Errorf("directory returned with error")
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "directory.yaml" || e.Line == 0 {
				t.Errorf("errors.As(*Error) = %+v", e)
			}
		})
	}
}

func TestParseSyntaxAndShape(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"syntax", "reps: [\n", "directory.yaml: yaml: "},
		{"empty", "# nothing\n", "directory.yaml: empty file"},
		{"reps not a list", "reps: { id: rep-1 }\n", "directory.yaml:1: reps: want a list, got a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("directory.yaml", []byte(tc.src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

// email and hubspot_owner_id are optional; a bare number is kept as written.
func TestRepCRMFields(t *testing.T) {
	d, err := Parse("directory.yaml", edit(2,
		"  - { id: rep-1, name: A, manager: mgr-1, timezone: America/New_York, email: dana@acme.io, hubspot_owner_id: 41629779, slack: W012A3CDE }"))
	if err != nil {
		t.Fatal(err)
	}
	want := Rep{ID: "rep-1", Name: "A", Manager: "mgr-1", Timezone: "America/New_York", Email: "dana@acme.io", HubSpotOwnerID: "41629779", Slack: "W012A3CDE"}
	if got := d.Reps["rep-1"]; got != want {
		t.Errorf("rep-1 = %+v, want %+v", got, want)
	}
	if got := d.Reps["mgr-1"]; got.Email != "" || got.HubSpotOwnerID != "" {
		t.Errorf("mgr-1 = %+v, want no CRM fields", got)
	}
	for _, src := range []string{"../../deploy/directory.yaml", "../../deploy/directory.demo.yaml", "../../../shared/directory.example.yaml"} {
		if _, err := Load(src); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Load(%s): %v", src, err)
		}
	}
}

// The weighted map form keeps file order, whatever the ids sort to.
func TestWeightedMembersKeepFileOrder(t *testing.T) {
	d, err := Parse("directory.yaml", edit(6, "  p1: { strategy: weighted_round_robin, members: { rep-1: 3, q: 1, mgr-1: 2 }, fallback: q }"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Member{{"rep-1", 3}, {"q", 1}, {"mgr-1", 2}}
	if got := d.Pools["p1"].Members; !reflect.DeepEqual(got, want) {
		t.Errorf("members = %+v, want %+v", got, want)
	}
}

// A Directory built in code validates too; errors then carry no line.
func TestValidateBuiltInCode(t *testing.T) {
	d := &Directory{
		Reps: map[string]Rep{"r": {ID: "r", Timezone: "UTC"}},
		Pools: map[string]Pool{"p": {Name: "p", Strategy: RoundRobin,
			Members: []Member{{"r", 1}, {"rep-77", 1}}, Fallback: "r"}},
	}
	err := d.Validate()
	if err == nil || err.Error() != "pools.p.members.rep-77: unknown rep" {
		t.Errorf("Validate = %v", err)
	}
	d.Pools["p"] = Pool{Name: "p", Strategy: RoundRobin, Members: []Member{{"r", 1}}, Fallback: "r"}
	if err := d.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
}
