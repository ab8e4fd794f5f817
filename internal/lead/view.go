package lead

import "time"

// View is the lead state of the contract: the `state` query and
// GET /v1/leads/{leadId}.
type View struct {
	LeadID        string       `json:"leadId"`
	Stage         Stage        `json:"stage"`
	OwnerID       string       `json:"ownerId,omitempty"`
	Segment       string       `json:"segment,omitempty"`
	Territory     string       `json:"territory,omitempty"`
	Score         ScoreView    `json:"score"`
	SLA           *SLAView     `json:"sla,omitempty"`
	Nurture       NurtureView  `json:"nurture"`
	PolicyVersion string       `json:"policyVersion"`
	RecycleCount  int          `json:"recycleCount"`
	CoolOffUntil  *time.Time   `json:"coolOffUntil,omitempty"`
	Missing       []string     `json:"missing,omitempty"`
	MergedInto    string       `json:"mergedInto,omitempty"`
	Play          *PlayView    `json:"play,omitempty"`
	History       []Transition `json:"history"`
	// Contact is who the rep calls (PII: shown to the owner, never logged).
	Contact *ContactView `json:"contact,omitempty"`
	// FirstTouchAt is the owner's first contact in the current handoff.
	FirstTouchAt *time.Time `json:"firstTouchAt,omitempty"`
	// SAL watches an accepted lead: since when, and when it goes stale.
	SAL *SALView `json:"sal,omitempty"`
	// Effects are side effects decided but not yet confirmed done (CRM,
	// nurture, notifications, ledger): the lead moved on without waiting.
	Effects []EffectView `json:"effects,omitempty"`
	// Stale is set by the HTTP edge when no worker answered the query and
	// the state is the last one the lead published to Postgres, at
	// PublishedAt.
	Stale       bool       `json:"stale,omitempty"`
	PublishedAt *time.Time `json:"publishedAt,omitempty"`
}

// Effect statuses.
const (
	EffectPending = "pending" // waiting for an earlier effect it is ordered after
	EffectRunning = "running" // started; retrying until it succeeds or its window ends
	EffectFailed  = "failed"  // gave up: alerted; `starter lead retry-effects` starts it again
)

// EffectView is one side effect in the lead's outbox.
type EffectView struct {
	Key       string    `json:"key"`
	Kind      string    `json:"kind"`
	Summary   string    `json:"summary"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"` // times the workflow started it (re-drives count)
	Since     time.Time `json:"since"`
	LastError string    `json:"lastError,omitempty"`
}

// ContactView is the person behind the lead, as far as leadflow knows.
type ContactView struct {
	Name    string `json:"name,omitempty"`
	Company string `json:"company,omitempty"`
	Title   string `json:"title,omitempty"`
}

// SALView is an accepted lead's staleness watch.
type SALView struct {
	Since   time.Time `json:"since"`
	StaleAt time.Time `json:"staleAt,omitzero"` // the next stale step (reminder, then the sal_stale play)
}

// ScoreView is the score with its breakdown. Intent decays: the score is as
// of AsOf, and the breakdown ends with a "decay" item (kind "decay") so that
// it adds up to Total; HalfLife lets a reader decay it further (DecayedTo).
type ScoreView struct {
	Total     int         `json:"total"`
	Fit       int         `json:"fit"`
	Intent    int         `json:"intent"`
	Breakdown []ScoreItem `json:"breakdown"`
	AsOf      time.Time   `json:"asOf,omitzero"`
	// IntentExact is the unrounded intent at AsOf, and HalfLife its decay
	// (Go duration; empty: no decay).
	IntentExact float64 `json:"intentExact,omitempty"`
	HalfLife    string  `json:"halfLife,omitempty"`
}

// ScoreItem is one rule's contribution.
type ScoreItem struct {
	Rule    string `json:"rule"`
	Points  int    `json:"points"`
	EventID string `json:"eventId,omitempty"`
	Kind    string `json:"kind,omitempty"`
}

// SLA kinds.
const (
	SLAFirstTouch = "first_touch"
	SLAAcceptance = "acceptance"
)

// SLAView is the SLA clock in force.
type SLAView struct {
	Kind      string    `json:"kind"`
	StartedAt time.Time `json:"startedAt"`
	DueAt     time.Time `json:"dueAt"`
	Breached  bool      `json:"breached"`
	Level     int       `json:"level"`
	NextStep  string    `json:"nextStep,omitempty"`
	NextAt    time.Time `json:"nextAt,omitempty"`
}

// NurtureView is the marketing side of the lead.
type NurtureView struct {
	Enrolled   bool       `json:"enrolled"`
	Suppressed bool       `json:"suppressed"`
	Reasons    []string   `json:"reasons,omitempty"`
	Track      string     `json:"track,omitempty"`
	Step       int        `json:"step"`
	NextAt     *time.Time `json:"nextAt,omitempty"`
}

// PlayView is the recycle play chosen for the last rejection or loss.
type PlayView struct {
	Name    string `json:"name"`
	To      string `json:"to"`
	Nurture string `json:"nurture,omitempty"`
	CoolOff string `json:"coolOff,omitempty"`
	Score   string `json:"score,omitempty"`
}

// Transition is one stage change.
type Transition struct {
	At   time.Time `json:"at"`
	From Stage     `json:"from"`
	To   Stage     `json:"to"`
	Why  string    `json:"why"`
	// Policy is the version the lead was deciding under at the time.
	Policy string `json:"policy,omitempty"`
}

// TimelineItem is one recent event, as a rep sees it.
type TimelineItem struct {
	At      time.Time `json:"at"`
	EventID string    `json:"eventId"`
	Type    string    `json:"type"`
	Summary string    `json:"summary,omitempty"`
}

// Explanation is the `explain` query: why the lead is where it is.
type Explanation struct {
	LeadID        string         `json:"leadId"`
	Stage         Stage          `json:"stage"`
	Why           string         `json:"why"`
	PolicyVersion string         `json:"policyVersion"`
	Score         ScoreView      `json:"score"`
	Threshold     int            `json:"threshold"`
	Trigger       string         `json:"trigger,omitempty"`
	Routing       *RoutingView   `json:"routing,omitempty"`
	Suppression   NurtureView    `json:"suppression"`
	Ladder        []LadderTaken  `json:"ladder"`
	Refusals      []Refusal      `json:"refusals,omitempty"`
	Alerts        []Alert        `json:"alerts,omitempty"`
	Effects       []EffectView   `json:"effects,omitempty"`
	History       []Transition   `json:"history"`
	Timeline      []TimelineItem `json:"timeline"`
}

// RoutingView is the last routing decision: the rule, what it looked at,
// every candidate and why it was or was not chosen.
type RoutingView struct {
	At            time.Time         `json:"at"`
	Rule          string            `json:"rule"`
	Territory     string            `json:"territory,omitempty"`
	Pool          string            `json:"pool,omitempty"`
	Strategy      string            `json:"strategy,omitempty"`
	OwnerID       string            `json:"ownerId"`
	Fallback      bool              `json:"fallback,omitempty"`
	Candidates    []Candidate       `json:"candidates"`
	Inputs        map[string]string `json:"inputs"`
	Why           string            `json:"why"`
	PolicyVersion string            `json:"policyVersion"`
}

// Candidate is one rep routing considered.
type Candidate struct {
	RepID   string `json:"repId"`
	Skipped string `json:"skipped,omitempty"`
	Chosen  bool   `json:"chosen,omitempty"`
}

// LadderTaken is one SLA ladder step that ran.
type LadderTaken struct {
	At      time.Time `json:"at"`
	SLA     string    `json:"sla"`
	Step    int       `json:"step"`
	Action  string    `json:"action"`
	OwnerID string    `json:"ownerId"`
	Note    string    `json:"note,omitempty"`
	Policy  string    `json:"policy,omitempty"` // the version whose ladder it was
}

// Refusal is feedback (an accept/reject event from a CRM) that broke the
// rules and so changed nothing.
type Refusal struct {
	At      time.Time `json:"at"`
	EventID string    `json:"eventId"`
	Type    string    `json:"type"`
	Message string    `json:"message"`
}

// Alert is something leadflow raised for ops.
type Alert struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}
