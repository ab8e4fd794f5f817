package scoring

import (
	"reflect"
	"strings"
	"testing"
)

// Fit and intent are two gates beside the total: an ICP lead (fit 30) is
// no MQL on one pricing view when the policy asks for intent of its own.
func TestQualifiesGates(t *testing.T) {
	sc := exampleScoring()
	sc.MinIntent, sc.MinFit = 30, 10
	for name, c := range map[string]struct {
		s    State
		r    Result
		want bool
		why  string
	}{
		"icp, one pricing view":    {State{Fit: 30, Intent: 20}, Result{}, false, "intent 20 < min_intent 30"},
		"icp, enough intent":       {State{Fit: 30, Intent: 30}, Result{}, true, "score 60 >= 50"},
		"behaviour alone":          {State{Fit: 0, Intent: 60}, Result{}, false, "fit 0 < min_fit 10"},
		"fast track, low fit":      {State{Fit: 0, Intent: 40}, Result{FastTrack: true, FastTrackRule: "quote_request"}, true, "fast track"},
		"fast track, negative fit": {State{Fit: -20, Intent: 40}, Result{FastTrack: true}, false, "negative"},
		"under the threshold":      {State{Fit: 10, Intent: 35}, Result{}, false, "score 45 < 50"},
	} {
		ok, why := Qualifies(sc, c.s, c.r)
		if ok != c.want || !strings.Contains(why, c.why) {
			t.Errorf("%s: %v %q; want %v %q", name, ok, why, c.want, c.why)
		}
	}
	// Defaults keep today's rule: fit not negative, no intent minimum.
	if ok, why := Qualifies(exampleScoring(), State{Fit: 0, Intent: 50}, Result{}); !ok {
		t.Errorf("default gates refused %q", why)
	}
}

// Fit is unknown while a points-awarding fit rule's fields are missing;
// the student rule (negative) never holds a lead back.
func TestUnknownFit(t *testing.T) {
	sc := exampleScoring()
	for name, c := range map[string]struct {
		profile map[string]any
		want    []string
	}{
		"nothing known":    {map[string]any{"email": "a@b.c"}, []string{"employees", "industry"}},
		"industry missing": {map[string]any{"employees": int64(250)}, []string{"industry"}},
		"all known":        {map[string]any{"employees": int64(250), "industry": "retail"}, nil},
	} {
		if got := UnknownFit(sc, c.profile); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v; want %v", name, got, c.want)
		}
	}
}
