package lead

import (
	"fmt"
	"time"
)

// Rep changes that act on a rep's leads at once (`starter rep away`, a
// directory import adding an away period, `starter rep deactivate`): an
// addition to the contract's updates.
const (
	UpdateRepUnavailable = "repUnavailable"
	UpdateRepBack        = "repBack"
)

// Why a rep is unavailable.
const (
	RepAway        = "away"        // for a while: untouched handoffs move (or their clocks pause)
	RepDeactivated = "deactivated" // for good: every open lead moves
)

// RepUnavailableRequest tells a lead its owner is away or gone. A lead the
// rep does not own, or (away) has already touched, answers its state and
// changes nothing, so callers may send it to every candidate lead.
type RepUnavailableRequest struct {
	ID     string `json:"id"`
	RepID  string `json:"repId"`
	Reason string `json:"reason"`          // RepAway or RepDeactivated
	Until  string `json:"until,omitempty"` // RFC 3339: the away period's end
	By     string `json:"by"`
}

// RepBackRequest tells a lead its owner is back: a paused SLA clock runs
// again.
type RepBackRequest struct {
	ID    string `json:"id"`
	RepID string `json:"repId"`
	By    string `json:"by"`
}

// Check validates what can be validated without the lead's state.
func (r RepUnavailableRequest) Check() error {
	if fe := firstField(tooLong("id", r.ID, MaxRefBytes), tooLong("repId", r.RepID, MaxRefBytes),
		tooLong("until", r.Until, MaxRefBytes), tooLong("by", r.By, MaxRefBytes)); fe != nil {
		return *fe
	}
	switch {
	case r.ID == "":
		return fmt.Errorf("id is required")
	case r.RepID == "":
		return fmt.Errorf("repId is required")
	case r.Reason != RepAway && r.Reason != RepDeactivated:
		return fmt.Errorf("reason must be %q or %q", RepAway, RepDeactivated)
	case r.By == "":
		return fmt.Errorf("by is required: who changed the rep")
	}
	if r.Until != "" {
		if _, err := time.Parse(time.RFC3339, r.Until); err != nil {
			return fmt.Errorf("until %q is not RFC 3339", r.Until)
		}
	}
	return nil
}

// Check validates what can be validated without the lead's state.
func (r RepBackRequest) Check() error {
	if fe := firstField(tooLong("id", r.ID, MaxRefBytes), tooLong("repId", r.RepID, MaxRefBytes), tooLong("by", r.By, MaxRefBytes)); fe != nil {
		return *fe
	}
	switch {
	case r.ID == "":
		return fmt.Errorf("id is required")
	case r.RepID == "":
		return fmt.Errorf("repId is required")
	case r.By == "":
		return fmt.Errorf("by is required")
	}
	return nil
}
