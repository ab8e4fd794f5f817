package lead_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// contractExample is the event envelope of CONTRACT.md, verbatim.
const contractExample = `{"id":"evt-81f2","leadId":"L-1001","type":"form.submit","occurredAt":"2026-11-22T10:00:00Z",
 "source":"website","attributes":{"form":"quote_request","utm_campaign":"q4-pricing"},
 "profile":{"email":"ana@acme.io","company":"Acme","domain":"acme.io","country":"US",
            "region":"CA","employees":250,"industry":"insurance","title":"VP Sales","product":"core"}}`

func decode(t *testing.T, s string) lead.Event {
	t.Helper()
	var e lead.Event
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return e
}

func TestValidateContractExample(t *testing.T) {
	e := decode(t, contractExample)
	if errs := e.Validate(); len(errs) != 0 {
		t.Fatalf("contract example: %v", errs)
	}
	want := lead.Event{
		ID: "evt-81f2", LeadID: "L-1001", Type: lead.EventFormSubmit,
		OccurredAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), Source: "website",
		Attributes: map[string]any{"form": "quote_request", "utm_campaign": "q4-pricing"},
		Profile: &lead.Profile{Email: "ana@acme.io", Company: "Acme", Domain: "acme.io", Country: "US",
			Region: "CA", Employees: 250, Industry: "insurance", Title: "VP Sales", Product: "core"},
	}
	if !e.OccurredAt.Equal(want.OccurredAt) {
		t.Errorf("OccurredAt = %v", e.OccurredAt)
	}
	e.OccurredAt = want.OccurredAt
	if !reflect.DeepEqual(e, want) {
		t.Errorf("decoded\n%#v\nwant\n%#v", e, want)
	}
}

// valid is a minimal valid event, which each case breaks in one way.
func valid() lead.Event {
	return lead.Event{
		ID: "evt-1", LeadID: "L-1001", Type: lead.EventEmailOpen,
		OccurredAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		mut    func(e *lead.Event)
		fields []string // the fields of the errors, in order; nil: valid
		msg    []string // substrings the first error's message must contain
	}{
		{"valid", func(e *lead.Event) {}, nil, nil},
		{"valid with only an email", func(e *lead.Event) {
			e.LeadID = ""
			e.Profile = &lead.Profile{Email: "ana@acme.io"}
		}, nil, nil},
		{"valid id with every allowed char", func(e *lead.Event) { e.ID = "hs:123/evt_4.5@x-y" }, nil, nil},
		{"missing id", func(e *lead.Event) { e.ID = "" }, []string{"id"}, []string{"required"}},
		{"id with a space", func(e *lead.Event) { e.ID = "evt 1" }, []string{"id"}, []string{"._:/@-"}},
		{"id with a non-ASCII char", func(e *lead.Event) { e.ID = "évt-1" }, []string{"id"}, nil},
		{"id too long", func(e *lead.Event) { e.ID = strings.Repeat("a", 201) }, []string{"id"}, []string{"1-200"}},
		{"id of 200 chars", func(e *lead.Event) { e.ID = strings.Repeat("a", 200) }, nil, nil},
		{"missing type", func(e *lead.Event) { e.Type = "" }, []string{"type"}, []string{"required"}},
		{"unknown type", func(e *lead.Event) { e.Type = "email.opened" }, []string{"type"}, []string{`"email.opened"`}},
		{"type is case-sensitive", func(e *lead.Event) { e.Type = "Email.Open" }, []string{"type"}, []string{`"Email.Open"`}},
		{"missing occurredAt", func(e *lead.Event) { e.OccurredAt = time.Time{} }, []string{"occurredAt"}, []string{"RFC 3339"}},
		{"leadId with a space", func(e *lead.Event) { e.LeadID = "L 1001" }, []string{"leadId"}, []string{"[A-Za-z0-9._:-]{1,128}"}},
		{"leadId with a slash", func(e *lead.Event) { e.LeadID = "lead/L-1" }, []string{"leadId"}, nil},
		{"leadId too long", func(e *lead.Event) { e.LeadID = strings.Repeat("L", 129) }, []string{"leadId"}, nil},
		{"leadId of 128 chars", func(e *lead.Event) { e.LeadID = strings.Repeat("L", 128) }, nil, nil},
		{"neither leadId nor profile", func(e *lead.Event) { e.LeadID = "" }, []string{"leadId"}, []string{"profile.email"}},
		{"neither leadId nor profile.email", func(e *lead.Event) {
			e.LeadID = ""
			e.Profile = &lead.Profile{Company: "Acme"}
		}, []string{"leadId"}, []string{"profile.email"}},
		{"blank profile.email", func(e *lead.Event) {
			e.LeadID = ""
			e.Profile = &lead.Profile{Email: "  "}
		}, []string{"leadId"}, []string{"profile.email"}},
		{"negative employees", func(e *lead.Event) { e.Profile = &lead.Profile{Employees: -1} },
			[]string{"profile.employees"}, nil},
		{"rep.touch without repId", func(e *lead.Event) {
			e.Type = lead.EventRepTouch
			e.Attributes = map[string]any{"channel": "phone"}
		}, []string{"attributes.repId"}, []string{"rep.touch"}},
		{"rep.touch with a non-string repId", func(e *lead.Event) {
			e.Type = lead.EventRepTouch
			e.Attributes = map[string]any{"repId": 7.0}
		}, []string{"attributes.repId"}, nil},
		{"rep.touch with repId", func(e *lead.Event) {
			e.Type = lead.EventRepTouch
			e.Attributes = map[string]any{"repId": "rep-7", "channel": "phone"}
		}, nil, nil},
		{"lead.accepted without repId", func(e *lead.Event) { e.Type = lead.EventLeadAccepted },
			[]string{"attributes.repId"}, []string{"lead.accepted"}},
		{"lead.rejected with a bad reason", func(e *lead.Event) {
			e.Type = lead.EventLeadRejected
			e.Attributes = map[string]any{"repId": "rep-7", "reason": "too_busy"}
		}, []string{"attributes.reason"},
			[]string{"bad_fit", "duplicate", "no_response", "timing", "competitor", "other"}},
		{"lead.rejected without anything", func(e *lead.Event) { e.Type = lead.EventLeadRejected },
			[]string{"attributes.repId", "attributes.reason"}, []string{"lead.rejected"}},
		{"lead.rejected valid", func(e *lead.Event) {
			e.Type = lead.EventLeadRejected
			e.Attributes = map[string]any{"repId": "rep-7", "reason": "timing", "revisitAt": "2027-02-01T00:00:00Z"}
		}, nil, nil},
		{"profile.update without profile", func(e *lead.Event) { e.Type = lead.EventProfileUpdate },
			[]string{"profile"}, []string{"profile.update"}},
		{"profile.update with profile", func(e *lead.Event) {
			e.Type = lead.EventProfileUpdate
			e.Profile = &lead.Profile{Title: "CFO"}
		}, nil, nil},
		{"bad revisitAt", func(e *lead.Event) { e.Attributes = map[string]any{"revisitAt": "next week"} },
			[]string{"attributes.revisitAt"}, []string{"RFC 3339"}},
		{"revisitAt date only", func(e *lead.Event) { e.Attributes = map[string]any{"revisitAt": "2027-02-01"} },
			[]string{"attributes.revisitAt"}, nil},
		{"empty revisitAt", func(e *lead.Event) { e.Attributes = map[string]any{"revisitAt": ""} }, nil, nil},
		{"every envelope error at once", func(e *lead.Event) { *e = lead.Event{} },
			[]string{"id", "type", "occurredAt", "leadId"}, []string{"required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := valid()
			c.mut(&e)
			errs := e.Validate()
			var fields []string
			for _, fe := range errs {
				fields = append(fields, fe.Field)
				if fe.Message == "" {
					t.Errorf("%s: empty message", fe.Field)
				}
			}
			if !slices.Equal(fields, c.fields) {
				t.Fatalf("errors %v, want fields %q", errs, c.fields)
			}
			for _, m := range c.msg {
				if !strings.Contains(errs[0].Message, m) {
					t.Errorf("message %q does not mention %q", errs[0].Message, m)
				}
			}
		})
	}
}

func TestEveryContractTypeIsKnown(t *testing.T) {
	types := []string{"email.open", "email.click", "email.reply", "email.bounce", "email.unsubscribe",
		"web.page_view", "form.submit", "webinar.attended", "sms.reply", "profile.update", "rep.touch",
		"task.completed", "opportunity.created", "opportunity.won", "opportunity.lost",
		"lead.accepted", "lead.rejected"}
	// owner.changed is leadflow's addition (a reassignment by the CRM).
	if len(lead.EventTypes) != len(types)+1 || !lead.EventTypes[lead.EventOwnerChanged] {
		t.Errorf("EventTypes has %d types, the contract %d plus owner.changed", len(lead.EventTypes), len(types))
	}
	for _, ty := range types {
		if !lead.EventTypes[ty] {
			t.Errorf("%s is not known", ty)
		}
	}
}

func TestFieldErrorError(t *testing.T) {
	if got := (lead.FieldError{Field: "id", Message: "required"}).Error(); got != "id: required" {
		t.Errorf("Error() = %q", got)
	}
}

func TestDeriveLeadID(t *testing.T) {
	key := []byte("leadflow-test-key")
	id := lead.DeriveLeadID(key, "ana@acme.io")
	if !regexp.MustCompile(`^e-[0-9a-f]{24}$`).MatchString(id) {
		t.Fatalf("DeriveLeadID = %q, want e- and 24 lower-case hex", id)
	}
	if !lead.ValidLeadID(id) {
		t.Errorf("%q is not a valid leadId", id)
	}
	for _, email := range []string{" Ana@Acme.io ", "ANA@ACME.IO", "\tana@acme.io\n"} {
		if got := lead.DeriveLeadID(key, email); got != id {
			t.Errorf("DeriveLeadID(%q) = %q, want %q", email, got, id)
		}
	}
	if other := lead.DeriveLeadID([]byte("another-key"), "ana@acme.io"); other == id {
		t.Errorf("different keys give the same ID %q", id)
	}
	if other := lead.DeriveLeadID(key, "bob@acme.io"); other == id {
		t.Errorf("different emails give the same ID %q", id)
	}

	// Known vector, computed here with crypto/hmac and, independently, with
	// Python's hmac module: hmac.new(key, b"ana@acme.io", sha256).hexdigest()[:24].
	m := hmac.New(sha256.New, key)
	m.Write([]byte("ana@acme.io"))
	if want := "e-" + hex.EncodeToString(m.Sum(nil))[:24]; id != want {
		t.Errorf("DeriveLeadID = %q, crypto/hmac gives %q", id, want)
	}
	if want := "e-8c6b8ae3d5ed8a933332dc28"; id != want {
		t.Errorf("DeriveLeadID = %q, want the known vector %q", id, want)
	}
}

func TestProfileMerge(t *testing.T) {
	var pr lead.Profile
	changed := pr.Merge(&lead.Profile{Email: "ana@acme.io", Company: "Acme", Domain: "ACME.io", Employees: 250})
	if want := []string{"email", "company", "domain", "employees"}; !slices.Equal(changed, want) {
		t.Errorf("changed = %q, want %q", changed, want)
	}
	if pr.Domain != "acme.io" {
		t.Errorf("Domain = %q, want lower-cased", pr.Domain)
	}

	// The same values, the domain in other case, and empty fields change nothing.
	if changed := pr.Merge(&lead.Profile{Email: "ana@acme.io", Domain: "Acme.IO", Employees: 250}); changed != nil {
		t.Errorf("changed = %q, want none", changed)
	}
	if changed := pr.Merge(&lead.Profile{}); changed != nil {
		t.Errorf("empty profile changed %q", changed)
	}
	if changed := pr.Merge(nil); changed != nil {
		t.Errorf("nil profile changed %q", changed)
	}
	if pr.Company != "Acme" || pr.Employees != 250 || pr.Email != "ana@acme.io" {
		t.Errorf("empty fields cleared values: %+v", pr)
	}

	changed = pr.Merge(&lead.Profile{FirstName: "Ana", LastName: "Lima", Phone: "+1", Country: "US", Region: "CA",
		Industry: "insurance", Title: "VP Sales", Product: "core", Employees: 300, Company: "Acme"})
	want := []string{"firstName", "lastName", "phone", "country", "region", "industry", "title", "product", "employees"}
	if !slices.Equal(changed, want) {
		t.Errorf("changed = %q, want %q", changed, want)
	}
	if pr.Employees != 300 || pr.Title != "VP Sales" {
		t.Errorf("not merged: %+v", pr)
	}
}

func TestProfileCELMap(t *testing.T) {
	if m := (&lead.Profile{}).CELMap(); m == nil || len(m) != 0 {
		t.Errorf("empty profile: %#v, want an empty map", m)
	}
	full := lead.Profile{Email: "ana@acme.io", Company: "Acme", Domain: "ACME.io", Country: "US",
		Employees: 250, Title: "VP Sales"}
	want := map[string]any{"email": "ana@acme.io", "company": "Acme", "domain": "acme.io", "country": "US",
		"employees": int64(250), "title": "VP Sales"}
	if got := full.CELMap(); !reflect.DeepEqual(got, want) {
		t.Errorf("CELMap = %#v, want %#v", got, want)
	}
	// The domain falls back to the email's; employees 0 is absent.
	got := (&lead.Profile{Email: "bob@Example.COM"}).CELMap()
	if want := map[string]any{"email": "bob@Example.COM", "domain": "example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("CELMap = %#v, want %#v", got, want)
	}
	if _, ok := got["employees"]; ok {
		t.Error("employees present when 0")
	}
}

func TestEventCELMap(t *testing.T) {
	e := decode(t, `{"id":"evt-1","leadId":"L-1","type":"web.page_view","source":"web",
		"occurredAt":"2026-11-22T10:00:00Z",
		"attributes":{"category":"pricing","count":3,"big":1e3,"neg":-4,"zero":0,"ratio":2.5,"ok":true,"none":null}}`)
	m := e.CELMap()
	if m["id"] != "evt-1" || m["type"] != "web.page_view" || m["source"] != "web" {
		t.Errorf("CELMap = %#v", m)
	}
	if at, ok := m["occurredAt"].(time.Time); !ok || !at.Equal(e.OccurredAt) {
		t.Errorf("occurredAt = %#v", m["occurredAt"])
	}
	attrs, ok := m["attributes"].(map[string]any)
	if !ok {
		t.Fatalf("attributes = %#v", m["attributes"])
	}
	want := map[string]any{"category": "pricing", "count": int64(3), "big": int64(1000), "neg": int64(-4),
		"zero": int64(0), "ratio": 2.5, "ok": true, "none": nil}
	if !reflect.DeepEqual(attrs, want) {
		t.Errorf("attributes = %#v, want %#v", attrs, want)
	}
	// Go ints (events built in code, not decoded) become int64 too.
	e.Attributes = map[string]any{"n": 5}
	if got := e.CELMap()["attributes"].(map[string]any)["n"]; got != int64(5) {
		t.Errorf("int attribute = %#v, want int64(5)", got)
	}
	// No attributes: an empty map, so conditions on attributes do not fail on null.
	e.Attributes = nil
	if a, ok := e.CELMap()["attributes"].(map[string]any); !ok || a == nil || len(a) != 0 {
		t.Errorf("attributes = %#v, want an empty map", e.CELMap()["attributes"])
	}
}

func TestAttr(t *testing.T) {
	e := lead.Event{Attributes: map[string]any{"form": "demo_request", "n": 3.0}}
	if e.Attr("form") != "demo_request" || e.Attr("n") != "" || e.Attr("missing") != "" {
		t.Errorf("Attr: %q %q %q", e.Attr("form"), e.Attr("n"), e.Attr("missing"))
	}
}

func TestCELValueNestedAndEdgeNumbers(t *testing.T) {
	ev := lead.Event{Attributes: map[string]any{
		"nested": map[string]any{"n": float64(3)},
		"list":   []any{float64(2), 2.5},
		"huge":   1e300,
	}}
	attrs := ev.CELMap()["attributes"].(map[string]any)
	if attrs["nested"].(map[string]any)["n"] != int64(3) {
		t.Errorf("nested number: %T", attrs["nested"].(map[string]any)["n"])
	}
	if l := attrs["list"].([]any); l[0] != int64(2) || l[1] != 2.5 {
		t.Errorf("list: %v", l)
	}
	if attrs["huge"] != 1e300 {
		t.Errorf("huge stays a double: %v", attrs["huge"])
	}
}

func TestRevisitAtMustBeAString(t *testing.T) {
	ev := lead.Event{ID: "e", LeadID: "L", Type: lead.EventLeadRejected, OccurredAt: time.Now(),
		Attributes: map[string]any{"repId": "r", "reason": "timing", "revisitAt": float64(5)}}
	errs := ev.Validate()
	if len(errs) != 1 || errs[0].Field != "attributes.revisitAt" {
		t.Fatalf("errors: %v", errs)
	}
}

func TestOwnerChangedNeedsAnOwner(t *testing.T) {
	e := lead.Event{ID: "o-1", LeadID: "L-1", Type: lead.EventOwnerChanged, OccurredAt: time.Now()}
	errs := e.Validate()
	if len(errs) != 1 || errs[0].Field != "attributes.ownerId" {
		t.Fatalf("errors %v; want attributes.ownerId", errs)
	}
	e.Attributes = map[string]any{"crmOwnerId": "9999"}
	if errs := e.Validate(); len(errs) != 0 {
		t.Fatalf("a CRM owner alone is enough (the workflow alerts): %v", errs)
	}
}
