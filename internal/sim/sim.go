// Package sim generates a realistic stream of leads for `starter simulate`:
// who arrives, from which source and segment, what each does (opens, clicks,
// page views, webinars, replies, forms, unsubscribes, late enrichment) and
// what their rep will do after the handoff (touch, accept, reject with each
// reason, open and close an opportunity, or nothing so the SLA ladder runs).
//
// Generate is pure: it decides what to send, never sends it. The same Config
// (seed included) gives the same Plan, so a demo can be replayed and the
// generator is tested without a server. Drive plays a Plan through an API
// port (starter wires its HTTP client) and acts as the reps.
package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// Config says what to generate.
type Config struct {
	Leads int       // how many leads (> 0)
	Rate  float64   // arrivals per second (> 0)
	Seed  uint64    // the same seed gives the same plan
	RunID string    // prefix of every ID, so reruns do not collide
	Start time.Time // when the run starts; events occur at Start + their offset
}

// MaxRunIDLen keeps lead IDs within the contract's 128 characters.
const MaxRunIDLen = 64

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// Validate checks a Config.
func (c Config) Validate() error {
	var errs []error
	if c.Leads <= 0 {
		errs = append(errs, fmt.Errorf("leads must be positive, got %d", c.Leads))
	}
	if !(c.Rate > 0) {
		errs = append(errs, fmt.Errorf("rate must be positive, got %v", c.Rate))
	}
	if !runIDPattern.MatchString(c.RunID) {
		errs = append(errs, fmt.Errorf("run %q must be 1-%d characters of letters, digits and ._:-", c.RunID, MaxRunIDLen))
	}
	if c.Start.IsZero() {
		errs = append(errs, errors.New("start time is required"))
	}
	return errors.Join(errs...)
}

// Journey is the kind of path a lead takes before Sales sees it.
type Journey string

const (
	// FastTrack leads ask for Sales (demo, quote, contact sales): handed off at once.
	FastTrack Journey = "fast_track"
	// Warm leads earn the MQL threshold with behaviour (pricing, webinar, reply).
	Warm Journey = "warm"
	// Cold leads read content and stay in nurture.
	Cold Journey = "cold"
	// Unsubscribed leads read a little, then unsubscribe.
	Unsubscribed Journey = "unsubscribed"
	// Student leads are engaged but never a fit.
	Student Journey = "student"
)

// Action is what the lead's rep does once the lead is handed off.
type Action string

const (
	NoAction  Action = ""          // not expected to reach handoff
	Accept    Action = "accept"    // (touch and) accept
	Reject    Action = "reject"    // (maybe touch and) reject with Reason
	Untouched Action = "untouched" // nothing: the SLA ladder fires
)

// Opportunity is what becomes of an accepted lead's deal.
type Opportunity string

const (
	NoOpportunity Opportunity = ""
	OppOpen       Opportunity = "open" // created, still open at the end of the run
	OppWon        Opportunity = "won"
	OppLost       Opportunity = "lost"
)

// Outcome is the rep side of a lead.
type Outcome struct {
	Action      Action
	Touch       bool // a rep.touch before accepting or rejecting
	Reason      lead.Reason
	Note        string
	DuplicateOf string // leadId of the lead to keep, for ReasonDuplicate
	RevisitAt   string // RFC 3339, for ReasonTiming
	Opportunity Opportunity
	Amount      int    // opportunity amount (USD)
	LostReason  string // opportunity.lost reason
}

// Scheduled is one event and when to send it, as an offset from Start.
type Scheduled struct {
	At    time.Duration
	Event lead.Event
}

// Lead is one simulated lead.
type Lead struct {
	ID       string
	Index    int // 0-based arrival order
	Journey  Journey
	Source   string
	Arrival  time.Duration // offset of the first event from Start
	Profile  lead.Profile  // as finally known (enrichment included)
	Enriched bool          // country arrives later in a profile.update
	Events   []Scheduled   // marketing-side events, in send order
	Outcome  Outcome
}

// ExpectHandoff reports whether the plan expects the lead to reach handoff
// (and so has a rep action for it).
func (l *Lead) ExpectHandoff() bool { return l.Outcome.Action != NoAction }

// Plan is everything a run sends.
type Plan struct {
	RunID string
	Start time.Time
	Leads []Lead
}

// Sources are where leads come from.
var Sources = []string{"website", "webinar", "paid-search", "partner", "events"}

// Generate builds the plan for cfg.
func Generate(cfg Config) (*Plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	return g.plan(), nil
}

type gen struct {
	cfg Config
	rng *rand.Rand
}

// journeyShares are the parts of the stream each journey takes. Counts are
// rounded from these and shuffled, so every run has the same mix.
var journeyShares = []struct {
	j     Journey
	share float64
}{
	{FastTrack, 0.34}, {Warm, 0.26}, {Cold, 0.25}, {Unsubscribed, 0.08}, {Student, 0.07},
}

func (g *gen) plan() *Plan {
	n := g.cfg.Leads
	p := &Plan{RunID: g.cfg.RunID, Start: g.cfg.Start, Leads: make([]Lead, n)}
	journeys := g.journeyDeck(n)
	width := len(fmt.Sprint(n))
	width = max(width, 3)
	for i := range p.Leads {
		l := &p.Leads[i]
		l.Index = i
		l.ID = fmt.Sprintf("sim-%s-L%0*d", g.cfg.RunID, width, i+1)
		l.Journey = journeys[i]
		l.Arrival = time.Duration(float64(i) / g.cfg.Rate * float64(time.Second))
		l.Source = g.source(l.Journey)
		l.Profile = g.profile(l.Journey)
	}
	g.missingCountry(p)
	g.outcomes(p)
	for i := range p.Leads {
		g.events(&p.Leads[i])
	}
	return p
}

// journeyDeck returns n journeys in the shares above, shuffled.
func (g *gen) journeyDeck(n int) []Journey {
	deck := make([]Journey, 0, n)
	for _, s := range journeyShares[1:] {
		k := int(float64(n)*s.share + 0.5)
		for range k {
			if len(deck) < n {
				deck = append(deck, s.j)
			}
		}
	}
	for len(deck) < n { // the rest ask for Sales: the demo needs handoffs
		deck = append(deck, FastTrack)
	}
	g.rng.Shuffle(len(deck), func(i, j int) { deck[i], deck[j] = deck[j], deck[i] })
	return deck
}

func (g *gen) source(j Journey) string {
	switch j {
	case Student:
		return pick(g.rng, []string{"webinar", "website", "events"})
	default:
		return weighted(g.rng, Sources, []int{35, 20, 20, 10, 15})
	}
}

// missingCountry leaves the country out of about one lead in eight; two in
// three of those that should reach Sales get it later from enrichment.
func (g *gen) missingCountry(p *Plan) {
	seen := 0
	for i := range p.Leads {
		l := &p.Leads[i]
		if l.Journey == Student || isAccountDomain(l.Profile.Domain) || g.rng.IntN(8) != 0 {
			continue
		}
		seen++
		l.Enriched = l.Journey == FastTrack || l.Journey == Warm
		if l.Enriched && seen%3 == 0 {
			l.Enriched = false // stays without a country: enrichment task, no handoff
		}
		if !l.Enriched {
			l.Profile.Country, l.Profile.Region = "", ""
		}
	}
}

// handoffBound: leads whose journey ends in a handoff.
func handoffBound(l *Lead) bool {
	return (l.Journey == FastTrack || l.Journey == Warm) && l.Profile.Country != ""
}

// requiredOutcomes appear in every run that has enough handoffs, so a demo
// shows each path: every rejection reason, deals won and lost, a breach.
func requiredOutcomes() []Outcome {
	out := []Outcome{{Action: Accept, Touch: true}}
	for _, r := range lead.Reasons {
		out = append(out, Outcome{Action: Reject, Reason: r})
	}
	return append(out,
		Outcome{Action: Accept, Touch: true, Opportunity: OppWon},
		Outcome{Action: Accept, Touch: true, Opportunity: OppLost},
		Outcome{Action: Untouched},
	)
}

func (g *gen) outcomes(p *Plan) {
	var bound []int
	for i := range p.Leads {
		if handoffBound(&p.Leads[i]) {
			bound = append(bound, i)
		}
	}
	deck := requiredOutcomes()
	for len(deck) < len(bound) {
		deck = append(deck, g.randomOutcome())
	}
	deck = deck[:len(bound)]
	g.rng.Shuffle(len(deck), func(i, j int) { deck[i], deck[j] = deck[j], deck[i] })
	// A duplicate needs an earlier lead to be the duplicate of: the first
	// handoff lead cannot be one, so it swaps with the next non-duplicate.
	if len(bound) > 1 && bound[0] == 0 && deck[0].Reason == lead.ReasonDuplicate {
		deck[0], deck[1] = deck[1], deck[0]
	}
	for k, i := range bound {
		l := &p.Leads[i]
		l.Outcome = g.detail(deck[k])
		if l.Outcome.Reason == lead.ReasonDuplicate {
			g.makeDuplicate(p, l)
		}
	}
}

func (g *gen) randomOutcome() Outcome {
	switch x := g.rng.IntN(100); {
	case x < 45:
		return Outcome{Action: Accept, Touch: g.rng.IntN(10) < 9}
	case x < 57:
		return Outcome{Action: Accept, Touch: true, Opportunity: OppWon}
	case x < 65:
		return Outcome{Action: Accept, Touch: true, Opportunity: OppLost}
	case x < 70:
		return Outcome{Action: Accept, Touch: true, Opportunity: OppOpen}
	case x < 85:
		return Outcome{Action: Reject, Reason: lead.Reasons[g.rng.IntN(len(lead.Reasons))]}
	default:
		return Outcome{Action: Untouched}
	}
}

// detail fills the notes, dates and amounts of an outcome.
func (g *gen) detail(o Outcome) Outcome {
	if o.Action == Reject {
		switch o.Reason {
		case lead.ReasonBadFit:
			o.Note = pick(g.rng, []string{"Too small for our product", "Wrong region for us", "Agency, not an end customer"})
		case lead.ReasonNoResponse:
			o.Touch = true
			o.Note = "Three calls and two emails, no answer"
		case lead.ReasonTiming:
			o.Touch = true
			o.Note = "Budget frozen until next quarter"
			o.RevisitAt = g.cfg.Start.UTC().AddDate(0, 3, 0).Truncate(time.Hour).Format(time.RFC3339)
		case lead.ReasonCompetitor:
			o.Touch = g.rng.IntN(2) == 0
			o.Note = pick(g.rng, []string{"Signed with a competitor last month", "Renewed with their current vendor"})
		case lead.ReasonOther:
			o.Touch = true
			o.Note = pick(g.rng, []string{"Reseller asking for a partnership, not a buyer", "Journalist researching an article", "Job seeker"})
		}
	}
	if o.Opportunity != NoOpportunity {
		o.Amount = 5000 + 500*g.rng.IntN(490) // 5k..249.5k
	}
	if o.Opportunity == OppLost {
		o.LostReason = pick(g.rng, []string{"price", "no_decision", "competitor", "timing"})
	}
	return o
}

// makeDuplicate makes l a second record of the nearest earlier lead that is
// not itself a duplicate (nor a student, if there is another): same company,
// another address.
func (g *gen) makeDuplicate(p *Plan, l *Lead) {
	target := -1
	for i := l.Index - 1; i >= 0; i-- {
		t := &p.Leads[i]
		if t.Outcome.Reason == lead.ReasonDuplicate {
			continue
		}
		if target < 0 || p.Leads[target].Journey == Student {
			target = i
		}
		if t.Journey != Student {
			break
		}
	}
	if target >= 0 {
		t := &p.Leads[target]
		l.Outcome.DuplicateOf = t.ID
		l.Outcome.Note = "Same person as " + t.ID
		pr := t.Profile
		pr.Email = strings.Replace(pr.Email, "@", ".work@", 1)
		l.Profile = pr
		if l.Profile.Country == "" { // the kept lead has none; this one needs one to be handed off
			l.Profile.Country, l.Profile.Region = "US", "NY"
		}
		return
	}
	// Nobody earlier (a one-lead run): nothing to be a duplicate of here.
	l.Outcome.Reason, l.Outcome.Note = lead.ReasonOther, "Duplicate of a record in another system"
}

var (
	firstNames = []string{"Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kemi", "Lars", "Maya", "Nils", "Omar", "Paula", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Viktor", "Wen", "Yara", "Zoe"}
	lastNames  = []string{"Alvarez", "Becker", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito", "Jansen", "Kowalski", "Lopez", "Murphy", "Nakamura", "Okafor", "Patel", "Quist", "Rossi", "Schmidt", "Taylor", "Usman", "Varga", "Weber", "Young", "Zimmer"}
	companies  = []string{"Acme", "Northwind", "Contoso", "Umbrella Insurance", "Stark Financial", "Wayne Retail", "Hooli", "Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Oscorp", "Pied Piper", "Aperture", "Massive Dynamic", "Wonka Foods", "Gringotts", "Dunder Mifflin", "Monarch Mutual", "Blue Sun", "Nakatomi", "Sterling Cooper", "Bluth Homes", "Prestige Worldwide", "Gekko Capital", "Lacuna", "Virtucon", "Duff", "Krusty Retail", "Sirius Learning"}
	industries = []string{"insurance", "financial-services", "retail", "education", "software", "manufacturing", "healthcare"}
	titles     = []string{"VP Sales", "Head of Marketing", "CFO", "IT Manager", "Director of Operations", "Analyst", "CTO", "Procurement Lead", "Customer Success Manager"}
	usRegions  = []string{"CA", "WA", "OR", "NY", "TX"}
	products   = []string{"core", "core", "analytics"}
)

// accounts are the directory's named accounts (deploy/directory.yaml).
var accounts = []struct{ domain, company string }{{"globex.com", "Globex"}, {"initech.com", "Initech"}}

func isAccountDomain(d string) bool {
	for _, a := range accounts {
		if a.domain == d {
			return true
		}
	}
	return false
}

func (g *gen) profile(j Journey) lead.Profile {
	first, last := pick(g.rng, firstNames), pick(g.rng, lastNames)
	pr := lead.Profile{FirstName: first, LastName: last, Product: pick(g.rng, products)}
	switch x := g.rng.IntN(100); {
	case x < 60:
		pr.Country, pr.Region = "US", pick(g.rng, usRegions)
	case x < 80:
		pr.Country = "GB"
	default:
		pr.Country = "DE"
	}
	if j == Student {
		uni := pick(g.rng, []string{"State University", "Polytechnic Institute", "City College"})
		pr.Company, pr.Domain = uni, slug(uni)+".edu"
		pr.Title, pr.Industry, pr.Employees = "Student", "education", 2000+100*g.rng.IntN(30)
		pr.Email = strings.ToLower(first+"."+last) + "@" + pr.Domain
		return pr
	}
	if (j == FastTrack || j == Warm) && g.rng.IntN(10) == 0 {
		a := pick(g.rng, accounts)
		pr.Company, pr.Domain = a.company, a.domain
		pr.Country, pr.Region = "US", pick(g.rng, usRegions)
	} else {
		pr.Company = pick(g.rng, companies)
		tld := map[string]string{"US": ".com", "GB": ".co.uk", "DE": ".de"}[pr.Country]
		pr.Domain = slug(pr.Company) + tld
	}
	pr.Email = strings.ToLower(first+"."+last) + "@" + pr.Domain
	pr.Industry = pick(g.rng, industries)
	pr.Title = pick(g.rng, titles)
	pr.Employees = g.employees()
	return pr
}

// employees is a company size between 10 and 5000, most of them small.
func (g *gen) employees() int {
	switch x := g.rng.IntN(100); {
	case x < 35:
		return 10 + g.rng.IntN(40)
	case x < 65:
		return 50 + g.rng.IntN(150)
	case x < 88:
		return 200 + g.rng.IntN(800)
	default:
		return 1000 + g.rng.IntN(4001)
	}
}

// events builds the lead's marketing journey, one event every few hundred
// milliseconds from its arrival, and a late enrichment if the plan has one.
func (g *gen) events(l *Lead) {
	campaign := pick(g.rng, []string{"q4-pricing", "spring-launch", "roi-guide", "industry-report"})
	var steps []lead.Event
	add := func(typ string, attrs map[string]any) {
		steps = append(steps, lead.Event{Type: typ, Source: l.Source, Attributes: attrs})
	}
	page := func(cat string) {
		add(lead.EventWebPageView, map[string]any{"category": cat, "url": "/" + cat})
	}
	open := func() { add(lead.EventEmailOpen, map[string]any{"campaign": campaign}) }

	// How the lead arrives.
	switch l.Source {
	case "webinar":
		add(lead.EventWebinarAttended, map[string]any{"webinar": "leadflow-live-" + campaign})
	case "paid-search":
		cat := "product"
		if l.Journey == FastTrack || l.Journey == Warm {
			cat = "pricing"
		}
		add(lead.EventWebPageView, map[string]any{"category": cat, "url": "/" + cat, "utm_source": "google", "utm_medium": "cpc", "utm_campaign": campaign})
	case "events":
		add(lead.EventFormSubmit, map[string]any{"form": "content_download", "asset": "booth-badge-scan", "event": "saastr-" + campaign})
	default:
		open()
	}

	switch l.Journey {
	case FastTrack:
		add(lead.EventEmailClick, map[string]any{"campaign": campaign})
		page("product")
		form := pick(g.rng, []string{"demo_request", "quote_request", "contact_sales"})
		if l.Source == "partner" {
			form = "contact_sales"
		}
		attrs := map[string]any{"form": form, "utm_campaign": campaign}
		if l.Source == "partner" {
			attrs["partner"] = pick(g.rng, []string{"northstar-consulting", "bridgepoint"})
		}
		add(lead.EventFormSubmit, attrs)
	case Warm:
		open()
		open()
		open()
		add(lead.EventEmailClick, map[string]any{"campaign": campaign})
		page("pricing")
		if l.Source != "webinar" {
			add(lead.EventWebinarAttended, map[string]any{"webinar": "leadflow-live-" + campaign})
		}
		add(lead.EventEmailReply, map[string]any{"campaign": campaign})
	case Cold, Unsubscribed:
		page("product")
		add(lead.EventFormSubmit, map[string]any{"form": pick(g.rng, []string{"content_download", "newsletter"}), "utm_campaign": campaign})
		if g.rng.IntN(4) == 0 {
			page("careers")
		}
		if l.Journey == Unsubscribed {
			add(lead.EventEmailUnsubscribe, map[string]any{"campaign": campaign})
		}
	case Student:
		add(lead.EventFormSubmit, map[string]any{"form": "content_download", "asset": "industry-report"})
		page("careers")
		if l.Source != "webinar" {
			add(lead.EventWebinarAttended, map[string]any{"webinar": "leadflow-live-" + campaign})
		}
	}

	// The profile: all of it on the first event and on forms, as a form
	// tool or CRM sync sends it; without the country until enrichment.
	known := l.Profile
	if l.Enriched {
		known.Country, known.Region = "", ""
	}
	step := 250 * time.Millisecond
	for k := range steps {
		ev := &steps[k]
		if k == 0 || ev.Type == lead.EventFormSubmit {
			pr := known
			ev.Profile = &pr
		}
		g.stamp(l, ev, k, l.Arrival+time.Duration(k)*step)
	}
	if l.Enriched {
		ev := lead.Event{Type: lead.EventProfileUpdate, Source: "enrichment",
			Attributes: map[string]any{"provider": "firmographics"},
			Profile:    &lead.Profile{Country: l.Profile.Country, Region: l.Profile.Region}}
		g.stamp(l, &ev, len(steps), l.Arrival+time.Duration(len(steps))*step+3*time.Second)
		steps = append(steps, ev)
	}
	l.Events = make([]Scheduled, len(steps))
	for k, ev := range steps {
		l.Events[k] = Scheduled{At: ev.OccurredAt.Sub(g.cfg.Start), Event: ev}
	}
}

// stamp gives the k-th event of l its ID, lead and time (Start + at).
func (g *gen) stamp(l *Lead, ev *lead.Event, k int, at time.Duration) {
	ev.ID = fmt.Sprintf("%s-e%02d", l.ID, k+1)
	ev.LeadID = l.ID
	ev.OccurredAt = g.cfg.Start.Add(at).UTC()
}

// Rep-side requests and events. They depend on who owns the lead when the
// rep acts, so the driver asks for them then; their IDs are fixed by the
// plan, so a repeated run of the same --run changes nothing twice.

// TouchEvent is the rep's first contact.
func (l *Lead) TouchEvent(owner string, at time.Time) lead.Event {
	return lead.Event{
		ID: l.ID + "-touch", LeadID: l.ID, Type: lead.EventRepTouch, OccurredAt: at.UTC(), Source: "crm",
		Attributes: map[string]any{"repId": owner, "channel": touchChannel(l.Index)},
	}
}

func touchChannel(i int) string { return []string{"phone", "email", "linkedin"}[i%3] }

// AcceptRequest is the rep's accept.
func (l *Lead) AcceptRequest(owner string) lead.AcceptRequest {
	return lead.AcceptRequest{ID: l.ID + "-accept", RepID: owner}
}

// RejectRequest is the rep's reject with the planned reason.
func (l *Lead) RejectRequest(owner string) lead.RejectRequest {
	o := l.Outcome
	return lead.RejectRequest{ID: l.ID + "-reject", RepID: owner, Reason: o.Reason,
		Note: o.Note, DuplicateOf: o.DuplicateOf, RevisitAt: o.RevisitAt}
}

// OpportunityCreated opens the deal.
func (l *Lead) OpportunityCreated(at time.Time) lead.Event {
	return lead.Event{ID: l.ID + "-opp-created", LeadID: l.ID, Type: lead.EventOpportunityCreated,
		OccurredAt: at.UTC(), Source: "crm", Attributes: map[string]any{"amount": l.Outcome.Amount, "currency": "USD"}}
}

// OpportunityClosed closes the deal won or lost; ok is false while it stays open.
func (l *Lead) OpportunityClosed(at time.Time) (ev lead.Event, ok bool) {
	o := l.Outcome
	ev = lead.Event{LeadID: l.ID, OccurredAt: at.UTC(), Source: "crm",
		Attributes: map[string]any{"amount": o.Amount, "currency": "USD"}}
	switch o.Opportunity {
	case OppWon:
		ev.ID, ev.Type = l.ID+"-opp-won", lead.EventOpportunityWon
	case OppLost:
		ev.ID, ev.Type = l.ID+"-opp-lost", lead.EventOpportunityLost
		ev.Attributes["reason"] = o.LostReason
	default:
		return lead.Event{}, false
	}
	return ev, true
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func weighted(r *rand.Rand, xs []string, w []int) string {
	total := 0
	for _, v := range w {
		total += v
	}
	x := r.IntN(total)
	for i, v := range w {
		if x < v {
			return xs[i]
		}
		x -= v
	}
	return xs[len(xs)-1]
}

func slug(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "'", "", "&", "and").Replace(s))
}
