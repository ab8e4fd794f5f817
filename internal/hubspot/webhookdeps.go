package hubspot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/hswebhook"
)

// WebhookStore is what the webhook lookups need of Postgres.
type WebhookStore interface {
	LeadForHubSpotContact(ctx context.Context, contactID string) (string, bool, error)
	Directory(ctx context.Context) (*directory.Directory, error)
}

// WebhookDeps gives the HubSpot webhook mapper its lookups: leads by contact
// from Postgres, and — when a client is configured (HUBSPOT_TOKEN) — deal
// contacts and amounts, contact owners and logged engagements from the API.
// Without a client only property changes of known contacts map.
func WebhookDeps(c *Client, st WebhookStore) hswebhook.Deps {
	d := hswebhook.Deps{LeadForContact: st.LeadForHubSpotContact}
	if c == nil {
		return d
	}
	reps := &ownerReps{c: c, st: st, ttl: 5 * time.Minute}
	d.RepForOwner = reps.rep
	d.DealContacts = func(ctx context.Context, dealID string) ([]string, error) {
		ids, err := c.DealContacts(ctx, dealID)
		return ids, notFound(err)
	}
	d.DealAmount = func(ctx context.Context, dealID string) (float64, bool, error) {
		o, err := c.GetObject(ctx, Deals, dealID, "amount")
		if IsNotFound(err) {
			// The amount is optional; the deal's contacts decide the mapping.
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		a, perr := strconv.ParseFloat(o.Properties["amount"], 64)
		return a, perr == nil, nil
	}
	d.ContactOwner = func(ctx context.Context, contactID string) (string, error) {
		o, err := c.GetContact(ctx, contactID, "hubspot_owner_id")
		if err != nil {
			return "", notFound(err)
		}
		return o.Properties["hubspot_owner_id"], nil
	}
	d.Engagement = func(ctx context.Context, objectTypeID, objectID string) (hswebhook.Engagement, error) {
		o, err := c.GetObject(ctx, objectTypeID, objectID, "hubspot_owner_id", "hs_timestamp", "hs_email_direction")
		if err != nil {
			return hswebhook.Engagement{}, notFound(err)
		}
		e := hswebhook.Engagement{OwnerID: o.Properties["hubspot_owner_id"], Inbound: o.Properties["hs_email_direction"] == "INCOMING_EMAIL"}
		if t, err := time.Parse(time.RFC3339, o.Properties["hs_timestamp"]); err == nil {
			e.At = t
		}
		contacts, err := c.associatedContacts(ctx, objectTypeID, objectID)
		if err != nil {
			return hswebhook.Engagement{}, notFound(err)
		}
		e.ContactIDs = contacts
		return e, nil
	}
	return d
}

func notFound(err error) error {
	if err != nil && IsNotFound(err) {
		return fmt.Errorf("%w: %v", hswebhook.ErrNotFound, err)
	}
	return err
}

// ownerReps maps a HubSpot owner to a leadflow rep: the rep whose
// hubspot_owner_id is the owner, else the rep whose email is the owner's.
// The owners list is cached: a webhook batch may ask for it many times.
type ownerReps struct {
	c   *Client
	st  WebhookStore
	ttl time.Duration

	mu      sync.Mutex
	fetched time.Time
	emails  map[string]string // owner ID → email
}

func (o *ownerReps) rep(ctx context.Context, ownerID string) (string, bool, error) {
	dir, err := o.st.Directory(ctx)
	if err != nil {
		return "", false, err
	}
	for _, r := range dir.Reps {
		if r.HubSpotOwnerID != "" && r.HubSpotOwnerID == ownerID {
			return r.ID, true, nil
		}
	}
	email, err := o.ownerEmail(ctx, ownerID)
	if err != nil || email == "" {
		return "", false, err
	}
	for _, r := range dir.Reps {
		if r.Email != "" && strings.EqualFold(r.Email, email) {
			return r.ID, true, nil
		}
	}
	return "", false, nil
}

func (o *ownerReps) ownerEmail(ctx context.Context, ownerID string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.emails == nil || time.Since(o.fetched) > o.ttl {
		owners, err := o.c.Owners(ctx)
		if err != nil {
			return "", err
		}
		o.emails = make(map[string]string, len(owners))
		for _, ow := range owners {
			o.emails[ow.ID] = ow.Email
		}
		o.fetched = time.Now()
	}
	return o.emails[ownerID], nil
}
