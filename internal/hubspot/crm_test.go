package hubspot_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/crm"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/hubspot/hubspottest"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

var _ crm.CRM = (*hubspot.CRM)(nil)

// The directory the CRM tests route with: rep-1 maps by hubspot_owner_id,
// rep-2 and mgr-1 by email, rep-3 not at all, rep-4 to an owner HubSpot
// does not have.
const testDirectory = `
reps:
  - { id: rep-1, name: Dana, manager: mgr-1, timezone: America/New_York, hubspot_owner_id: 7001 }
  - { id: rep-2, name: Luis, manager: mgr-1, timezone: America/Chicago, email: luis@acme.io }
  - { id: rep-3, name: Nobody, manager: mgr-1, timezone: UTC }
  - { id: rep-4, name: Ghost, manager: mgr-1, timezone: UTC, hubspot_owner_id: 9999 }
  - { id: rep-5, name: Solo, timezone: UTC, email: solo@acme.io }
  - { id: mgr-1, name: Chris, timezone: America/New_York, email: Chris@Acme.io }
  - { id: q, name: Queue, timezone: UTC }
pools:
  p: { strategy: round_robin, members: [rep-1], fallback: q }
`

const (
	ownerDana  = "7001"
	ownerLuis  = "7002"
	ownerChris = "7003"
	ownerSolo  = "7004"
	ownerOther = "7005" // a HubSpot user leadflow does not know
)

type env struct {
	clk    *hubspottest.Clock
	fake   *hubspottest.Server
	store  *store.DB
	client *hubspot.Client
	crm    *hubspot.CRM
}

func newEnv(t *testing.T, clientOpts []hubspot.Option, crmOpts ...hubspot.CRMOption) *env {
	t.Helper()
	t.Parallel()
	e := &env{clk: hubspottest.NewClock(t0)}
	e.fake = hubspottest.New(t, hubspottest.WithClock(e.clk), hubspottest.WithIndexLag(5*time.Second))
	for id, email := range map[string]string{ownerDana: "dana@acme.io", ownerLuis: "luis@acme.io",
		ownerChris: "chris@acme.io", ownerSolo: "solo@acme.io", ownerOther: "other@acme.io"} {
		e.fake.AddOwner(hubspot.Owner{ID: id, Email: email})
	}
	e.store = storetest.Open(t)
	d, err := directory.Parse("test.yaml", []byte(testDirectory))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Directory().ImportDirectory(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	e.client = newClient(t, e.fake, e.clk, clientOpts...)
	e.crm = hubspot.NewCRM(e.client, e.store.HubSpot(), hubspot.NewOwners(e.store.Directory(), e.client, 0, e.clk), crmOpts...)
	return e
}

func wantType(t *testing.T, err error, typ string, nonRetryable bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", typ)
	}
	ae := appError(t, err)
	if ae.Type() != typ || ae.NonRetryable() != nonRetryable {
		t.Fatalf("error %v: type %s nonRetryable %v, want %s %v", err, ae.Type(), ae.NonRetryable(), typ, nonRetryable)
	}
}

// wantRetryable is an error a retry may fix: not a non-retryable
// application error.
func wantRetryable(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("no error, want a retryable one")
	}
	var ae interface{ NonRetryable() bool }
	if errors.As(err, &ae) && ae.NonRetryable() {
		t.Fatalf("error %v is non-retryable", err)
	}
}

func TestAssignOwner(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	c := e.fake.AddContact(map[string]string{"email": "ana@acme.io"})

	// By hubspot_owner_id, contact by hs-<id>.
	if err := e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "k1", LeadID: "hs-" + c, OwnerID: "rep-1"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.fake.Contact(c); got.Properties["hubspot_owner_id"] != ownerDana {
		t.Errorf("owner = %q, want %s", got.Properties["hubspot_owner_id"], ownerDana)
	}
	// By email (case-insensitive), the owners list fetched once and cached.
	for _, key := range []string{"k2", "k3"} {
		if err := e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: key, LeadID: "hs-" + c, OwnerID: "rep-2"}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := e.fake.Contact(c); got.Properties["hubspot_owner_id"] != ownerLuis {
		t.Errorf("owner = %q, want %s", got.Properties["hubspot_owner_id"], ownerLuis)
	}
	if n := e.fake.CountRequests("GET", "/crm/v3/owners"); n != 1 {
		t.Errorf("owners fetched %d times, want 1 (cached)", n)
	}

	// A rep with no mapping, or not in the directory: non-retryable, named.
	for _, rep := range []string{"rep-3", "rep-404"} {
		err := e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "k-" + rep, LeadID: "hs-" + c, OwnerID: rep})
		wantType(t, err, actions.ErrUnknownRep, true)
		if !strings.Contains(err.Error(), rep) || !errors.Is(err, store.ErrUnknownRep) {
			t.Errorf("error %v does not name %s or wrap ErrUnknownRep", err, rep)
		}
	}
	// A hubspot_owner_id HubSpot does not know: HubSpot's 400, non-retryable,
	// with HubSpot's message.
	err := e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "k4", LeadID: "hs-" + c, OwnerID: "rep-4"})
	wantType(t, err, hubspot.ErrRejected, true)
	if !strings.Contains(err.Error(), "9999 is not a valid owner id") || !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("error %v lacks HubSpot's message or ErrInvalidInput", err)
	}
	if got, _ := e.fake.Contact(c); got.Properties["hubspot_owner_id"] != ownerLuis {
		t.Errorf("a rejected write changed the owner to %q", got.Properties["hubspot_owner_id"])
	}
	wantType(t, e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "k5", LeadID: "hs-" + c}), actions.ErrInvalidInput, true)
}

func TestContactResolution(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	ana := e.fake.AddContact(map[string]string{"email": "ana@acme.io"})

	// By email, then remembered: no second search.
	for _, key := range []string{"k1", "k2"} {
		if err := e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: key, LeadID: "L-1", Email: "Ana@Acme.io", OwnerID: "rep-1"}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := e.fake.Contact(ana); got.Properties["hubspot_owner_id"] != ownerDana {
		t.Errorf("contact by email not updated: %+v", got.Properties)
	}
	if id, ok, _ := e.store.HubSpot().HubSpotContact(ctx, "L-1"); !ok || id != ana {
		t.Errorf("mapping = %q, %v", id, ok)
	}
	if n := e.fake.CountRequests("POST", "/crm/v3/objects/contacts/search"); n != 1 {
		t.Errorf("searches = %d, want 1", n)
	}

	// No contact with the email: one is created.
	if err := e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "k3", LeadID: "L-2", Email: "bo@acme.io", OwnerID: "rep-1"}); err != nil {
		t.Fatal(err)
	}
	bo, ok, _ := e.store.HubSpot().HubSpotContact(ctx, "L-2")
	if got, _ := e.fake.Contact(bo); !ok || got.Properties["email"] != "bo@acme.io" || got.Properties["hubspot_owner_id"] != ownerDana {
		t.Errorf("created contact %s = %+v", bo, got.Properties)
	}

	// A contact created moments ago is not in the search index yet: the
	// create's 409 names it, and no duplicate is made.
	cy, _, err := e.client.CreateContact(ctx, map[string]string{"email": "cy@acme.io"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "k4", LeadID: "L-3", Email: "cy@acme.io", OwnerID: "rep-1"}); err != nil {
		t.Fatal(err)
	}
	if id, _, _ := e.store.HubSpot().HubSpotContact(ctx, "L-3"); id != cy {
		t.Errorf("L-3 = %q, want %s", id, cy)
	}
	if n := len(e.fake.Contacts()); n != 3 {
		t.Errorf("contacts = %d, want 3", n)
	}

	// No email, no mapping, not hs-<id>: non-retryable.
	err = e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "k5", LeadID: "L-4", OwnerID: "rep-1"})
	wantType(t, err, actions.ErrInvalidInput, true)
	if !errors.Is(err, store.ErrInvalidInput) || !strings.Contains(err.Error(), "L-4") {
		t.Errorf("error %v", err)
	}
	// hs- with something that is not a contact ID is an ordinary lead ID.
	wantType(t, e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "k6", LeadID: "hs-abc", OwnerID: "rep-1"}), actions.ErrInvalidInput, true)
	// hs-<id> of a contact HubSpot does not have: HubSpot's 404, non-retryable.
	wantType(t, e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "k7", LeadID: "hs-424242", OwnerID: "rep-1"}), hubspot.ErrRejected, true)
}

func TestContactCreationOff(t *testing.T) {
	e := newEnv(t, nil, hubspot.WithoutContactCreation())
	err := e.crm.AssignOwner(t.Context(), actions.AssignOwnerInput{Key: "k", LeadID: "L-1", Email: "new@acme.io", OwnerID: "rep-1"})
	wantType(t, err, actions.ErrInvalidInput, true)
	if strings.Contains(err.Error(), "new@acme.io") {
		t.Errorf("error carries the email: %v", err)
	}
	if n := len(e.fake.Contacts()); n != 0 {
		t.Errorf("contacts = %d", n)
	}
}

func TestSetLifecycleStageMapping(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	c := e.fake.AddContact(map[string]string{"email": "ana@acme.io"})
	leadID := "hs-" + c
	steps := []struct {
		stage             lead.Stage
		lifecycle, status string
	}{
		{lead.StageLead, "lead", "NEW"},
		{lead.StageMQL, "marketingqualifiedlead", "OPEN"},
		{lead.StageHandoff, "marketingqualifiedlead", "IN_PROGRESS"},
		{lead.StageSAL, "salesqualifiedlead", "CONNECTED"},
		{lead.StageOpportunity, "opportunity", "CONNECTED"}, // status unchanged
		{lead.StageCustomer, "customer", "CONNECTED"},
		{lead.StageMerged, "customer", "CONNECTED"}, // no change at all
	}
	for i, s := range steps {
		if err := e.crm.SetLifecycleStage(ctx, actions.StageInput{Key: "s" + string(rune('0'+i)), LeadID: leadID, Stage: s.stage}); err != nil {
			t.Fatalf("%s: %v", s.stage, err)
		}
		got, _ := e.fake.Contact(c)
		if got.Properties["lifecyclestage"] != s.lifecycle || got.Properties["hs_lead_status"] != s.status {
			t.Errorf("after %s: lifecyclestage %q hs_lead_status %q, want %q %q", s.stage,
				got.Properties["lifecyclestage"], got.Properties["hs_lead_status"], s.lifecycle, s.status)
		}
	}
	// Only forward moves: never a clear.
	for _, v := range e.fake.PropertyHistory(c, "lifecyclestage") {
		if v == "" {
			t.Errorf("lifecyclestage cleared on a forward path: %q", e.fake.PropertyHistory(c, "lifecyclestage"))
		}
	}
	wantType(t, e.crm.SetLifecycleStage(ctx, actions.StageInput{Key: "x", LeadID: leadID, Stage: "limbo"}), actions.ErrInvalidInput, true)

	// disqualified: other/UNQUALIFIED ("other" is last in HubSpot's order).
	d := e.fake.AddContact(map[string]string{"lifecyclestage": "salesqualifiedlead"})
	if err := e.crm.SetLifecycleStage(ctx, actions.StageInput{Key: "d", LeadID: "hs-" + d, Stage: lead.StageDisqualified}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.fake.Contact(d); got.Properties["lifecyclestage"] != "other" || got.Properties["hs_lead_status"] != "UNQUALIFIED" {
		t.Errorf("disqualified = %+v", got.Properties)
	}
}

// HubSpot ignores a backwards lifecyclestage; the CRM clears it first.
func TestSetLifecycleStageBackwardsClearsFirst(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	c := e.fake.AddContact(map[string]string{"lifecyclestage": "salesqualifiedlead", "hs_lead_status": "CONNECTED"})

	// What HubSpot does with a plain write: nothing.
	if err := e.client.UpdateContact(ctx, c, map[string]string{"lifecyclestage": "lead"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.fake.Contact(c); got.Properties["lifecyclestage"] != "salesqualifiedlead" {
		t.Fatalf("the fake moved lifecyclestage backwards: %+v", got.Properties)
	}

	if err := e.crm.SetLifecycleStage(ctx, actions.StageInput{Key: "r", LeadID: "hs-" + c, Stage: lead.StageRecycle}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.fake.Contact(c)
	if got.Properties["lifecyclestage"] != "lead" || got.Properties["hs_lead_status"] != "BAD_TIMING" {
		t.Errorf("after recycle: %+v", got.Properties)
	}
	hist := e.fake.PropertyHistory(c, "lifecyclestage")
	if want := []string{"lead", "", "lead"}; strings.Join(hist, ",") != strings.Join(want, ",") {
		t.Errorf("lifecyclestage writes = %q, want %q (plain write, clear, write)", hist, want)
	}
	// And the recycled lead moves forward again without a clear.
	if err := e.crm.SetLifecycleStage(ctx, actions.StageInput{Key: "m", LeadID: "hs-" + c, Stage: lead.StageMQL}); err != nil {
		t.Fatal(err)
	}
	if hist := e.fake.PropertyHistory(c, "lifecyclestage"); len(hist) != 4 || hist[3] != "marketingqualifiedlead" {
		t.Errorf("lifecyclestage writes = %q", hist)
	}
}

func handoffInput(key, leadID string) actions.TaskInput {
	return actions.TaskInput{
		Key: key, LeadID: leadID, OwnerID: "rep-1", Kind: actions.TaskHandoff,
		Title: "New quote request: Acme", DueAt: t0.Add(2 * time.Hour),
		Context: &actions.HandoffContext{
			WhyNow:  "Requested a quote after 3 pricing visits",
			Trigger: "form.submit quote_request",
			Score: lead.ScoreView{Total: 65, Fit: 20, Intent: 45, Breakdown: []lead.ScoreItem{
				{Rule: "quote_request", Points: 40, EventID: "evt-81f2"}, {Rule: "pricing_visits", Points: 5}}},
			Timeline: []lead.TimelineItem{
				{At: t0.Add(-time.Hour), EventID: "evt-1", Type: "web.page_view", Summary: "pricing <b>page</b>"},
				{At: t0, EventID: "evt-81f2", Type: "form.submit", Summary: "quote_request"}},
			Campaign:      map[string]string{"utm_campaign": "q4-pricing", "utm_source": "google"},
			Segment:       "mid-market",
			PolicyVersion: "2026-11-22.1",
		},
	}
}

func TestCreateTaskMapping(t *testing.T) {
	e := newEnv(t, nil)
	c := e.fake.AddContact(map[string]string{"email": "ana@acme.io"})
	ref, err := e.crm.CreateTask(t.Context(), handoffInput("lead/hs-"+c+":handoff:1", "hs-"+c))
	if err != nil {
		t.Fatal(err)
	}
	tasks := e.fake.Tasks()
	if len(tasks) != 1 || tasks[0].ID != ref.TaskID {
		t.Fatalf("tasks = %+v, ref %+v", tasks, ref)
	}
	p := tasks[0].Properties
	for prop, want := range map[string]string{
		"hs_task_subject":  "New quote request: Acme",
		"hs_timestamp":     hubspot.Millis(t0.Add(2 * time.Hour)),
		"hs_task_status":   "NOT_STARTED",
		"hs_task_priority": "HIGH",
		"hs_task_type":     "TODO",
		"hubspot_owner_id": ownerDana,
	} {
		if p[prop] != want {
			t.Errorf("%s = %q, want %q", prop, p[prop], want)
		}
	}
	body := p["hs_task_body"]
	for _, want := range []string{
		"<strong>Why now</strong><br>Requested a quote after 3 pricing visits",
		"<strong>Score</strong><br>65 (fit 20, intent 45)<br>+40 quote_request (event evt-81f2)<br>+5 pricing_visits",
		"<strong>Timeline</strong><br>2026-11-23 14:00 UTC — web.page_view — pricing &lt;b&gt;page&lt;/b&gt;<br>2026-11-23 15:00 UTC — form.submit — quote_request",
		"<strong>Campaign</strong><br>utm_campaign: q4-pricing<br>utm_source: google",
		"segment mid-market · policy 2026-11-22.1",
		"leadflow-key: lead/hs-" + c + ":handoff:1 · " + hubspot.KeyToken("lead/hs-"+c+":handoff:1"),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if a := tasks[0].Associations; len(a) != 1 || a[0] != (hubspottest.Association{ToType: "contacts", ToID: c, TypeID: hubspot.AssocTaskToContact}) {
		t.Errorf("associations = %+v", a)
	}
	// A non-handoff task is MEDIUM; an unknown owner is non-retryable.
	in := handoffInput("k-upsell", "hs-"+c)
	in.Kind, in.Context = actions.TaskUpsell, nil
	if _, err := e.crm.CreateTask(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if p := e.fake.Tasks()[1].Properties; p["hs_task_priority"] != "MEDIUM" {
		t.Errorf("upsell priority = %q", p["hs_task_priority"])
	}
	in.Key, in.OwnerID = "k-x", "rep-3"
	_, err = e.crm.CreateTask(t.Context(), in)
	wantType(t, err, actions.ErrUnknownRep, true)
}

func TestPostNoteAndNotify(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	c := e.fake.AddContact(nil)
	if err := e.crm.PostNote(ctx, actions.NoteInput{Key: "n1", LeadID: "hs-" + c, Body: "Reassigned from rep-1 to rep-2:\nrep-1 is away"}); err != nil {
		t.Fatal(err)
	}
	notes := e.fake.Notes()
	if len(notes) != 1 || notes[0].Associations[0].TypeID != hubspot.AssocNoteToContact || notes[0].Properties["hs_timestamp"] != hubspot.Millis(t0) {
		t.Fatalf("notes = %+v", notes)
	}
	if b := notes[0].Properties["hs_note_body"]; !strings.Contains(b, "<p>Reassigned from rep-1 to rep-2:<br>rep-1 is away</p>") || !strings.Contains(b, "leadflow-key: n1") {
		t.Errorf("note body = %s", b)
	}

	for _, n := range []struct {
		in       actions.NotifyInput
		owner    string
		subject  string
		priority string
	}{
		{actions.NotifyInput{Key: "e1", LeadID: "hs-" + c, To: "mgr-1", Kind: "escalate", OwnerID: "rep-1",
			Body: "SLA breached: first touch of lead hs-" + c + " by rep-1 was due at 2026-11-23T17:00:00Z"},
			ownerChris, "SLA escalation: first touch of lead hs-" + c + " by rep-1 was due at 2026-11-23T17:00:00Z", "HIGH"},
		{actions.NotifyInput{Key: "r1", LeadID: "hs-" + c, To: "rep-2", Kind: "remind", OwnerID: "rep-2",
			Body: "Reminder: first touch SLA for lead hs-" + c + " is due at 2026-11-23T17:00:00Z"},
			ownerLuis, "Reminder: first touch SLA for lead hs-" + c + " is due at 2026-11-23T17:00:00Z", "MEDIUM"},
		{actions.NotifyInput{Key: "s1", LeadID: "hs-" + c, To: "rep-2", Kind: "sal_stale", Body: ""},
			ownerLuis, "Stale SAL: lead hs-" + c, "MEDIUM"},
	} {
		if err := e.crm.Notify(ctx, n.in); err != nil {
			t.Fatal(err)
		}
		tasks := e.fake.Tasks()
		p := tasks[len(tasks)-1].Properties
		if p["hubspot_owner_id"] != n.owner || p["hs_task_subject"] != n.subject || p["hs_task_priority"] != n.priority || p["hs_timestamp"] != hubspot.Millis(t0) {
			t.Errorf("%s task = %+v", n.in.Kind, p)
		}
	}
	wantType(t, e.crm.Notify(ctx, actions.NotifyInput{Key: "x", LeadID: "hs-" + c, To: "rep-3", Kind: "remind"}), actions.ErrUnknownRep, true)

	// A handoff, reassignment, enrichment or re-engagement already reaches
	// HubSpot as the lead's task or note: no second task.
	before := len(e.fake.Tasks())
	for _, kind := range []string{actions.NotifyHandoff, actions.NotifyReassigned, actions.NotifyEnrichment, actions.NotifyReengaged} {
		if err := e.crm.Notify(ctx, actions.NotifyInput{Key: "k-" + kind, LeadID: "hs-" + c, To: "rep-2", Kind: kind, Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.fake.Tasks()); n != before {
		t.Fatalf("%d tasks for notifications the lead's task already carries", n-before)
	}
}

func TestRaiseAlert(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	// Owned by rep-1, whose manager mgr-1 is owner Chris: a task for Chris.
	owned := e.fake.AddContact(map[string]string{"hubspot_owner_id": ownerDana})
	if err := e.crm.RaiseAlert(ctx, actions.AlertInput{Key: "a1", LeadID: "hs-" + owned, Kind: "routing_failed", Message: "no owner found"}); err != nil {
		t.Fatal(err)
	}
	tasks := e.fake.Tasks()
	if len(tasks) != 1 || tasks[0].Properties["hs_task_subject"] != "leadflow alert: routing_failed" ||
		tasks[0].Properties["hubspot_owner_id"] != ownerChris || tasks[0].Properties["hs_task_priority"] != "HIGH" ||
		!strings.Contains(tasks[0].Properties["hs_task_body"], "no owner found") {
		t.Fatalf("alert task = %+v", tasks)
	}
	// No owner, an owner leadflow does not know, a rep without a manager:
	// a note on the contact.
	for i, props := range []map[string]string{nil, {"hubspot_owner_id": ownerOther}, {"hubspot_owner_id": ownerSolo}} {
		c := e.fake.AddContact(props)
		if err := e.crm.RaiseAlert(ctx, actions.AlertInput{Key: "b" + string(rune('0'+i)), LeadID: "hs-" + c, Kind: "play_missing", Message: "no play x"}); err != nil {
			t.Fatal(err)
		}
	}
	notes := e.fake.Notes()
	if len(notes) != 3 || len(e.fake.Tasks()) != 1 {
		t.Fatalf("notes = %d, tasks = %d; want 3 notes and still 1 task", len(notes), len(e.fake.Tasks()))
	}
	if b := notes[0].Properties["hs_note_body"]; !strings.Contains(b, "<strong>leadflow alert: play_missing</strong>") || !strings.Contains(b, "no play x") {
		t.Errorf("alert note = %s", b)
	}
}

func TestSameKeyTwiceIsOneTask(t *testing.T) {
	e := newEnv(t, nil)
	c := e.fake.AddContact(nil)
	in := handoffInput("lead/x:handoff:1", "hs-"+c)
	first, err := e.crm.CreateTask(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.crm.CreateTask(t.Context(), in)
	if err != nil || second != first {
		t.Fatalf("second call = %+v, %v; want %+v", second, err, first)
	}
	if n := len(e.fake.Tasks()); n != 1 {
		t.Errorf("tasks = %d, want 1", n)
	}
	if n := e.fake.CountRequests("POST", "/crm/v3/objects/tasks"); n != 1 {
		t.Errorf("task requests = %d, want 1 (the retry after success asks only Postgres)", n)
	}
	// Notes too.
	for range 2 {
		if err := e.crm.PostNote(t.Context(), actions.NoteInput{Key: "n", LeadID: "hs-" + c, Body: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.fake.Notes()); n != 1 {
		t.Errorf("notes = %d, want 1", n)
	}
}

// The create happened, the answer was lost: retries find the task once
// HubSpot's search shows it, and never make a second one.
func TestCrashAfterCreateIsStillOneTask(t *testing.T) {
	for _, kind := range []hubspottest.FaultKind{hubspottest.CrashAfterWrite, hubspottest.BadGatewayAfterWrite} {
		t.Run(map[hubspottest.FaultKind]string{hubspottest.CrashAfterWrite: "dropped", hubspottest.BadGatewayAfterWrite: "502"}[kind], func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := t.Context()
			c := e.fake.AddContact(nil)
			in := handoffInput("lead/x:handoff:1", "hs-"+c)
			e.fake.Inject(hubspottest.Fault{Kind: kind, Method: "POST", Path: "/crm/v3/objects/tasks"})

			_, err := e.crm.CreateTask(ctx, in)
			wantRetryable(t, err)
			tasks := e.fake.Tasks()
			if len(tasks) != 1 {
				t.Fatalf("tasks after the crash = %d, want 1", len(tasks))
			}
			// Right away the index does not show it: wait, do not create.
			_, err = e.crm.CreateTask(ctx, in)
			wantType(t, err, hubspot.ErrUnconfirmedCreate, false)
			if d := appError(t, err).NextRetryDelay(); d != hubspot.DefaultIndexLag {
				t.Errorf("next retry in %v, want %v", d, hubspot.DefaultIndexLag)
			}
			e.clk.Advance(10 * time.Second)
			// Visible now (lag 5 s): found, recorded, returned.
			ref, err := e.crm.CreateTask(ctx, in)
			if err != nil || ref.TaskID != tasks[0].ID {
				t.Fatalf("retry = %+v, %v; want the crashed create's %s", ref, err, tasks[0].ID)
			}
			e.clk.Advance(time.Minute)
			if ref, err := e.crm.CreateTask(ctx, in); err != nil || ref.TaskID != tasks[0].ID {
				t.Fatalf("later retry = %+v, %v", ref, err)
			}
			if n := len(e.fake.Tasks()); n != 1 {
				t.Errorf("tasks = %d, want exactly 1", n)
			}
		})
	}
}

// The search index is slower than usual: the create stays unconfirmed for
// the whole window; after it the task is found.
func TestUnconfirmedWaitsOutTheWindow(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	e.fake.SetIndexLag(25 * time.Second)
	c := e.fake.AddContact(nil)
	e.fake.Inject(hubspottest.Fault{Kind: hubspottest.CrashAfterWrite, Method: "POST", Path: "/crm/v3/objects/notes"})
	in := actions.NoteInput{Key: "n1", LeadID: "hs-" + c, Body: "hello"}
	wantRetryable(t, e.crm.PostNote(ctx, in))
	for _, step := range []time.Duration{10 * time.Second, 10 * time.Second} {
		e.clk.Advance(step)
		err := e.crm.PostNote(ctx, in)
		wantType(t, err, hubspot.ErrUnconfirmedCreate, false)
	}
	e.clk.Advance(10 * time.Second) // +30 s: the window is over and the index shows it
	if err := e.crm.PostNote(ctx, in); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Notes()); n != 1 {
		t.Errorf("notes = %d, want 1", n)
	}
}

// A 500 on create: HubSpot may or may not have created it. Here it did
// not: after the window the retry creates it, once.
func TestServerErrorOnCreateThenRetry(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	c := e.fake.AddContact(nil)
	in := handoffInput("k", "hs-"+c)
	e.fake.Inject(hubspottest.Fault{Kind: hubspottest.ServerError, Method: "POST", Path: "/crm/v3/objects/tasks"})
	_, err := e.crm.CreateTask(ctx, in)
	wantRetryable(t, err)
	if !hubspot.IsRetryable(err) {
		t.Errorf("500 not retryable: %v", err)
	}
	_, err = e.crm.CreateTask(ctx, in)
	wantType(t, err, hubspot.ErrUnconfirmedCreate, false)
	e.clk.Advance(hubspot.DefaultIndexLag + time.Second)
	ref, err := e.crm.CreateTask(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if tasks := e.fake.Tasks(); len(tasks) != 1 || tasks[0].ID != ref.TaskID {
		t.Errorf("tasks = %+v", tasks)
	}
}

// A slow HubSpot: the client times out although the task was created; the
// retry finds it.
func TestTimeoutOnCreateThenRetry(t *testing.T) {
	e := newEnv(t, []hubspot.Option{hubspot.WithTimeout(300 * time.Millisecond)})
	ctx := t.Context()
	c := e.fake.AddContact(nil)
	in := handoffInput("k", "hs-"+c)
	e.fake.Inject(hubspottest.Fault{Kind: hubspottest.Slow, Delay: time.Minute, Method: "POST", Path: "/crm/v3/objects/tasks"})
	_, err := e.crm.CreateTask(ctx, in)
	wantRetryable(t, err)
	var te *hubspot.TransportError
	if !errors.As(err, &te) || !hubspot.IsRetryable(err) {
		t.Fatalf("timeout = %v (%T)", err, err)
	}
	e.clk.Advance(hubspot.DefaultIndexLag)
	ref, err := e.crm.CreateTask(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if tasks := e.fake.Tasks(); len(tasks) != 1 || tasks[0].ID != ref.TaskID {
		t.Errorf("tasks = %+v", tasks)
	}
	// A slow property update: retryable too.
	e.fake.Inject(hubspottest.Fault{Kind: hubspottest.Slow, Delay: time.Minute, Method: "PATCH"})
	wantRetryable(t, e.crm.AssignOwner(ctx, actions.AssignOwnerInput{Key: "o", LeadID: "hs-" + c, OwnerID: "rep-1"}))
}

// 429 on create: the activity's next retry waits as Retry-After says, and
// since HubSpot created nothing the retry creates at once.
func TestRateLimitedCreate(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	c := e.fake.AddContact(nil)
	in := handoffInput("k", "hs-"+c)
	e.fake.Inject(hubspottest.Fault{Kind: hubspottest.RateLimit, RetryAfter: 7 * time.Second, Method: "POST", Path: "/crm/v3/objects/tasks"})
	_, err := e.crm.CreateTask(ctx, in)
	wantType(t, err, hubspot.ErrRateLimited, false)
	if d := appError(t, err).NextRetryDelay(); d != 7*time.Second {
		t.Errorf("NextRetryDelay = %v, want 7s (Retry-After)", d)
	}
	ref, err := e.crm.CreateTask(ctx, in) // no index wait: nothing was created
	if err != nil {
		t.Fatal(err)
	}
	if tasks := e.fake.Tasks(); len(tasks) != 1 || tasks[0].ID != ref.TaskID {
		t.Errorf("tasks = %+v", tasks)
	}
	// Property updates too.
	e.fake.Inject(hubspottest.Fault{Kind: hubspottest.RateLimit, RetryAfter: 2 * time.Second, Method: "PATCH"})
	err = e.crm.SetLifecycleStage(ctx, actions.StageInput{Key: "s", LeadID: "hs-" + c, Stage: lead.StageMQL})
	wantType(t, err, hubspot.ErrRateLimited, false)
	if d := appError(t, err).NextRetryDelay(); d != 2*time.Second {
		t.Errorf("NextRetryDelay = %v, want 2s", d)
	}
}

// A 400 on create is not retried, carries HubSpot's message, and leaves
// nothing that would hold a later attempt back.
func TestRejectedCreate(t *testing.T) {
	e := newEnv(t, nil)
	c := e.fake.AddContact(nil)
	in := handoffInput("k", "hs-"+c)
	in.OwnerID = "rep-4" // owner 9999: not in HubSpot
	_, err := e.crm.CreateTask(t.Context(), in)
	wantType(t, err, hubspot.ErrRejected, true)
	if !strings.Contains(err.Error(), "9999 is not a valid owner id") {
		t.Errorf("error lacks HubSpot's message: %v", err)
	}
	in.OwnerID = "rep-1" // fixed (say, a directory edit) and run again
	if _, err := e.crm.CreateTask(t.Context(), in); err != nil {
		t.Fatalf("after the fix: %v", err)
	}
	if n := len(e.fake.Tasks()); n != 1 {
		t.Errorf("tasks = %d", n)
	}
}

func TestConcurrentAttemptsMakeOneTask(t *testing.T) {
	e := newEnv(t, nil)
	c := e.fake.AddContact(nil)
	in := handoffInput("k", "hs-"+c)
	var wg sync.WaitGroup
	refs := make([]actions.TaskRef, 6)
	errs := make([]error, 6)
	for i := range refs {
		wg.Go(func() { refs[i], errs[i] = e.crm.CreateTask(t.Context(), in) })
	}
	wg.Wait()
	var id string
	for i, err := range errs {
		if err != nil {
			wantType(t, err, hubspot.ErrUnconfirmedCreate, false)
			continue
		}
		if id != "" && refs[i].TaskID != id {
			t.Errorf("two IDs: %s and %s", id, refs[i].TaskID)
		}
		id = refs[i].TaskID
	}
	if n := len(e.fake.Tasks()); n != 1 {
		t.Fatalf("tasks = %d, want 1", n)
	}
	e.clk.Advance(hubspot.DefaultIndexLag)
	if ref, err := e.crm.CreateTask(t.Context(), in); err != nil || ref.TaskID != e.fake.Tasks()[0].ID {
		t.Errorf("after the window: %+v, %v", ref, err)
	}
}

// With WithKeyProperty the token lives in a custom property searched by EQ.
func TestKeyProperty(t *testing.T) {
	e := newEnv(t, nil, hubspot.WithKeyProperty("leadflow_key"))
	e.fake.DefineProperty(hubspot.Tasks, "leadflow_key")
	e.fake.DefineProperty(hubspot.Notes, "leadflow_key")
	c := e.fake.AddContact(nil)
	in := handoffInput("lead/x:handoff:1", "hs-"+c)
	e.fake.Inject(hubspottest.Fault{Kind: hubspottest.CrashAfterWrite, Method: "POST", Path: "/crm/v3/objects/tasks"})
	_, err := e.crm.CreateTask(t.Context(), in)
	wantRetryable(t, err)
	e.clk.Advance(hubspot.DefaultIndexLag)
	ref, err := e.crm.CreateTask(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	tasks := e.fake.Tasks()
	if len(tasks) != 1 || tasks[0].ID != ref.TaskID || tasks[0].Properties["leadflow_key"] != hubspot.KeyToken(in.Key) {
		t.Errorf("tasks = %+v", tasks)
	}
}

func TestUnauthorizedCRM(t *testing.T) {
	t.Parallel()
	clk := hubspottest.NewClock(t0)
	fake := hubspottest.New(t, hubspottest.WithClock(clk))
	c := fake.AddContact(nil)
	client, err := hubspot.New(fake.URL, "revoked", hubspot.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.Open(t)
	m := hubspot.NewCRM(client, s.HubSpot(), hubspot.NewOwners(s.Directory(), client, 0, clk))
	err = m.SetLifecycleStage(t.Context(), actions.StageInput{Key: "k", LeadID: "hs-" + c, Stage: lead.StageMQL})
	wantType(t, err, hubspot.ErrUnauthorized, true)
	if !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("401 does not wrap ErrInvalidInput: %v", err)
	}
}

// The weekly governance report notifies a manager with a task of its own:
// no contact exists for it.
func TestWeeklyReportNotifyHasNoContact(t *testing.T) {
	e := newEnv(t, nil)
	in := actions.NotifyInput{Key: "weekly-report:2026-11-16:mgr-1", LeadID: "weekly-report-2026-11-16", To: "mgr-1",
		Kind: hubspot.WeeklyReportKind, Body: "Last week: 12 handed off, 9 accepted."}
	for range 2 {
		if err := e.crm.Notify(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	tasks := e.fake.Tasks()
	if len(tasks) != 1 || len(tasks[0].Associations) != 0 || tasks[0].Properties["hubspot_owner_id"] != ownerChris {
		t.Fatalf("tasks: %+v", tasks)
	}
	if len(e.fake.Contacts()) != 0 {
		t.Fatalf("a contact was created for the report: %+v", e.fake.Contacts())
	}
}
