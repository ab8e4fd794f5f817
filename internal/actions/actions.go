// Package actions is the contract between workflows/ and activities/: every
// activity's registered name, its input and output types, and a typed
// reference to it (refs.go, ports.go, report.go). The workflow calls
// activities only through these references, so it never imports an adapter
// (store, CRM, nurture); activities/ registers its implementations through
// the same references. The package imports nothing of Temporal.
//
// Why typed references and not method values of an activities struct: a
// method value names the implementation, which lives in activities/ and
// imports the adapters; the workflow may not import it. A reference here
// carries the name and the types, nothing else, so both sides are checked
// by the compiler against one declaration (a workflow passing the wrong
// input, or an implementation with the wrong signature, does not compile)
// while the names stay explicit strings: they are in recorded histories and
// never follow a Go rename. The references are grouped in one struct per
// port (Directory, Ledger, CRM, Nurture, Leads, Report) so a call reads as
// the port it reaches: execute(ctx, actions.CRM.CreateTask, in) in a
// workflow, actions.CRM.CreateTask.Bind(a.CreateTask) in activities/.
//
// Why a function taking the reference (workflows/activity.go) and not a
// method of it: a method here would make this package import Temporal's
// workflow package, and pure packages (internal/policydiff) read these
// types.
//
// Every input carries Key, the idempotency key: the workflow ID plus the
// business event that caused the call (never the run ID, which changes on
// Continue-As-New). An adapter that sees a Key twice must not act twice.
package actions

import (
	"time"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/routing"
)

// Activity names, as registered and recorded in histories: never change
// one. The Effect kinds and the test doubles' failure maps use them too.
const (
	Route             = "Route"
	AssignOwner       = "AssignOwner"
	CreateTask        = "CreateTask"
	CloseTask         = "CloseTask"
	PostNote          = "PostNote"
	NotifyManager     = "NotifyManager"
	RaiseAlert        = "RaiseAlert"
	SetLifecycleStage = "SetLifecycleStage"
	NurtureEnroll     = "NurtureEnroll"
	NurturePause      = "NurturePause"
	NurtureSend       = "NurtureSend"
	NurtureStop       = "NurtureStop"
	Record            = "Record"
	ForwardEvents     = "ForwardEvents"
)

// Non-retryable error types: bad input that no retry can fix. Adapters wrap
// such failures with temporal.NewNonRetryableApplicationError(msg, type, err).
const (
	ErrInvalidInput = "InvalidInput"
	ErrUnknownRep   = "UnknownRep"
	ErrUnknownPool  = "UnknownPool"
)

// RouteInput asks the directory for an owner.
type RouteInput struct {
	Key           string         `json:"key"`
	LeadID        string         `json:"leadId"`
	Domain        string         `json:"domain,omitempty"`
	Rules         []routing.Rule `json:"rules"`             // the policy rules that matched, in order
	Exclude       []string       `json:"exclude,omitempty"` // never these reps (previous owners of this handoff)
	FallbackOnly  bool           `json:"fallbackOnly,omitempty"`
	ForceOwner    string         `json:"forceOwner,omitempty"`  // a manual reassignment: check the rep and find the manager
	PreferOwner   string         `json:"preferOwner,omitempty"` // a sticky owner, taken when they can take the lead now
	At            time.Time      `json:"at"`
	PolicyVersion string         `json:"policyVersion"`
}

// AssignOwnerInput sets the lead's owner in the CRM.
type AssignOwnerInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email    string `json:"email,omitempty"`
	OwnerID  string `json:"ownerId"`
	Previous string `json:"previous,omitempty"`
	Why      string `json:"why"`
}

// Task kinds.
const (
	TaskHandoff    = "handoff"
	TaskEnrichment = "enrichment"
	TaskUpsell     = "upsell"
)

// TaskInput creates a CRM task for a rep.
type TaskInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email   string          `json:"email,omitempty"`
	OwnerID string          `json:"ownerId"`
	Kind    string          `json:"kind"`
	Title   string          `json:"title"`
	DueAt   time.Time       `json:"dueAt"`
	Context *HandoffContext `json:"context,omitempty"`
}

// HandoffContext is what a rep needs to act on a handoff without digging.
type HandoffContext struct {
	WhyNow        string              `json:"whyNow"`
	Trigger       string              `json:"trigger,omitempty"`
	Score         lead.ScoreView      `json:"score"`
	Timeline      []lead.TimelineItem `json:"timeline"`
	Campaign      map[string]string   `json:"campaign,omitempty"` // utm_* of the triggering event
	Missing       []string            `json:"missing,omitempty"`  // enrichment: fields to find
	Segment       string              `json:"segment,omitempty"`
	PolicyVersion string              `json:"policyVersion"`
}

// Task outcomes: a task is completed by the work it asked for (the lead
// accepted, the missing fields found) or cancelled when the work no longer
// applies (rejected, reassigned, merged, the lead left handoff otherwise).
const (
	TaskCompleted = "completed"
	TaskCancelled = "cancelled"
)

// CloseTaskInput closes the task created under TaskKey.
type CloseTaskInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email   string `json:"email,omitempty"`
	TaskKey string `json:"taskKey"` // the CreateTask key of the task
	Outcome string `json:"outcome"` // TaskCompleted or TaskCancelled
	By      string `json:"by,omitempty"`
	Reason  string `json:"reason"` // "accepted by rep-7", "reassigned to rep-8", ...
}

// TaskRef identifies a created task.
type TaskRef struct {
	TaskID string `json:"taskId"`
}

// NoteInput posts a note on the lead's CRM record.
type NoteInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email string `json:"email,omitempty"`
	Body  string `json:"body"`
}

// Notification kinds: what a person is told about a lead (or, for the
// weekly report, about a week).
const (
	NotifyHandoff    = "handoff"    // a new handoff, to its owner, with the due time
	NotifyRemind     = "remind"     // the ladder's reminder, to the owner
	NotifyEscalate   = "escalate"   // the ladder's escalation, to the owner's manager (delivered in quiet hours)
	NotifyReassigned = "reassigned" // to the previous and to the new owner
	NotifyReengaged  = "reengaged"  // an owned lead showed new intent
	NotifyEnrichment = "enrichment" // the lead needs data before it can be handed off
	NotifySALStale   = "sal_stale"  // an accepted lead went stale
	NotifyWeekly     = "weekly_report"
)

// NotifyInput tells a person (rep or manager, by directory ID) something
// about a lead. The Notify activity files it in the CRM and delivers it on
// every channel the person can be reached on (Slack, email); each delivery
// happens once per Key.
type NotifyInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email   string `json:"email,omitempty"`
	To      string `json:"to"`      // rep or manager ID
	Kind    string `json:"kind"`    // one of the Notify* kinds
	OwnerID string `json:"ownerId"` // the owner concerned
	Body    string `json:"body"`
	// Title is the one-line headline (a Slack message's header, an email's
	// subject); empty: derived from Kind.
	Title string `json:"title,omitempty"`
	// WhyNow and DueAt give the person what to act on and by when.
	WhyNow string    `json:"whyNow,omitempty"`
	DueAt  time.Time `json:"dueAt,omitzero"`
	// Urgent notifications (escalations) are delivered in the recipient's
	// quiet hours; the others wait for them to end.
	Urgent bool `json:"urgent,omitempty"`
	// ToEmails are extra recipients outside the directory (the marketing
	// recipients of the weekly report).
	ToEmails []string `json:"toEmails,omitempty"`
}

// AlertInput raises something ops must look at.
type AlertInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email   string `json:"email,omitempty"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// StageInput mirrors leadflow's stage into the CRM's lifecycle fields.
type StageInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email string     `json:"email,omitempty"`
	Stage lead.Stage `json:"stage"`
}

// EnrollInput puts the lead on a nurture track (also: resume on a track).
type EnrollInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email string `json:"email,omitempty"`
	Track string `json:"track"`
	Step  int    `json:"step"`
}

// PauseInput pauses nurture, with the reasons.
type PauseInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email   string   `json:"email,omitempty"`
	Reasons []string `json:"reasons"`
}

// SendInput is one nurture touch. The adapter re-checks the guard at send
// time with what it knows (its own send log, unsubscribes it has seen), in
// the same transaction that records the send.
type SendInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email        string             `json:"email,omitempty"`
	Track        string             `json:"track"`
	Step         int                `json:"step"`
	Stage        lead.Stage         `json:"stage"`
	LastRepTouch time.Time          `json:"lastRepTouch,omitempty"`
	Rules        policy.Suppression `json:"rules"`
	Timezone     string             `json:"timezone"`
	// Enroll: the lead's enrollment on this track, not yet told to the
	// nurture system (it goes with the first touch, idempotent by its own
	// key, before the touch).
	Enroll *EnrollInput `json:"enroll,omitempty"`
}

// SendResult says whether the touch went out, and if not, why.
type SendResult struct {
	Sent    bool     `json:"sent"`
	Reasons []string `json:"reasons,omitempty"`
}

// StopInput takes the lead off nurture for good (unsubscribe, bounce,
// disqualified, merged).
type StopInput struct {
	Key    string `json:"key"`
	LeadID string `json:"leadId"`
	// Email of the contact, for adapters that address people (HubSpot
	// contact lookup, a nurture tool). PII: never logged.
	Email  string `json:"email,omitempty"`
	Reason string `json:"reason"`
}

// Ledger entry kinds.
const (
	LedgerEvent      = "event"
	LedgerTransition = "transition"
	LedgerRouting    = "routing"
	LedgerSLAStep    = "sla_step"
	LedgerFeedback   = "feedback"
	LedgerRefusal    = "refusal"
	LedgerAlert      = "alert"
	LedgerTouch      = "first_touch"
	LedgerNurture    = "nurture"
	LedgerExpansion  = "expansion" // a customer's expansion opportunity: created, won or lost (pipeline reported apart)
	LedgerPolicy     = "policy"    // the lead moved to another policy version (data: from, to, digest, activation)
)

// LedgerEntry is one immutable fact. Key is unique: recording it twice is
// a no-op.
type LedgerEntry struct {
	Key           string         `json:"key"`
	LeadID        string         `json:"leadId"`
	Kind          string         `json:"kind"`
	At            time.Time      `json:"at"`
	From          lead.Stage     `json:"from,omitempty"`
	To            lead.Stage     `json:"to,omitempty"`
	Why           string         `json:"why,omitempty"`
	OwnerID       string         `json:"ownerId,omitempty"`
	Segment       string         `json:"segment,omitempty"`
	Territory     string         `json:"territory,omitempty"`
	Source        string         `json:"source,omitempty"`
	Campaign      string         `json:"campaign,omitempty"`
	PolicyVersion string         `json:"policyVersion,omitempty"`
	Data          map[string]any `json:"data,omitempty"`
}

// RecordInput is a batch of ledger entries written in one transaction,
// and with them the lead state as of this write (the HTTP edge serves it,
// marked stale, when no worker can answer a query).
type RecordInput struct {
	Entries []LedgerEntry  `json:"entries"`
	State   *StateSnapshot `json:"state,omitempty"`
}

// StateSnapshot is a lead's published state. Seq grows with every write of
// one lead's chain of runs, so a late retry never overwrites a newer state.
type StateSnapshot struct {
	LeadID string    `json:"leadId"`
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	View   lead.View `json:"view"`
	// Inputs is what the policy's conditions read about the lead, kept
	// beside the view for `starter policy shadow`.
	Inputs *DecisionInputs `json:"inputs,omitempty"`
}

// DecisionInputs is what a policy's conditions read about a lead besides its
// score: the profile, the scoring rule that made it an MQL and the event
// counts of its cycle.
type DecisionInputs struct {
	Profile lead.Profile     `json:"profile"`
	Trigger string           `json:"trigger,omitempty"`
	Counts  map[string]int64 `json:"counts,omitempty"`
}

// ForwardInput hands a merged lead's events to the surviving lead.
type ForwardInput struct {
	Key    string       `json:"key"`
	From   string       `json:"from"`
	To     string       `json:"to"`
	Events []lead.Event `json:"events"`
}
