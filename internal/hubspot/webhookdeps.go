package hubspot

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/leadflow/leadflow/internal/hswebhook"
)

// WebhookStore is what the webhook lookups need of Postgres (store.HubSpot).
type WebhookStore interface {
	LeadForHubSpotContact(ctx context.Context, contactID string) (string, bool, error)
	HubSpotOwnerWritten(ctx context.Context, contactID, ownerID string, from, to time.Time) (bool, error)
}

// OwnerEchoWindow is how far a hubspot_owner_id change's occurredAt may be
// from the start of an AssignOwner write of the same owner to the same
// contact for the change to count as that write's echo: the request
// timeout (DefaultTimeout, 10 s) plus the workers' and HubSpot's clocks
// disagreeing by a few seconds, with room to spare.
const OwnerEchoWindow = time.Minute

// ownerEchoSkew is how far after a change's occurredAt leadflow's write may
// be recorded (clocks disagreeing): the write is recorded before the
// request, so its echo's occurredAt normally comes after it.
const ownerEchoSkew = 10 * time.Second

// WebhookDeps gives the HubSpot webhook mapper its lookups: leads by contact
// and leadflow's own owner writes from Postgres, and — when a client is
// configured (HUBSPOT_TOKEN) — owner → rep, deal contacts and amounts,
// contact owners and logged engagements from the API. Without a client
// only property changes of known contacts map (owner changes need the
// owners list to find reps matched by email, so they are skipped too).
func WebhookDeps(c *Client, st WebhookStore, reps RepSource) hswebhook.Deps {
	d := hswebhook.Deps{LeadForContact: st.LeadForHubSpotContact}
	d.OwnOwnerWrite = func(ctx context.Context, contactID, ownerID string, at time.Time) (bool, error) {
		return st.HubSpotOwnerWritten(ctx, contactID, ownerID, at.Add(-OwnerEchoWindow), at.Add(ownerEchoSkew))
	}
	if c == nil {
		return d
	}
	d.RepForOwner = NewOwners(reps, c, 0, nil).RepOf
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
