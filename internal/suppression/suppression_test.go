package suppression

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zoneinfo

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
)

var nyLoc = mustLoc("America/New_York")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// ny is a wall-clock time in America/New_York.
func ny(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, nyLoc)
}

func utc(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

func clock(h, m int) policy.Clock { return policy.Clock(h*60 + m) }

// pol is the policy.example.yaml suppression block.
func pol() policy.Suppression {
	return policy.Suppression{
		RecentRepTouch: policy.MustDuration("14d"),
		FrequencyCap:   policy.FrequencyCap{Max: 3, Per: policy.MustDuration("7d")},
		QuietHours:     &policy.QuietHours{Start: clock(20, 0), End: clock(8, 0)},
	}
}

const (
	unsub  = lead.SuppressUnsubscribed
	bounce = lead.SuppressBounced
	disq   = lead.SuppressDisqualified
	asm    = lead.SuppressActiveSalesMotion
	touch  = lead.SuppressRecentRepTouch
	fcap   = lead.SuppressFrequencyCap
	quiet  = lead.SuppressQuietHours
)

// noon is a Wednesday noon in New York, outside quiet hours.
var noon = ny(2026, 11, 18, 12, 0)

type checkCase struct {
	name    string
	p       *policy.Suppression // nil: pol()
	loc     *time.Location      // nil: nyLoc (use utcLoc for UTC)
	nilLoc  bool                // pass a nil location
	in      Input
	reasons []string
	stop    bool
	pause   bool
	retryAt time.Time // zero: none
}

func (c checkCase) run(t *testing.T) Decision {
	t.Helper()
	p := pol()
	if c.p != nil {
		p = *c.p
	}
	loc := nyLoc
	if c.loc != nil {
		loc = c.loc
	}
	if c.nilLoc {
		loc = nil
	}
	d := Check(p, loc, c.in)
	if d.Allowed != (len(c.reasons) == 0) {
		t.Errorf("Allowed = %v, want %v", d.Allowed, len(c.reasons) == 0)
	}
	if !slices.Equal(d.Reasons, c.reasons) {
		t.Errorf("Reasons = %q, want %q", d.Reasons, c.reasons)
	}
	if d.Stop != c.stop || d.Pause != c.pause {
		t.Errorf("Stop, Pause = %v, %v; want %v, %v", d.Stop, d.Pause, c.stop, c.pause)
	}
	if !d.RetryAt.Equal(c.retryAt) {
		t.Errorf("RetryAt = %v, want %v", d.RetryAt, c.retryAt)
	}
	// RetryAt is the earliest instant at which every time-bound reason has
	// lifted: allowed then, still suppressed a nanosecond before.
	if !d.RetryAt.IsZero() {
		later := c.in
		later.Now = d.RetryAt
		if d2 := Check(p, loc, later); !d2.Allowed {
			t.Errorf("at RetryAt %v: %s, want allowed", d.RetryAt, d2.Summary())
		}
		later.Now = d.RetryAt.Add(-time.Nanosecond)
		if d2 := Check(p, loc, later); d2.Allowed {
			t.Errorf("just before RetryAt %v: allowed, want suppressed", d.RetryAt)
		}
		if d.RetryAt.Location() != c.in.Now.Location() {
			t.Errorf("RetryAt location = %v, want Now's %v", d.RetryAt.Location(), c.in.Now.Location())
		}
	}
	return d
}

func runCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

func TestEachReasonAlone(t *testing.T) {
	runCases(t, []checkCase{
		{name: "none", in: Input{Stage: lead.StageLead, Now: noon}},
		{name: "unsubscribed", in: Input{Stage: lead.StageLead, Now: noon, Unsubscribed: true},
			reasons: []string{unsub}, stop: true},
		{name: "bounced", in: Input{Stage: lead.StageLead, Now: noon, Bounced: true},
			reasons: []string{bounce}, stop: true},
		{name: "disqualified", in: Input{Stage: lead.StageDisqualified, Now: noon},
			reasons: []string{disq}, stop: true},
		{name: "merged is disqualified", in: Input{Stage: lead.StageMerged, Now: noon},
			reasons: []string{disq}, stop: true},
		{name: "handoff", in: Input{Stage: lead.StageHandoff, Now: noon},
			reasons: []string{asm}, pause: true},
		{name: "sal", in: Input{Stage: lead.StageSAL, Now: noon},
			reasons: []string{asm}, pause: true},
		{name: "opportunity", in: Input{Stage: lead.StageOpportunity, Now: noon},
			reasons: []string{asm}, pause: true},
		{name: "recent_rep_touch",
			in:      Input{Stage: lead.StageLead, Now: noon, LastRepTouch: ny(2026, 11, 5, 10, 0)},
			reasons: []string{touch}, retryAt: ny(2026, 11, 19, 10, 0)},
		{name: "frequency_cap",
			in: Input{Stage: lead.StageLead, Now: noon, Sends: []time.Time{
				ny(2026, 11, 17, 9, 0), ny(2026, 11, 12, 9, 0), ny(2026, 11, 14, 9, 0)}},
			reasons: []string{fcap}, retryAt: ny(2026, 11, 19, 9, 0)},
		{name: "quiet_hours", in: Input{Stage: lead.StageLead, Now: ny(2026, 11, 18, 21, 0)},
			reasons: []string{quiet}, retryAt: ny(2026, 11, 19, 8, 0)},
	})
}

func TestStagesWithoutSalesMotionAreAllowed(t *testing.T) {
	for _, s := range []lead.Stage{lead.StageLead, lead.StageMQL, lead.StageRecycle, lead.StageCustomer, ""} {
		t.Run(string(s), func(t *testing.T) {
			checkCase{in: Input{Stage: s, Now: noon}}.run(t)
		})
	}
}

func TestSeveralReasonsInFixedOrder(t *testing.T) {
	// Sends and a rep touch that hold at 21:00 on Nov 18.
	sends := []time.Time{ny(2026, 11, 17, 9, 0), ny(2026, 11, 12, 9, 0), ny(2026, 11, 14, 9, 0)}
	rep := ny(2026, 11, 5, 10, 0)
	night := ny(2026, 11, 18, 21, 0)
	runCases(t, []checkCase{
		{name: "all stop reasons and time-bound ones",
			in: Input{Stage: lead.StageDisqualified, Now: night, Bounced: true, Unsubscribed: true,
				LastRepTouch: rep, Sends: sends},
			reasons: []string{unsub, bounce, disq, touch, fcap, quiet}, stop: true},
		{name: "sales motion with a stop and time-bound ones",
			in: Input{Stage: lead.StageSAL, Now: night, Unsubscribed: true,
				LastRepTouch: rep, Sends: sends},
			reasons: []string{unsub, asm, touch, fcap, quiet}, stop: true, pause: true},
		{name: "sales motion with time-bound ones: paused, no RetryAt",
			in:      Input{Stage: lead.StageHandoff, Now: night, LastRepTouch: rep},
			reasons: []string{asm, touch, quiet}, pause: true},
		{name: "bounced and quiet: stopped, no RetryAt",
			in:      Input{Stage: lead.StageLead, Now: night, Bounced: true},
			reasons: []string{bounce, quiet}, stop: true},
		{name: "all time-bound: RetryAt is the latest lift",
			// quiet lifts 08:00, the cap 09:00, the rep touch 10:00.
			in:      Input{Stage: lead.StageRecycle, Now: night, LastRepTouch: rep, Sends: sends},
			reasons: []string{touch, fcap, quiet}, retryAt: ny(2026, 11, 19, 10, 0)},
	})
}

func TestQuietHoursWrapMidnight(t *testing.T) {
	days := []struct {
		name string
		y    int
		mo   time.Month
		d    int
	}{
		{"ordinary day", 2026, 11, 18},
		{"DST starts (spring forward)", 2026, 3, 8},
		{"DST ends (fall back)", 2026, 11, 1},
	}
	hours := []struct {
		h, m   int
		inside bool
	}{
		{0, 0, true}, {1, 30, true}, {3, 0, true}, {7, 59, true}, {8, 0, false}, {12, 0, false},
		{19, 59, false}, {20, 0, true}, {21, 0, true}, {23, 59, true},
	}
	for _, day := range days {
		for _, hm := range hours {
			now := ny(day.y, day.mo, day.d, hm.h, hm.m)
			if now.Hour() != hm.h || now.Minute() != hm.m {
				continue // a wall time the DST jump skips
			}
			d := Check(pol(), nyLoc, Input{Stage: lead.StageLead, Now: now})
			if got := slices.Contains(d.Reasons, quiet); got != hm.inside {
				t.Errorf("%s %s: quiet = %v, want %v", day.name, now.Format("2006-01-02 15:04 MST"), got, hm.inside)
			}
		}
	}
}

func TestQuietHoursRetryAtAcrossDST(t *testing.T) {
	p := pol()
	earlyNight := &policy.Suppression{QuietHours: &policy.QuietHours{Start: clock(1, 0), End: clock(2, 30)}}
	shortNight := &policy.Suppression{QuietHours: &policy.QuietHours{Start: clock(1, 0), End: clock(1, 30)}}
	runCases(t, []checkCase{
		{name: "spring forward: 21:00 EST to 08:00 EDT is 10h",
			p: &p, in: Input{Stage: lead.StageLead, Now: ny(2026, 3, 7, 21, 0)},
			reasons: []string{quiet}, retryAt: utc(2026, 3, 8, 12, 0)},
		{name: "fall back: 21:00 EDT to 08:00 EST is 12h",
			p: &p, in: Input{Stage: lead.StageLead, Now: ny(2026, 10, 31, 21, 0)},
			reasons: []string{quiet}, retryAt: utc(2026, 11, 1, 13, 0)},
		{name: "spring forward skips the end of quiet hours: lifts at the jump",
			// 01:30 EST; 02:30 never happens, the clock reads 03:00 EDT at 07:00Z.
			p: earlyNight, in: Input{Stage: lead.StageLead, Now: utc(2026, 3, 8, 6, 30)},
			reasons: []string{quiet}, retryAt: utc(2026, 3, 8, 7, 0)},
		{name: "fall back, first 01:10: lifts at the first 01:30 (EDT)",
			p: shortNight, in: Input{Stage: lead.StageLead, Now: utc(2026, 11, 1, 5, 10)},
			reasons: []string{quiet}, retryAt: utc(2026, 11, 1, 5, 30)},
		{name: "fall back, second 01:10: lifts at the second 01:30 (EST)",
			p: shortNight, in: Input{Stage: lead.StageLead, Now: utc(2026, 11, 1, 6, 10)},
			reasons: []string{quiet}, retryAt: utc(2026, 11, 1, 6, 30)},
		{name: "fall back, between the two: outside",
			p: shortNight, in: Input{Stage: lead.StageLead, Now: utc(2026, 11, 1, 5, 45)}},
		{name: "seconds and nanoseconds: lifts on the minute",
			p: &p, in: Input{Stage: lead.StageLead, Now: ny(2026, 11, 18, 7, 59).Add(30*time.Second + 7)},
			reasons: []string{quiet}, retryAt: ny(2026, 11, 18, 8, 0)},
	})
}

func TestQuietHoursVariants(t *testing.T) {
	none := pol()
	none.QuietHours = nil
	day := pol()
	day.QuietHours = &policy.QuietHours{Start: clock(12, 0), End: clock(13, 0)}
	empty := pol()
	empty.QuietHours = &policy.QuietHours{Start: clock(9, 0), End: clock(9, 0)}
	runCases(t, []checkCase{
		{name: "nil quiet hours", p: &none, in: Input{Stage: lead.StageLead, Now: ny(2026, 11, 18, 23, 0)}},
		{name: "start == end is no window", p: &empty, in: Input{Stage: lead.StageLead, Now: ny(2026, 11, 18, 9, 0)}},
		{name: "non-wrapping window, inside", p: &day, in: Input{Stage: lead.StageLead, Now: ny(2026, 11, 18, 12, 0)},
			reasons: []string{quiet}, retryAt: ny(2026, 11, 18, 13, 0)},
		{name: "non-wrapping window, after", p: &day, in: Input{Stage: lead.StageLead, Now: ny(2026, 11, 18, 13, 0)}},
		{name: "non-wrapping window, night", p: &day, in: Input{Stage: lead.StageLead, Now: ny(2026, 11, 18, 23, 0)}},
		{name: "nil location is UTC", nilLoc: true, in: Input{Stage: lead.StageLead, Now: utc(2026, 11, 18, 21, 0)},
			reasons: []string{quiet}, retryAt: utc(2026, 11, 19, 8, 0)},
		{name: "nil location: 12:00Z is outside", nilLoc: true, in: Input{Stage: lead.StageLead, Now: utc(2026, 11, 18, 12, 0)}},
		{name: "Now in UTC is read in the policy zone", in: Input{Stage: lead.StageLead, Now: utc(2026, 11, 19, 2, 0)},
			// 21:00 EST; RetryAt stays in Now's location (UTC).
			reasons: []string{quiet}, retryAt: utc(2026, 11, 19, 13, 0)},
	})
}

func TestFrequencyCap(t *testing.T) {
	oldest := ny(2026, 11, 11, 15, 0)
	sends := []time.Time{ny(2026, 11, 16, 10, 0), oldest, ny(2026, 11, 13, 10, 0)}
	lift := oldest.Add(7 * 24 * time.Hour) // Nov 18 15:00, outside quiet hours
	noCap := pol()
	noCap.FrequencyCap.Max = 0
	runCases(t, []checkCase{
		{name: "a nanosecond before the oldest send leaves the window",
			in:      Input{Stage: lead.StageLead, Now: lift.Add(-time.Nanosecond), Sends: sends},
			reasons: []string{fcap}, retryAt: lift},
		{name: "exactly when the oldest send leaves the window",
			in: Input{Stage: lead.StageLead, Now: lift, Sends: sends}},
		{name: "a send at Now counts",
			in: Input{Stage: lead.StageLead, Now: noon, Sends: []time.Time{noon, noon.Add(-24 * time.Hour), noon.Add(-48 * time.Hour)}},
			// the oldest (Nov 16 12:00) leaves on Nov 23 12:00
			reasons: []string{fcap}, retryAt: ny(2026, 11, 23, 12, 0)},
		{name: "a send exactly Per ago does not count",
			in: Input{Stage: lead.StageLead, Now: noon, Sends: []time.Time{
				noon.Add(-7 * 24 * time.Hour), noon.Add(-24 * time.Hour), noon.Add(-48 * time.Hour)}}},
		{name: "two sends are under the cap",
			in: Input{Stage: lead.StageLead, Now: noon, Sends: sends[:2]}},
		{name: "a future send does not count now",
			in: Input{Stage: lead.StageLead, Now: noon, Sends: []time.Time{
				noon.Add(time.Hour), noon.Add(-24 * time.Hour), noon.Add(-48 * time.Hour)}}},
		{name: "over the cap: lifts when fewer than Max remain",
			// four in the window; the two oldest must leave: Nov 13 10:00 + 7d.
			in:      Input{Stage: lead.StageLead, Now: noon, Sends: append(slices.Clone(sends), ny(2026, 11, 17, 10, 0))},
			reasons: []string{fcap}, retryAt: ny(2026, 11, 20, 10, 0)},
		{name: "Max 0 is no cap", p: &noCap,
			in: Input{Stage: lead.StageLead, Now: noon, Sends: []time.Time{noon, noon, noon, noon, noon}}},
	})
}

func TestRecentRepTouch(t *testing.T) {
	rep := ny(2026, 11, 4, 12, 0)
	until := rep.Add(14 * 24 * time.Hour) // Nov 18 12:00
	noTouch := pol()
	noTouch.RecentRepTouch = 0
	runCases(t, []checkCase{
		{name: "a second before 14d",
			in:      Input{Stage: lead.StageLead, Now: until.Add(-time.Second), LastRepTouch: rep},
			reasons: []string{touch}, retryAt: until},
		{name: "exactly 14d", in: Input{Stage: lead.StageLead, Now: until, LastRepTouch: rep}},
		{name: "after 14d", in: Input{Stage: lead.StageLead, Now: until.Add(time.Hour), LastRepTouch: rep}},
		{name: "never touched", in: Input{Stage: lead.StageLead, Now: noon}},
		{name: "a day is 24h, across the DST change",
			// Oct 28 12:00 EDT + 336h = Nov 11 11:00 EST.
			in:      Input{Stage: lead.StageLead, Now: ny(2026, 11, 5, 12, 0), LastRepTouch: ny(2026, 10, 28, 12, 0)},
			reasons: []string{touch}, retryAt: ny(2026, 11, 11, 11, 0)},
		{name: "RecentRepTouch 0 is no guard", p: &noTouch,
			in: Input{Stage: lead.StageLead, Now: noon, LastRepTouch: noon.Add(-time.Minute)}},
	})
}

func TestRetryAtCombinations(t *testing.T) {
	runCases(t, []checkCase{
		{name: "cap lifts inside quiet hours: end of quiet hours",
			// the oldest send leaves at Nov 18 21:00, inside 20:00-08:00.
			in: Input{Stage: lead.StageLead, Now: noon, Sends: []time.Time{
				ny(2026, 11, 11, 21, 0), ny(2026, 11, 15, 10, 0), ny(2026, 11, 17, 10, 0)}},
			reasons: []string{fcap}, retryAt: ny(2026, 11, 19, 8, 0)},
		{name: "rep touch lifts inside quiet hours: end of quiet hours",
			in:      Input{Stage: lead.StageLead, Now: noon, LastRepTouch: ny(2026, 11, 5, 22, 30)},
			reasons: []string{touch}, retryAt: ny(2026, 11, 20, 8, 0)},
		{name: "quiet hours end while the cap still holds: when the cap lifts",
			in: Input{Stage: lead.StageLead, Now: ny(2026, 11, 18, 22, 0), Sends: []time.Time{
				ny(2026, 11, 12, 9, 0), ny(2026, 11, 13, 10, 0), ny(2026, 11, 14, 10, 0)}},
			reasons: []string{fcap, quiet}, retryAt: ny(2026, 11, 19, 9, 0)},
		{name: "cap lifts inside quiet hours, on the spring-forward night",
			// leaves at Mar 7 23:00 EST; quiet ends Mar 8 08:00 EDT.
			in: Input{Stage: lead.StageLead, Now: ny(2026, 3, 7, 12, 0), Sends: []time.Time{
				ny(2026, 2, 28, 23, 0), ny(2026, 3, 2, 10, 0), ny(2026, 3, 5, 10, 0)}},
			reasons: []string{fcap}, retryAt: utc(2026, 3, 8, 12, 0)},
		{name: "a send planned after Now re-arms the cap when quiet hours end",
			// at 08:00 the window holds Nov 12 09:00, Nov 19 07:00 and Nov 16;
			// it lifts when Nov 12 09:00 leaves, at Nov 19 09:00.
			in: Input{Stage: lead.StageLead, Now: ny(2026, 11, 18, 22, 0), Sends: []time.Time{
				ny(2026, 11, 12, 9, 0), ny(2026, 11, 16, 10, 0), ny(2026, 11, 19, 7, 0)}},
			reasons: []string{quiet}, retryAt: ny(2026, 11, 19, 9, 0)},
	})
}

func TestCheckDoesNotModifyInput(t *testing.T) {
	sends := []time.Time{ny(2026, 11, 17, 9, 0), ny(2026, 11, 12, 9, 0), ny(2026, 11, 14, 9, 0)}
	orig := slices.Clone(sends)
	in := Input{Stage: lead.StageLead, Now: noon, Sends: sends}
	a := Check(pol(), nyLoc, in)
	b := Check(pol(), nyLoc, in)
	if !slices.Equal(sends, orig) {
		t.Errorf("Sends reordered: %v", sends)
	}
	if a.Summary() != b.Summary() || !a.RetryAt.Equal(b.RetryAt) {
		t.Errorf("not deterministic: %s vs %s", a.Summary(), b.Summary())
	}
}

func TestSummary(t *testing.T) {
	for _, c := range []struct {
		d    Decision
		want string
	}{
		{Decision{Allowed: true}, "allowed"},
		{Decision{Reasons: []string{asm}, Pause: true}, "suppressed: active_sales_motion"},
		{Decision{Reasons: []string{unsub, bounce}, Stop: true}, "suppressed: unsubscribed, bounced"},
		{Decision{Reasons: []string{fcap, quiet}, RetryAt: ny(2026, 11, 19, 8, 0)},
			"suppressed: frequency_cap, quiet_hours until 2026-11-19T13:00:00Z"},
	} {
		if got := c.d.Summary(); got != c.want {
			t.Errorf("Summary() = %q, want %q", got, c.want)
		}
	}
	d := Check(pol(), nyLoc, Input{Stage: lead.StageHandoff, Now: noon})
	if got := d.Summary(); got != "suppressed: active_sales_motion" {
		t.Errorf("Summary() = %q", got)
	}
}

func TestDecisionJSON(t *testing.T) {
	for _, c := range []struct {
		d    Decision
		want string
	}{
		{Decision{Allowed: true}, `{"allowed":true}`},
		{Decision{Reasons: []string{asm}, Pause: true}, `{"allowed":false,"reasons":["active_sales_motion"],"pause":true}`},
		{Decision{Reasons: []string{quiet}, RetryAt: utc(2026, 11, 19, 13, 0)},
			`{"allowed":false,"reasons":["quiet_hours"],"retryAt":"2026-11-19T13:00:00Z"}`},
	} {
		b, err := json.Marshal(c.d)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("json = %s, want %s", b, c.want)
		}
	}
}
