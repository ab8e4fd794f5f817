package hubspot

import (
	"fmt"
	"strings"

	"github.com/leadflow/leadflow/internal/lead"
)

// ParseStageMap reads HUBSPOT_STAGE_MAP: comma-separated
// stage=lifecyclestage[/hs_lead_status] entries that override DefaultStages
// for a portal with its own values, e.g.
// "sal=salesqualifiedlead/CONNECTED,recycle=lead/ATTEMPTED_TO_CONTACT".
// An empty lead status leaves hs_lead_status untouched for that stage.
func ParseStageMap(s string) (map[lead.Stage]StageMapping, error) {
	out := map[lead.Stage]StageMapping{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		stage, value, ok := strings.Cut(entry, "=")
		if !ok || stage == "" || value == "" {
			return nil, fmt.Errorf("HUBSPOT_STAGE_MAP entry %q: want stage=lifecyclestage[/hs_lead_status]", entry)
		}
		st := lead.Stage(strings.TrimSpace(stage))
		if _, known := DefaultStages[st]; !known {
			return nil, fmt.Errorf("HUBSPOT_STAGE_MAP entry %q: unknown leadflow stage %q", entry, st)
		}
		lc, ls, _ := strings.Cut(value, "/")
		out[st] = StageMapping{Lifecycle: strings.TrimSpace(lc), LeadStatus: strings.TrimSpace(ls)}
	}
	return out, nil
}
