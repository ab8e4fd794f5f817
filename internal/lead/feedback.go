package lead

import (
	"fmt"
	"strings"
	"time"
)

// AcceptRequest is the `accept` update.
type AcceptRequest struct {
	ID    string `json:"id"`
	RepID string `json:"repId"`
}

// RejectRequest is the `reject` update.
type RejectRequest struct {
	ID          string `json:"id"`
	RepID       string `json:"repId"`
	Reason      Reason `json:"reason"`
	Note        string `json:"note,omitempty"`
	DuplicateOf string `json:"duplicateOf,omitempty"`
	RevisitAt   string `json:"revisitAt,omitempty"`
}

// ReassignRequest is the `reassign` update.
type ReassignRequest struct {
	ID      string `json:"id"`
	OwnerID string `json:"ownerId"`
	By      string `json:"by"`
	Note    string `json:"note,omitempty"`
}

// RetryEffectsRequest is the `retryEffects` update: start the lead's failed
// side effects again, under their original keys.
type RetryEffectsRequest struct {
	ID string `json:"id"`
	By string `json:"by"`
}

// Check validates what can be validated without the lead's state, byte
// bounds (Bounds) first.
func (r RetryEffectsRequest) Check() error {
	if fe := r.Bounds(); fe != nil {
		return *fe
	}
	if r.ID == "" {
		return fmt.Errorf("id is required")
	}
	if r.By == "" {
		return fmt.Errorf("by is required: who re-drives the effects")
	}
	return nil
}

// Check validates what can be validated without the lead's state, byte
// bounds (Bounds) first.
func (r AcceptRequest) Check() error {
	if fe := r.Bounds(); fe != nil {
		return *fe
	}
	if r.ID == "" {
		return fmt.Errorf("id is required")
	}
	if r.RepID == "" {
		return fmt.Errorf("repId is required")
	}
	return nil
}

// Check validates what can be validated without the lead's state, byte
// bounds (Bounds) first.
func (r RejectRequest) Check(self string) error {
	if fe := r.Bounds(); fe != nil {
		return *fe
	}
	if r.ID == "" {
		return fmt.Errorf("id is required")
	}
	if r.RepID == "" {
		return fmt.Errorf("repId is required")
	}
	if r.Reason == "" {
		return fmt.Errorf("reason is required (one of %s)", reasonList())
	}
	if !r.Reason.Valid() {
		return fmt.Errorf("reason %q is not one of %s", r.Reason, reasonList())
	}
	if r.Reason == ReasonDuplicate {
		if r.DuplicateOf == "" {
			return fmt.Errorf("reason duplicate needs duplicateOf: the leadId of the lead to keep")
		}
		if !ValidLeadID(r.DuplicateOf) {
			return fmt.Errorf("duplicateOf %q is not a valid leadId", r.DuplicateOf)
		}
		if r.DuplicateOf == self {
			return fmt.Errorf("duplicateOf is this lead itself")
		}
	}
	if r.Reason == ReasonOther && strings.TrimSpace(r.Note) == "" {
		return fmt.Errorf("reason other needs a note saying why")
	}
	if r.RevisitAt != "" {
		if _, err := time.Parse(time.RFC3339, r.RevisitAt); err != nil {
			return fmt.Errorf("revisitAt %q is not RFC 3339", r.RevisitAt)
		}
	}
	return nil
}

// Check validates what can be validated without the lead's state, byte
// bounds (Bounds) first.
func (r ReassignRequest) Check() error {
	if fe := r.Bounds(); fe != nil {
		return *fe
	}
	if r.ID == "" {
		return fmt.Errorf("id is required")
	}
	if r.OwnerID == "" {
		return fmt.Errorf("ownerId is required")
	}
	if r.By == "" {
		return fmt.Errorf("by is required: who is reassigning")
	}
	return nil
}

// FromEvent turns a CRM's lead.rejected event into a reject request.
func RejectFromEvent(e Event) RejectRequest {
	return RejectRequest{
		ID: e.ID, RepID: e.Attr("repId"), Reason: Reason(e.Attr("reason")),
		Note: e.Attr("note"), DuplicateOf: e.Attr("duplicateOf"), RevisitAt: e.Attr("revisitAt"),
	}
}
