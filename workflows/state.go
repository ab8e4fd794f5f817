package workflows

import (
	"time"

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

	Score   scoring.State `json:"score"`
	Trigger string        `json:"trigger,omitempty"` // scoring rule that made the lead an MQL
	WhyNow  string        `json:"whyNow,omitempty"`
	Missing []string      `json:"missing,omitempty"` // required fields an enrichment task is looking for

	Cycle        int               `json:"cycle"` // handoffs so far; part of idempotency keys
	Seq          int               `json:"seq"`   // numbers effects that have no business event of their own
	RecycleCount int               `json:"recycleCount"`
	Handoff      *Handoff          `json:"handoff,omitempty"`
	SLA          *SLAClock         `json:"sla,omitempty"`
	SAL          *SALWatch         `json:"sal,omitempty"`
	RouteRetryAt time.Time         `json:"routeRetryAt,omitempty"`
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
}

// Handoff is the current hand-off to Sales.
type Handoff struct {
	At           time.Time `json:"at"`
	Owners       []string  `json:"owners"`    // every owner of this handoff: reassignment never returns to one
	Reassigns    int       `json:"reassigns"` // automatic ones, bounded by sla.max_reassigns
	AtFallback   bool      `json:"atFallback,omitempty"`
	TaskID       string    `json:"taskId,omitempty"`
	FirstTouchAt time.Time `json:"firstTouchAt,omitempty"`
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
}

// SALWatch watches an accepted lead for staleness.
type SALWatch struct {
	Since    time.Time `json:"since"`
	Reminded bool      `json:"reminded"`
}

// Nurture is the lead's place on a nurture track.
type Nurture struct {
	Track        string               `json:"track,omitempty"`
	Step         int                  `json:"step"`
	Enrolled     bool                 `json:"enrolled"`
	Paused       bool                 `json:"paused,omitempty"`
	NextAt       time.Time            `json:"nextAt,omitempty"`
	Unsubscribed bool                 `json:"unsubscribed,omitempty"`
	Bounced      bool                 `json:"bounced,omitempty"`
	Sends        []time.Time          `json:"sends,omitempty"` // recent sends, for the frequency cap
	Guard        suppression.Decision `json:"guard"`
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
)

func capTail[T any](s []T, n int) []T {
	if len(s) > n {
		return append([]T(nil), s[len(s)-n:]...)
	}
	return s
}
