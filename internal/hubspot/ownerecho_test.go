package hubspot_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/hswebhook"
	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/lead"
)

// leadflow's own AssignOwner, echoed back by HubSpot's webhook without a
// sourceId that names leadflow's app, is recognised from the write
// recorded in Postgres; an owner change made in HubSpot is an
// owner.changed for the new owner's rep (or for no rep).
func TestOwnerChangeEchoAndOutsideChange(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	contact := e.fake.AddContact(nil)
	if err := e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "k1", LeadID: "hs-" + contact, OwnerID: "rep-1"}); err != nil {
		t.Fatal(err)
	}
	deps := hubspot.WebhookDeps(e.client, e.store.HubSpot(), e.store.Directory())
	change := func(owner string, at time.Time) hswebhook.Notification {
		return hswebhook.Notification{EventID: "1", SubscriptionID: "2", PortalID: "33", AppID: "555", OccurredAt: at,
			SubscriptionType: "contact.propertyChange", ObjectID: contact, PropertyName: "hubspot_owner_id",
			PropertyValue: owner, ChangeSource: "INTEGRATION", SourceID: "999"} // another app ID: no sourceId match
	}

	_, err := hswebhook.Map(ctx, change(ownerDana, t0.Add(3*time.Second)), deps)
	if sk, ok := errors.AsType[*hswebhook.Skipped](err); !ok || sk.Kind != hswebhook.SkipOwnChange {
		t.Fatalf("echo of leadflow's write = %v, want skipped %s", err, hswebhook.SkipOwnChange)
	}

	for _, c := range []struct {
		owner string
		at    time.Time
		rep   string
	}{
		{ownerLuis, t0.Add(3 * time.Second), "rep-2"},  // another owner, at once: not an echo (rep by email)
		{ownerOther, t0.Add(time.Minute), ""},          // an owner who is no leadflow rep
		{ownerDana, t0.Add(10 * time.Minute), "rep-1"}, // the same owner set again, later, in HubSpot
	} {
		evs, err := hswebhook.Map(ctx, change(c.owner, c.at), deps)
		if err != nil || len(evs) != 1 {
			t.Fatalf("owner %s at %v: %v, %v", c.owner, c.at, evs, err)
		}
		want := map[string]any{"ownerId": c.rep, "crmOwnerId": c.owner, "by": "hubspot", "changeSource": "INTEGRATION"}
		if ev := evs[0]; ev.Type != lead.EventOwnerChanged || ev.LeadID != "hs-"+contact || !reflect.DeepEqual(ev.Attributes, want) {
			t.Errorf("owner %s: event %+v, want attributes %v", c.owner, ev, want)
		}
		if fes := evs[0].Validate(); len(fes) > 0 {
			t.Errorf("owner %s: invalid event: %v", c.owner, fes)
		}
	}
}
