package hubspot_test

import (
	"context"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/hubspot/hubspottest"
)

type depsStore struct{ dir *directory.Directory }

func (d depsStore) LeadForHubSpotContact(context.Context, string) (string, bool, error) {
	return "", false, nil
}
func (d depsStore) Directory(context.Context) (*directory.Directory, error) { return d.dir, nil }
func (d depsStore) HubSpotOwnerWritten(context.Context, string, string, time.Time, time.Time) (bool, error) {
	return false, nil
}

// The webhook's lookups: owner → rep by hubspot_owner_id or by email, a
// contact's owner, a deal's contacts and amount (absent amount is fine).
func TestWebhookDeps(t *testing.T) {
	fake := hubspottest.New(t)
	byID := fake.AddOwner(hubspot.Owner{Email: "mei@example.com"})
	byEmail := fake.AddOwner(hubspot.Owner{Email: "Sam@Example.com"})
	stranger := fake.AddOwner(hubspot.Owner{Email: "nobody@example.com"})
	contact := fake.AddContact(map[string]string{"email": "ana@acme.io", "hubspot_owner_id": byID})
	deal := fake.AddDeal(contact)

	client, err := hubspot.New(fake.URL, hubspottest.DefaultToken)
	if err != nil {
		t.Fatal(err)
	}
	dir := &directory.Directory{Reps: map[string]directory.Rep{
		"rep-7": {ID: "rep-7", HubSpotOwnerID: byID},
		"rep-8": {ID: "rep-8", Email: "sam@example.com"},
	}}
	d := hubspot.WebhookDeps(client, depsStore{dir}, depsStore{dir})
	ctx := t.Context()
	for owner, want := range map[string]string{byID: "rep-7", byEmail: "rep-8", stranger: ""} {
		rep, ok, err := d.RepForOwner(ctx, owner)
		if err != nil || rep != want || ok != (want != "") {
			t.Errorf("owner %s: rep %q ok %v err %v, want %q", owner, rep, ok, err, want)
		}
	}
	if o, err := d.ContactOwner(ctx, contact); err != nil || o != byID {
		t.Errorf("contact owner %q %v", o, err)
	}
	if cs, err := d.DealContacts(ctx, deal); err != nil || len(cs) != 1 || cs[0] != contact {
		t.Errorf("deal contacts %v %v", cs, err)
	}
	if _, ok, err := d.DealAmount(ctx, deal); err != nil || ok {
		t.Errorf("deal amount: ok %v err %v (the fake keeps no amount)", ok, err)
	}
	// Without a client only the Postgres lookup is there.
	if bare := hubspot.WebhookDeps(nil, depsStore{dir}, depsStore{dir}); bare.DealContacts != nil || bare.LeadForContact == nil {
		t.Error("without a client, deal lookups must be absent")
	}
}

// A rep with neither hubspot_owner_id nor email maps by name, but only when
// exactly one HubSpot owner has it: teams need not edit their directory.
func TestOwnersMatchByNameWhenUnambiguous(t *testing.T) {
	fake := hubspottest.New(t)
	priya := fake.AddOwner(hubspot.Owner{Email: "p.raman@example.com", FirstName: "Priya", LastName: "Raman"})
	fake.AddOwner(hubspot.Owner{Email: "alex1@example.com", FirstName: "Alex", LastName: "Moreau"})
	fake.AddOwner(hubspot.Owner{Email: "alex2@example.com", FirstName: "Alex", LastName: "Moreau"})
	client, err := hubspot.New(fake.URL, hubspottest.DefaultToken)
	if err != nil {
		t.Fatal(err)
	}
	dir := &directory.Directory{Reps: map[string]directory.Rep{
		"rep-9": {ID: "rep-9", Name: "Priya  Raman"},
		"mgr-2": {ID: "mgr-2", Name: "Alex Moreau"},
	}}
	owners := hubspot.NewOwners(depsStore{dir}, client, 0, nil)
	ctx := t.Context()
	if o, err := owners.OwnerOf(ctx, "rep-9"); err != nil || o != priya {
		t.Fatalf("rep-9 → %q %v, want %s", o, err, priya)
	}
	if rep, ok, err := owners.RepOf(ctx, priya); err != nil || !ok || rep != "rep-9" {
		t.Fatalf("%s → %q %v %v", priya, rep, ok, err)
	}
	if o, err := owners.OwnerOf(ctx, "mgr-2"); err == nil {
		t.Fatalf("two owners are named Alex Moreau: want an error, got %q", o)
	}
}
