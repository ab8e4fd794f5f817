package lead

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Event is the envelope every integration sends (CONTRACT.md, "Event envelope").
type Event struct {
	ID         string         `json:"id"`
	LeadID     string         `json:"leadId,omitempty"`
	Type       string         `json:"type"`
	OccurredAt time.Time      `json:"occurredAt"`
	Source     string         `json:"source,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	Profile    *Profile       `json:"profile,omitempty"`
}

// Profile is who the lead is. Email, names and phone are PII: they may live in
// the workflow state but never in IDs, search attributes, logs or metric labels.
type Profile struct {
	Email     string `json:"email,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Company   string `json:"company,omitempty"`
	Domain    string `json:"domain,omitempty"`
	Country   string `json:"country,omitempty"`
	Region    string `json:"region,omitempty"`
	Employees int    `json:"employees,omitempty"`
	Industry  string `json:"industry,omitempty"`
	Title     string `json:"title,omitempty"`
	Product   string `json:"product,omitempty"`
}

// Event types of the contract.
const (
	EventEmailOpen          = "email.open"
	EventEmailClick         = "email.click"
	EventEmailReply         = "email.reply"
	EventEmailBounce        = "email.bounce"
	EventEmailUnsubscribe   = "email.unsubscribe"
	EventWebPageView        = "web.page_view"
	EventFormSubmit         = "form.submit"
	EventWebinarAttended    = "webinar.attended"
	EventSMSReply           = "sms.reply"
	EventProfileUpdate      = "profile.update"
	EventRepTouch           = "rep.touch"
	EventTaskCompleted      = "task.completed"
	EventOpportunityCreated = "opportunity.created"
	EventOpportunityWon     = "opportunity.won"
	EventOpportunityLost    = "opportunity.lost"
	EventLeadAccepted       = "lead.accepted"
	EventLeadRejected       = "lead.rejected"
	// EventOwnerChanged: the CRM moved the lead to another owner (attributes
	// ownerId: the rep ID, empty when the CRM's owner is no leadflow rep;
	// crmOwnerId: the CRM's own owner ID; by: who changed it). A
	// reassignment by the CRM, on the signal path.
	EventOwnerChanged = "owner.changed"
)

// EventTypes is every event type the contract accepts; anything else is a 400.
var EventTypes = map[string]bool{
	EventEmailOpen: true, EventEmailClick: true, EventEmailReply: true, EventEmailBounce: true,
	EventEmailUnsubscribe: true, EventWebPageView: true, EventFormSubmit: true, EventWebinarAttended: true,
	EventSMSReply: true, EventProfileUpdate: true, EventRepTouch: true, EventTaskCompleted: true,
	EventOpportunityCreated: true, EventOpportunityWon: true, EventOpportunityLost: true,
	EventLeadAccepted: true, EventLeadRejected: true, EventOwnerChanged: true,
}

var (
	leadIDPattern  = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	eventIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:/@-]{1,200}$`)
)

// ValidLeadID reports whether id matches the contract's leadId pattern.
func ValidLeadID(id string) bool { return leadIDPattern.MatchString(id) }

// FieldError is one problem with one field of one input.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate checks the envelope against the contract. It returns every problem,
// each naming its field, so an HTTP caller can fix them all at once.
func (e *Event) Validate() []FieldError {
	var errs []FieldError
	add := func(f, m string, a ...any) { errs = append(errs, FieldError{f, fmt.Sprintf(m, a...)}) }
	if e.ID == "" {
		add("id", "required")
	} else if !eventIDPattern.MatchString(e.ID) {
		add("id", "must be 1-200 characters of letters, digits and ._:/@-")
	}
	if e.Type == "" {
		add("type", "required")
	} else if !EventTypes[e.Type] {
		add("type", "unknown event type %q", e.Type)
	}
	if e.OccurredAt.IsZero() {
		add("occurredAt", "required (RFC 3339)")
	}
	if e.LeadID != "" && !ValidLeadID(e.LeadID) {
		add("leadId", "must match [A-Za-z0-9._:-]{1,128}")
	}
	if e.LeadID == "" && (e.Profile == nil || strings.TrimSpace(e.Profile.Email) == "") {
		add("leadId", "leadId or profile.email is required")
	}
	if e.Profile != nil && e.Profile.Employees < 0 {
		add("profile.employees", "must not be negative")
	}
	if fe := tooLong("source", e.Source, MaxProfileValueBytes); fe != nil {
		errs = append(errs, *fe)
	}
	if e.Profile != nil {
		errs = append(errs, e.Profile.bounds()...)
	}
	errs = append(errs, attributeBounds(e.Attributes)...)
	str := func(k string) string { s, _ := e.Attributes[k].(string); return s }
	switch e.Type {
	case EventRepTouch, EventLeadAccepted:
		if str("repId") == "" {
			add("attributes.repId", "required for %s", e.Type)
		}
	case EventLeadRejected:
		if str("repId") == "" {
			add("attributes.repId", "required for %s", e.Type)
		}
		if r := Reason(str("reason")); !r.Valid() {
			add("attributes.reason", "must be one of %s", reasonList())
		}
		if fe := tooLong("attributes.note", str("note"), MaxNoteBytes); fe != nil {
			errs = append(errs, *fe)
		}
	case EventOwnerChanged:
		if str("ownerId") == "" && str("crmOwnerId") == "" {
			add("attributes.ownerId", "ownerId or crmOwnerId is required for %s", e.Type)
		}
	case EventProfileUpdate:
		if e.Profile == nil {
			add("profile", "required for profile.update")
		}
	}
	if v, ok := e.Attributes["revisitAt"]; ok && v != nil {
		s, isString := v.(string)
		if _, err := time.Parse(time.RFC3339, s); !isString || (s != "" && err != nil) {
			add("attributes.revisitAt", "must be an RFC 3339 string")
		}
	}
	return errs
}

func reasonList() string {
	s := make([]string, len(Reasons))
	for i, r := range Reasons {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// DeriveLeadID gives the leadId of an event that carries only an email:
// "e-" + the first 24 hex chars of HMAC-SHA256(key, lower(trim(email))).
// Keyed so the ID cannot be reversed to the email by a dictionary.
func DeriveLeadID(key []byte, email string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "e-" + hex.EncodeToString(m.Sum(nil))[:24]
}

// Attr returns a string attribute, or "" when absent or not a string.
func (e *Event) Attr(key string) string {
	s, _ := e.Attributes[key].(string)
	return s
}

// Merge copies the non-empty fields of p into the profile and reports which
// fields changed.
func (pr *Profile) Merge(p *Profile) []string {
	if p == nil {
		return nil
	}
	var changed []string
	set := func(name string, dst *string, v string) {
		if v != "" && *dst != v {
			*dst = v
			changed = append(changed, name)
		}
	}
	set("email", &pr.Email, p.Email)
	set("firstName", &pr.FirstName, p.FirstName)
	set("lastName", &pr.LastName, p.LastName)
	set("phone", &pr.Phone, p.Phone)
	set("company", &pr.Company, p.Company)
	set("domain", &pr.Domain, strings.ToLower(p.Domain))
	set("country", &pr.Country, p.Country)
	set("region", &pr.Region, p.Region)
	set("industry", &pr.Industry, p.Industry)
	set("title", &pr.Title, p.Title)
	set("product", &pr.Product, p.Product)
	if p.Employees > 0 && p.Employees != pr.Employees {
		pr.Employees = p.Employees
		changed = append(changed, "employees")
	}
	return changed
}

// EmailDomain is the domain used for account matching: the profile's domain,
// else the email's.
func (pr *Profile) EmailDomain() string {
	if pr.Domain != "" {
		return strings.ToLower(pr.Domain)
	}
	if i := strings.LastIndexByte(pr.Email, '@'); i >= 0 {
		return strings.ToLower(pr.Email[i+1:])
	}
	return ""
}

// CELMap is the profile as the policy's `lead` variable. Only fields that are
// set appear, so a condition on a missing field does not match.
func (pr *Profile) CELMap() map[string]any {
	m := map[string]any{}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("email", pr.Email)
	put("company", pr.Company)
	put("domain", pr.EmailDomain())
	put("country", pr.Country)
	put("region", pr.Region)
	put("industry", pr.Industry)
	put("title", pr.Title)
	put("product", pr.Product)
	put("firstName", pr.FirstName)
	put("lastName", pr.LastName)
	put("phone", pr.Phone)
	if pr.Employees > 0 {
		m["employees"] = int64(pr.Employees)
	}
	return m
}

// CELMap is the event as the policy's `event` variable.
func (e *Event) CELMap() map[string]any {
	attrs := map[string]any{}
	keys := make([]string, 0, len(e.Attributes))
	//workflowcheck:ignore (the keys are sorted below)
	for k := range e.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		attrs[k] = celValue(e.Attributes[k])
	}
	return map[string]any{
		"id": e.ID, "type": e.Type, "source": e.Source,
		"occurredAt": e.OccurredAt, "attributes": attrs,
	}
}

// celValue turns JSON numbers that are whole into int64, so `x >= 3` and
// `x == 3` behave as a policy author expects.
func celValue(v any) any {
	switch x := v.(type) {
	case float64:
		// Only whole numbers inside int64's range; NaN, Inf and huge values
		// stay doubles (the float→int conversion is undefined for them).
		if !math.IsInf(x, 0) && x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return int64(x)
		}
		return x
	case int:
		return int64(x)
	case map[string]any:
		m := make(map[string]any, len(x))
		//workflowcheck:ignore (a map copied into a map: the order cannot show)
		for k, e := range x {
			m[k] = celValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = celValue(e)
		}
		return l
	default:
		return v
	}
}
