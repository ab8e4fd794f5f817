package workflows

import (
	"encoding/json"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/suppression"
)

// Input starts a lead workflow. State is set only when a run continues as
// new: it is the one struct carried from run to run.
type Input struct {
	LeadID string `json:"leadId"`
	State  *State `json:"state,omitempty"`
}

// State is everything a lead workflow knows. Every field is exported and
// JSON-encodable because it crosses Continue-As-New.
type State struct {
	LeadID        string       `json:"leadId"`
	Stage         lead.Stage   `json:"stage"`
	Profile       lead.Profile `json:"profile"`
	Source        string       `json:"source,omitempty"`   // source of the first event
	Campaign      string       `json:"campaign,omitempty"` // last utm_campaign seen
	Segment       string       `json:"segment,omitempty"`
	Territory     string       `json:"territory,omitempty"`
	Pool          string       `json:"pool,omitempty"`
	OwnerID       string       `json:"ownerId,omitempty"`
	ManagerID     string       `json:"managerId,omitempty"`
	PolicyVersion string       `json:"policyVersion"`
	// Policy is the policy the lead decides under (refreshPolicy), carried
	// so a new run never falls back to an older version.
	Policy *PolicyRef `json:"policy,omitempty"`

	Score   scoring.State `json:"score"`
	Trigger string        `json:"trigger,omitempty"` // scoring rule that made the lead an MQL
	// TriggerEvent is the event that made the lead an MQL ("" for a
	// revisit or a cool-off's end): speed-to-lead runs from it.
	TriggerEvent string `json:"triggerEvent,omitempty"`
	// FastTracked: the MQL came from a hand-raise, not the score.
	FastTracked bool     `json:"fastTracked,omitempty"`
	WhyNow      string   `json:"whyNow,omitempty"`
	Missing     []string `json:"missing,omitempty"` // required fields an enrichment task is looking for
	// Enrichment is the open enrichment task, while Missing is looked for.
	Enrichment *Enrichment `json:"enrichment,omitempty"`
	// ReengagedAt: when the owner was last told of new intent (at most once
	// per policy window).
	ReengagedAt time.Time `json:"reengagedAt,omitzero"`
	// Away: the owner is away and the SLA clock is paused (policy away:
	// pause) until the rep is back or Until.
	Away *AwayPause `json:"away,omitempty"`
	// CRMOwner is an owner set in the CRM, waiting for the directory to
	// confirm it (retried at RouteRetryAt), and CRMOwnerBy who set it.
	CRMOwner   string `json:"crmOwner,omitempty"`
	CRMOwnerBy string `json:"crmOwnerBy,omitempty"`

	// What Sales said, kept (plays.go): after a recycle the lead needs new
	// intent before it is an MQL again (NeedIntent); it goes back to its
	// previous owner when it does (LastOwner, LastTerritory); a rep's
	// revisit date hands it to them again (Revisit). WonBy won the deal;
	// Expansion is a customer's open expansion opportunity.
	NeedIntent    bool       `json:"needIntent,omitempty"`
	LastOwner     string     `json:"lastOwner,omitempty"`
	LastTerritory string     `json:"lastTerritory,omitempty"`
	Revisit       *Revisit   `json:"revisit,omitempty"`
	WonBy         string     `json:"wonBy,omitempty"`
	Expansion     *Expansion `json:"expansion,omitempty"`

	// Life is the first run ID of this chain of runs: part of every
	// idempotency key, so a lead started again after a terminate gets new
	// keys while Continue-As-New keeps them.
	Life string `json:"life,omitempty"`

	Cycle        int               `json:"cycle"` // handoffs so far; part of idempotency keys
	Seq          int               `json:"seq"`   // numbers effects that have no business event of their own
	RecycleCount int               `json:"recycleCount"`
	Handoff      *Handoff          `json:"handoff,omitempty"`
	SLA          *SLAClock         `json:"sla,omitempty"`
	SAL          *SALWatch         `json:"sal,omitempty"`
	RouteRetryAt time.Time         `json:"routeRetryAt,omitempty"`
	RouteFails   int               `json:"routeFails,omitempty"`  // routing failures in a row: the retry backs off
	Enrollments  int               `json:"enrollments,omitempty"` // nurture enrollments so far; part of send keys
	CoolOffUntil time.Time         `json:"coolOffUntil,omitempty"`
	Play         *lead.PlayView    `json:"play,omitempty"`
	Nurture      Nurture           `json:"nurture"`
	LastRepTouch time.Time         `json:"lastRepTouch,omitempty"`
	MergedInto   string            `json:"mergedInto,omitempty"`
	Routing      *lead.RoutingView `json:"routing,omitempty"`

	Seen     []string           `json:"seen"`     // recent event and request IDs, oldest first
	Recent   []lead.Event       `json:"recent"`   // recent events without profile: timeline, merge forwarding
	History  []lead.Transition  `json:"history"`  // newest last, capped; the ledger has all
	Ladder   []lead.LadderTaken `json:"ladder"`   // SLA steps taken, capped
	Refusals []lead.Refusal     `json:"refusals"` // feedback that broke the rules, capped
	Alerts   []lead.Alert       `json:"alerts"`   // capped

	// The outbox: side effects decided and not yet confirmed, and ledger
	// entries not yet in Postgres. Never capped: dropping one loses a fact.
	Effects  []Effect              `json:"effects,omitempty"`
	Ledger   []actions.LedgerEntry `json:"ledger,omitempty"`
	StateSeq int64                 `json:"stateSeq,omitempty"` // published snapshots so far
}

// Handoff is the current hand-off to Sales.
type Handoff struct {
	At           time.Time `json:"at"`
	Owners       []string  `json:"owners"`    // every owner of this handoff: reassignment never returns to one
	Reassigns    int       `json:"reassigns"` // automatic ones, bounded by sla.max_reassigns
	AtFallback   bool      `json:"atFallback,omitempty"`
	TaskKey      string    `json:"taskKey,omitempty"` // the current owner's task effect
	TaskID       string    `json:"taskId,omitempty"`
	FirstTouchAt time.Time `json:"firstTouchAt,omitempty"`
	// FirstDueAt is the first owner's first-touch deadline: the handoff's
	// SLA is judged against it, whatever reassignments follow.
	FirstDueAt time.Time `json:"firstDueAt,omitzero"`
}

// Revisit is a rep's "come back to this on that date" (reject timing).
type Revisit struct {
	At    time.Time `json:"at"`
	RepID string    `json:"repId"`
	Note  string    `json:"note,omitempty"`
}

// Expansion is an open opportunity of a customer.
type Expansion struct {
	EventID string    `json:"eventId"`
	At      time.Time `json:"at"`
}

// Enrichment is an open task to find a qualified lead's missing fields.
type Enrichment struct {
	TaskKey string    `json:"taskKey"`
	OwnerID string    `json:"ownerId"`
	At      time.Time `json:"at"`
}

// AwayPause is a paused SLA clock: its owner is away. Resuming restarts
// the clock with the business time it had left.
type AwayPause struct {
	RepID    string          `json:"repId"`
	Since    time.Time       `json:"since"`
	Until    time.Time       `json:"until,omitzero"` // the away period's end; zero: until the rep is back
	Kind     string          `json:"kind"`
	Left     policy.Duration `json:"left"` // business time the clock had left
	Breached bool            `json:"breached,omitempty"`
}

// SLAClock is the SLA in force and its ladder.
type SLAClock struct {
	Kind      string          `json:"kind"`
	Seq       int             `json:"seq"` // clocks started in this handoff; part of keys
	StartedAt time.Time       `json:"startedAt"`
	Within    policy.Duration `json:"within"`
	DueAt     time.Time       `json:"dueAt"`
	Steps     []sla.Step      `json:"steps"`
	Level     int             `json:"level"` // ladder steps taken
	Breached  bool            `json:"breached"`
	// RetryAt: the step at Level needed the directory, which did not
	// answer; it runs again then.
	RetryAt time.Time `json:"retryAt,omitempty"`
	// Policy is the version the clock and its ladder were computed under.
	Policy string `json:"policy,omitempty"`
}

// SALWatch watches an accepted lead for staleness.
type SALWatch struct {
	Since    time.Time `json:"since"`
	Reminded bool      `json:"reminded"`
}

// Nurture is the lead's place on a nurture track.
type Nurture struct {
	Track        string      `json:"track,omitempty"`
	Step         int         `json:"step"`
	Enrolled     bool        `json:"enrolled"`
	Paused       bool        `json:"paused,omitempty"`
	NextAt       time.Time   `json:"nextAt,omitempty"`
	Unsubscribed bool        `json:"unsubscribed,omitempty"`
	Bounced      bool        `json:"bounced,omitempty"`
	Sends        []time.Time `json:"sends,omitempty"`   // recent sends, for the frequency cap
	Sending      string      `json:"sending,omitempty"` // key of the touch on its way
	// Enroll: the enrollment not yet told to the nurture system; it goes
	// with the first touch, so a lead that never gets one costs no call.
	Enroll *actions.EnrollInput `json:"enroll,omitempty"`
	Guard  suppression.Decision `json:"guard"`
}

// Caps on the lists carried in State, so a lead that lives for years does not
// drag an ever-growing state across Continue-As-New. The ledger keeps all.
const (
	maxSeen     = 2000
	maxRecent   = 20
	maxHistory  = 100
	maxLadder   = 50
	maxRefusals = 20
	maxAlerts   = 20
	maxSends    = 20

	// Bounds in bytes, whatever callers send (the edge bounds each event
	// and note; these bound what the State keeps of them).
	maxRecentBytes = 64 << 10 // the timeline: oldest events go first
	maxWhyBytes    = 512      // a transition's why (the ledger keeps it whole)
)

// capBytes keeps the newest items whose encoded sizes add up to at most n
// (always the newest one).
func capBytes[T any](s []T, n int) []T {
	total := 0
	for i := len(s) - 1; i >= 0; i-- {
		b, _ := json.Marshal(s[i])
		if total += len(b); total > n && i < len(s)-1 {
			return append([]T(nil), s[i+1:]...)
		}
	}
	return s
}

func capTail[T any](s []T, n int) []T {
	if len(s) > n {
		return append([]T(nil), s[len(s)-n:]...)
	}
	return s
}
