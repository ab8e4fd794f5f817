package policy

import (
	"math"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/leadflow/leadflow/internal/lead"
)

// HolidayCalendars are the holiday calendar codes sla.business_hours.holidays
// accepts ("" and "none" mean no holidays). Each has a Holidays list in
// github.com/rickar/cal/v2/<lower-case code>, which internal/sla builds on.
var HolidayCalendars = []string{"US", "CA", "GB", "DE"}

// ProfileFields are the lead profile fields scoring.required_for_handoff may
// name (the JSON names of lead.Profile).
var ProfileFields = []string{
	"email", "company", "domain", "country", "region", "employees",
	"industry", "title", "product", "firstName", "lastName", "phone",
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// trackRef is a use of a nurture track name, checked once all tracks are known.
type trackRef struct {
	name string
	at   field
}

// decoder holds what cross-section checks need while one policy is decoded.
type decoder struct {
	*parser
	refs []trackRef
}

func (p *parser) policy(root field) *Policy {
	m := p.mapping(root, "version", "timezone", "scoring", "segments", "routing", "sla", "suppression", "plays", "nurture", "report", "effects",
		"enrichment", "reengagement", "away", "notifications")
	if m == nil {
		return nil
	}
	d := &decoder{parser: p}
	pol := &Policy{Timezone: "UTC", Location: time.UTC}
	if f, ok := p.need(root, m, "version"); ok {
		pol.Version, _ = p.str(f)
	}
	if f, ok := m["timezone"]; ok {
		if s, ok := p.str(f); ok {
			pol.Timezone = s
			pol.Location = d.location(f, s)
		}
	}
	if f, ok := p.need(root, m, "scoring"); ok {
		pol.Scoring = d.scoring(f)
	}
	if f, ok := m["segments"]; ok {
		pol.Segments = d.segments(f)
	}
	pol.StickyOwner = true
	if f, ok := p.need(root, m, "routing"); ok {
		// A list of rules, or {rules, sticky_owner} when the options are set.
		if f.val.Kind == yaml.MappingNode {
			rm := d.mapping(f, "rules", "sticky_owner")
			if r, ok := d.need(f, rm, "rules"); ok {
				pol.Routing = d.routing(r)
			}
			if so, ok := rm["sticky_owner"]; ok {
				pol.StickyOwner, _ = d.boolean(so)
			}
		} else {
			pol.Routing = d.routing(f)
		}
	}
	if f, ok := p.need(root, m, "sla"); ok {
		pol.SLA = d.sla(f)
	}
	if f, ok := m["suppression"]; ok {
		pol.Suppression = d.suppression(f)
	}
	if f, ok := p.need(root, m, "plays"); ok {
		pol.Plays = d.plays(f)
	}
	if f, ok := m["nurture"]; ok {
		pol.Nurture = d.nurture(f)
	}
	d.checkTrackRefs(pol.Nurture.Tracks)
	pol.Report = Report{Cron: DefaultReportCron, Timezone: pol.Timezone, Location: pol.Location}
	if f, ok := m["report"]; ok {
		pol.Report = d.report(f, pol.Timezone, pol.Location)
	}
	pol.Effects = Effects{RetryFor: DefaultEffectRetryFor}
	if f, ok := m["effects"]; ok {
		pol.Effects = d.effects(f)
	}
	pol.Notifications = DefaultNotifications()
	if f, ok := m["notifications"]; ok {
		pol.Notifications = d.notifications(f)
	}
	pol.People = defaultHumanLoop()
	if f, ok := m["enrichment"]; ok {
		d.enrichment(f, &pol.People)
	}
	if f, ok := m["reengagement"]; ok {
		d.reengagement(f, &pol.People)
	}
	if f, ok := m["away"]; ok {
		d.away(f, &pol.People)
	}
	return pol
}

func (d *decoder) location(f field, name string) *time.Location {
	if name == "Local" {
		// Local is whatever the machine says: workers would disagree.
		d.errorf(f.val.Line, f.path, `"Local" is not allowed: name an IANA zone such as America/New_York, or UTC`)
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		d.errorf(f.val.Line, f.path, "unknown time zone %q: want an IANA name such as America/New_York, or UTC", name)
		return nil
	}
	return loc
}

// names reports repeated names within one namespace.
type names map[string]int

func (d *decoder) unique(ns names, f field, name string) {
	if first, dup := ns[name]; dup {
		d.errorf(f.val.Line, f.path, "duplicate name %q (first at line %d)", name, first)
		return
	}
	ns[name] = f.val.Line
}

func (d *decoder) scoring(f field) Scoring {
	var s Scoring
	m := d.mapping(f, "mql_threshold", "min_fit", "min_intent", "caps", "decay", "rules", "fit", "required_for_handoff")
	if m == nil {
		return s
	}
	if t, ok := d.need(f, m, "mql_threshold"); ok {
		s.MQLThreshold, _ = d.integer(t, 1)
	}
	// The two gates beside the total: a minimum fit (default 0: not
	// negative) and a minimum intent (default 0).
	if v, ok := m["min_fit"]; ok {
		s.MinFit, _ = d.integer(v, -1000)
	}
	if v, ok := m["min_intent"]; ok {
		s.MinIntent, _ = d.integer(v, 0)
	}
	if c, ok := m["caps"]; ok {
		if cm := d.mapping(c, "intent", "fit"); cm != nil {
			if v, ok := cm["intent"]; ok {
				s.Caps.Intent, _ = d.integer(v, 0)
			}
			if v, ok := cm["fit"]; ok {
				s.Caps.Fit, _ = d.integer(v, 0)
			}
		}
	}
	if c, ok := m["decay"]; ok {
		if dm := d.mapping(c, "half_life"); dm != nil {
			if v, ok := dm["half_life"]; ok {
				s.Decay.HalfLife, _ = d.duration(v, false)
			}
		}
	}
	// Intent and fit rules share one namespace: a handoff's trigger names
	// the rule, and must name exactly one.
	ns := names{}
	if r, ok := m["rules"]; ok {
		s.Rules = d.rules(r, ns)
	}
	if r, ok := m["fit"]; ok {
		s.Fit = d.rules(r, ns)
	}
	if r, ok := m["required_for_handoff"]; ok {
		seen := map[string]bool{}
		for _, it := range d.list(r) {
			name, ok := d.str(it)
			if !ok {
				continue
			}
			switch {
			case !slices.Contains(ProfileFields, name):
				d.errorf(it.val.Line, it.path, "unknown profile field %q (want one of %s)", name, strings.Join(ProfileFields, ", "))
			case seen[name]:
				d.errorf(it.val.Line, it.path, "%q listed twice", name)
			default:
				seen[name] = true
				s.RequiredForHandoff = append(s.RequiredForHandoff, name)
			}
		}
	}
	return s
}

func (d *decoder) rules(f field, ns names) []Rule {
	var out []Rule
	for _, it := range d.list(f) {
		m := d.mapping(it, "name", "when", "points", "once", "fast_track")
		if m == nil {
			continue
		}
		var r Rule
		if n, ok := d.need(it, m, "name"); ok {
			if r.Name, ok = d.str(n); ok {
				d.unique(ns, n, r.Name)
			}
		}
		if w, ok := d.need(it, m, "when"); ok {
			r.When, _ = d.cond(w)
		}
		if pt, ok := d.need(it, m, "points"); ok {
			r.Points, _ = d.integer(pt, math.MinInt)
		}
		if b, ok := m["once"]; ok {
			r.Once, _ = d.boolean(b)
		}
		if b, ok := m["fast_track"]; ok {
			r.FastTrack, _ = d.boolean(b)
		}
		out = append(out, r)
	}
	return out
}

func (d *decoder) segments(f field) []Segment {
	var out []Segment
	ns := names{}
	for _, it := range d.list(f) {
		m := d.mapping(it, "name", "when")
		if m == nil {
			continue
		}
		var s Segment
		if n, ok := d.need(it, m, "name"); ok {
			if s.Name, ok = d.str(n); ok {
				d.unique(ns, n, s.Name)
			}
		}
		if w, ok := d.need(it, m, "when"); ok {
			s.When, _ = d.cond(w)
		}
		out = append(out, s)
	}
	return out
}

// matchesAll reports whether a condition, as written, matches every lead: no
// condition, or the literal true.
func matchesAll(m fields) bool {
	w, ok := m["when"]
	return !ok || strings.TrimSpace(w.val.Value) == "true"
}

func (d *decoder) routing(f field) []RoutingRule {
	items := d.list(f)
	if items == nil {
		return nil
	}
	if len(items) == 0 {
		d.errorf(f.line(), f.path, "at least one rule is required")
		return nil
	}
	var out []RoutingRule
	ns := names{}
	catchAll := -1 // index of the first rule that takes every lead
	for i, it := range items {
		m := d.mapping(it, "name", "when", "account_owner", "territory", "pool")
		if m == nil {
			continue
		}
		r := RoutingRule{Line: it.line()}
		if n, ok := d.need(it, m, "name"); ok {
			if r.Name, ok = d.str(n); ok {
				d.unique(ns, n, r.Name)
			}
		}
		if w, ok := m["when"]; ok {
			r.When, _ = d.cond(w)
		}
		if b, ok := m["account_owner"]; ok {
			r.AccountOwner, _ = d.boolean(b)
		}
		if t, ok := m["territory"]; ok {
			r.Territory, _ = d.str(t)
		}
		if pl, ok := m["pool"]; ok {
			r.Pool, _ = d.str(pl)
		}
		_, hasPool := m["pool"]
		if !hasPool && !r.AccountOwner {
			d.errorf(r.Line, it.path, "needs a pool, or account_owner: true")
		}
		if catchAll >= 0 {
			d.errorf(r.Line, it.path, "unreachable: rule %q (line %d) already matches every lead", out[catchAll].Name, out[catchAll].Line)
		}
		// An account_owner rule without a pool passes leads with no
		// account on, so it does not end the chain.
		if catchAll < 0 && matchesAll(m) && hasPool {
			catchAll = len(out)
		}
		if i == len(items)-1 {
			switch {
			case !matchesAll(m):
				d.errorf(r.Line, it.path, `the last rule must match every lead (no when, or when: "true"), so that no lead is left without an owner`)
			case !hasPool && r.AccountOwner:
				d.errorf(r.Line, it.path, "the last rule must name a pool: account_owner alone leaves leads with no account unowned")
			}
		}
		out = append(out, r)
	}
	return out
}

func (d *decoder) sla(f field) SLA {
	var s SLA
	m := d.mapping(f, "business_hours", "first_touch", "acceptance", "ladder", "max_reassigns", "sal_stale_after")
	if m == nil {
		return s
	}
	if b, ok := d.need(f, m, "business_hours"); ok {
		s.BusinessHours = d.businessHours(b)
	}
	if ft, ok := d.need(f, m, "first_touch"); ok {
		items := d.list(ft)
		if items != nil && len(items) == 0 {
			d.errorf(ft.line(), ft.path, "at least one window is required")
		}
		for i, it := range items {
			w, all := d.window(it)
			s.FirstTouch = append(s.FirstTouch, w)
			if i == len(items)-1 && !all {
				d.errorf(it.line(), it.path, "the last window must match every handoff (no when), so that every handoff has an SLA")
			}
		}
	}
	if a, ok := d.need(f, m, "acceptance"); ok {
		s.Acceptance, _ = d.window(a)
	}
	if l, ok := m["ladder"]; ok {
		s.Ladder = d.ladder(l)
	}
	if n, ok := m["max_reassigns"]; ok {
		s.MaxReassigns, _ = d.integer(n, 0)
	}
	if st, ok := d.need(f, m, "sal_stale_after"); ok {
		s.SALStaleAfter, _ = d.duration(st, true)
	}
	return s
}

func (d *decoder) businessHours(f field) BusinessHours {
	var b BusinessHours
	if f.val.Kind == yaml.ScalarNode {
		if f.val.Value != "always" {
			d.errorf(f.val.Line, f.path, `want "always" (24x7) or a mapping {days, start, end, holidays}, got %q`, f.val.Value)
		}
		b.Always = f.val.Value == "always"
		return b
	}
	m := d.mapping(f, "days", "start", "end", "holidays")
	if m == nil {
		return b
	}
	if df, ok := d.need(f, m, "days"); ok {
		items := d.list(df)
		if items != nil && len(items) == 0 {
			d.errorf(df.val.Line, df.path, "at least one working day is required")
		}
		seen := map[time.Weekday]bool{}
		for _, it := range items {
			s, ok := d.str(it)
			if !ok {
				continue
			}
			wd, ok := weekdays[strings.ToLower(s)]
			switch {
			case !ok:
				d.errorf(it.val.Line, it.path, "unknown day %q (want mon, tue, wed, thu, fri, sat, sun)", s)
			case seen[wd]:
				d.errorf(it.val.Line, it.path, "%q listed twice", s)
			default:
				seen[wd] = true
				b.Days = append(b.Days, wd)
			}
		}
	}
	var okStart, okEnd bool
	if s, ok := d.need(f, m, "start"); ok {
		b.Start, okStart = d.clock(s)
	}
	e, ok := d.need(f, m, "end")
	if ok {
		b.End, okEnd = d.clock(e)
	}
	if okStart && okEnd && b.End <= b.Start {
		d.errorf(e.val.Line, e.path, "end (%s) must be after start (%s)", b.End, b.Start)
	}
	if h, ok := m["holidays"]; ok {
		if s, ok := d.scalar(h); ok {
			switch code := strings.ToUpper(strings.TrimSpace(s)); {
			case code == "" || code == "NONE":
			case slices.Contains(HolidayCalendars, code):
				b.Holidays = code
			default:
				d.errorf(h.val.Line, h.path, "unknown holiday calendar %q (want %s, or none)", s, strings.Join(HolidayCalendars, ", "))
			}
		}
	}
	return b
}

// window decodes {when?, within}; all reports whether it has no condition.
func (d *decoder) window(f field) (w SLAWindow, all bool) {
	m := d.mapping(f, "when", "within")
	if m == nil {
		return w, true // reported; avoid a second error about the same item
	}
	if c, ok := m["when"]; ok {
		w.When, _ = d.cond(c)
	}
	if v, ok := d.need(f, m, "within"); ok {
		w.Within, _ = d.duration(v, true)
	}
	return w, matchesAll(m)
}

func (d *decoder) ladder(f field) []LadderStep {
	var out []LadderStep
	prev, prevText := 0.0, ""
	for _, it := range d.list(f) {
		m := d.mapping(it, "at", "action")
		if m == nil {
			continue
		}
		var st LadderStep
		if a, ok := d.need(it, m, "at"); ok {
			if x, ok := d.number(a); ok {
				switch {
				case x <= 0:
					d.errorf(a.val.Line, a.path, "must be more than 0 (a fraction of the SLA), is %s", a.val.Value)
				case prevText != "" && x <= prev:
					d.errorf(a.val.Line, a.path, "fractions must ascend (%s then %s)", prevText, a.val.Value)
				default:
					prev, prevText = x, a.val.Value
				}
				st.At = x
			}
		}
		if a, ok := d.need(it, m, "action"); ok {
			if s, ok := d.str(a); ok {
				switch s {
				case ActionRemind, ActionEscalate, ActionReassign:
					st.Action = s
				default:
					d.errorf(a.val.Line, a.path, "unknown action %q (want remind, escalate or reassign)", s)
				}
			}
		}
		out = append(out, st)
	}
	return out
}

func (d *decoder) suppression(f field) Suppression {
	var s Suppression
	m := d.mapping(f, "recent_rep_touch", "frequency_cap", "quiet_hours")
	if m == nil {
		return s
	}
	if r, ok := m["recent_rep_touch"]; ok {
		s.RecentRepTouch, _ = d.duration(r, false)
	}
	if c, ok := m["frequency_cap"]; ok {
		if cm := d.mapping(c, "max", "per"); cm != nil {
			if v, ok := d.need(c, cm, "max"); ok {
				s.FrequencyCap.Max, _ = d.integer(v, 0)
			}
			if v, ok := d.need(c, cm, "per"); ok {
				s.FrequencyCap.Per, _ = d.duration(v, true)
			}
		}
	}
	if q, ok := m["quiet_hours"]; ok {
		if qm := d.mapping(q, "start", "end"); qm != nil {
			var qh QuietHours
			var okStart, okEnd bool
			if v, ok := d.need(q, qm, "start"); ok {
				qh.Start, okStart = d.clock(v)
			}
			e, ok := d.need(q, qm, "end")
			if ok {
				qh.End, okEnd = d.clock(e)
			}
			if okStart && okEnd {
				if qh.Start%(24*60) == qh.End%(24*60) {
					d.errorf(e.val.Line, e.path, "quiet hours start and end at %s: an empty window (omit quiet_hours for none)", qh.Start)
				} else {
					s.QuietHours = &qh
				}
			}
		}
	}
	return s
}

// requiredPlays are the plays leadflow runs on its own: one per rejection
// reason, one for a lost opportunity and one for a stale SAL.
func requiredPlays() []string {
	var out []string
	for _, r := range lead.Reasons {
		out = append(out, string(r))
	}
	return append(out, lead.PlayOpportunityLost, lead.PlaySALStale)
}

func (d *decoder) plays(f field) map[string]Play {
	es := d.entries(f)
	if es == nil {
		return nil
	}
	out := map[string]Play{}
	for _, e := range es {
		if isNull(e.val) {
			d.errorf(e.key.Line, e.path, "empty play: want {to: disqualified|merged|recycle, ...}")
			continue
		}
		if pl, ok := d.play(e); ok {
			out[e.key.Value] = pl
		}
	}
	for _, name := range requiredPlays() {
		if _, ok := out[name]; ok {
			continue
		}
		if slices.ContainsFunc(es, func(e field) bool { return e.key.Value == name }) {
			continue // present but broken: reported above
		}
		what := "rejection reason"
		switch name {
		case lead.PlayOpportunityLost:
			what = "lost opportunity"
		case lead.PlaySALStale:
			what = "stale SAL"
		}
		d.errorf(f.line(), join(f.path, name), "required: no play for the %s %q", what, name)
	}
	return out
}

func (d *decoder) play(f field) (Play, bool) {
	pl := Play{Score: ScoreKeep}
	pl.Requalify = RequalifyNewIntent
	m := d.mapping(f, "to", "nurture", "cool_off", "score", "requalify")
	if m == nil {
		return pl, false
	}
	if q, ok := m["requalify"]; ok {
		if s, ok := d.str(q); ok {
			switch s {
			case RequalifyNewIntent, RequalifyAtCoolOffEnd:
				pl.Requalify = s
			default:
				d.errorf(q.val.Line, q.path, "must be %q or %q", RequalifyNewIntent, RequalifyAtCoolOffEnd)
			}
		}
	}
	name := f.key.Value
	if t, ok := d.need(f, m, "to"); ok {
		if s, ok := d.str(t); ok {
			switch s {
			case lead.PlayToDisqualified, lead.PlayToMerged, lead.PlayToRecycle:
				pl.To = s
				if name == string(lead.ReasonDuplicate) && s != lead.PlayToMerged {
					d.errorf(t.val.Line, t.path, "the duplicate play must be to: merged, is %q", s)
				}
			default:
				d.errorf(t.val.Line, t.path, "unknown play target %q (want disqualified, merged or recycle)", s)
			}
		}
	}
	n, hasNurture := m["nurture"]
	if hasNurture {
		if pl.Nurture, hasNurture = d.str(n); hasNurture {
			d.refs = append(d.refs, trackRef{pl.Nurture, n})
		}
	}
	c, hasCoolOff := m["cool_off"]
	if hasCoolOff {
		pl.CoolOff, _ = d.duration(c, false)
	}
	switch pl.To {
	case lead.PlayToRecycle:
		if _, ok := m["nurture"]; !ok {
			d.errorf(f.line(), join(f.path, "nurture"), "required: a recycle play names the nurture track the lead resumes on")
		}
		if !hasCoolOff {
			d.errorf(f.line(), join(f.path, "cool_off"), "required: a recycle play says how long before the lead may qualify again")
		}
	case lead.PlayToDisqualified, lead.PlayToMerged:
		// These leave the lifecycle: a track or cool-off would never run.
		if _, ok := m["nurture"]; ok {
			d.errorf(n.val.Line, n.path, "only a recycle play has a nurture track")
		}
		if hasCoolOff {
			d.errorf(c.val.Line, c.path, "only a recycle play has a cool-off")
		}
	}
	if s, ok := m["score"]; ok {
		if v, ok := d.str(s); ok {
			switch v {
			case ScoreReset, ScoreHalve, ScoreKeep:
				pl.Score = v
			default:
				d.errorf(s.val.Line, s.path, "unknown score rule %q (want reset, halve or keep)", v)
			}
		}
	}
	return pl, true
}

func (d *decoder) nurture(f field) Nurture {
	var n Nurture
	m := d.mapping(f, "on_enter_lead", "on_enter_customer", "tracks")
	if m == nil {
		return n
	}
	if v, ok := m["on_enter_lead"]; ok {
		if n.OnEnterLead, ok = d.str(v); ok {
			d.refs = append(d.refs, trackRef{n.OnEnterLead, v})
		}
	}
	if v, ok := m["on_enter_customer"]; ok {
		if n.OnEnterCustomer, ok = d.str(v); ok {
			d.refs = append(d.refs, trackRef{n.OnEnterCustomer, v})
		}
	}
	t, ok := m["tracks"]
	if !ok {
		return n
	}
	es := d.entries(t)
	if es == nil {
		return n
	}
	n.Tracks = map[string]Track{}
	for _, e := range es {
		if isNull(e.val) {
			d.errorf(e.key.Line, e.path, "empty track: want {every, steps[, first]}")
			continue
		}
		tm := d.mapping(e, "every", "steps", "first")
		if tm == nil {
			continue
		}
		var tr Track
		if v, ok := d.need(e, tm, "every"); ok {
			tr.Every, _ = d.duration(v, true)
		}
		if v, ok := d.need(e, tm, "steps"); ok {
			tr.Steps, _ = d.integer(v, 1)
		}
		if v, ok := tm["first"]; ok {
			if first, ok := d.duration(v, false); ok { // 0s: at once
				tr.First = &first
			}
		}
		n.Tracks[e.key.Value] = tr
	}
	return n
}

// checkTrackRefs runs last: plays come before nurture in the file, so their
// track names can only be checked once the tracks are read.
func (d *decoder) checkTrackRefs(tracks map[string]Track) {
	var known []string
	//workflowcheck:ignore (the keys are sorted below)
	for k := range tracks {
		known = append(known, k)
	}
	slices.Sort(known)
	for _, r := range d.refs {
		if _, ok := tracks[r.name]; !ok {
			list := "none are defined"
			if len(known) > 0 {
				list = "tracks: " + strings.Join(known, ", ")
			}
			d.errorf(r.at.val.Line, r.at.path, "unknown nurture track %q (%s)", r.name, list)
		}
	}
}
