package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestLoadExample(t *testing.T) {
	p, err := Load("../../deploy/policy.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// The shipped copy must be the shared example, which must load as it stands.
	shared, err := os.ReadFile("../../../shared/policy.example.yaml") // the shared folder beside the repository
	if err == nil && string(shared) != string(p.Source) {
		t.Errorf("deploy/policy.yaml differs from the shared policy.example.yaml")
	}

	if p.Version != "2026-11-22.1" || p.Timezone != "America/New_York" || p.Location.String() != "America/New_York" {
		t.Errorf("version/timezone = %q %q %v", p.Version, p.Timezone, p.Location)
	}
	if len(p.Digest) != 64 {
		t.Errorf("digest %q", p.Digest)
	}
	s := p.Scoring
	if s.MQLThreshold != 50 || s.Caps != (Caps{Intent: 100, Fit: 40}) || s.Decay.HalfLife != MustDuration("30d") {
		t.Errorf("scoring header = %d %+v %v", s.MQLThreshold, s.Caps, s.Decay.HalfLife)
	}
	wantRules := []struct {
		name       string
		points     int
		once, fast bool
	}{
		{"opened_3_emails", 10, true, false},
		{"pricing_page", 20, false, false},
		{"replied", 25, false, false},
		{"quote_request", 40, false, true},
		{"webinar", 15, false, false},
		{"careers_page", -10, false, false},
	}
	if len(s.Rules) != len(wantRules) {
		t.Fatalf("%d rules, want %d", len(s.Rules), len(wantRules))
	}
	for i, w := range wantRules {
		r := s.Rules[i]
		if r.Name != w.name || r.Points != w.points || r.Once != w.once || r.FastTrack != w.fast || r.When == nil {
			t.Errorf("rule %d = %+v, want %+v", i, r, w)
		}
	}
	if len(s.Fit) != 3 || s.Fit[2].Name != "student" || s.Fit[2].Points != -50 {
		t.Errorf("fit = %+v", s.Fit)
	}
	if !reflect.DeepEqual(s.RequiredForHandoff, []string{"email", "company", "country"}) {
		t.Errorf("required_for_handoff = %v", s.RequiredForHandoff)
	}
	if len(p.Segments) != 3 || p.Segments[2].Name != "smb" {
		t.Errorf("segments = %+v", p.Segments)
	}

	if len(p.Routing) != 4 {
		t.Fatalf("routing = %+v", p.Routing)
	}
	r0, r3 := p.Routing[0], p.Routing[3]
	if !r0.AccountOwner || r0.When != nil || r0.Pool != "" || r0.Line != 53 {
		t.Errorf("routing[0] = %+v", r0)
	}
	if r3.Name != "inbound" || r3.Pool != "inbound-sdrs" || r3.Territory != "global" || r3.When != nil || r3.Line != 63 {
		t.Errorf("routing[3] = %+v", r3)
	}
	if got := p.Pools(); !reflect.DeepEqual(got, []string{"enterprise-aes", "inbound-sdrs", "na-west-sdrs"}) {
		t.Errorf("Pools = %v", got)
	}

	sla := p.SLA
	bh := sla.BusinessHours
	if bh.Always || !reflect.DeepEqual(bh.Days, []time.Weekday{1, 2, 3, 4, 5}) || bh.Start != 9*60 || bh.End != 17*60 || bh.Holidays != "US" {
		t.Errorf("business hours = %+v", bh)
	}
	firstTouch := func(trigger string) Duration {
		for _, w := range sla.FirstTouch {
			ok, err := w.When.Match(Vars{Trigger: trigger})
			if err != nil {
				t.Fatalf("match: %v", err)
			}
			if ok {
				return w.Within
			}
		}
		t.Fatalf("no first_touch window for %q", trigger)
		return 0
	}
	if got := firstTouch("quote_request"); got != MustDuration("15m") {
		t.Errorf("first touch for quote_request = %v", got)
	}
	if got := firstTouch("pricing_page"); got != MustDuration("4h") {
		t.Errorf("first touch otherwise = %v", got)
	}
	if sla.Acceptance.Within != MustDuration("2d") || sla.Acceptance.When != nil {
		t.Errorf("acceptance = %+v", sla.Acceptance)
	}
	wantLadder := []LadderStep{{0.5, ActionRemind}, {1.0, ActionEscalate}, {1.5, ActionReassign}}
	if !reflect.DeepEqual(sla.Ladder, wantLadder) {
		t.Errorf("ladder = %+v", sla.Ladder)
	}
	if sla.MaxReassigns != 2 || sla.SALStaleAfter != MustDuration("14d") {
		t.Errorf("max_reassigns %d sal_stale_after %v", sla.MaxReassigns, sla.SALStaleAfter)
	}

	sup := p.Suppression
	if sup.RecentRepTouch != MustDuration("14d") || sup.FrequencyCap != (FrequencyCap{3, MustDuration("7d")}) {
		t.Errorf("suppression = %+v", sup)
	}
	if sup.QuietHours == nil || *sup.QuietHours != (QuietHours{Start: 20 * 60, End: 8 * 60}) {
		t.Errorf("quiet hours = %+v", sup.QuietHours)
	}

	wantPlays := map[string]Play{
		"bad_fit":          {To: "disqualified", Score: ScoreKeep, Requalify: RequalifyNewIntent},
		"duplicate":        {To: "merged", Score: ScoreKeep, Requalify: RequalifyNewIntent},
		"no_response":      {To: "recycle", Nurture: "re-engagement", CoolOff: MustDuration("30d"), Score: ScoreReset, Requalify: RequalifyNewIntent},
		"timing":           {To: "recycle", Nurture: "long-term", CoolOff: MustDuration("90d"), Score: ScoreHalve, Requalify: RequalifyNewIntent},
		"competitor":       {To: "recycle", Nurture: "win-back", CoolOff: MustDuration("180d"), Score: ScoreReset, Requalify: RequalifyNewIntent},
		"other":            {To: "recycle", Nurture: "default", CoolOff: MustDuration("30d"), Score: ScoreKeep, Requalify: RequalifyNewIntent},
		"opportunity_lost": {To: "recycle", Nurture: "win-back", CoolOff: MustDuration("90d"), Score: ScoreReset, Requalify: RequalifyNewIntent},
		"sal_stale":        {To: "recycle", Nurture: "default", CoolOff: MustDuration("30d"), Score: ScoreHalve, Requalify: RequalifyNewIntent},
	}
	if !reflect.DeepEqual(p.Plays, wantPlays) {
		t.Errorf("plays = %+v", p.Plays)
	}
	if pl, ok := p.Play("timing"); !ok || pl.Nurture != "long-term" {
		t.Errorf("Play(timing) = %+v %v", pl, ok)
	}
	if _, ok := p.Play("nope"); ok {
		t.Errorf("Play(nope) found")
	}

	if p.Nurture.OnEnterLead != "default" || p.Nurture.OnEnterCustomer != "customer" {
		t.Errorf("nurture = %+v", p.Nurture)
	}
	wantTracks := map[string]Track{
		"default":       {Every: MustDuration("7d"), Steps: 8},
		"re-engagement": {Every: MustDuration("5d"), Steps: 4},
		"long-term":     {Every: MustDuration("30d"), Steps: 6},
		"win-back":      {Every: MustDuration("14d"), Steps: 4},
		"customer":      {Every: MustDuration("30d"), Steps: 12},
	}
	if !reflect.DeepEqual(p.Nurture.Tracks, wantTracks) {
		t.Errorf("tracks = %+v", p.Nurture.Tracks)
	}
	if tr, ok := p.Track("win-back"); !ok || tr.Steps != 4 {
		t.Errorf("Track(win-back) = %+v %v", tr, ok)
	}
	if _, ok := p.Track("nope"); ok {
		t.Errorf("Track(nope) found")
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}
