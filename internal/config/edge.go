package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Defaults of the edge's per-source rate limit on POST /v1/events: a
// sender may make DefaultEventsRate requests a second (each up to 500
// events), with bursts of DefaultEventsBurst.
const (
	DefaultEventsRate  = 20.0
	DefaultEventsBurst = 40
)

// Edge is what the HTTP edge is hardened with (docs/security.md, "The edge").
type Edge struct {
	// InsecureDemo (LEADFLOW_INSECURE_DEMO=1) lets serve and the worker
	// start with secrets shorter than MinSecretBytes, with a warning.
	InsecureDemo bool
	// HubSpotPortalID is the one portal whose webhooks are applied
	// (digits); required by serve when HUBSPOT_CLIENT_SECRET is set.
	HubSpotPortalID string
	// EventsRate and EventsBurst are the token bucket each source (client
	// address) gets on POST /v1/events: requests per second and burst.
	EventsRate  float64
	EventsBurst int
}

// read fills e from the environment and returns one error per bad variable.
func (e *Edge) read(get func(name, def string) string) []error {
	var errs []error
	bad := func(name, value, reason string) {
		errs = append(errs, fmt.Errorf("%s=%q: %s", name, value, reason))
	}
	switch v := strings.ToLower(get(EnvInsecureDemo, "")); v {
	case "", "0", "false":
	case "1", "true":
		e.InsecureDemo = true
	default:
		bad(EnvInsecureDemo, v, "must be 1 (or true) to allow short secrets in a local demo, or unset")
	}
	e.HubSpotPortalID = get(EnvHubSpotPortalID, "")
	if p := e.HubSpotPortalID; p != "" {
		if n, err := strconv.ParseUint(p, 10, 64); err != nil || n == 0 {
			bad(EnvHubSpotPortalID, p, "must be the HubSpot portal (hub) ID, a positive number")
		}
	}
	e.EventsRate = DefaultEventsRate
	if v := get(EnvEventsRate, ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1e6 {
			bad(EnvEventsRate, v, "must be requests per second per source, a number above 0 (e.g. 20 or 0.5)")
		} else {
			e.EventsRate = f
		}
	}
	e.EventsBurst = DefaultEventsBurst
	if v := get(EnvEventsBurst, ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1e6 {
			bad(EnvEventsBurst, v, "must be a whole number of requests, at least 1")
		} else {
			e.EventsBurst = n
		}
	}
	return errs
}

// String prints the edge settings for the start-up log (no secrets here).
func (e Edge) String() string {
	return fmt.Sprintf("insecureDemo=%t hubspotPortalID=%s eventsRate=%g eventsBurst=%d",
		e.InsecureDemo, e.HubSpotPortalID, e.EventsRate, e.EventsBurst)
}
