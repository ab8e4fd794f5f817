// Package directory is the sales directory: reps, pools, accounts and away
// time, as kept in the directory file (../shared/directory.example.yaml) and
// imported with `starter directory import FILE`.
//
// The package is pure: it parses and validates bytes and answers questions
// about a loaded Directory. It reads no clock; callers pass the time in.
// A Directory is not modified after Parse and is safe to share between
// goroutines.
package directory

import (
	"strings"
	"time"
)

// Strategies a pool can use to pick a member.
const (
	RoundRobin         = "round_robin"
	WeightedRoundRobin = "weighted_round_robin"
	LeastLoaded        = "least_loaded"
)

// MaxWeight bounds a member's weight. Weights are relative shares, so a
// bound costs nothing and keeps the weighted rotation (whose length is the sum
// of the weights) small.
const MaxWeight = 1000

// Rep is a person (or queue) that can own leads.
type Rep struct {
	ID             string
	Name           string
	Manager        string // rep id of the manager; "" for the top of the tree
	Timezone       string // IANA name; away dates and daily capacity are in this zone
	CapacityPerDay int    // 0 = unlimited
	// Email is the rep's work address (optional). CRM adapters use it to
	// find the rep's user in the CRM (HubSpot: the owner with this email).
	Email string
	// HubSpotOwnerID is the rep's HubSpot owner ID (optional, digits). When
	// set it wins over Email for the HubSpot adapter.
	HubSpotOwnerID string
	// Slack is the person's Slack user ID (optional, e.g. U024BE7LH): a
	// bot-token Slack channel posts their notifications to it.
	Slack string
}

// Member is one rep of a pool with its share of the rotation.
type Member struct {
	RepID  string
	Weight int // 1 for plain lists
}

// Pool is a group of reps that leads rotate over.
type Pool struct {
	Name     string
	Strategy string   // RoundRobin, WeightedRoundRobin or LeastLoaded
	Members  []Member // in file order, also for the weighted map form
	Fallback string   // rep id used when no member is available
}

// Account is a company that already has an owner.
type Account struct {
	Domain string // as written in the file
	Owner  string
	Name   string
}

// Away is a rep's out-of-office range.
type Away struct {
	RepID string
	From  string // "YYYY-MM-DD", inclusive, in the rep's timezone
	To    string // "YYYY-MM-DD", inclusive, in the rep's timezone
}

// Directory is one imported directory file.
type Directory struct {
	Reps     map[string]Rep
	Pools    map[string]Pool
	Accounts map[string]Account // key: lower-case domain
	Away     []Away

	// Where things were in the file, so Validate can point at a line. Empty
	// for a Directory built in code; errors then carry no line.
	file string
	pos  map[string]int // error path → line
	// Locations loaded once by Parse, so IsAway does not read zoneinfo on
	// every routing decision. Read-only after Parse.
	locs map[string]*time.Location
}

// DateLayout is the layout of away dates.
const DateLayout = "2006-01-02"

// IsAway reports whether the calendar date of at, in the rep's timezone, is
// within one of the rep's away ranges (both ends inclusive). A rep whose
// timezone cannot be loaded is judged in UTC; Validate rejects such a file.
func (d *Directory) IsAway(repID string, at time.Time) bool {
	if d == nil {
		return false
	}
	var day string
	for _, a := range d.Away {
		if a.RepID != repID {
			continue
		}
		if day == "" {
			day = at.In(d.location(d.Reps[repID].Timezone)).Format(DateLayout)
		}
		// YYYY-MM-DD compares correctly as a string.
		if a.From <= day && day <= a.To {
			return true
		}
	}
	return false
}

// Account returns the account whose domain is domain, ignoring case, a
// trailing dot and anything up to an "@" (so an email address works too).
func (d *Directory) Account(domain string) (Account, bool) {
	if d == nil {
		return Account{}, false
	}
	a, ok := d.Accounts[NormalizeDomain(domain)]
	return a, ok
}

// NormalizeDomain is the form of a domain used as the key of Accounts.
func NormalizeDomain(domain string) string {
	domain = strings.TrimSpace(domain)
	if i := strings.LastIndexByte(domain, '@'); i >= 0 {
		domain = domain[i+1:]
	}
	return strings.ToLower(strings.TrimSuffix(domain, "."))
}

func (d *Directory) location(tz string) *time.Location {
	if loc, ok := d.locs[tz]; ok {
		return loc
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}
