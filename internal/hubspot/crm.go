package hubspot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/crm"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
)

// Ledger is the Postgres bookkeeping the CRM needs (store.HubSpot).
type Ledger interface {
	BeginHubSpotObject(ctx context.Context, key, kind string, now time.Time) (store.HubSpotObject, bool, error)
	ClaimHubSpotObject(ctx context.Context, key, kind string, staleBefore, now time.Time) (int, bool, error)
	ReleaseHubSpotObject(ctx context.Context, key string, attempt int) error
	RecordHubSpotObject(ctx context.Context, key, objectID string, now time.Time) (string, error)
	HubSpotObjectByKey(ctx context.Context, key string) (store.HubSpotObject, bool, error)
	RecordHubSpotOwnerWrite(ctx context.Context, contactID, ownerID string, at time.Time) error
	HubSpotContact(ctx context.Context, leadID string) (string, bool, error)
	RememberHubSpotContact(ctx context.Context, leadID, contactID string) error
}

var _ Ledger = store.HubSpot{}

// Object kinds in the ledger.
const (
	KindTask = "task"
	KindNote = "note"
)

// DefaultIndexLag is how long after a create attempt started the CRM trusts
// HubSpot's search to show the object if it was created: the request
// timeout (DefaultTimeout, 10 s) plus the search index's lag (documented as
// "a few seconds"), with room to spare.
const DefaultIndexLag = 30 * time.Second

// StageMapping is what a leadflow stage sets on the HubSpot contact; ""
// leaves a property as it is.
type StageMapping struct {
	Lifecycle  string // lifecyclestage internal value
	LeadStatus string // hs_lead_status internal value
}

// DefaultStages is the stage mapping (see the package doc's table).
var DefaultStages = map[lead.Stage]StageMapping{
	lead.StageLead:         {Lifecycle: "lead", LeadStatus: "NEW"},
	lead.StageMQL:          {Lifecycle: "marketingqualifiedlead", LeadStatus: "OPEN"},
	lead.StageHandoff:      {Lifecycle: "marketingqualifiedlead", LeadStatus: "IN_PROGRESS"},
	lead.StageSAL:          {Lifecycle: "salesqualifiedlead", LeadStatus: "CONNECTED"},
	lead.StageOpportunity:  {Lifecycle: "opportunity"},
	lead.StageCustomer:     {Lifecycle: "customer"},
	lead.StageRecycle:      {Lifecycle: "lead", LeadStatus: "BAD_TIMING"},
	lead.StageDisqualified: {Lifecycle: "other", LeadStatus: "UNQUALIFIED"},
	lead.StageMerged:       {},
}

// DefaultLifecycleOrder is HubSpot's default lifecycle stage order; "other"
// is last. Setting a stage earlier than the current one is silently ignored
// by HubSpot unless the property is cleared first.
var DefaultLifecycleOrder = []string{"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
	"opportunity", "customer", "evangelist", "other"}

// CRM is crm.CRM on HubSpot. Safe for concurrent use.
type CRM struct {
	client         *Client
	ledger         Ledger
	owners         OwnerResolver
	clock          Clock
	indexLag       time.Duration
	stages         map[lead.Stage]StageMapping
	order          map[string]int
	createContacts bool
	keyProperty    string
}

var _ crm.CRM = (*CRM)(nil)

// CRMOption configures a CRM.
type CRMOption func(*CRM)

// WithIndexLag sets how long an unconfirmed create waits for HubSpot's
// search index before it is tried again (default DefaultIndexLag). It must
// exceed the client's request timeout plus the index lag.
func WithIndexLag(d time.Duration) CRMOption { return func(c *CRM) { c.indexLag = d } }

// WithCRMClock sets the CRM's clock (default: the client's).
func WithCRMClock(clk Clock) CRMOption { return func(c *CRM) { c.clock = clk } }

// WithStages replaces entries of the stage mapping (a portal with its own
// lead statuses or lifecycle stages).
func WithStages(m map[lead.Stage]StageMapping) CRMOption {
	return func(c *CRM) {
		for k, v := range m {
			c.stages[k] = v
		}
	}
}

// WithLifecycleOrder sets the portal's lifecycle stage order (internal
// values, first to last), for portals with custom stages.
func WithLifecycleOrder(order []string) CRMOption {
	return func(c *CRM) {
		c.order = map[string]int{}
		for i, s := range order {
			c.order[s] = i
		}
	}
}

// WithoutContactCreation makes a lead whose email matches no HubSpot
// contact an error instead of a new contact.
func WithoutContactCreation() CRMOption { return func(c *CRM) { c.createContacts = false } }

// WithKeyProperty stores the idempotency token in a custom single-line
// text property of tasks and notes (which must exist on both, e.g.
// leadflow_key) and searches it with EQ, instead of the marker line in the
// body searched with CONTAINS_TOKEN.
func WithKeyProperty(name string) CRMOption { return func(c *CRM) { c.keyProperty = name } }

// NewCRM returns the HubSpot CRM adapter.
func NewCRM(client *Client, ledger Ledger, owners OwnerResolver, opts ...CRMOption) *CRM {
	c := &CRM{client: client, ledger: ledger, owners: owners, clock: client.clock,
		indexLag: DefaultIndexLag, stages: map[lead.Stage]StageMapping{}, createContacts: true}
	for k, v := range DefaultStages {
		c.stages[k] = v
	}
	WithLifecycleOrder(DefaultLifecycleOrder)(c)
	for _, o := range opts {
		o(c)
	}
	return c
}

// AssignOwner sets the contact's hubspot_owner_id to the rep's owner.
func (c *CRM) AssignOwner(ctx context.Context, in actions.AssignOwnerInput) error {
	if in.OwnerID == "" {
		return invalid(actions.ErrInvalidInput, store.ErrInvalidInput, "assign owner of lead %s: empty owner", in.LeadID)
	}
	owner, err := c.owners.OwnerOf(ctx, in.OwnerID)
	if err != nil {
		return unknownRep("assign owner of lead "+in.LeadID, err)
	}
	contact, err := c.contact(ctx, in.LeadID, in.Email)
	if err != nil {
		return err
	}
	// Recorded before the write, so that its webhook echo is recognised
	// even when the answer is lost (see the package doc, Owner changes).
	if err := c.ledger.RecordHubSpotOwnerWrite(ctx, contact, owner, c.clock.Now()); err != nil {
		return err
	}
	return ActivityError("set owner of HubSpot contact "+contact,
		c.client.UpdateContact(ctx, contact, map[string]string{"hubspot_owner_id": owner}))
}

// SetLifecycleStage sets lifecyclestage and hs_lead_status as the stage
// mapping says, clearing lifecyclestage first when the new stage is earlier
// than the contact's (HubSpot would silently keep the later one).
func (c *CRM) SetLifecycleStage(ctx context.Context, in actions.StageInput) error {
	m, ok := c.stages[in.Stage]
	if !ok {
		return invalid(actions.ErrInvalidInput, store.ErrInvalidInput, "set lifecycle stage of lead %s: unknown stage %q", in.LeadID, in.Stage)
	}
	if m.Lifecycle == "" && m.LeadStatus == "" {
		return nil
	}
	contact, err := c.contact(ctx, in.LeadID, in.Email)
	if err != nil {
		return err
	}
	op := "set lifecycle stage of HubSpot contact " + contact
	props := map[string]string{}
	if m.Lifecycle != "" {
		cur, err := c.client.GetContact(ctx, contact, "lifecyclestage")
		if err != nil {
			return ActivityError(op, err)
		}
		if now := cur.Properties["lifecyclestage"]; now != "" && now != m.Lifecycle && !c.forward(now, m.Lifecycle) {
			if err := c.client.UpdateContact(ctx, contact, map[string]string{"lifecyclestage": ""}); err != nil {
				return ActivityError("clear lifecycle stage of HubSpot contact "+contact, err)
			}
		}
		props["lifecyclestage"] = m.Lifecycle
	}
	if m.LeadStatus != "" {
		props["hs_lead_status"] = m.LeadStatus
	}
	return ActivityError(op, c.client.UpdateContact(ctx, contact, props))
}

// forward reports whether moving from lifecycle stage cur to next is
// forward; a stage the order does not know counts as not forward (clearing
// first is always safe).
func (c *CRM) forward(cur, next string) bool {
	i, ok1 := c.order[cur]
	j, ok2 := c.order[next]
	return ok1 && ok2 && j >= i
}

// CreateTask creates the task for the rep's owner, associated with the
// contact, exactly once per key. The TaskRef is HubSpot's task ID.
func (c *CRM) CreateTask(ctx context.Context, in actions.TaskInput) (actions.TaskRef, error) {
	if in.OwnerID == "" {
		return actions.TaskRef{}, invalid(actions.ErrInvalidInput, store.ErrInvalidInput, "create task for lead %s: empty owner", in.LeadID)
	}
	owner, err := c.owners.OwnerOf(ctx, in.OwnerID)
	if err != nil {
		return actions.TaskRef{}, unknownRep("create "+in.Kind+" task for lead "+in.LeadID, err)
	}
	contact, err := c.contact(ctx, in.LeadID, in.Email)
	if err != nil {
		return actions.TaskRef{}, err
	}
	subject := in.Title
	if subject == "" {
		subject = "Follow up on lead " + in.LeadID
	}
	due := in.DueAt
	if due.IsZero() {
		due = c.clock.Now()
	}
	priority := "MEDIUM"
	if in.Kind == actions.TaskHandoff {
		priority = "HIGH"
	}
	props := map[string]string{
		"hs_task_subject":  subject,
		"hs_task_body":     renderTaskBody(in),
		"hs_timestamp":     Millis(due),
		"hs_task_status":   "NOT_STARTED",
		"hs_task_priority": priority,
		"hs_task_type":     "TODO",
		"hubspot_owner_id": owner,
	}
	id, err := c.createOnce(ctx, in.Key, KindTask, props, contact)
	if err != nil {
		return actions.TaskRef{}, err
	}
	return actions.TaskRef{TaskID: id}, nil
}

// PostNote creates a note on the contact, exactly once per key.
func (c *CRM) PostNote(ctx context.Context, in actions.NoteInput) error {
	contact, err := c.contact(ctx, in.LeadID, in.Email)
	if err != nil {
		return err
	}
	props := map[string]string{
		"hs_note_body": paragraphs(in.Body) + footer(in.LeadID, ""),
		"hs_timestamp": Millis(c.clock.Now()),
	}
	_, err = c.createOnce(ctx, in.Key, KindNote, props, contact)
	return err
}

// notifySubject titles a notification task by kind.
func notifySubject(kind, body, leadID string) string {
	prefix := map[string]string{
		"remind":    "Reminder: ",
		"escalate":  "SLA escalation: ",
		"sal_stale": "Stale SAL: ",
	}[kind]
	if prefix == "" {
		prefix = "leadflow " + strings.ReplaceAll(kind, "_", " ") + ": "
	}
	first, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	// Bodies often start with their own label ("Reminder: …", "SLA
	// breached: …"); the subject's prefix says it already.
	for _, label := range []string{strings.TrimSpace(prefix), "SLA breached:"} {
		first = strings.TrimSpace(strings.TrimPrefix(first, label))
	}
	if first == "" {
		first = "lead " + leadID
	}
	return truncate(prefix+first, 200)
}

// WeeklyReportKind is the Notify kind of the weekly governance report
// (actions.NotifyWeekly): a task for the manager with no contact.
const WeeklyReportKind = "weekly_report"

// notifyAsTask: the notifications HubSpot gets as a task of their own. A
// new handoff, a reassignment, an enrichment request and a re-engagement
// already reach HubSpot as the lead's task or note (HubSpot tells the
// task's owner); a second task would be noise. Slack and email carry every
// kind.
var notifyAsTask = map[string]bool{
	actions.NotifyRemind: true, actions.NotifyEscalate: true, actions.NotifySALStale: true, actions.NotifyWeekly: true,
}

// Notify creates a task due now for the recipient (a rep or a manager),
// associated with the contact (none for the weekly report), exactly once
// per key, for the kinds in notifyAsTask.
func (c *CRM) Notify(ctx context.Context, in actions.NotifyInput) error {
	if in.To == "" {
		return invalid(actions.ErrInvalidInput, store.ErrInvalidInput, "notify about lead %s: empty recipient", in.LeadID)
	}
	if !notifyAsTask[in.Kind] {
		return nil
	}
	owner, err := c.owners.OwnerOf(ctx, in.To)
	if err != nil {
		return unknownRep("notify "+in.To+" about lead "+in.LeadID, err)
	}
	// The weekly governance report is about no contact: its task stands
	// alone in the manager's task list.
	var contact string
	if in.Kind != WeeklyReportKind {
		if contact, err = c.contact(ctx, in.LeadID, in.Email); err != nil {
			return err
		}
	}
	priority := "MEDIUM"
	if in.Kind == actions.NotifyEscalate {
		priority = "HIGH"
	}
	props := map[string]string{
		"hs_task_subject":  notifySubject(in.Kind, in.Body, in.LeadID),
		"hs_task_body":     paragraphs(in.Body) + footer(in.LeadID, "owner "+in.OwnerID),
		"hs_timestamp":     Millis(c.clock.Now()),
		"hs_task_status":   "NOT_STARTED",
		"hs_task_priority": priority,
		"hs_task_type":     "TODO",
		"hubspot_owner_id": owner,
	}
	_, err = c.createOnce(ctx, in.Key, KindTask, props, contact)
	return err
}

// RaiseAlert creates a task for the manager of the contact's current owner
// when leadflow knows them, else a note on the contact; exactly once per
// key. Subject "leadflow alert: <kind>".
func (c *CRM) RaiseAlert(ctx context.Context, in actions.AlertInput) error {
	contact, err := c.contact(ctx, in.LeadID, in.Email)
	if err != nil {
		return err
	}
	subject := "leadflow alert: " + in.Kind
	body := paragraphs(in.Message)
	manager, err := c.managerOwner(ctx, contact)
	if err != nil {
		return err
	}
	if manager == "" {
		props := map[string]string{
			"hs_note_body": "<p><strong>" + html.EscapeString(subject) + "</strong></p>" + body + footer(in.LeadID, ""),
			"hs_timestamp": Millis(c.clock.Now()),
		}
		_, err = c.createOnce(ctx, in.Key, KindNote, props, contact)
		return err
	}
	props := map[string]string{
		"hs_task_subject":  subject,
		"hs_task_body":     body + footer(in.LeadID, ""),
		"hs_timestamp":     Millis(c.clock.Now()),
		"hs_task_status":   "NOT_STARTED",
		"hs_task_priority": "HIGH",
		"hs_task_type":     "TODO",
		"hubspot_owner_id": manager,
	}
	_, err = c.createOnce(ctx, in.Key, KindTask, props, contact)
	return err
}

// managerOwner is the HubSpot owner of the manager of the contact's owner,
// or "" when any link of that chain is missing.
func (c *CRM) managerOwner(ctx context.Context, contact string) (string, error) {
	o, err := c.client.GetContact(ctx, contact, "hubspot_owner_id")
	if err != nil {
		return "", ActivityError("read owner of HubSpot contact "+contact, err)
	}
	owner := o.Properties["hubspot_owner_id"]
	if owner == "" {
		return "", nil
	}
	rep, ok, err := c.owners.RepOf(ctx, owner)
	if err != nil {
		return "", ActivityError("find the rep of HubSpot owner "+owner, err)
	}
	if !ok {
		return "", nil // owned by someone leadflow does not route to
	}
	mgr, err := c.owners.ManagerOf(ctx, rep)
	if errors.Is(err, store.ErrUnknownRep) || (err == nil && mgr == "") {
		return "", nil
	}
	if err != nil {
		return "", ActivityError("find the manager of rep "+rep, err)
	}
	id, err := c.owners.OwnerOf(ctx, mgr)
	if errors.Is(err, store.ErrUnknownRep) {
		return "", nil
	}
	if err != nil {
		return "", ActivityError("find the HubSpot owner of manager "+mgr, err)
	}
	return id, nil
}

// hsContactID parses lead IDs of the form hs-<contactId>.
func hsContactID(leadID string) (string, bool) {
	n, ok := strings.CutPrefix(leadID, "hs-")
	if !ok || n == "" || len(n) > 20 {
		return "", false
	}
	if _, err := strconv.ParseUint(n, 10, 64); err != nil {
		return "", false
	}
	return n, true
}

// contact resolves a lead to its HubSpot contact: hs-<N> is contact N; else
// the remembered mapping; else the contact with the lead's email (created
// when there is none, unless WithoutContactCreation), remembered.
func (c *CRM) contact(ctx context.Context, leadID, email string) (string, error) {
	if id, ok := hsContactID(leadID); ok {
		return id, nil
	}
	if leadID == "" {
		return "", invalid(actions.ErrInvalidInput, store.ErrInvalidInput, "empty lead id")
	}
	id, ok, err := c.ledger.HubSpotContact(ctx, leadID)
	if err != nil {
		return "", fmt.Errorf("hubspot contact of lead %s: %w", leadID, err)
	}
	if ok {
		return id, nil
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", invalid(actions.ErrInvalidInput, store.ErrInvalidInput,
			"lead %s has no HubSpot contact: its ID is not hs-<contactId>, no contact is remembered for it and it has no email", leadID)
	}
	id, found, err := c.client.FindContactByEmail(ctx, email)
	if err != nil {
		return "", ActivityError("find HubSpot contact of lead "+leadID+" by email", err)
	}
	if !found {
		if !c.createContacts {
			return "", invalid(actions.ErrInvalidInput, store.ErrInvalidInput, "no HubSpot contact has the email of lead %s", leadID)
		}
		// Unique emails make this safe to repeat: a contact that exists
		// (say, not yet in the search index) comes back as a 409 with its ID.
		if id, _, err = c.client.CreateContact(ctx, map[string]string{"email": email}); err != nil {
			return "", ActivityError("create HubSpot contact for lead "+leadID, err)
		}
	}
	if err := c.ledger.RememberHubSpotContact(ctx, leadID, id); err != nil {
		return "", err
	}
	return id, nil
}

// KeyToken is the search token for an idempotency key: "lfk" and 32 hex
// digits of its SHA-256. One alphanumeric word, so HubSpot's tokenizer
// cannot split it, and free of the lead ID's punctuation.
func KeyToken(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "lfk" + hex.EncodeToString(sum[:16])
}

// MarkerLine is the line that carries key in a task or note body.
func MarkerLine(key string) string {
	return "leadflow-key: " + key + " · " + KeyToken(key)
}

func objectType(kind string) string {
	if kind == KindNote {
		return Notes
	}
	return Tasks
}

func bodyProperty(kind string) string {
	if kind == KindNote {
		return "hs_note_body"
	}
	return "hs_task_body"
}

// createOnce creates the object (kind) for key at most once; see the
// package doc for the algorithm and why it is safe.
func (c *CRM) createOnce(ctx context.Context, key, kind string, props map[string]string, contact string) (string, error) {
	if key == "" {
		return "", invalid(actions.ErrInvalidInput, store.ErrInvalidInput, "create %s: empty idempotency key", kind)
	}
	now := c.clock.Now()
	row, fresh, err := c.ledger.BeginHubSpotObject(ctx, key, kind, now)
	if err != nil {
		return "", err
	}
	if row.ObjectID != "" {
		return row.ObjectID, nil // an earlier attempt succeeded
	}
	attempt := row.Attempts
	if !fresh {
		// An earlier attempt may have created the object and failed before
		// recording it: ask HubSpot, by the key, in the kind recorded (and
		// the kind asked for, should they differ).
		kinds := []string{row.Kind}
		if kind != row.Kind {
			kinds = append(kinds, kind)
		}
		for _, k := range kinds {
			id, found, err := c.findByKey(ctx, k, key)
			if err != nil {
				return "", ActivityError("search HubSpot for the "+k+" of "+key, err)
			}
			if found {
				return c.ledger.RecordHubSpotObject(ctx, key, id, c.clock.Now())
			}
		}
		staleBefore := now.Add(-c.indexLag)
		if row.PendingSince.After(staleBefore) {
			return "", unconfirmed(kind, key, row.PendingSince.Sub(staleBefore))
		}
		var ok bool
		if attempt, ok, err = c.ledger.ClaimHubSpotObject(ctx, key, kind, staleBefore, now); err != nil {
			return "", err
		}
		if !ok { // another attempt claimed it just now
			return "", unconfirmed(kind, key, c.indexLag)
		}
	}
	p := make(map[string]string, len(props)+1)
	for k, v := range props {
		p[k] = v
	}
	if c.keyProperty != "" {
		p[c.keyProperty] = KeyToken(key)
	}
	// The marker goes in the body either way: it names the key for humans.
	body := bodyProperty(kind)
	p[body] += "<p>" + html.EscapeString(MarkerLine(key)) + "</p>"
	assoc := AssocTaskToContact
	if kind == KindNote {
		assoc = AssocNoteToContact
	}
	var assocs []Association
	if contact != "" {
		assocs = append(assocs, ToContact(contact, assoc))
	}
	id, err := c.client.CreateObject(ctx, objectType(kind), p, assocs...)
	if err != nil {
		if notCreated(err) {
			// Refused outright: the next attempt need not wait for the index.
			_ = c.ledger.ReleaseHubSpotObject(context.WithoutCancel(ctx), key, attempt)
		}
		return "", ActivityError("create HubSpot "+kind+" for "+key, err)
	}
	return c.ledger.RecordHubSpotObject(ctx, key, id, c.clock.Now())
}

// notCreated reports errors after which HubSpot certainly created nothing:
// a 4xx answer, or a request never sent.
func notCreated(err error) bool {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status >= 400 && e.Status < 500 || e.Status == 477
	}
	var t *TransportError
	return errors.As(err, &t) && t.NotSent
}

// findByKey searches HubSpot for the object of kind that carries key.
func (c *CRM) findByKey(ctx context.Context, kind, key string) (string, bool, error) {
	token := KeyToken(key)
	body := bodyProperty(kind)
	filter := Filter{PropertyName: body, Operator: "CONTAINS_TOKEN", Value: token}
	props := []string{body}
	if c.keyProperty != "" {
		filter = Filter{PropertyName: c.keyProperty, Operator: "EQ", Value: token}
		props = append(props, c.keyProperty)
	}
	objs, err := c.client.SearchAll(ctx, objectType(kind), SearchRequest{
		FilterGroups: []FilterGroup{{Filters: []Filter{filter}}}, Properties: props})
	if err != nil {
		return "", false, err
	}
	var ids []string
	for _, o := range objs {
		ok := strings.Contains(o.Properties[body], html.EscapeString(MarkerLine(key)))
		if c.keyProperty != "" {
			ok = o.Properties[c.keyProperty] == token
		}
		if ok && !o.Archived {
			ids = append(ids, o.ID)
		}
	}
	if len(ids) == 0 {
		return "", false, nil
	}
	// Should there ever be two, the oldest (smallest ID) is the one.
	slices.SortFunc(ids, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return ids[0], true, nil
}
