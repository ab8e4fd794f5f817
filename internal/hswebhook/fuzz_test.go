package hswebhook

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fuzzDeps answers every lookup, so Map reaches every mapping.
var fuzzDeps = Deps{
	ContactOwner: func(context.Context, string) (string, error) { return "77", nil },
	RepForOwner:  func(context.Context, string) (string, bool, error) { return "rep-7", true, nil },
	DealContacts: func(context.Context, string) ([]string, error) { return []string{"501", "502"}, nil },
	DealAmount:   func(context.Context, string) (float64, bool, error) { return 1200, true, nil },
	Engagement: func(context.Context, string, string) (Engagement, error) {
		return Engagement{OwnerID: "77", ContactIDs: []string{"501"}}, nil
	},
}

// FuzzParse: any body is either refused by Parse with an error, or every
// notification in it maps to a deliberate skip or to events that pass the
// contract's validation. An invalid mapped event is answered 500 and
// HubSpot retries it for a day, so it must not come from HubSpot's data.
// Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		notes, err := Parse(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		for i, n := range notes {
			evs, err := Map(context.Background(), n, fuzzDeps)
			if err != nil {
				var sk *Skipped
				if !errors.As(err, &sk) || sk.Kind == "" {
					t.Fatalf("notification %d: %v, want *Skipped (the lookups do not fail)", i, err)
				}
				continue
			}
			for _, ev := range evs {
				if fes := ev.Validate(); len(fes) > 0 {
					t.Fatalf("notification %d %+v mapped to an invalid event %+v: %v", i, n, ev, fes)
				}
				if strings.Contains(ev.ID, "@") {
					t.Fatalf("notification %d: event ID %q holds an @", i, ev.ID)
				}
			}
		}
	})
}

// FuzzCheckHeaders: the header check never accepts a timestamp that is
// not a positive decimal, nor one older than MaxAge.
// Seeds: testdata/fuzz/FuzzCheckHeaders.
func FuzzCheckHeaders(f *testing.F) {
	f.Fuzz(func(t *testing.T, ts, sig string) {
		err := CheckHeaders(ts, sig, testNow)
		if err != nil {
			return
		}
		ms, ok := parseUnixMillis(ts)
		if !ok || sig == "" || testNow.Sub(time.UnixMilli(ms)) > MaxAge {
			t.Fatalf("CheckHeaders(%q, %q) accepted", ts, sig)
		}
	})
}
