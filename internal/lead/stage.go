package lead

// Stage is where a lead is in its lifecycle (search attribute LeadStage).
type Stage string

const (
	StageLead         Stage = "lead"
	StageMQL          Stage = "mql"
	StageHandoff      Stage = "handoff"
	StageSAL          Stage = "sal"
	StageOpportunity  Stage = "opportunity"
	StageCustomer     Stage = "customer"
	StageRecycle      Stage = "recycle"
	StageDisqualified Stage = "disqualified"
	StageMerged       Stage = "merged"
)

// ActiveSalesMotion reports whether Sales is working the lead, which pauses
// marketing nurture.
func (s Stage) ActiveSalesMotion() bool {
	return s == StageHandoff || s == StageSAL || s == StageOpportunity
}

// Reason is a rep's disposition when rejecting a handoff.
type Reason string

const (
	ReasonBadFit     Reason = "bad_fit"
	ReasonDuplicate  Reason = "duplicate"
	ReasonNoResponse Reason = "no_response"
	ReasonTiming     Reason = "timing"
	ReasonCompetitor Reason = "competitor"
	ReasonOther      Reason = "other"
)

// Reasons are the rejection reasons a rep may give, in contract order.
var Reasons = []Reason{ReasonBadFit, ReasonDuplicate, ReasonNoResponse, ReasonTiming, ReasonCompetitor, ReasonOther}

// Valid reports whether r is one of the contract's rejection reasons.
func (r Reason) Valid() bool {
	for _, x := range Reasons {
		if r == x {
			return true
		}
	}
	return false
}

// Plays that are not rejection reasons but are named in the policy.
const (
	PlayOpportunityLost = "opportunity_lost"
	PlaySALStale        = "sal_stale"
)

// Play targets (policy plays.*.to).
const (
	PlayToDisqualified = "disqualified"
	PlayToMerged       = "merged"
	PlayToRecycle      = "recycle"
)

// Suppression reasons, as they appear in state.nurture.reasons.
const (
	SuppressActiveSalesMotion = "active_sales_motion"
	SuppressRecentRepTouch    = "recent_rep_touch"
	SuppressFrequencyCap      = "frequency_cap"
	SuppressQuietHours        = "quiet_hours"
	SuppressUnsubscribed      = "unsubscribed"
	SuppressBounced           = "bounced"
	SuppressDisqualified      = "disqualified"
)
