package hubspot_test

import (
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/lead"
)

func TestParseStageMap(t *testing.T) {
	m, err := hubspot.ParseStageMap(" sal=salesqualifiedlead/CONNECTED , recycle=lead/ATTEMPTED_TO_CONTACT,opportunity=opportunity")
	if err != nil {
		t.Fatal(err)
	}
	want := map[lead.Stage]hubspot.StageMapping{
		lead.StageSAL:         {Lifecycle: "salesqualifiedlead", LeadStatus: "CONNECTED"},
		lead.StageRecycle:     {Lifecycle: "lead", LeadStatus: "ATTEMPTED_TO_CONTACT"},
		lead.StageOpportunity: {Lifecycle: "opportunity"},
	}
	if len(m) != len(want) {
		t.Fatalf("got %v", m)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s: %+v, want %+v", k, m[k], v)
		}
	}
	if m, err := hubspot.ParseStageMap(""); err != nil || len(m) != 0 {
		t.Errorf("empty: %v %v", m, err)
	}
	for _, bad := range []string{"sal", "sal=", "won=customer", "=lead"} {
		if _, err := hubspot.ParseStageMap(bad); err == nil || !strings.Contains(err.Error(), "HUBSPOT_STAGE_MAP") {
			t.Errorf("%q: want an error naming HUBSPOT_STAGE_MAP, got %v", bad, err)
		}
	}
}
