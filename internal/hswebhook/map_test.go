package hswebhook

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// HubSpot's documented sample batch (webhooks guide), verbatim.
const docsSample = `[
  {
    "objectId": 1246965,
    "propertyName": "lifecyclestage",
    "propertyValue": "subscriber",
    "changeSource": "ACADEMY",
    "eventId": 3816279340,
    "subscriptionId": 25,
    "portalId": 33,
    "appId": 1160452,
    "occurredAt": 1462216307945,
    "subscriptionType": "contact.propertyChange",
    "attemptNumber": 0
  },
  {
    "objectId": 1246978,
    "changeSource": "IMPORT",
    "eventId": 3816279480,
    "subscriptionId": 22,
    "portalId": 33,
    "appId": 1160452,
    "occurredAt": 1462216307945,
    "subscriptionType": "contact.creation",
    "attemptNumber": 0
  }
]`

func TestParseDocsSample(t *testing.T) {
	ns, err := Parse([]byte(docsSample))
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1462216307945).UTC()
	want := []Notification{
		{EventID: "3816279340", SubscriptionID: "25", PortalID: "33", AppID: "1160452", OccurredAt: at,
			SubscriptionType: "contact.propertyChange", ObjectID: "1246965", PropertyName: "lifecyclestage",
			PropertyValue: "subscriber", ChangeSource: "ACADEMY"},
		{EventID: "3816279480", SubscriptionID: "22", PortalID: "33", AppID: "1160452", OccurredAt: at,
			SubscriptionType: "contact.creation", ObjectID: "1246978", ChangeSource: "IMPORT"},
	}
	if !reflect.DeepEqual(ns, want) {
		t.Fatalf("Parse =\n%+v\nwant\n%+v", ns, want)
	}
}

// Older versions of the docs name the type field eventType; a delivery with
// sourceId, changeFlag and a generic objectTypeId parses too, and 19-digit
// IDs stay exact.
func TestParseVariants(t *testing.T) {
	body := `[
	  {"objectId":1246965,"eventId":3816279340,"subscriptionId":25,"portalId":33,"appId":1160452,
	   "occurredAt":1462216307945,"eventType":"contact.creation","attemptNumber":0},
	  {"eventId":"9223372036854775807","subscriptionId":3329277,"portalId":49547190,"appId":9393361,
	   "occurredAt":1742214467116,"subscriptionType":"object.propertyChange","objectTypeId":"0-3",
	   "attemptNumber":3,"objectId":106651134132,"propertyName":"dealstage","propertyValue":"closedwon",
	   "changeFlag":"UPDATED","changeSource":"CRM_UI","sourceId":"userId:1234","isSensitive":false}
	]`
	ns, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if ns[0].SubscriptionType != "contact.creation" || ns[0].Type() != "contact.creation" {
		t.Errorf("eventType not read: %+v", ns[0])
	}
	n := ns[1]
	if n.EventID != "9223372036854775807" || n.ObjectID != "106651134132" || n.AttemptNumber != 3 ||
		n.SourceID != "userId:1234" || n.Type() != "deal.propertyChange" || n.PropertyValue != "closedwon" {
		t.Errorf("generic notification = %+v (Type %s)", n, n.Type())
	}
}

func TestParseErrors(t *testing.T) {
	for _, body := range []string{``, `{`, `{"objectId":1}`, `null`, `"x"`, `[1]`, `[{"eventId":{}}]`, `[] []`} {
		if _, err := Parse([]byte(body)); err == nil {
			t.Errorf("Parse(%q) = nil error", body)
		}
	}
	if ns, err := Parse([]byte(`[]`)); err != nil || len(ns) != 0 {
		t.Errorf("Parse([]) = %v, %v", ns, err)
	}
}

// fakeDeps is a small HubSpot portal: contacts with owners, deals with
// contacts, engagements, and owner → rep.
type fakeDeps struct {
	known   map[string]string   // contact → leadId leadflow already uses
	owners  map[string]string   // contact → HubSpot owner
	reps    map[string]string   // HubSpot owner → rep
	deals   map[string][]string // deal → contacts
	amounts map[string]float64
	engs    map[string]Engagement
	fail    error                // every lookup fails with this
	written map[string]time.Time // contact + "/" + owner → when leadflow wrote that owner
	own     []string
	won     []string
}

func (f *fakeDeps) deps() Deps {
	d := Deps{
		LeadForContact: func(_ context.Context, c string) (string, bool, error) {
			id, ok := f.known[c]
			return id, ok, f.fail
		},
		DealContacts: func(_ context.Context, deal string) ([]string, error) {
			if f.fail != nil {
				return nil, f.fail
			}
			cs, ok := f.deals[deal]
			if !ok {
				return nil, fmt.Errorf("deal %s: %w", deal, ErrNotFound)
			}
			return cs, nil
		},
		DealAmount: func(_ context.Context, deal string) (float64, bool, error) {
			a, ok := f.amounts[deal]
			return a, ok, f.fail
		},
		ContactOwner: func(_ context.Context, c string) (string, error) {
			return f.owners[c], f.fail
		},
		RepForOwner: func(_ context.Context, o string) (string, bool, error) {
			r, ok := f.reps[o]
			return r, ok, f.fail
		},
		Engagement: func(_ context.Context, typ, id string) (Engagement, error) {
			e, ok := f.engs[typ+"/"+id]
			if !ok {
				return Engagement{}, ErrNotFound
			}
			return e, f.fail
		},
		OwnOwnerWrite: func(_ context.Context, c, o string, at time.Time) (bool, error) {
			w, ok := f.written[c+"/"+o]
			return ok && w.Equal(at), f.fail
		},
		OwnAppIDs: f.own,
		WonStages: f.won,
	}
	return d
}

func newFake() *fakeDeps {
	return &fakeDeps{
		own:     []string{"4242"},
		known:   map[string]string{"501": "L-1001"},
		owners:  map[string]string{"501": "77", "502": "77", "503": "99"},
		reps:    map[string]string{"77": "rep-7"},
		written: map[string]time.Time{"501/78": at},
		deals:   map[string][]string{"9001": {"501", "502"}, "9002": {}},
		amounts: map[string]float64{"9001": 12000},
		engs: map[string]Engagement{
			"0-48/3001": {OwnerID: "77", ContactIDs: []string{"502", "501"}, At: time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)},
			"0-49/3002": {OwnerID: "77", ContactIDs: []string{"502"}, Inbound: true},
			"0-47/3003": {OwnerID: "99", ContactIDs: []string{"503"}},
		},
	}
}

var at = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func note(typ, object, prop, value string) Notification {
	return Notification{EventID: "100", SubscriptionID: "7", PortalID: "33", AppID: "555", OccurredAt: at,
		SubscriptionType: typ, ObjectID: object, PropertyName: prop, PropertyValue: value, ChangeSource: "CRM_UI", SourceID: "userId:1"}
}

func evt(id, leadID, typ string, attrs map[string]any) lead.Event {
	return lead.Event{ID: id, LeadID: leadID, Type: typ, OccurredAt: at, Source: Source, Attributes: attrs}
}

func TestMapContactProperties(t *testing.T) {
	cases := []struct {
		name string
		n    Notification
		want []lead.Event
		skip string
	}{
		{"creation", note("contact.creation", "502", "", ""), nil, SkipNoData},
		{"email of a known contact reuses its leadId", note("contact.propertyChange", "501", "email", "ana@acme.io"),
			[]lead.Event{withProfile(evt("hs-100-7-501", "L-1001", lead.EventProfileUpdate, map[string]any{"property": "email"}), lead.Profile{Email: "ana@acme.io"})}, ""},
		{"firstname of a new contact is hs-N", note("contact.propertyChange", "502", "firstname", "Ana"),
			[]lead.Event{withProfile(evt("hs-100-7-502", "hs-502", lead.EventProfileUpdate, map[string]any{"property": "firstname"}), lead.Profile{FirstName: "Ana"})}, ""},
		{"website becomes domain", note("contact.propertyChange", "502", "website", "https://www.Acme.io/about"),
			[]lead.Event{withProfile(evt("hs-100-7-502", "hs-502", lead.EventProfileUpdate, map[string]any{"property": "website"}), lead.Profile{Domain: "acme.io"})}, ""},
		{"numemployees range at lower bound", note("contact.propertyChange", "502", "numemployees", "100-500"),
			[]lead.Event{withProfile(evt("hs-100-7-502", "hs-502", lead.EventProfileUpdate, map[string]any{"property": "numemployees"}), lead.Profile{Employees: 100})}, ""},
		{"numemployees 1000+", note("contact.propertyChange", "502", "numemployees", "1000+"),
			[]lead.Event{withProfile(evt("hs-100-7-502", "hs-502", lead.EventProfileUpdate, map[string]any{"property": "numemployees"}), lead.Profile{Employees: 1000})}, ""},
		{"state becomes region", note("contact.propertyChange", "502", "state", "CA"),
			[]lead.Event{withProfile(evt("hs-100-7-502", "hs-502", lead.EventProfileUpdate, map[string]any{"property": "state"}), lead.Profile{Region: "CA"})}, ""},
		{"jobtitle", note("contact.propertyChange", "502", "jobtitle", "VP Sales"),
			[]lead.Event{withProfile(evt("hs-100-7-502", "hs-502", lead.EventProfileUpdate, map[string]any{"property": "jobtitle"}), lead.Profile{Title: "VP Sales"})}, ""},
		{"cleared email", note("contact.propertyChange", "502", "email", ""), nil, SkipCleared},
		{"unusable email", note("contact.propertyChange", "502", "email", "nobody"), nil, SkipUnmapped},
		{"company over the profile bound", note("contact.propertyChange", "502", "company", strings.Repeat("c", lead.MaxProfileValueBytes+1)), nil, SkipUnmapped},
		{"SQL → lead.accepted by the owner's rep", note("contact.propertyChange", "501", "lifecyclestage", "salesqualifiedlead"),
			[]lead.Event{evt("hs-100-7-501", "L-1001", lead.EventLeadAccepted, map[string]any{"repId": "rep-7", "lifecycleStage": "salesqualifiedlead"})}, ""},
		{"SQL, owner not a rep", note("contact.propertyChange", "503", "lifecyclestage", "salesqualifiedlead"), nil, SkipNoRep},
		{"SQL, no owner", note("contact.propertyChange", "504", "lifecyclestage", "salesqualifiedlead"), nil, SkipNoRep},
		{"opportunity → opportunity.created", note("contact.propertyChange", "502", "lifecyclestage", "opportunity"),
			[]lead.Event{evt("hs-100-7-502", "hs-502", lead.EventOpportunityCreated, map[string]any{"repId": "rep-7", "lifecycleStage": "opportunity"})}, ""},
		{"opportunity without a rep still maps", note("contact.propertyChange", "503", "lifecyclestage", "opportunity"),
			[]lead.Event{evt("hs-100-7-503", "hs-503", lead.EventOpportunityCreated, map[string]any{"lifecycleStage": "opportunity"})}, ""},
		{"customer → opportunity.won", note("contact.propertyChange", "502", "lifecyclestage", "customer"),
			[]lead.Event{evt("hs-100-7-502", "hs-502", lead.EventOpportunityWon, map[string]any{"lifecycleStage": "customer"})}, ""},
		{"marketingqualifiedlead is leadflow's own", note("contact.propertyChange", "502", "lifecyclestage", "marketingqualifiedlead"), nil, SkipUnmapped},
		{"UNQUALIFIED → lead.rejected bad_fit", note("contact.propertyChange", "502", "hs_lead_status", "UNQUALIFIED"),
			[]lead.Event{evt("hs-100-7-502", "hs-502", lead.EventLeadRejected, map[string]any{"repId": "rep-7", "reason": "bad_fit",
				"note": "HubSpot lead status UNQUALIFIED", "leadStatus": "UNQUALIFIED"})}, ""},
		{"BAD_TIMING → lead.rejected timing", note("contact.propertyChange", "502", "hs_lead_status", "BAD_TIMING"),
			[]lead.Event{evt("hs-100-7-502", "hs-502", lead.EventLeadRejected, map[string]any{"repId": "rep-7", "reason": "timing",
				"note": "HubSpot lead status BAD_TIMING", "leadStatus": "BAD_TIMING"})}, ""},
		{"ATTEMPTED_TO_CONTACT → rep.touch", note("contact.propertyChange", "502", "hs_lead_status", "ATTEMPTED_TO_CONTACT"),
			[]lead.Event{evt("hs-100-7-502", "hs-502", lead.EventRepTouch, map[string]any{"repId": "rep-7", "channel": "crm", "leadStatus": "ATTEMPTED_TO_CONTACT"})}, ""},
		{"CONNECTED → rep.touch", note("contact.propertyChange", "502", "hs_lead_status", "CONNECTED"),
			[]lead.Event{evt("hs-100-7-502", "hs-502", lead.EventRepTouch, map[string]any{"repId": "rep-7", "channel": "crm", "leadStatus": "CONNECTED"})}, ""},
		{"IN_PROGRESS", note("contact.propertyChange", "502", "hs_lead_status", "IN_PROGRESS"), nil, SkipUnmapped},
		{"UNQUALIFIED without a rep", note("contact.propertyChange", "503", "hs_lead_status", "UNQUALIFIED"), nil, SkipNoRep},
		{"notes_last_contacted → rep.touch at the activity's time", note("contact.propertyChange", "502", "notes_last_contacted", "1795338000000"),
			[]lead.Event{{ID: "hs-100-7-502", LeadID: "hs-502", Type: lead.EventRepTouch, OccurredAt: time.UnixMilli(1795338000000).UTC(),
				Source: Source, Attributes: map[string]any{"repId": "rep-7", "channel": "crm_activity"}}}, ""},
		{"hs_last_sales_activity_timestamp is the contact's", note("contact.propertyChange", "502", "hs_last_sales_activity_timestamp", "1795338000000"), nil, SkipUnmapped},
		{"owner changed in HubSpot → owner.changed to the owner's rep", note("contact.propertyChange", "501", "hubspot_owner_id", "77"),
			[]lead.Event{evt("hs-100-7-501", "L-1001", lead.EventOwnerChanged, map[string]any{"ownerId": "rep-7", "crmOwnerId": "77", "by": "hubspot", "changeSource": "CRM_UI"})}, ""},
		{"owner who is no leadflow rep → owner.changed without ownerId", note("contact.propertyChange", "502", "hubspot_owner_id", "99"),
			[]lead.Event{evt("hs-100-7-502", "hs-502", lead.EventOwnerChanged, map[string]any{"ownerId": "", "crmOwnerId": "99", "by": "hubspot", "changeSource": "CRM_UI"})}, ""},
		{"owner cleared", note("contact.propertyChange", "502", "hubspot_owner_id", ""), nil, SkipCleared},
		{"owner value that is no owner ID", note("contact.propertyChange", "502", "hubspot_owner_id", "seventy"), nil, SkipUnmapped},
		{"leadflow's own owner write echoed", note("contact.propertyChange", "501", "hubspot_owner_id", "78"), nil, SkipOwnChange},
		{"the same owner set in HubSpot later is not an echo", func() Notification {
			n := note("contact.propertyChange", "501", "hubspot_owner_id", "78")
			n.OccurredAt = at.Add(time.Hour)
			return n
		}(), []lead.Event{{ID: "hs-100-7-501", LeadID: "L-1001", Type: lead.EventOwnerChanged, OccurredAt: at.Add(time.Hour), Source: Source,
			Attributes: map[string]any{"ownerId": "", "crmOwnerId": "78", "by": "hubspot", "changeSource": "CRM_UI"}}}, ""},
		{"leadflow's app's owner write echoed", func() Notification {
			n := note("contact.propertyChange", "502", "hubspot_owner_id", "77")
			n.ChangeSource, n.SourceID = "INTEGRATION", "555"
			return n
		}(), nil, SkipOwnChange},
		{"unknown property", note("contact.propertyChange", "502", "favourite_colour", "blue"), nil, SkipUnmapped},
		{"generic contact format", func() Notification {
			n := note("object.propertyChange", "502", "hs_lead_status", "CONNECTED")
			n.ObjectTypeID = ObjectContact
			return n
		}(), []lead.Event{evt("hs-100-7-502", "hs-502", lead.EventRepTouch, map[string]any{"repId": "rep-7", "channel": "crm", "leadStatus": "CONNECTED"})}, ""},
		{"unsupported type", note("contact.deletion", "502", "", ""), nil, SkipUnsupported},
		{"company type", note("company.propertyChange", "8", "name", "Acme"), nil, SkipUnsupported},
		{"own change echoed", func() Notification {
			n := note("contact.propertyChange", "501", "lifecyclestage", "salesqualifiedlead")
			n.ChangeSource, n.SourceID = "INTEGRATION", "555"
			return n
		}(), nil, SkipOwnChange},
		{"own private app's change echoed", func() Notification {
			n := note("contact.propertyChange", "502", "hs_lead_status", "UNQUALIFIED")
			n.ChangeSource, n.SourceID = "INTEGRATION", "4242"
			return n
		}(), nil, SkipOwnChange},
		{"another integration's change maps", func() Notification {
			n := note("contact.propertyChange", "502", "hs_lead_status", "CONNECTED")
			n.ChangeSource, n.SourceID = "INTEGRATION", "8888"
			return n
		}(), []lead.Event{evt("hs-100-7-502", "hs-502", lead.EventRepTouch, map[string]any{"repId": "rep-7", "channel": "crm", "leadStatus": "CONNECTED"})}, ""},
		{"missing eventId", func() Notification { n := note("contact.creation", "502", "", ""); n.EventID = ""; return n }(), nil, SkipMalformed},
		{"non-numeric objectId", note("contact.propertyChange", "5 02", "email", "a@b.c"), nil, SkipMalformed},
		{"missing occurredAt", func() Notification {
			n := note("contact.creation", "502", "", "")
			n.OccurredAt = time.Time{}
			return n
		}(), nil, SkipMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, c.n, newFake().deps(), c.want, c.skip)
		})
	}
}

func TestMapDeals(t *testing.T) {
	amount := 12000.0
	cases := []struct {
		name string
		n    Notification
		mod  func(*fakeDeps)
		want []lead.Event
		skip string
	}{
		{"creation fans out to each contact", note("deal.creation", "9001", "", ""), nil, []lead.Event{
			evt("hs-100-7-9001-c501", "L-1001", lead.EventOpportunityCreated, map[string]any{"dealId": "9001", "amount": amount}),
			evt("hs-100-7-9001-c502", "hs-502", lead.EventOpportunityCreated, map[string]any{"dealId": "9001", "amount": amount}),
		}, ""},
		{"creation, generic format", func() Notification {
			n := note("object.creation", "9001", "", "")
			n.ObjectTypeID = ObjectDeal
			return n
		}(), func(f *fakeDeps) { f.deals["9001"] = []string{"502"} }, []lead.Event{
			evt("hs-100-7-9001-c502", "hs-502", lead.EventOpportunityCreated, map[string]any{"dealId": "9001", "amount": amount}),
		}, ""},
		{"creation without contacts", note("deal.creation", "9002", "", ""), nil, nil, SkipNoContacts},
		{"deleted deal", note("deal.creation", "9999", "", ""), nil, nil, SkipGone},
		{"closedwon", note("deal.propertyChange", "9001", "dealstage", "closedwon"), func(f *fakeDeps) { f.amounts = nil }, []lead.Event{
			evt("hs-100-7-9001-c501", "L-1001", lead.EventOpportunityWon, map[string]any{"dealId": "9001", "dealStage": "closedwon"}),
			evt("hs-100-7-9001-c502", "hs-502", lead.EventOpportunityWon, map[string]any{"dealId": "9001", "dealStage": "closedwon"}),
		}, ""},
		{"closedlost", note("deal.propertyChange", "9001", "dealstage", "closedlost"), nil, []lead.Event{
			evt("hs-100-7-9001-c501", "L-1001", lead.EventOpportunityLost, map[string]any{"dealId": "9001", "dealStage": "closedlost", "amount": amount}),
			evt("hs-100-7-9001-c502", "hs-502", lead.EventOpportunityLost, map[string]any{"dealId": "9001", "dealStage": "closedlost", "amount": amount}),
		}, ""},
		{"custom pipeline won stage", note("deal.propertyChange", "9001", "dealstage", "1234567"), func(f *fakeDeps) {
			f.won, f.deals["9001"], f.amounts = []string{"1234567"}, []string{"502"}, nil
		}, []lead.Event{
			evt("hs-100-7-9001-c502", "hs-502", lead.EventOpportunityWon, map[string]any{"dealId": "9001", "dealStage": "1234567"}),
		}, ""},
		{"open stage", note("deal.propertyChange", "9001", "dealstage", "presentationscheduled"), nil, nil, SkipUnmapped},
		{"amount change", note("deal.propertyChange", "9001", "amount", "5000"), nil, nil, SkipUnmapped},
		{"no deal lookup", note("deal.creation", "9001", "", ""), nil, nil, SkipNotConfigured},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			if c.mod != nil {
				c.mod(f)
			}
			d := f.deps()
			if c.name == "no deal lookup" {
				d.DealContacts = nil
			}
			check(t, c.n, d, c.want, c.skip)
		})
	}
}

func TestMapEngagements(t *testing.T) {
	gen := func(typ, id string) Notification {
		n := note("object.creation", id, "", "")
		n.ObjectTypeID = typ
		return n
	}
	callAt := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	touch := func(id, leadID string) lead.Event {
		e := evt(id, leadID, lead.EventRepTouch, map[string]any{"repId": "rep-7", "channel": "call", "engagementId": "3001"})
		e.OccurredAt = callAt
		return e
	}
	check(t, gen(ObjectCall, "3001"), newFake().deps(), []lead.Event{touch("hs-100-7-3001-c502", "hs-502"), touch("hs-100-7-3001-c501", "L-1001")}, "")
	check(t, gen(ObjectEmail, "3002"), newFake().deps(), nil, SkipInbound)
	check(t, gen(ObjectMeeting, "3003"), newFake().deps(), nil, SkipNoRep) // owner 99 is not a rep
	check(t, gen(ObjectMeeting, "3999"), newFake().deps(), nil, SkipGone)
	check(t, gen("0-46", "3004"), newFake().deps(), nil, SkipUnsupported) // notes are not touches
	d := newFake().deps()
	d.Engagement = nil
	check(t, gen(ObjectCall, "3001"), d, nil, SkipNotConfigured)
}

// Without the owner → rep lookup an owner change cannot say who the new
// owner is: skipped, not sent as "no leadflow rep" (which would alert).
// Without the own-write lookup, only sourceId recognises echoes.
func TestMapOwnerChangeLookups(t *testing.T) {
	d := newFake().deps()
	d.RepForOwner = nil
	check(t, note("contact.propertyChange", "501", "hubspot_owner_id", "77"), d, nil, SkipNotConfigured)
	d = newFake().deps()
	d.OwnOwnerWrite = nil
	check(t, note("contact.propertyChange", "501", "hubspot_owner_id", "78"), d,
		[]lead.Event{evt("hs-100-7-501", "L-1001", lead.EventOwnerChanged, map[string]any{"ownerId": "", "crmOwnerId": "78", "by": "hubspot", "changeSource": "CRM_UI"})}, "")
}

func TestMapLookupFailureIsAnError(t *testing.T) {
	f := newFake()
	f.fail = errors.New("hubspot: 502 bad gateway")
	for _, n := range []Notification{
		note("deal.creation", "9001", "", ""),
		note("contact.propertyChange", "501", "lifecyclestage", "salesqualifiedlead"),
		note("contact.propertyChange", "501", "email", "ana@acme.io"),
		note("contact.propertyChange", "501", "hubspot_owner_id", "77"),
	} {
		evs, err := Map(context.Background(), n, f.deps())
		if _, ok := errors.AsType[*Skipped](err); ok || err == nil || !strings.Contains(err.Error(), "502 bad gateway") {
			t.Errorf("%s %s: Map = %v, %v; want the lookup error", n.Type(), n.PropertyName, evs, err)
		}
	}
}

func TestMapWithoutLeadLookupUsesHsN(t *testing.T) {
	d := newFake().deps()
	d.LeadForContact = nil
	check(t, note("contact.propertyChange", "501", "company", "Acme"), d,
		[]lead.Event{withProfile(evt("hs-100-7-501", "hs-501", lead.EventProfileUpdate, map[string]any{"property": "company"}), lead.Profile{Company: "Acme"})}, "")
}

// The same notification redelivered (attemptNumber 1) maps to the same IDs.
func TestMapRedeliveryKeepsIDs(t *testing.T) {
	n := note("deal.creation", "9001", "", "")
	first, err := Map(context.Background(), n, newFake().deps())
	if err != nil {
		t.Fatal(err)
	}
	n.AttemptNumber = 1
	again, err := Map(context.Background(), n, newFake().deps())
	if err != nil || !reflect.DeepEqual(first, again) {
		t.Fatalf("redelivery mapped to %+v, %v; want %+v", again, err, first)
	}
}

// Every event Map produces passes the contract's validation.
func TestMappedEventsAreValid(t *testing.T) {
	for _, n := range []Notification{
		note("contact.propertyChange", "502", "email", "ana@acme.io"),
		note("contact.propertyChange", "501", "lifecyclestage", "salesqualifiedlead"),
		note("contact.propertyChange", "502", "hs_lead_status", "UNQUALIFIED"),
		note("contact.propertyChange", "502", "notes_last_contacted", "2026-11-22T08:00:00Z"),
		note("deal.propertyChange", "9001", "dealstage", "closedlost"),
		note("contact.propertyChange", "501", "hubspot_owner_id", "77"),
		note("contact.propertyChange", "502", "hubspot_owner_id", "99"),
	} {
		evs, err := Map(context.Background(), n, newFake().deps())
		if err != nil || len(evs) == 0 {
			t.Fatalf("%s: %v", n.PropertyName, err)
		}
		for _, e := range evs {
			if fes := e.Validate(); len(fes) > 0 {
				t.Errorf("%s: %+v invalid: %v", n.PropertyName, e, fes)
			}
		}
	}
}

func withProfile(e lead.Event, p lead.Profile) lead.Event {
	e.Profile = &p
	return e
}

func check(t *testing.T, n Notification, d Deps, want []lead.Event, skipKind string) {
	t.Helper()
	got, err := Map(context.Background(), n, d)
	if skipKind != "" {
		sk, ok := errors.AsType[*Skipped](err)
		if !ok || sk.Kind != skipKind {
			t.Fatalf("Map = %+v, %v; want skipped %s", got, err, skipKind)
		}
		if got != nil {
			t.Errorf("skipped but returned events %+v", got)
		}
		return
	}
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Map =\n%+v\nwant\n%+v", got, want)
	}
}
