package scoring

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
)

// exampleScoring is the scoring section of ../shared/policy.example.yaml,
// built in Go so these tests do not depend on the YAML loader.
func exampleScoring() policy.Scoring {
	c := policy.MustCompile
	return policy.Scoring{
		MQLThreshold: 50,
		Caps:         policy.Caps{Intent: 100, Fit: 40},
		Decay:        policy.Decay{HalfLife: policy.MustDuration("30d")},
		Rules: []policy.Rule{
			{Name: "opened_3_emails", When: c(`event.type == "email.open" && counts["email.open"] >= 3`), Points: 10, Once: true},
			{Name: "pricing_page", When: c(`event.type == "web.page_view" && event.attributes.category == "pricing"`), Points: 20},
			{Name: "replied", When: c(`event.type in ["email.reply", "sms.reply"]`), Points: 25},
			{Name: "quote_request", When: c(`event.type == "form.submit" && event.attributes.form in ["quote_request", "demo_request", "contact_sales"]`), Points: 40, FastTrack: true},
			{Name: "webinar", When: c(`event.type == "webinar.attended"`), Points: 15},
			{Name: "careers_page", When: c(`event.type == "web.page_view" && event.attributes.category == "careers"`), Points: -10},
		},
		Fit: []policy.Rule{
			{Name: "icp_size", When: c(`lead.employees >= 50`), Points: 20},
			{Name: "icp_industry", When: c(`lead.industry in ["insurance", "financial-services"]`), Points: 10},
			{Name: "student", When: c(`lead.title.lowerAscii().contains("student")`), Points: -50},
		},
		RequiredForHandoff: []string{"email", "company", "country"},
	}
}

var t0 = time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// ev builds an event; attrs alternate key, value.
func ev(id, typ string, at time.Time, attrs ...string) lead.Event {
	e := lead.Event{ID: id, LeadID: "L-1", Type: typ, OccurredAt: at}
	if len(attrs) > 0 {
		e.Attributes = map[string]any{}
		for i := 0; i+1 < len(attrs); i += 2 {
			e.Attributes[attrs[i]] = attrs[i+1]
		}
	}
	return e
}

func page(id, category string, at time.Time) lead.Event {
	return ev(id, lead.EventWebPageView, at, "category", category)
}

func form(id, name string, at time.Time) lead.Event {
	return ev(id, lead.EventFormSubmit, at, "form", name)
}

// applyAll runs events through Apply, failing the test on error, and returns
// the final state and the last result.
func applyAll(t testing.TB, sc policy.Scoring, s State, profile map[string]any, evs ...lead.Event) (State, Result) {
	t.Helper()
	var r Result
	for _, e := range evs {
		var err error
		s, r, err = Apply(sc, s, e, profile, "smb")
		if err != nil {
			t.Fatalf("Apply(%s): %v", e.ID, err)
		}
	}
	return s, r
}

func TestIntentRules(t *testing.T) {
	sc := exampleScoring()
	opens := func(n int) []lead.Event {
		out := make([]lead.Event, n)
		for i := range out {
			out[i] = ev("o"+string(rune('1'+i)), lead.EventEmailOpen, t0.Add(time.Duration(i)*time.Minute))
		}
		return out
	}
	tests := []struct {
		name      string
		events    []lead.Event
		intent    int      // after all events
		lastHits  []string // rules matched by the last event
		fastTrack string
		trigger   string
	}{
		{name: "1 open", events: opens(1), intent: 0},
		{name: "2 opens", events: opens(2), intent: 0},
		{name: "3 opens fire on the 3rd", events: opens(3), intent: 10, lastHits: []string{"opened_3_emails"}, trigger: "opened_3_emails"},
		{name: "6 opens fire once", events: opens(6), intent: 10},
		{name: "pricing page", events: []lead.Event{page("p", "pricing", t0)}, intent: 20, lastHits: []string{"pricing_page"}, trigger: "pricing_page"},
		{name: "email reply", events: []lead.Event{ev("r", lead.EventEmailReply, t0)}, intent: 25, lastHits: []string{"replied"}, trigger: "replied"},
		{name: "sms reply", events: []lead.Event{ev("r", lead.EventSMSReply, t0)}, intent: 25, lastHits: []string{"replied"}, trigger: "replied"},
		{name: "quote request", events: []lead.Event{form("f", "quote_request", t0)}, intent: 40, lastHits: []string{"quote_request"}, fastTrack: "quote_request", trigger: "quote_request"},
		{name: "demo request", events: []lead.Event{form("f", "demo_request", t0)}, intent: 40, lastHits: []string{"quote_request"}, fastTrack: "quote_request", trigger: "quote_request"},
		{name: "contact sales", events: []lead.Event{form("f", "contact_sales", t0)}, intent: 40, lastHits: []string{"quote_request"}, fastTrack: "quote_request", trigger: "quote_request"},
		{name: "content download", events: []lead.Event{form("f", "content_download", t0)}, intent: 0},
		{name: "webinar", events: []lead.Event{ev("w", lead.EventWebinarAttended, t0)}, intent: 15, lastHits: []string{"webinar"}, trigger: "webinar"},
		{name: "careers after pricing", events: []lead.Event{page("p", "pricing", t0), page("c", "careers", t0)}, intent: 10, lastHits: []string{"careers_page"}},
		{name: "careers alone floors at 0", events: []lead.Event{page("c", "careers", t0)}, intent: 0, lastHits: []string{"careers_page"}},
		{name: "page view without category", events: []lead.Event{ev("v", lead.EventWebPageView, t0)}, intent: 0},
		{name: "page view with other attrs", events: []lead.Event{ev("v", lead.EventWebPageView, t0, "url", "/x")}, intent: 0},
		{name: "intent capped at 100", events: []lead.Event{form("a", "quote_request", t0), form("b", "quote_request", t0), form("c", "demo_request", t0)}, intent: 100, lastHits: []string{"quote_request"}, fastTrack: "quote_request", trigger: "quote_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, r := applyAll(t, sc, State{}, nil, tc.events...)
			if s.IntentPoints() != tc.intent || r.Intent != tc.intent {
				t.Errorf("intent = %v (result %d), want %d", s.Intent, r.Intent, tc.intent)
			}
			var hits []string
			for _, m := range r.Matched {
				hits = append(hits, m.Rule)
			}
			if !reflect.DeepEqual(hits, tc.lastHits) {
				t.Errorf("matched = %v, want %v", hits, tc.lastHits)
			}
			if r.FastTrack != (tc.fastTrack != "") || r.FastTrackRule != tc.fastTrack {
				t.Errorf("fast track = %v %q, want %q", r.FastTrack, r.FastTrackRule, tc.fastTrack)
			}
			if r.Trigger != tc.trigger {
				t.Errorf("trigger = %q, want %q", r.Trigger, tc.trigger)
			}
			if s.Intent < 0 || s.Intent > 100 {
				t.Errorf("intent %v out of [0, 100]", s.Intent)
			}
		})
	}
}

func TestCountsAndOnce(t *testing.T) {
	sc := exampleScoring()
	var evs []lead.Event
	for i := range 6 {
		evs = append(evs, ev("o", lead.EventEmailOpen, t0.Add(time.Duration(i)*time.Hour)))
	}
	evs = append(evs, page("p", "pricing", t0.Add(7*time.Hour)))
	s, _ := applyAll(t, sc, State{}, nil, evs...)
	if got := s.Counts; !reflect.DeepEqual(got, map[string]int64{"email.open": 6, "web.page_view": 1}) {
		t.Errorf("counts = %v", got)
	}
	if !reflect.DeepEqual(s.Fired, []string{"opened_3_emails"}) {
		t.Errorf("fired = %v", s.Fired)
	}
	if len(s.Items) != 2 || s.Items[0].Rule != "opened_3_emails" || s.Items[1].Rule != "pricing_page" {
		t.Errorf("items = %+v", s.Items)
	}
	if s.Items[1].EventID != "p" || !s.Items[1].At.Equal(t0.Add(7*time.Hour)) || s.Items[1].Kind != KindIntent {
		t.Errorf("item = %+v", s.Items[1])
	}
}

func TestFiredSorted(t *testing.T) {
	sc := exampleScoring()
	sc.Rules = append(sc.Rules, policy.Rule{Name: "a_first_webinar", When: policy.MustCompile(`event.type == "webinar.attended"`), Points: 1, Once: true})
	s, _ := applyAll(t, sc, State{}, nil,
		ev("o1", lead.EventEmailOpen, t0), ev("o2", lead.EventEmailOpen, t0), ev("o3", lead.EventEmailOpen, t0),
		ev("w", lead.EventWebinarAttended, t0))
	if want := []string{"a_first_webinar", "opened_3_emails"}; !reflect.DeepEqual(s.Fired, want) {
		t.Errorf("fired = %v, want %v", s.Fired, want)
	}
}

func TestTriggerHighestPositive(t *testing.T) {
	sc := exampleScoring()
	// Two non-fast-track rules on one event: the bigger one names the trigger.
	sc.Rules = append(sc.Rules,
		policy.Rule{Name: "pricing_small", When: policy.MustCompile(`event.attributes.category == "pricing"`), Points: 5},
		policy.Rule{Name: "pricing_tie", When: policy.MustCompile(`event.attributes.category == "pricing"`), Points: 20},
		policy.Rule{Name: "pricing_neg", When: policy.MustCompile(`event.attributes.category == "pricing"`), Points: -1})
	_, r := applyAll(t, sc, State{}, nil, page("p", "pricing", t0))
	if r.Trigger != "pricing_page" || len(r.Matched) != 4 || r.FastTrack {
		t.Errorf("result = %+v", r)
	}
	// Only a negative rule matched: no trigger.
	_, r = applyAll(t, sc, State{}, nil, page("c", "careers", t0))
	if r.Trigger != "" {
		t.Errorf("trigger = %q, want none", r.Trigger)
	}
}

func TestFit(t *testing.T) {
	sc := exampleScoring()
	tests := []struct {
		name    string
		profile map[string]any
		fit     int
		rules   []string
	}{
		{"empty profile", nil, 0, nil},
		{"size only", map[string]any{"employees": int64(50)}, 20, []string{"icp_size"}},
		{"too small", map[string]any{"employees": int64(49), "industry": "retail"}, 0, nil},
		{"size and industry", map[string]any{"employees": int64(250), "industry": "insurance"}, 30, []string{"icp_size", "icp_industry"}},
		{"student", map[string]any{"title": "Graduate Student"}, -50, []string{"student"}},
		{"student at icp", map[string]any{"employees": int64(250), "industry": "financial-services", "title": "STUDENT intern"}, -20, []string{"icp_size", "icp_industry", "student"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fit, items, err := Fit(sc, tc.profile, "smb")
			if err != nil {
				t.Fatal(err)
			}
			if fit != tc.fit {
				t.Errorf("fit = %d, want %d", fit, tc.fit)
			}
			var rules []string
			for _, it := range items {
				rules = append(rules, it.Rule)
				if it.Kind != KindFit || it.EventID != "" {
					t.Errorf("item = %+v", it)
				}
			}
			if !reflect.DeepEqual(rules, tc.rules) {
				t.Errorf("rules = %v, want %v", rules, tc.rules)
			}
		})
	}

	t.Run("cap 40", func(t *testing.T) {
		sc := exampleScoring()
		sc.Fit = append(sc.Fit, policy.Rule{Name: "big", When: policy.MustCompile(`lead.employees >= 1000`), Points: 30})
		fit, items, err := Fit(sc, map[string]any{"employees": int64(5000), "industry": "insurance"}, "enterprise")
		if err != nil || fit != 40 || len(items) != 3 {
			t.Errorf("fit = %d, %d items, %v; want 40 from 3 items", fit, len(items), err)
		}
	})
	t.Run("segment visible", func(t *testing.T) {
		sc := exampleScoring()
		sc.Fit = []policy.Rule{{Name: "ent", When: policy.MustCompile(`segment == "enterprise"`), Points: 5}}
		if fit, _, _ := Fit(sc, nil, "enterprise"); fit != 5 {
			t.Errorf("fit = %d, want 5", fit)
		}
	})
}

func TestQualifies(t *testing.T) {
	sc := exampleScoring()
	icp := map[string]any{"email": "a@b.co", "company": "Acme", "country": "US", "employees": int64(250), "industry": "insurance"}
	student := map[string]any{"email": "s@uni.edu", "title": "Student", "employees": int64(250), "industry": "insurance"}
	tests := []struct {
		name    string
		profile map[string]any
		events  []lead.Event
		total   int
		mql     bool
		why     string
	}{
		{"fit alone", icp, []lead.Event{ev("o", lead.EventEmailOpen, t0)}, 30, false, "score 30 < 50"},
		{"pricing + webinar + fit 30", icp, []lead.Event{page("p", "pricing", t0), ev("w", lead.EventWebinarAttended, t0)}, 65, true, "score 65 >= 50"},
		{"pricing + reply, no fit", nil, []lead.Event{page("p", "pricing", t0), ev("r", lead.EventEmailReply, t0)}, 45, false, "score 45 < 50"},
		{"pricing + reply + size", map[string]any{"employees": int64(60)}, []lead.Event{page("p", "pricing", t0), ev("r", lead.EventSMSReply, t0)}, 65, true, "score 65 >= 50"},
		{"reply + webinar + size", map[string]any{"employees": int64(60)}, []lead.Event{ev("r", lead.EventEmailReply, t0), ev("w", lead.EventWebinarAttended, t0), ev("w2", lead.EventEmailOpen, t0)}, 60, true, "score 60 >= 50"},
		{"fast track, no fit", nil, []lead.Event{form("f", "quote_request", t0)}, 40, true, "fast track: quote_request"},
		{"student fast track", student, []lead.Event{form("f", "demo_request", t0)}, 20, false, "fit -20 is negative"},
		{"student high score", map[string]any{"title": "student"}, []lead.Event{form("a", "quote_request", t0), form("b", "quote_request", t0), page("p", "pricing", t0)}, 50, false, "fit -50 is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, r := applyAll(t, sc, State{}, tc.profile, tc.events...)
			if s.Total() != tc.total || r.Total != tc.total {
				t.Errorf("total = %d (result %d), want %d", s.Total(), r.Total, tc.total)
			}
			mql, why := Qualifies(sc, s, r)
			if mql != tc.mql || why != tc.why {
				t.Errorf("Qualifies = %v %q, want %v %q", mql, why, tc.mql, tc.why)
			}
		})
	}
	t.Run("threshold exact", func(t *testing.T) {
		s := State{Intent: 20, Fit: 30}
		if mql, why := Qualifies(sc, s, Result{}); !mql || why != "score 50 >= 50" {
			t.Errorf("Qualifies = %v %q", mql, why)
		}
	})
}

func TestDecay(t *testing.T) {
	sc := exampleScoring()
	// 40 points of intent at t0.
	s0, _ := applyAll(t, sc, State{}, nil, page("p", "pricing", t0), ev("w", lead.EventWebinarAttended, t0), ev("o", lead.EventEmailOpen, t0))
	if s0.Intent != 35 {
		t.Fatalf("setup intent = %v", s0.Intent)
	}
	s0.Intent = 40
	tests := []struct {
		name   string
		after  time.Duration
		intent float64
	}{
		{"no time", 0, 40},
		{"30 days", 30 * day, 20},
		{"60 days", 60 * day, 10},
		{"15 days", 15 * day, 40 / math.Sqrt2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Through DecayedTo (display) ...
			d := s0.DecayedTo(sc.Decay.HalfLife, t0.Add(tc.after))
			if math.Abs(d.Intent-tc.intent) > 1e-9 {
				t.Errorf("DecayedTo intent = %v, want %v", d.Intent, tc.intent)
			}
			// ... and through an event that scores nothing.
			s, r := applyAll(t, sc, s0, nil, ev("x", lead.EventEmailClick, t0.Add(tc.after)))
			if math.Abs(s.Intent-tc.intent) > 1e-9 || r.Intent != int(math.Round(tc.intent)) {
				t.Errorf("Apply intent = %v (result %d), want %v", s.Intent, r.Intent, tc.intent)
			}
			if !s.IntentAt.Equal(t0.Add(tc.after)) {
				t.Errorf("IntentAt = %v", s.IntentAt)
			}
		})
	}

	t.Run("decay then score", func(t *testing.T) {
		s, _ := applyAll(t, sc, s0, nil, page("p2", "pricing", t0.Add(30*day)))
		if s.Intent != 40 {
			t.Errorf("intent = %v, want 20 decayed + 20", s.Intent)
		}
	})
	t.Run("out of order event does not decay or move time", func(t *testing.T) {
		late, _ := applyAll(t, sc, s0, nil, ev("x", lead.EventEmailClick, t0.Add(30*day)))
		s, _ := applyAll(t, sc, late, nil, ev("old", lead.EventEmailClick, t0.Add(10*day)))
		if s.Intent != 20 || !s.IntentAt.Equal(t0.Add(30*day)) {
			t.Errorf("intent %v at %v, want 20 at %v", s.Intent, s.IntentAt, t0.Add(30*day))
		}
		s, _ = applyAll(t, sc, late, nil, page("oldp", "pricing", t0.Add(10*day)))
		if s.Intent != 40 || !s.IntentAt.Equal(t0.Add(30*day)) {
			t.Errorf("old pricing: intent %v at %v, want 40 unchanged time", s.Intent, s.IntentAt)
		}
	})
	t.Run("DecayedTo earlier never increases", func(t *testing.T) {
		d := s0.DecayedTo(sc.Decay.HalfLife, t0.Add(-30*day))
		if d.Intent != 40 || !d.IntentAt.Equal(s0.IntentAt) {
			t.Errorf("got %v at %v", d.Intent, d.IntentAt)
		}
	})
	t.Run("half life 0 means no decay", func(t *testing.T) {
		d := s0.DecayedTo(0, t0.Add(365*day))
		if d.Intent != 40 {
			t.Errorf("intent = %v", d.Intent)
		}
	})
}

func TestNewCycle(t *testing.T) {
	sc := exampleScoring()
	profile := map[string]any{"employees": int64(250)}
	s, _ := applyAll(t, sc, State{}, profile,
		ev("o1", lead.EventEmailOpen, t0), ev("o2", lead.EventEmailOpen, t0), ev("o3", lead.EventEmailOpen, t0),
		page("p", "pricing", t0), ev("w", lead.EventWebinarAttended, t0))
	if s.Intent != 45 || s.Fit != 20 {
		t.Fatalf("setup: intent %v fit %d", s.Intent, s.Fit)
	}
	tests := []struct {
		rule   string
		intent float64
	}{
		{policy.ScoreReset, 0},
		{policy.ScoreHalve, 22.5},
		{policy.ScoreKeep, 45},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			n := s.NewCycle(tc.rule)
			if n.Intent != tc.intent || n.Fit != 20 || len(n.FitItems) != 1 {
				t.Errorf("intent %v fit %d fitItems %d", n.Intent, n.Fit, len(n.FitItems))
			}
			if len(n.Counts) != 0 || len(n.Fired) != 0 || len(n.Items) != 0 {
				t.Errorf("cycle not cleared: %+v", n)
			}
			// The once rule can fire again in the new cycle, on the 3rd open.
			n, r := applyAll(t, sc, n, profile, ev("o4", lead.EventEmailOpen, t0), ev("o5", lead.EventEmailOpen, t0))
			if len(r.Matched) != 0 {
				t.Errorf("fired on 2nd open of the new cycle")
			}
			n, r = applyAll(t, sc, n, profile, ev("o6", lead.EventEmailOpen, t0))
			if len(r.Matched) != 1 || n.Intent != tc.intent+10 {
				t.Errorf("3rd open: matched %v, intent %v", r.Matched, n.Intent)
			}
		})
	}
	if s.Intent != 45 || len(s.Items) != 3 || s.Counts["email.open"] != 3 {
		t.Errorf("NewCycle mutated the original state: %+v", s)
	}
}

func TestMissing(t *testing.T) {
	req := []string{"email", "company", "country"}
	tests := []struct {
		name    string
		profile map[string]any
		want    []string
	}{
		{"nil profile", nil, []string{"email", "company", "country"}},
		{"all present", map[string]any{"email": "a@b.co", "company": "Acme", "country": "US"}, nil},
		{"company missing", map[string]any{"email": "a@b.co", "country": "US"}, []string{"company"}},
		{"blank counts as missing", map[string]any{"email": "a@b.co", "company": "  ", "country": ""}, []string{"company", "country"}},
		{"from Profile.CELMap", (&lead.Profile{Email: "a@b.co", Country: "DE"}).CELMap(), []string{"company"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Missing(req, tc.profile); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Missing = %v, want %v", got, tc.want)
			}
		})
	}
	if got := Missing([]string{"country", "employees", "email"}, map[string]any{"employees": int64(0)}); !reflect.DeepEqual(got, []string{"country", "employees", "email"}) {
		t.Errorf("order/zero: %v", got)
	}
	if got := Missing(nil, nil); len(got) != 0 {
		t.Errorf("no requirements: %v", got)
	}
}

func TestRefitAndBreakdown(t *testing.T) {
	sc := exampleScoring()
	s, _ := applyAll(t, sc, State{}, nil, page("p", "pricing", t0))
	if s.Fit != 0 || len(s.Breakdown()) != 1 {
		t.Fatalf("before: %+v", s)
	}
	s, err := Refit(sc, s, map[string]any{"employees": int64(250), "industry": "insurance"}, "mid-market")
	if err != nil {
		t.Fatal(err)
	}
	if s.Fit != 30 || s.Total() != 50 || s.Intent != 20 {
		t.Errorf("after refit: fit %d total %d", s.Fit, s.Total())
	}
	var rules []string
	for _, it := range s.Breakdown() {
		rules = append(rules, it.Kind+":"+it.Rule)
	}
	if want := []string{"fit:icp_size", "fit:icp_industry", "intent:pricing_page"}; !reflect.DeepEqual(rules, want) {
		t.Errorf("breakdown = %v, want %v", rules, want)
	}
	if b := (State{}).Breakdown(); b == nil {
		t.Error("empty breakdown is nil; want [] in JSON")
	}
}

func TestItemsBounded(t *testing.T) {
	sc := exampleScoring()
	s := State{}
	for i := range MaxItems + 10 {
		var err error
		s, _, err = Apply(sc, s, ev("w"+string(rune('A'+i)), lead.EventWebinarAttended, t0.Add(time.Duration(i)*time.Minute)), nil, "")
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(s.Items) != MaxItems || s.Items[MaxItems-1].At != t0.Add(time.Duration(MaxItems+9)*time.Minute) {
		t.Errorf("%d items, last %v", len(s.Items), s.Items[len(s.Items)-1].At)
	}
}

func TestApplyDoesNotMutateInput(t *testing.T) {
	sc := exampleScoring()
	s, _ := applyAll(t, sc, State{}, nil, ev("o1", lead.EventEmailOpen, t0), ev("o2", lead.EventEmailOpen, t0))
	before, _ := json.Marshal(s)
	applyAll(t, sc, s, nil, ev("o3", lead.EventEmailOpen, t0))
	after, _ := json.Marshal(s)
	if string(before) != string(after) {
		t.Errorf("input state changed:\n%s\n%s", before, after)
	}
}

func TestErrorsCarryContext(t *testing.T) {
	sc := exampleScoring()
	// Comparing a string attribute with an int is a CEL runtime error, not a
	// missing key; it must surface with the rule and event named.
	sc.Rules = []policy.Rule{{Name: "bad", When: policy.MustCompile(`event.attributes.n > 3`), Points: 1}}
	s0 := State{Intent: 7}
	s, _, err := Apply(sc, s0, ev("e-9", lead.EventFormSubmit, t0, "n", "x"), nil, "")
	if err == nil || !strings.Contains(err.Error(), "score rule bad on event e-9:") {
		t.Fatalf("err = %v", err)
	}
	if !reflect.DeepEqual(s, s0) {
		t.Errorf("state changed on error: %+v", s)
	}
	sc = exampleScoring()
	sc.Fit = []policy.Rule{{Name: "badfit", When: policy.MustCompile(`lead.employees > "x"`), Points: 1}}
	if _, _, err := Fit(sc, map[string]any{"employees": int64(3)}, ""); err == nil || !strings.Contains(err.Error(), "fit rule badfit:") {
		t.Errorf("fit err = %v", err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	sc := exampleScoring()
	s, _ := applyAll(t, sc, State{}, map[string]any{"employees": int64(250)},
		ev("o1", lead.EventEmailOpen, t0), ev("o2", lead.EventEmailOpen, t0), ev("o3", lead.EventEmailOpen, t0.Add(time.Hour)))
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) || back.Total() != s.Total() || !back.IntentAt.Equal(s.IntentAt) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
	// Continuing from the decoded state behaves like continuing from the original.
	s1, r1 := applyAll(t, sc, s, nil, ev("o4", lead.EventEmailOpen, t0.Add(2*time.Hour)))
	s2, r2 := applyAll(t, sc, back, nil, ev("o4", lead.EventEmailOpen, t0.Add(2*time.Hour)))
	j1, _ := json.Marshal(s1)
	j2, _ := json.Marshal(s2)
	if string(j1) != string(j2) || !reflect.DeepEqual(r1, r2) {
		t.Errorf("diverged after round trip:\n%s\n%s", j1, j2)
	}
	if strings.Contains(string(b), `"at":"0001`) {
		t.Errorf("zero time serialised: %s", b)
	}
}

func BenchmarkApply(b *testing.B) {
	sc := exampleScoring()
	profile := (&lead.Profile{Email: "a@b.co", Company: "Acme", Country: "US", Employees: 250, Industry: "insurance", Title: "CTO"}).CELMap()
	s := State{Counts: map[string]int64{"email.open": 2}}
	e := page("p", "pricing", t0)
	for b.Loop() {
		if _, _, err := Apply(sc, s, e, profile, "mid-market"); err != nil {
			b.Fatal(err)
		}
	}
}
