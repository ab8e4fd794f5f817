package lead_test

import (
	"testing"

	"github.com/leadflow/leadflow/internal/lead"
)

func TestStageActiveSalesMotion(t *testing.T) {
	for s, want := range map[lead.Stage]bool{
		lead.StageLead: false, lead.StageMQL: false, lead.StageHandoff: true, lead.StageSAL: true,
		lead.StageOpportunity: true, lead.StageCustomer: false, lead.StageRecycle: false,
		lead.StageDisqualified: false, lead.StageMerged: false, "": false, "Handoff": false,
	} {
		if got := s.ActiveSalesMotion(); got != want {
			t.Errorf("%q.ActiveSalesMotion() = %v, want %v", s, got, want)
		}
	}
}

func TestReasonValid(t *testing.T) {
	contract := []lead.Reason{"bad_fit", "duplicate", "no_response", "timing", "competitor", "other"}
	if len(lead.Reasons) != len(contract) {
		t.Errorf("Reasons = %q, want %q", lead.Reasons, contract)
	}
	for i, r := range contract {
		if !r.Valid() {
			t.Errorf("%q.Valid() = false", r)
		}
		if i < len(lead.Reasons) && lead.Reasons[i] != r {
			t.Errorf("Reasons[%d] = %q, want %q (contract order)", i, lead.Reasons[i], r)
		}
	}
	for _, r := range []lead.Reason{"", "Bad_Fit", "bad fit", "opportunity_lost", "sal_stale", "other "} {
		if r.Valid() {
			t.Errorf("%q.Valid() = true", r)
		}
	}
}

func TestWorkflowIDAndValidLeadID(t *testing.T) {
	if got := lead.WorkflowID("L-1001"); got != "lead/L-1001" {
		t.Errorf("WorkflowID = %q", got)
	}
	for id, want := range map[string]bool{"L-1001": true, "hs-42": true, "a.b_c:d-e": true, "": false,
		"a/b": false, "a b": false, "ä": false} {
		if got := lead.ValidLeadID(id); got != want {
			t.Errorf("ValidLeadID(%q) = %v, want %v", id, got, want)
		}
	}
}
