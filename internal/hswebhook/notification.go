package hswebhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Notification is one element of a HubSpot webhook batch (a JSON array of
// at most 100). IDs are kept as the decimal strings HubSpot sent, never
// through float64.
type Notification struct {
	EventID        string // not guaranteed unique by HubSpot: see Notification.key
	SubscriptionID string
	PortalID       string
	AppID          string
	OccurredAt     time.Time // from occurredAt (Unix ms); zero when absent
	// SubscriptionType as sent: legacy "contact.propertyChange", or the
	// generic "object.propertyChange" with ObjectTypeID. HubSpot's older
	// sample payloads name this field eventType; both are read.
	SubscriptionType string
	ObjectTypeID     string // generic format only: "0-1" contact, "0-3" deal, "0-48" call, …
	ObjectID         string
	PropertyName     string // propertyChange only
	PropertyValue    string // propertyChange only; "" when the property was cleared
	ChangeSource     string // e.g. CRM_UI, INTEGRATION, IMPORT, WORKFLOWS, API
	SourceID         string // e.g. "userId:123", or the app ID for INTEGRATION
	AttemptNumber    int    // 0 on the first delivery
}

// HubSpot object type IDs used by the generic ("object.*") subscriptions.
const (
	ObjectContact = "0-1"
	ObjectDeal    = "0-3"
	ObjectMeeting = "0-47"
	ObjectCall    = "0-48"
	ObjectEmail   = "0-49"
)

// Type is the subscription type with generic contact and deal
// subscriptions folded into their legacy names ("object.creation" of
// "0-3" is "deal.creation"), so both formats map alike. Other generic
// types keep their "object." name.
func (n Notification) Type() string {
	obj, action, ok := strings.Cut(n.SubscriptionType, ".")
	if ok && obj == "object" {
		switch n.ObjectTypeID {
		case ObjectContact:
			return "contact." + action
		case ObjectDeal:
			return "deal." + action
		}
	}
	return n.SubscriptionType
}

// wireNotification is the JSON shape; flex accepts a number or a string,
// since HubSpot sends IDs as numbers and some newer fields as strings.
type wireNotification struct {
	EventID          flex `json:"eventId"`
	SubscriptionID   flex `json:"subscriptionId"`
	PortalID         flex `json:"portalId"`
	AppID            flex `json:"appId"`
	OccurredAt       flex `json:"occurredAt"`
	SubscriptionType flex `json:"subscriptionType"`
	EventType        flex `json:"eventType"`
	ObjectTypeID     flex `json:"objectTypeId"`
	ObjectID         flex `json:"objectId"`
	PropertyName     flex `json:"propertyName"`
	PropertyValue    flex `json:"propertyValue"`
	ChangeSource     flex `json:"changeSource"`
	SourceID         flex `json:"sourceId"`
	AttemptNumber    flex `json:"attemptNumber"`
}

type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flex(s)
	case string(b) == "true" || string(b) == "false":
		*f = flex(b)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*f = flex(b) // the literal, so 19-digit IDs stay exact
	default:
		return errors.New("must be a string or a number")
	}
	return nil
}

// Parse reads a webhook body: a JSON array of notification objects.
// Unknown fields are ignored (HubSpot adds fields over time); missing ones
// are left empty for Map to judge per notification, so one odd element
// does not cost the rest of the batch. Only a body that is not such an
// array is an error.
func Parse(body []byte) ([]Notification, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw []json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, errors.New("body must be a JSON array of notifications")
		}
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if raw == nil {
		return nil, errors.New("body must be a JSON array of notifications")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON array")
	}
	out := make([]Notification, len(raw))
	for i, r := range raw {
		var w wireNotification
		if len(bytes.TrimSpace(r)) == 0 || bytes.TrimSpace(r)[0] != '{' {
			return nil, fmt.Errorf("notification %d: must be a JSON object", i)
		}
		if err := json.Unmarshal(r, &w); err != nil {
			return nil, fmt.Errorf("notification %d: %w", i, err)
		}
		out[i] = w.notification()
	}
	return out, nil
}

func (w wireNotification) notification() Notification {
	n := Notification{
		EventID: string(w.EventID), SubscriptionID: string(w.SubscriptionID),
		PortalID: string(w.PortalID), AppID: string(w.AppID),
		SubscriptionType: string(w.SubscriptionType), ObjectTypeID: string(w.ObjectTypeID),
		ObjectID: string(w.ObjectID), PropertyName: string(w.PropertyName),
		PropertyValue: string(w.PropertyValue), ChangeSource: string(w.ChangeSource),
		SourceID: string(w.SourceID),
	}
	if n.SubscriptionType == "" {
		n.SubscriptionType = string(w.EventType)
	}
	if ms, ok := parseMillis(string(w.OccurredAt)); ok {
		n.OccurredAt = time.UnixMilli(ms).UTC()
	}
	n.AttemptNumber, _ = strconv.Atoi(string(w.AttemptNumber))
	return n
}

// parseMillis reads a Unix-millisecond value, written as an integer or
// (defensively) as a whole float such as 1.7e12.
func parseMillis(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, ms > 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1<<53 || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}
