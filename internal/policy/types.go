// Package policy is the handoff contract: the YAML file RevOps writes
// (../shared/policy.example.yaml), loaded into a validated, versioned Policy
// whose conditions are CEL programs compiled once.
//
// A Policy is immutable after Parse and safe to share between goroutines.
package policy

import "time"

// Policy is one version of the handoff contract.
type Policy struct {
	Version  string
	Timezone string
	Location *time.Location
	Scoring  Scoring
	Segments []Segment
	Routing  []RoutingRule
	// StickyOwner: a lead that qualifies again after a recycle goes back to
	// its previous owner when they can take it and the territory is the
	// same (routing: {rules, sticky_owner}; default true).
	StickyOwner bool
	SLA         SLA
	Suppression Suppression
	Plays       map[string]Play
	Nurture     Nurture
	Report      Report    // when the weekly governance report runs
	Effects     Effects   // how long side effects are retried
	People      HumanLoop // enrichment owner, re-engagement window, owner away
	// Notifications: rate limit, quiet hours, weekly report recipients.
	Notifications Notifications

	// Source is the YAML the policy was parsed from and Digest its SHA-256
	// (hex). Workflows carry Source so a replay re-parses the same contract.
	Source []byte
	Digest string

	name string // the file name errors from later checks (CheckPools) cite
}

// Scoring is what makes a lead ready: intent (behaviour) plus fit (profile).
type Scoring struct {
	MQLThreshold       int
	Caps               Caps
	Decay              Decay
	Rules              []Rule // intent rules, matched against each event
	Fit                []Rule // fit rules, matched against the profile
	RequiredForHandoff []string
	// MinFit and MinIntent gate an MQL beside the threshold: fit at least
	// MinFit (default 0: not negative) and intent at least MinIntent
	// (default 0). A fast track needs only fit not negative.
	MinFit, MinIntent int
}

// Caps bound the two halves of the score (0 means no cap).
type Caps struct{ Intent, Fit int }

// Decay halves intent every HalfLife of silence (0: no decay).
type Decay struct{ HalfLife Duration }

// Rule is one scoring rule.
type Rule struct {
	Name      string
	When      *Cond
	Points    int
	Once      bool // at most once per cycle
	FastTrack bool // hand off now, whatever the score
}

// Segment is a named slice of the market, first match wins.
type Segment struct {
	Name string
	When *Cond
}

// RoutingRule picks who owns a lead; first match wins and the last one
// matches everything.
type RoutingRule struct {
	Name         string
	When         *Cond // nil: always
	AccountOwner bool  // owner of the account matched by domain, if any
	Territory    string
	Pool         string
	Line         int // where the rule starts in the policy file, for errors about it
}

// SLA is what Sales is held to after a handoff.
type SLA struct {
	BusinessHours BusinessHours
	FirstTouch    []SLAWindow // first match wins
	Acceptance    SLAWindow
	Ladder        []LadderStep // ascending by At
	MaxReassigns  int
	SALStaleAfter Duration
}

// BusinessHours is the calendar SLA clocks run on.
type BusinessHours struct {
	Always   bool           // 24x7: every minute counts
	Days     []time.Weekday // working days
	Start    Clock          // start of the working day, local time
	End      Clock          // end of the working day, local time
	Holidays string         // holiday calendar code ("US"), "" for none
}

// Clock is a time of day, minutes after midnight.
type Clock int

// SLAWindow is one SLA: a condition and how long Sales has.
type SLAWindow struct {
	When   *Cond
	Within Duration
}

// Ladder actions.
const (
	ActionRemind   = "remind"
	ActionEscalate = "escalate"
	ActionReassign = "reassign"
)

// LadderStep is one rung: at this fraction of the SLA in force, do Action.
type LadderStep struct {
	At     float64
	Action string
}

// Suppression holds the guards that keep nurture away from people who should
// not get it right now.
type Suppression struct {
	RecentRepTouch Duration
	FrequencyCap   FrequencyCap
	QuietHours     *QuietHours // nil: none
}

// FrequencyCap: at most Max touches per Per (Max 0: no cap).
type FrequencyCap struct {
	Max int
	Per Duration
}

// QuietHours is a daily window (may wrap midnight) in the policy's time zone.
type QuietHours struct{ Start, End Clock }

// Play is what a rejection or loss reason does.
type Play struct {
	To      string // disqualified, merged or recycle
	Nurture string // track while recycled
	CoolOff Duration
	Score   string // reset, halve or keep
	// Requalify: after the cool-off the lead needs new intent (a scored
	// event after it) before it can be an MQL again (RequalifyNewIntent,
	// the default), or may qualify at once on the score it kept.
	Requalify string
}

// Requalify rules of a recycle play.
const (
	RequalifyNewIntent    = "new_intent"
	RequalifyAtCoolOffEnd = "cool_off_end"
)

// Score rules of a play.
const (
	ScoreReset = "reset"
	ScoreHalve = "halve"
	ScoreKeep  = "keep"
)

// Nurture is the marketing side: which track a lead is on when.
type Nurture struct {
	OnEnterLead     string
	OnEnterCustomer string
	Tracks          map[string]Track
}

// Track is a cadence of touches: Steps touches, Every apart, the first one
// First after the lead is enrolled (optional `first:`; unset, one interval:
// "every 7d" means the first touch a week in). A lead that qualifies or is
// paused before its first touch is due never reaches the nurture system.
type Track struct {
	Every Duration
	Steps int
	First *Duration
}

// FirstTouch is how long after enrollment the first touch is due.
func (t Track) FirstTouch() time.Duration {
	if t.First != nil {
		return t.First.D()
	}
	return t.Every.D()
}
