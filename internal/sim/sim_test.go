package sim

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

var start = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

func plan(t *testing.T, n int, seed uint64) *Plan {
	t.Helper()
	p, err := Generate(Config{Leads: n, Rate: 5, Seed: seed, RunID: "t1", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeterministic(t *testing.T) {
	a, b := plan(t, 60, 42), plan(t, 60, 42)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two different plans")
	}
	if c := plan(t, 60, 43); reflect.DeepEqual(a.Leads, c.Leads) {
		t.Fatal("different seeds gave the same plan")
	}
}

// allEvents is every event a run may send, rep side included.
func allEvents(p *Plan) []lead.Event {
	var out []lead.Event
	for i := range p.Leads {
		l := &p.Leads[i]
		for _, s := range l.Events {
			out = append(out, s.Event)
		}
		if l.Outcome.Touch {
			out = append(out, l.TouchEvent("rep-1", start.Add(time.Hour)))
		}
		if l.Outcome.Opportunity != NoOpportunity {
			out = append(out, l.OpportunityCreated(start.Add(time.Hour)))
			if ev, ok := l.OpportunityClosed(start.Add(2 * time.Hour)); ok {
				out = append(out, ev)
			}
		}
	}
	return out
}

func TestEventsValid(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 99} {
		p := plan(t, 60, seed)
		ids := map[string]bool{}
		for _, ev := range allEvents(p) {
			if errs := ev.Validate(); len(errs) > 0 {
				t.Fatalf("seed %d: event %s invalid: %v", seed, ev.ID, errs)
			}
			if ev.LeadID == "" {
				t.Errorf("seed %d: event %s is email-only; every simulated event names its lead", seed, ev.ID)
			}
			if ids[ev.ID] {
				t.Errorf("seed %d: event id %s repeated", seed, ev.ID)
			}
			ids[ev.ID] = true
			if !strings.HasPrefix(ev.ID, "sim-t1-") || !strings.HasPrefix(ev.LeadID, "sim-t1-") {
				t.Errorf("seed %d: ids %s/%s lack the run prefix", seed, ev.ID, ev.LeadID)
			}
		}
	}
}

func TestLeadsWellFormed(t *testing.T) {
	p := plan(t, 60, 7)
	seen := map[string]bool{}
	var last time.Duration
	for i, l := range p.Leads {
		if !lead.ValidLeadID(l.ID) || seen[l.ID] {
			t.Errorf("lead %d: id %q invalid or repeated", i, l.ID)
		}
		seen[l.ID] = true
		if l.Arrival < last {
			t.Errorf("lead %d arrives before lead %d", i, i-1)
		}
		last = l.Arrival
		if len(l.Events) == 0 || l.Events[0].At != l.Arrival {
			t.Errorf("lead %d: first event not at its arrival", i)
		}
		if !slices.IsSortedFunc(l.Events, func(a, b Scheduled) int { return int(a.At - b.At) }) {
			t.Errorf("lead %d: events out of order", i)
		}
		for _, s := range l.Events {
			if !s.Event.OccurredAt.Equal(start.Add(s.At)) {
				t.Errorf("lead %d event %s: occurredAt %s, want start+%s", i, s.Event.ID, s.Event.OccurredAt, s.At)
			}
		}
		if l.Events[0].Event.Profile == nil || l.Events[0].Event.Profile.Email == "" {
			t.Errorf("lead %d: first event carries no profile", i)
		}
	}
	if want := time.Duration(59) * time.Second / 5; p.Leads[59].Arrival != want {
		t.Errorf("last arrival %s, want %s at 5 leads/s", p.Leads[59].Arrival, want)
	}
}

func TestEveryReasonAndOutcome(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5, 1234} {
		p := plan(t, 60, seed)
		reasons := map[lead.Reason]int{}
		opps := map[Opportunity]int{}
		actions := map[Action]int{}
		byID := map[string]int{}
		for i, l := range p.Leads {
			byID[l.ID] = i
		}
		for i, l := range p.Leads {
			o := l.Outcome
			actions[o.Action]++
			opps[o.Opportunity]++
			if o.Action == Reject {
				reasons[o.Reason]++
				req := l.RejectRequest("rep-1")
				if err := req.Check(l.ID); err != nil {
					t.Errorf("seed %d lead %s: reject request invalid: %v", seed, l.ID, err)
				}
			}
			if o.Action != NoAction && !handoffBound(&p.Leads[i]) {
				t.Errorf("seed %d lead %s: rep action for a lead not expected at handoff", seed, l.ID)
			}
			switch o.Reason {
			case lead.ReasonDuplicate:
				j, ok := byID[o.DuplicateOf]
				if !ok || j >= i {
					t.Errorf("seed %d lead %s: duplicate of %q, want an earlier simulated lead", seed, l.ID, o.DuplicateOf)
				} else if p.Leads[j].Profile.Domain != l.Profile.Domain {
					t.Errorf("seed %d lead %s: duplicate of a lead at another company", seed, l.ID)
				}
			case lead.ReasonTiming:
				if _, err := time.Parse(time.RFC3339, o.RevisitAt); err != nil || o.RevisitAt == "" {
					t.Errorf("seed %d lead %s: timing without a revisitAt", seed, l.ID)
				}
			case lead.ReasonOther:
				if o.Note == "" {
					t.Errorf("seed %d lead %s: other without a note", seed, l.ID)
				}
			}
			if o.Opportunity != NoOpportunity && (o.Action != Accept || o.Amount <= 0) {
				t.Errorf("seed %d lead %s: opportunity %q with action %q amount %d", seed, l.ID, o.Opportunity, o.Action, o.Amount)
			}
		}
		for _, r := range lead.Reasons {
			if reasons[r] == 0 {
				t.Errorf("seed %d: no rejection with reason %s", seed, r)
			}
		}
		for _, o := range []Opportunity{OppWon, OppLost} {
			if opps[o] == 0 {
				t.Errorf("seed %d: no opportunity %s", seed, o)
			}
		}
		if actions[Untouched] == 0 || actions[Accept] < actions[Reject] {
			t.Errorf("seed %d: actions %v: want some untouched and most accepted", seed, actions)
		}
	}
}

func TestVariety(t *testing.T) {
	p := plan(t, 60, 11)
	sources, countries, regions, forms, journeys, types := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[Journey]bool{}, map[string]bool{}
	industries := map[string]bool{}
	accounts, enriched, noCountry, students := 0, 0, 0, 0
	minEmp, maxEmp := 1<<30, 0
	for _, l := range p.Leads {
		sources[l.Source] = true
		journeys[l.Journey] = true
		countries[l.Profile.Country] = true
		regions[l.Profile.Region] = true
		industries[l.Profile.Industry] = true
		minEmp, maxEmp = min(minEmp, l.Profile.Employees), max(maxEmp, l.Profile.Employees)
		if isAccountDomain(l.Profile.Domain) {
			accounts++
		}
		if l.Enriched {
			enriched++
		}
		if l.Profile.Country == "" {
			noCountry++
		}
		if l.Journey == Student {
			students++
			if !strings.Contains(strings.ToLower(l.Profile.Title), "student") {
				t.Errorf("student %s has title %q", l.ID, l.Profile.Title)
			}
		}
		for _, s := range l.Events {
			types[s.Event.Type] = true
			if f := s.Event.Attr("form"); f != "" {
				forms[f] = true
			}
		}
	}
	for _, s := range Sources {
		if !sources[s] {
			t.Errorf("no lead from source %s", s)
		}
	}
	for _, c := range []string{"US", "GB", "DE"} {
		if !countries[c] {
			t.Errorf("no lead from %s", c)
		}
	}
	for _, r := range []string{"CA", "WA", "OR", "NY", "TX"} {
		if !regions[r] {
			t.Errorf("no lead from US region %s", r)
		}
	}
	for _, ind := range []string{"insurance", "financial-services", "retail", "education"} {
		if !industries[ind] {
			t.Errorf("no lead in %s", ind)
		}
	}
	for _, f := range []string{"content_download", "newsletter", "demo_request", "quote_request", "contact_sales"} {
		if !forms[f] {
			t.Errorf("no %s form", f)
		}
	}
	for _, typ := range []string{lead.EventEmailOpen, lead.EventEmailClick, lead.EventEmailReply, lead.EventWebPageView,
		lead.EventWebinarAttended, lead.EventFormSubmit, lead.EventEmailUnsubscribe, lead.EventProfileUpdate} {
		if !types[typ] {
			t.Errorf("no %s event", typ)
		}
	}
	if accounts == 0 || enriched == 0 || noCountry == 0 || students == 0 {
		t.Errorf("accounts %d, enriched %d, without country %d, students %d: want each > 0", accounts, enriched, noCountry, students)
	}
	if minEmp < 10 || maxEmp > 5000 || maxEmp < 1000 {
		t.Errorf("employees range %d..%d, want within 10..5000 with some enterprises", minEmp, maxEmp)
	}
	if len(journeys) != len(journeyShares) {
		t.Errorf("journeys %v, want all %d", journeys, len(journeyShares))
	}
}

func TestEnrichmentArrivesLater(t *testing.T) {
	p := plan(t, 60, 3)
	for _, l := range p.Leads {
		if !l.Enriched {
			continue
		}
		for _, s := range l.Events[:len(l.Events)-1] {
			if s.Event.Profile != nil && s.Event.Profile.Country != "" {
				t.Errorf("%s: country known before enrichment", l.ID)
			}
		}
		last := l.Events[len(l.Events)-1].Event
		if last.Type != lead.EventProfileUpdate || last.Profile.Country != l.Profile.Country {
			t.Errorf("%s: last event %s country %q, want the enrichment", l.ID, last.Type, last.Profile.Country)
		}
	}
}

func TestSmallRunsAndBadConfig(t *testing.T) {
	for n := 1; n <= 12; n++ {
		p := plan(t, n, uint64(n))
		for _, ev := range allEvents(p) {
			if errs := ev.Validate(); len(errs) > 0 {
				t.Fatalf("n=%d: %s invalid: %v", n, ev.ID, errs)
			}
		}
		for _, l := range p.Leads {
			if l.Outcome.Action == Reject {
				if err := l.RejectRequest("rep-1").Check(l.ID); err != nil {
					t.Errorf("n=%d %s: %v", n, l.ID, err)
				}
			}
		}
	}
	for _, c := range []Config{
		{Leads: 0, Rate: 1, RunID: "x", Start: start},
		{Leads: 1, Rate: 0, RunID: "x", Start: start},
		{Leads: 1, Rate: 1, RunID: "bad id", Start: start},
		{Leads: 1, Rate: 1, RunID: strings.Repeat("x", MaxRunIDLen+1), Start: start},
		{Leads: 1, Rate: 1, RunID: "x"},
	} {
		if _, err := Generate(c); err == nil {
			t.Errorf("Generate(%+v) accepted a bad config", c)
		}
	}
}
