package directory

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Validate checks the references and values of a Directory: managers,
// pool members and fallbacks, account owners and away reps must be known
// reps; timezones must load; strategies must be known; weights within
// 1..MaxWeight; away ranges real dates in order. It returns nil or an Errors
// listing every problem, with file lines when the Directory came from Parse.
// (Unknown keys and duplicate ids are found by Parse, which has the file.)
func (d *Directory) Validate() error {
	if errs := d.validate(); len(errs) > 0 {
		return errs.sorted()
	}
	return nil
}

func (d *Directory) validate() Errors {
	v := &validator{d: d}

	// A CRM user maps back to one rep (an alert for an owner goes to that
	// rep's manager), so emails and HubSpot owner IDs are unique.
	emails, owners, slacks := map[string]string{}, map[string]string{}, map[string]string{}
	for _, id := range sortedKeys(d.Reps) {
		r := d.Reps[id]
		path := "reps[" + id + "]"
		switch {
		case r.Timezone == "":
			v.errf(path+".timezone", path, "missing (away dates and daily capacity are in the rep's timezone)")
		default:
			if _, err := time.LoadLocation(r.Timezone); err != nil {
				v.errf(path+".timezone", path, "unknown time zone %q", r.Timezone)
			}
		}
		switch {
		case r.Manager == "":
		case r.Manager == id:
			v.errf(path+".manager", path, "a rep cannot be their own manager")
		case !v.known(r.Manager):
			v.errf(path+".manager", path, "unknown rep %q", r.Manager)
		}
		if r.CapacityPerDay < 0 {
			v.errf(path+".capacity_per_day", path, "must be >= 0 (0 = unlimited), got %d", r.CapacityPerDay)
		}
		if r.Email != "" {
			key := strings.ToLower(r.Email)
			switch first, dup := emails[key]; {
			case !ValidEmail(r.Email):
				v.errf(path+".email", path, "%q is not an email address", r.Email)
			case dup:
				v.errf(path+".email", path, "%s is also the email of rep %q", r.Email, first)
			default:
				emails[key] = id
			}
		}
		if r.HubSpotOwnerID != "" {
			switch first, dup := owners[r.HubSpotOwnerID]; {
			case !digits(r.HubSpotOwnerID):
				v.errf(path+".hubspot_owner_id", path, "want the owner's numeric ID, got %q", r.HubSpotOwnerID)
			case dup:
				v.errf(path+".hubspot_owner_id", path, "%s is also the owner ID of rep %q", r.HubSpotOwnerID, first)
			default:
				owners[r.HubSpotOwnerID] = id
			}
		}
		if r.Slack != "" {
			switch first, dup := slacks[r.Slack]; {
			case !ValidSlackID(r.Slack):
				v.errf(path+".slack", path, "want a Slack user ID (U or W followed by upper-case letters and digits, e.g. U024BE7LH), got %q", r.Slack)
			case dup:
				v.errf(path+".slack", path, "%s is also the Slack ID of rep %q", r.Slack, first)
			default:
				slacks[r.Slack] = id
			}
		}
	}

	for _, name := range sortedKeys(d.Pools) {
		p := d.Pools[name]
		path := "pools." + name
		switch p.Strategy {
		case RoundRobin, WeightedRoundRobin, LeastLoaded:
		case "":
			v.errf(path+".strategy", path, "missing (want %s, %s or %s)", RoundRobin, WeightedRoundRobin, LeastLoaded)
		default:
			v.errf(path+".strategy", path, "unknown strategy %q (want %s, %s or %s)", p.Strategy, RoundRobin, WeightedRoundRobin, LeastLoaded)
		}
		if len(p.Members) == 0 {
			v.errf(path+".members", path, "no members")
		}
		seen := map[string]bool{}
		for _, m := range p.Members {
			mp := path + ".members." + m.RepID
			if seen[m.RepID] {
				v.errf(mp, path, "duplicate member")
				continue
			}
			seen[m.RepID] = true
			if !v.known(m.RepID) {
				v.errf(mp, path, "unknown rep")
			}
			if m.Weight < 1 || m.Weight > MaxWeight {
				v.errf(mp, path, "weight must be between 1 and %d, got %d", MaxWeight, m.Weight)
			}
		}
		switch {
		case p.Fallback == "":
			// The fallback is what makes "never unassigned" hold.
			v.errf(path+".fallback", path, "missing: every pool needs a fallback owner for when no member is available")
		case !v.known(p.Fallback):
			v.errf(path+".fallback", path, "unknown rep %q", p.Fallback)
		}
	}

	for _, dom := range sortedKeys(d.Accounts) {
		a := d.Accounts[dom]
		path := "accounts[" + dom + "]"
		switch {
		case a.Owner == "":
			v.errf(path+".owner", path, "missing")
		case !v.known(a.Owner):
			v.errf(path+".owner", path, "unknown rep %q", a.Owner)
		}
	}

	for i, a := range d.Away {
		path := fmt.Sprintf("away[%d]", i)
		switch {
		case a.RepID == "":
			v.errf(path+".rep", path, "missing")
		case !v.known(a.RepID):
			v.errf(path+".rep", path, "unknown rep %q", a.RepID)
		}
		from, okFrom := v.date(path, "from", a.From)
		to, okTo := v.date(path, "to", a.To)
		if okFrom && okTo && to.Before(from) {
			v.errf(path+".to", path, "%s is before from %s", a.To, a.From)
		}
	}
	return v.errs
}

type validator struct {
	d    *Directory
	errs Errors
}

// errf reports at path, on the line recorded for path or else for parent.
func (v *validator) errf(path, parent, format string, args ...any) {
	line, ok := v.d.pos[path]
	if !ok {
		line = v.d.pos[parent]
	}
	v.errs = append(v.errs, &Error{File: v.d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) known(id string) bool {
	_, ok := v.d.Reps[id]
	return ok
}

func (v *validator) date(path, key, s string) (time.Time, bool) {
	if s == "" {
		v.errf(path+"."+key, path, "missing (want YYYY-MM-DD)")
		return time.Time{}, false
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		v.errf(path+"."+key, path, "%q is not a date (want YYYY-MM-DD)", s)
		return time.Time{}, false
	}
	return t, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ValidEmail is a plausibility check, not RFC 5322: one "@" with something
// on both sides, a dot in the domain, no spaces.
func ValidEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && !strings.Contains(domain, "@") &&
		strings.Contains(strings.Trim(domain, "."), ".") && !strings.ContainsAny(s, " \t<>,;")
}

// ValidSlackID reports whether s looks like a Slack user ID: U or W (an
// Enterprise Grid user) followed by upper-case letters and digits. Slack
// documents no fixed length; 8 to 20 characters in all covers every ID it
// has issued.
func ValidSlackID(s string) bool {
	if len(s) < 8 || len(s) > 20 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	for _, c := range s[1:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != "" && len(s) <= 20
}
