package bench

import (
	"fmt"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// profile is a synthetic lead that routes to the round-robin inbound pool
// (no account owner, not west coast, not enterprise).
func profile(leadID string) *lead.Profile {
	return &lead.Profile{Email: leadID + "@bench.example", Company: "Bench Co", Domain: "bench.example",
		Country: "US", Region: "NY", Employees: 250, Industry: "insurance", Title: "VP Sales"}
}

// quoteRequest is a new lead's fast-track event: a handoff at once.
func quoteRequest(leadID string, at time.Time) lead.Event {
	return lead.Event{ID: leadID + "-q", LeadID: leadID, Type: lead.EventFormSubmit, OccurredAt: at.UTC(), Source: "website",
		Attributes: map[string]any{"form": "quote_request"}, Profile: profile(leadID)}
}

// lowIntent is a new lead's first event that does not qualify it.
func lowIntent(leadID string, at time.Time) lead.Event {
	return lead.Event{ID: leadID + "-o", LeadID: leadID, Type: lead.EventEmailOpen, OccurredAt: at.UTC(), Source: "email",
		Profile: profile(leadID)}
}

// plainEvent is the n-th event to an existing lead that changes nothing
// the lead acts on: a page view outside the scored categories.
func plainEvent(leadID string, n int, at time.Time) lead.Event {
	return lead.Event{ID: fmt.Sprintf("%s-p%d", leadID, n), LeadID: leadID, Type: lead.EventWebPageView, OccurredAt: at.UTC(),
		Source: "website", Attributes: map[string]any{"category": "blog"}}
}
