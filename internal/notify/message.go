package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
)

// Person is whom a message goes to, with the addresses that reach them.
type Person struct {
	// ID is the directory ID, or ExternalID(email) for an address outside
	// the directory; it is the recipient in logs and delivery records.
	ID       string
	Name     string
	Email    string // PII: never logged
	Slack    string // Slack user ID
	Timezone string // IANA; "" is the policy's
	// External: not in the directory (ToEmails); reached by email only.
	External bool
}

// FromRep is the Person of a directory entry.
func FromRep(r directory.Rep) Person {
	return Person{ID: r.ID, Name: r.Name, Email: r.Email, Slack: r.Slack, Timezone: r.Timezone}
}

// ExternalID names an address outside the directory without spelling it.
func ExternalID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "ext-" + hex.EncodeToString(sum[:8])
}

// Links are where a message's buttons lead.
type Links struct {
	PublicURL     string // LEADFLOW_PUBLIC_URL: the inbox
	TemporalUIURL string // LEADFLOW_TEMPORAL_UI_URL: the lead's workflow page
	Namespace     string
}

// Message is one notification, rendered for one person.
type Message struct {
	Key, Kind, LeadID, OwnerID string
	Title                      string // the headline: Slack header, email subject
	Body                       string
	WhyNow                     string
	DueAt                      time.Time // zero: no due time
	Urgent                     bool
	// Contact is the lead's email, for the rep to reach them. PII.
	Contact string
	To      Person
	// Loc is the recipient's time zone, which DueAt is shown in.
	Loc         *time.Location
	InboxURL    string // "" when the recipient has no inbox
	WorkflowURL string // "" when the message is about no lead's workflow
}

// Build is the message in tells to, in their time zone loc.
func Build(in actions.NotifyInput, to Person, loc *time.Location, l Links) Message {
	m := Message{
		Key: in.Key, Kind: in.Kind, LeadID: in.LeadID, OwnerID: in.OwnerID,
		Title: strings.TrimSpace(in.Title), Body: strings.TrimSpace(in.Body), WhyNow: strings.TrimSpace(in.WhyNow),
		DueAt: in.DueAt, Urgent: in.Urgent, Contact: in.Email, To: to, Loc: loc,
	}
	if m.Loc == nil {
		m.Loc = time.UTC
	}
	if m.Title == "" {
		m.Title = defaultTitle(in.Kind, in.LeadID)
	}
	base := strings.TrimRight(l.PublicURL, "/")
	switch {
	case to.External && in.Kind == actions.NotifyWeekly:
		m.InboxURL = base + "/ui/dashboard"
	case !to.External:
		m.InboxURL = base + "/ui/inbox?rep=" + url.QueryEscape(to.ID)
	}
	if in.Kind != actions.NotifyWeekly && in.LeadID != "" && l.TemporalUIURL != "" {
		m.WorkflowURL = strings.TrimRight(l.TemporalUIURL, "/") + "/namespaces/" + url.PathEscape(l.Namespace) +
			"/workflows/" + url.PathEscape("lead/"+in.LeadID)
	}
	return m
}

func defaultTitle(kind, leadID string) string {
	switch kind {
	case actions.NotifyHandoff:
		return "New lead for you: " + leadID
	case actions.NotifyRemind:
		return "Reminder: lead " + leadID + " is waiting for you"
	case actions.NotifyEscalate:
		return "Escalation: lead " + leadID + " missed its SLA"
	case actions.NotifyReassigned:
		return "Lead " + leadID + " was reassigned"
	case actions.NotifyReengaged:
		return "Lead " + leadID + " re-engaged"
	case actions.NotifyEnrichment:
		return "Lead " + leadID + " needs data before handoff"
	case actions.NotifySALStale:
		return "Accepted lead " + leadID + " has gone stale"
	case actions.NotifyWeekly:
		return "leadflow weekly governance report"
	}
	return "leadflow: lead " + leadID
}

// Due is the due time as the recipient reads it.
func (m Message) Due() string {
	if m.DueAt.IsZero() {
		return ""
	}
	return m.DueAt.In(m.Loc).Format("Mon 2 Jan 15:04 MST")
}
