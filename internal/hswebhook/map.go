package hswebhook

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// Source is the envelope source of every event this package produces.
const Source = "hubspot"

// Deps are the lookups Map needs beyond the notification itself. Each is
// optional: a mapping whose lookup is nil is skipped with SkipNotConfigured
// (LeadForContact excepted: nil means every contact N is lead "hs-N").
// Functions rather than one interface, so the wiring can take each from
// where it lives (leadflow's store, the HubSpot API client, the rep
// directory) without an adapter type.
//
// A lookup returns an error wrapping ErrNotFound when the HubSpot object
// no longer exists (the notification is then skipped with SkipGone); any
// other error is transient: the HTTP edge answers 503 and HubSpot retries.
type Deps struct {
	// LeadForContact returns the leadId leadflow already uses for a HubSpot
	// contact (e.g. an "e-…" lead the CRM adapter linked to it); ok false
	// means none, and the lead is "hs-" + contactID.
	LeadForContact func(ctx context.Context, contactID string) (leadID string, ok bool, err error)
	// DealContacts lists the contact IDs associated with a deal.
	DealContacts func(ctx context.Context, dealID string) ([]string, error)
	// DealAmount returns a deal's amount, when it has one (optional: the
	// opportunity events then carry attribute "amount").
	DealAmount func(ctx context.Context, dealID string) (amount float64, ok bool, err error)
	// ContactOwner returns the contact's hubspot_owner_id ("" when unowned).
	ContactOwner func(ctx context.Context, contactID string) (ownerID string, err error)
	// RepForOwner maps a HubSpot owner ID to a leadflow repId.
	RepForOwner func(ctx context.Context, ownerID string) (repID string, ok bool, err error)
	// OwnOwnerWrite reports whether leadflow's CRM adapter itself set the
	// contact's hubspot_owner_id to ownerID at about at (the notification's
	// occurredAt): such a change is leadflow's own write echoed back, even
	// when HubSpot names no sourceId for it.
	OwnOwnerWrite func(ctx context.Context, contactID, ownerID string, at time.Time) (bool, error)
	// Engagement reads a call, meeting or email object (generic
	// object.creation subscriptions with objectTypeId 0-48, 0-47, 0-49).
	Engagement func(ctx context.Context, objectTypeID, objectID string) (Engagement, error)

	// WonStages and LostStages are the dealstage IDs that close a deal;
	// empty means HubSpot's default pipeline: closedwon and closedlost.
	// Custom pipelines have numeric stage IDs: list them here.
	WonStages, LostStages []string
	// OwnAppIDs are the HubSpot app IDs whose changes are leadflow's own
	// writes (the CRM adapter's private app). A notification whose sourceId
	// is one of them, or the receiving app's own appId, is skipped with
	// SkipOwnChange: leadflow already knows, and mapping its own
	// lifecycle-stage write back to lead.accepted would be refused and alert.
	OwnAppIDs []string
}

// Engagement is what Map needs to know about a logged call, meeting or email.
type Engagement struct {
	OwnerID    string    // hubspot_owner_id: the rep who made the touch
	ContactIDs []string  // associated contacts
	At         time.Time // hs_timestamp; zero means the notification's occurredAt
	Inbound    bool      // the contact wrote to us (hs_email_direction INCOMING_EMAIL): not a rep touch
}

// ErrNotFound, wrapped by a lookup, says the HubSpot object is gone.
var ErrNotFound = errors.New("hswebhook: HubSpot object not found")

// Skip kinds: stable, low-cardinality labels for metrics and logs.
const (
	SkipUnsupported   = "unsupported_type" // a subscription type leadflow does not map
	SkipUnmapped      = "unmapped"         // a property or value with no leadflow meaning
	SkipNoData        = "no_data"          // contact.creation: nothing to say yet
	SkipOwnChange     = "own_change"       // leadflow's own write, echoed back
	SkipNoRep         = "no_rep"           // no owner, or the owner is not a leadflow rep
	SkipNoContacts    = "no_contacts"      // a deal or engagement with no contact
	SkipNotConfigured = "not_configured"   // the lookup this mapping needs is nil
	SkipMalformed     = "malformed"        // a notification missing IDs or occurredAt
	SkipCleared       = "cleared"          // a property emptied: leadflow keeps the last value
	SkipInbound       = "inbound"          // an email from the contact
	SkipGone          = "gone"             // the object was deleted before we looked
)

// Skipped is Map's answer for a notification that deliberately maps to no
// event. The HTTP edge counts and logs it and still answers 2xx: a 4xx would
// only make HubSpot drop or retry the whole batch.
type Skipped struct {
	Kind   string // one of the Skip* constants
	Reason string // detail for the log; never a property value that may be PII
}

func (s *Skipped) Error() string { return "skipped (" + s.Kind + "): " + s.Reason }

func skip(kind, format string, a ...any) error {
	return &Skipped{Kind: kind, Reason: fmt.Sprintf(format, a...)}
}

var digits = regexp.MustCompile(`^[0-9]{1,20}$`)

// Map turns one notification into leadflow events (see doc.go for the
// table). It returns *Skipped when the notification deliberately maps to
// nothing, and another error when a lookup failed.
//
// Event IDs are "hs-<eventId>-<subscriptionId>-<objectId>" (+ "-c<contactId>"
// when a deal or engagement fans out to several contacts): fixed across
// HubSpot's redeliveries, so a retried batch is a duplicate, yet distinct
// for distinct notifications even though HubSpot does not promise eventId
// alone is unique. occurredAt is HubSpot's occurredAt.
func Map(ctx context.Context, n Notification, deps Deps) ([]lead.Event, error) {
	switch {
	case !digits.MatchString(n.EventID), !digits.MatchString(n.SubscriptionID), !digits.MatchString(n.ObjectID):
		return nil, skip(SkipMalformed, "eventId, subscriptionId and objectId must be decimal IDs")
	case n.OccurredAt.IsZero():
		return nil, skip(SkipMalformed, "missing occurredAt")
	case deps.ownChange(n):
		return nil, skip(SkipOwnChange, "change made by app %s (leadflow)", n.SourceID)
	}
	m := mapper{n: n, d: deps}
	switch t := n.Type(); t {
	case "contact.creation":
		return nil, skip(SkipNoData, "contact.creation carries no properties; the lead starts with its first mapped change")
	case "contact.propertyChange":
		return m.contactProperty(ctx)
	case "deal.creation":
		return m.dealCreated(ctx)
	case "deal.propertyChange":
		return m.dealProperty(ctx)
	case "object.creation":
		if ch, ok := engagementChannels[n.ObjectTypeID]; ok {
			return m.engagement(ctx, ch)
		}
		return nil, skip(SkipUnsupported, "object.creation of object type %q", n.ObjectTypeID)
	default:
		return nil, skip(SkipUnsupported, "subscription type %q", t)
	}
}

func (d Deps) ownChange(n Notification) bool {
	if n.SourceID == "" {
		return false
	}
	return n.SourceID == n.AppID || slices.Contains(d.OwnAppIDs, n.SourceID)
}

var engagementChannels = map[string]string{ObjectCall: "call", ObjectMeeting: "meeting", ObjectEmail: "email"}

type mapper struct {
	n Notification
	d Deps
}

func (m mapper) event(typ, leadID, suffix string, attrs map[string]any) lead.Event {
	id := "hs-" + m.n.EventID + "-" + m.n.SubscriptionID + "-" + m.n.ObjectID
	if suffix != "" {
		id += "-" + suffix
	}
	return lead.Event{ID: id, LeadID: leadID, Type: typ, OccurredAt: m.n.OccurredAt, Source: Source, Attributes: attrs}
}

func (m mapper) leadFor(ctx context.Context, contactID string) (string, error) {
	if m.d.LeadForContact != nil {
		id, ok, err := m.d.LeadForContact(ctx, contactID)
		if err != nil {
			return "", fmt.Errorf("looking up the lead of HubSpot contact %s: %w", contactID, err)
		}
		if ok && id != "" {
			return id, nil
		}
	}
	return "hs-" + contactID, nil
}

// contactRep is the leadflow rep who owns the contact in HubSpot.
func (m mapper) contactRep(ctx context.Context, contactID string) (string, error) {
	if m.d.ContactOwner == nil {
		return "", skip(SkipNotConfigured, "no contact owner lookup")
	}
	owner, err := m.d.ContactOwner(ctx, contactID)
	if err != nil {
		return "", m.lookupErr(err, "reading the owner of contact %s", contactID)
	}
	if owner == "" {
		return "", skip(SkipNoRep, "contact %s has no owner", contactID)
	}
	return m.rep(ctx, owner)
}

func (m mapper) rep(ctx context.Context, ownerID string) (string, error) {
	if m.d.RepForOwner == nil {
		return "", skip(SkipNotConfigured, "no owner-to-rep lookup")
	}
	rep, ok, err := m.d.RepForOwner(ctx, ownerID)
	if err != nil {
		return "", m.lookupErr(err, "resolving HubSpot owner %s to a rep", ownerID)
	}
	if !ok || rep == "" {
		return "", skip(SkipNoRep, "HubSpot owner %s is not a leadflow rep", ownerID)
	}
	return rep, nil
}

func (m mapper) lookupErr(err error, format string, a ...any) error {
	if errors.Is(err, ErrNotFound) {
		return skip(SkipGone, format+": not found", a...)
	}
	return fmt.Errorf(format+": %w", append(a, err)...)
}

func (m mapper) contactProperty(ctx context.Context) ([]lead.Event, error) {
	name, v := m.n.PropertyName, strings.TrimSpace(m.n.PropertyValue)
	contact := m.n.ObjectID
	if set, ok := profileFields[name]; ok {
		if v == "" {
			return nil, skip(SkipCleared, "contact property %s cleared", name)
		}
		if len(v) > lead.MaxProfileValueBytes {
			// lead.Validate would refuse the event (and the batch answer 500
			// forever): keep the last value instead. The value may be PII.
			return nil, skip(SkipUnmapped, "contact property %s: value over %d bytes", name, lead.MaxProfileValueBytes)
		}
		p := &lead.Profile{}
		if !set(p, v) {
			return nil, skip(SkipUnmapped, "contact property %s: value not usable", name) // no value: may be PII
		}
		return m.one(ctx, contact, lead.EventProfileUpdate, map[string]any{"property": name}, p)
	}
	switch name {
	case "lifecyclestage":
		switch strings.ToLower(v) {
		case "salesqualifiedlead":
			rep, err := m.contactRep(ctx, contact)
			if err != nil {
				return nil, err
			}
			return m.one(ctx, contact, lead.EventLeadAccepted, map[string]any{"repId": rep, "lifecycleStage": v}, nil)
		case "opportunity":
			attrs := map[string]any{"lifecycleStage": v}
			if err := m.optionalRep(ctx, contact, attrs); err != nil {
				return nil, err
			}
			return m.one(ctx, contact, lead.EventOpportunityCreated, attrs, nil)
		case "customer":
			return m.one(ctx, contact, lead.EventOpportunityWon, map[string]any{"lifecycleStage": v}, nil)
		case "":
			return nil, skip(SkipCleared, "lifecyclestage cleared")
		}
		return nil, skip(SkipUnmapped, "lifecyclestage %q: leadflow sets the marketing stages itself", v)
	case "hs_lead_status":
		var typ string
		attrs := map[string]any{"leadStatus": v}
		switch strings.ToUpper(v) {
		case "UNQUALIFIED":
			typ, attrs["reason"], attrs["note"] = lead.EventLeadRejected, string(lead.ReasonBadFit), "HubSpot lead status UNQUALIFIED"
		case "BAD_TIMING":
			typ, attrs["reason"], attrs["note"] = lead.EventLeadRejected, string(lead.ReasonTiming), "HubSpot lead status BAD_TIMING"
		case "ATTEMPTED_TO_CONTACT", "CONNECTED":
			typ, attrs["channel"] = lead.EventRepTouch, "crm"
		case "":
			return nil, skip(SkipCleared, "hs_lead_status cleared")
		default:
			return nil, skip(SkipUnmapped, "hs_lead_status %q", v)
		}
		rep, err := m.contactRep(ctx, contact)
		if err != nil {
			return nil, err
		}
		attrs["repId"] = rep
		return m.one(ctx, contact, typ, attrs, nil)
	case "notes_last_contacted":
		if v == "" {
			return nil, skip(SkipCleared, "notes_last_contacted cleared")
		}
		rep, err := m.contactRep(ctx, contact)
		if err != nil {
			return nil, err
		}
		evs, err := m.one(ctx, contact, lead.EventRepTouch, map[string]any{"repId": rep, "channel": "crm_activity"}, nil)
		if err == nil {
			if at, ok := parseTime(v); ok {
				evs[0].OccurredAt = at // when the call, email or meeting happened
			}
		}
		return evs, err
	case "hubspot_owner_id":
		return m.ownerChanged(ctx, v)
	}
	return nil, skip(SkipUnmapped, "contact property %q", name)
}

// ownerChanged maps a hubspot_owner_id change made in HubSpot to
// owner.changed: a reassignment by the CRM. ownerId is the leadflow rep of
// the new owner, "" when the owner is no leadflow rep (the workflow then
// alerts instead of reassigning).
func (m mapper) ownerChanged(ctx context.Context, owner string) ([]lead.Event, error) {
	contact := m.n.ObjectID
	if owner == "" {
		// An unowned lead cannot be worked; leadflow keeps its owner (and the
		// SLA running) rather than guess who should have it.
		return nil, skip(SkipCleared, "hubspot_owner_id of contact %s cleared: leadflow keeps the lead's owner", contact)
	}
	if !digits.MatchString(owner) {
		return nil, skip(SkipUnmapped, "hubspot_owner_id of contact %s: not an owner ID", contact)
	}
	if m.d.OwnOwnerWrite != nil {
		own, err := m.d.OwnOwnerWrite(ctx, contact, owner, m.n.OccurredAt)
		if err != nil {
			return nil, m.lookupErr(err, "checking leadflow's owner writes to contact %s", contact)
		}
		if own {
			return nil, skip(SkipOwnChange, "leadflow set owner %s on contact %s", owner, contact)
		}
	}
	rep, err := m.rep(ctx, owner)
	if sk, ok := errors.AsType[*Skipped](err); ok && sk.Kind == SkipNoRep {
		rep, err = "", nil
	}
	if err != nil {
		return nil, err
	}
	attrs := map[string]any{"ownerId": rep, "crmOwnerId": owner, "by": Source}
	if m.n.ChangeSource != "" {
		attrs["changeSource"] = m.n.ChangeSource
	}
	return m.one(ctx, contact, lead.EventOwnerChanged, attrs, nil)
}

// optionalRep adds the contact owner's repId when there is one; only a
// failed lookup is an error.
func (m mapper) optionalRep(ctx context.Context, contactID string, attrs map[string]any) error {
	rep, err := m.contactRep(ctx, contactID)
	if _, ok := errors.AsType[*Skipped](err); ok {
		return nil
	}
	if err != nil {
		return err
	}
	attrs["repId"] = rep
	return nil
}

func (m mapper) one(ctx context.Context, contactID, typ string, attrs map[string]any, p *lead.Profile) ([]lead.Event, error) {
	leadID, err := m.leadFor(ctx, contactID)
	if err != nil {
		return nil, err
	}
	ev := m.event(typ, leadID, "", attrs)
	ev.Profile = p
	return []lead.Event{ev}, nil
}

// fanOut gives each contact's lead its own event ("-c<contactId>").
func (m mapper) fanOut(ctx context.Context, contacts []string, typ string, attrs func(contactID string) map[string]any) ([]lead.Event, error) {
	var out []lead.Event
	seen := map[string]bool{}
	for _, c := range contacts {
		if !digits.MatchString(c) || seen[c] {
			continue
		}
		seen[c] = true
		leadID, err := m.leadFor(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, m.event(typ, leadID, "c"+c, attrs(c)))
	}
	if len(out) == 0 {
		return nil, skip(SkipNoContacts, "%s %s has no associated contact", m.n.Type(), m.n.ObjectID)
	}
	return out, nil
}

func (m mapper) dealContacts(ctx context.Context) ([]string, map[string]any, error) {
	deal := m.n.ObjectID
	if m.d.DealContacts == nil {
		return nil, nil, skip(SkipNotConfigured, "no deal-contacts lookup")
	}
	contacts, err := m.d.DealContacts(ctx, deal)
	if err != nil {
		return nil, nil, m.lookupErr(err, "listing the contacts of deal %s", deal)
	}
	attrs := map[string]any{"dealId": deal}
	if m.d.DealAmount != nil {
		amount, ok, err := m.d.DealAmount(ctx, deal)
		if err != nil {
			return nil, nil, m.lookupErr(err, "reading the amount of deal %s", deal)
		}
		if ok {
			attrs["amount"] = amount
		}
	}
	return contacts, attrs, nil
}

func (m mapper) dealCreated(ctx context.Context) ([]lead.Event, error) {
	contacts, attrs, err := m.dealContacts(ctx)
	if err != nil {
		return nil, err
	}
	return m.fanOut(ctx, contacts, lead.EventOpportunityCreated, func(string) map[string]any { return maps.Clone(attrs) })
}

func (m mapper) dealProperty(ctx context.Context) ([]lead.Event, error) {
	if m.n.PropertyName != "dealstage" {
		return nil, skip(SkipUnmapped, "deal property %q", m.n.PropertyName)
	}
	stage := strings.TrimSpace(m.n.PropertyValue)
	won, lost := m.d.WonStages, m.d.LostStages
	if len(won) == 0 {
		won = []string{"closedwon"}
	}
	if len(lost) == 0 {
		lost = []string{"closedlost"}
	}
	var typ string
	switch {
	case stage == "":
		return nil, skip(SkipCleared, "dealstage cleared")
	case slices.Contains(won, stage):
		typ = lead.EventOpportunityWon
	case slices.Contains(lost, stage):
		typ = lead.EventOpportunityLost
	default:
		return nil, skip(SkipUnmapped, "dealstage %q is not a closing stage", stage)
	}
	contacts, attrs, err := m.dealContacts(ctx)
	if err != nil {
		return nil, err
	}
	attrs["dealStage"] = stage
	return m.fanOut(ctx, contacts, typ, func(string) map[string]any { return maps.Clone(attrs) })
}

func (m mapper) engagement(ctx context.Context, channel string) ([]lead.Event, error) {
	if m.d.Engagement == nil {
		return nil, skip(SkipNotConfigured, "no engagement lookup")
	}
	e, err := m.d.Engagement(ctx, m.n.ObjectTypeID, m.n.ObjectID)
	if err != nil {
		return nil, m.lookupErr(err, "reading %s %s", channel, m.n.ObjectID)
	}
	if e.Inbound {
		return nil, skip(SkipInbound, "%s %s was sent by the contact", channel, m.n.ObjectID)
	}
	if e.OwnerID == "" {
		return nil, skip(SkipNoRep, "%s %s has no owner", channel, m.n.ObjectID)
	}
	rep, err := m.rep(ctx, e.OwnerID)
	if err != nil {
		return nil, err
	}
	evs, err := m.fanOut(ctx, e.ContactIDs, lead.EventRepTouch, func(string) map[string]any {
		return map[string]any{"repId": rep, "channel": channel, "engagementId": m.n.ObjectID}
	})
	if err == nil && !e.At.IsZero() {
		for i := range evs {
			evs[i].OccurredAt = e.At.UTC()
		}
	}
	return evs, err
}

// profileFields maps HubSpot's default contact properties to the profile.
// Each setter reports whether the value was usable.
var profileFields = map[string]func(p *lead.Profile, v string) bool{
	"email":     func(p *lead.Profile, v string) bool { p.Email = v; return strings.Contains(v, "@") },
	"firstname": func(p *lead.Profile, v string) bool { p.FirstName = v; return true },
	"lastname":  func(p *lead.Profile, v string) bool { p.LastName = v; return true },
	"phone":     func(p *lead.Profile, v string) bool { p.Phone = v; return true },
	"company":   func(p *lead.Profile, v string) bool { p.Company = v; return true },
	"website":   func(p *lead.Profile, v string) bool { p.Domain = domainOf(v); return p.Domain != "" },
	"country":   func(p *lead.Profile, v string) bool { p.Country = v; return true },
	"state":     func(p *lead.Profile, v string) bool { p.Region = v; return true },
	"industry":  func(p *lead.Profile, v string) bool { p.Industry = v; return true },
	"jobtitle":  func(p *lead.Profile, v string) bool { p.Title = v; return true },
	"numemployees": func(p *lead.Profile, v string) bool {
		p.Employees = employees(v)
		return p.Employees > 0
	},
}

// domainOf reads a website value ("https://www.acme.io/about", "acme.io").
func domainOf(v string) string {
	if !strings.Contains(v, "://") {
		v = "http://" + v
	}
	u, err := url.Parse(v)
	if err != nil {
		return ""
	}
	h := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if !strings.Contains(h, ".") {
		return ""
	}
	return h
}

// employees reads numemployees: a number, or one of HubSpot's default
// ranges ("25-50", "1000+"), taken at its lower bound so a range never
// overstates fit.
func employees(v string) int {
	v = strings.TrimSpace(strings.ReplaceAll(v, ",", ""))
	if lo, _, ok := strings.Cut(v, "-"); ok {
		v = lo
	}
	v = strings.TrimSuffix(strings.TrimSpace(v), "+")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// parseTime reads a HubSpot datetime property value: Unix milliseconds, or
// RFC 3339.
func parseTime(v string) (time.Time, bool) {
	if ms, ok := parseMillis(v); ok {
		return time.UnixMilli(ms).UTC(), true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}
