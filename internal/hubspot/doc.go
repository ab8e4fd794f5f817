// Package hubspot is leadflow's HubSpot CRM adapter (LEADFLOW_CRM=hubspot):
// a client for HubSpot's CRM API v3 with a private app's access token
// (Client), and crm.CRM on top of it (CRM).
//
// # Records
//
// A lead is a HubSpot contact. Lead ID hs-<N> is contact N. Any other lead
// is looked up by its email (search, email EQ) once and the contact ID is
// remembered in Postgres (hubspot_contacts); a lead whose email matches no
// contact gets a new contact with that email (HubSpot keeps contact emails
// unique, so a repeat answers 409 with the existing ID) unless
// WithoutContactCreation. A lead with no hs- ID, no remembered contact and
// no email fails non-retryably.
//
// A rep is a HubSpot owner: the directory's hubspot_owner_id when set, else
// the owner (GET /crm/v3/owners, cached 5 minutes) whose email is the rep's
// email. A rep with neither fails non-retryably (UnknownRep) with the rep's
// ID in the message.
//
// # Field mapping
//
//	leadflow call       HubSpot write
//	------------------  -------------------------------------------------------------
//	AssignOwner         contact hubspot_owner_id = owner of the rep
//	SetLifecycleStage   contact lifecyclestage / hs_lead_status by stage:
//	                      lead          lead                    / NEW
//	                      mql           marketingqualifiedlead  / OPEN
//	                      handoff       marketingqualifiedlead  / IN_PROGRESS
//	                      sal           salesqualifiedlead      / CONNECTED
//	                      opportunity   opportunity             / (unchanged)
//	                      customer      customer                / (unchanged)
//	                      recycle       lead                    / BAD_TIMING
//	                      disqualified  other                   / UNQUALIFIED
//	                      merged        (no change)
//	                    a stage earlier than the contact's (HubSpot's order: subscriber,
//	                    lead, MQL, SQL, opportunity, customer, evangelist, other) is
//	                    written after clearing lifecyclestage, since HubSpot silently
//	                    ignores a backwards move
//	CreateTask          task associated with the contact (type 204):
//	                      hs_task_subject   Title
//	                      hs_task_body      why now, score breakdown, timeline, campaign,
//	                                        missing fields, segment, policy; marker line
//	                      hs_timestamp      DueAt (ms)
//	                      hs_task_status    NOT_STARTED
//	                      hs_task_priority  HIGH for handoff, else MEDIUM
//	                      hs_task_type      TODO
//	                      hubspot_owner_id  owner of the rep
//	                    the TaskRef is HubSpot's task ID
//	CloseTask           the task created under TaskKey (its ID from hubspot_objects, else
//	                    found by the key as an unconfirmed create is):
//	                      hs_task_status    COMPLETED, for both outcomes: HubSpot documents
//	                                        COMPLETED and NOT_STARTED (and uses WAITING);
//	                                        there is no "cancelled"
//	                      hs_task_body      headed "Completed: <reason>" or
//	                                        "Cancelled: <reason>" (once)
//	                    cancelled: also a note on the contact "Task closed: <reason>" and
//	                    the task's subject, created once per Key. A task deleted in
//	                    HubSpot (404) or a key no task was created under fails
//	                    non-retryably
//	PostNote            note on the contact (type 202): hs_note_body = Body, hs_timestamp = now
//	Notify              task due now for the recipient's owner (the rep or the manager):
//	                      subject "Reminder: …" (remind), "SLA escalation: …" (escalate,
//	                      priority HIGH), "Stale SAL: …" (sal_stale), else
//	                      "leadflow <kind>: …"; body = Body
//	RaiseAlert          task "leadflow alert: <kind>" (priority HIGH) for the manager of the
//	                    contact's current owner when the directory knows them, else a note
//	                    "leadflow alert: <kind>" on the contact; body = Message
//
// Lead statuses are HubSpot's defaults. recycle is BAD_TIMING: a recycled
// lead is "not now" whatever the rejection reason (timing, no response,
// competitor, a lost opportunity) and goes back to nurture; disqualified
// (a bad fit) is UNQUALIFIED. WithStages and WithLifecycleOrder adapt the
// mapping to a portal with its own values.
//
// # Exactly-once creates
//
// Owner, lifecycle and task-close writes are property updates (PATCH):
// repeating one leaves the same state, so they need no create bookkeeping
// (a close reads the task first and writes only what is not there yet). Tasks and notes are
// creates: repeating one makes a second object. HubSpot has no idempotency
// key for creates, so the CRM keeps one row per activity key in Postgres
// (hubspot_objects: key, kind, object_id, pending_since, attempts) and
// marks every object it creates with the key: the body ends with the line
// "leadflow-key: <key> · lfk<32 hex>", where lfk… is KeyToken(key), the
// first 128 bits of SHA-256(key) in hex. For each create:
//
//  1. Insert-or-get the row for the key, in one statement. object_id set:
//     return it (a retry after success; no HubSpot call).
//  2. Row just inserted: create the object, record its ID, return it.
//  3. Row already there, unconfirmed (an earlier attempt may have created
//     the object and died before recording it): search HubSpot for the key
//     (hs_task_body / hs_note_body CONTAINS_TOKEN lfk…, then check the full
//     marker line). Found: record that ID and return it.
//  4. Not found and the last attempt started less than the index-lag window
//     ago (default 30 s): HubSpot's search may not show it yet, so fail with
//     a retryable HubSpotUnconfirmedCreate whose NextRetryDelay is the rest
//     of the window.
//  5. Not found and older: claim the row (compare-and-set on pending_since,
//     so one attempt wins), create, record.
//
// A create HubSpot refused (any 4xx, including 429) created nothing, so its
// row is released and the next attempt skips the wait.
//
// Why this is safe under HubSpot's behaviour: the search index lags writes
// by a few seconds but does show every created object eventually, and a
// create is over (answered, timed out or cut off) within the client's
// request timeout (10 s). So by the time an attempt's window (request
// timeout + index lag, 30 s, measured from when that attempt started, not
// from the first one) has passed, an object it created is in the search
// results; only then may another create happen, and only by the one attempt
// that wins the claim. (Times come from the workers' clocks, which must
// agree to within a few seconds; the window's margin covers that.) Temporal can run a timed-out attempt and its retry
// at once; the claim makes them take turns. The token is one alphanumeric
// word, so HubSpot's tokenizer cannot split it (lead IDs and keys contain
// "/", ":" and "-"), and a match is confirmed against the full key.
//
// Why the body and not a custom property: a custom property (WithKeyProperty,
// searched with EQ) is the sturdier index, but it must first be created in
// the portal on both tasks and notes, and then "set LEADFLOW_CRM=hubspot and
// a token" is no longer all a team has to do. The marker line works in any
// portal and also tells a human which leadflow action made the record.
//
// # Owner changes
//
// AssignOwner records (contact, owner, time) in Postgres
// (hubspot_owner_writes) before its PATCH, so that the webhook edge can
// tell the echo of leadflow's own write from an owner changed in HubSpot:
// a hubspot_owner_id notification whose value is leadflow's latest write
// to that contact (made within OwnerEchoWindow, 1 minute, before its
// occurredAt, or up to 10 s after it for clock skew) is skipped as
// own_change, whatever its sourceId says. Only the latest write counts:
// after leadflow wrote A then B, A set again in HubSpot is a change. Recording before the write
// covers an answer that is lost after HubSpot applied it. Other changes
// become owner.changed events (internal/hswebhook), which the workflow
// treats as a reassignment by the CRM. Rows are pruned after 30 days.
//
// # Errors and retries
//
// CRM methods return Temporal application errors (see ActivityError):
// 429 → retryable HubSpotRateLimited with NextRetryDelay = Retry-After;
// 401/403 → non-retryable HubSpotUnauthorized; other 4xx → non-retryable
// HubSpotRejected carrying HubSpot's message (the workflow turns the failed
// effect into an alert on the lead); 5xx, 423, timeouts and dropped
// connections → plain retryable errors. Non-retryable ones also wrap
// store.ErrInvalidInput (store.ErrUnknownRep for reps) so the activity
// layer's classification keeps them non-retryable.
//
// # Rate limits
//
// Every request waits for a Limiter: at most 100 requests per rolling 10 s
// (HubSpot's burst limit for private apps on the lowest tier; configurable)
// and searches at most 4 per second. A 429 pauses every request of the
// client until Retry-After. The limits are per Client (per process).
package hubspot
