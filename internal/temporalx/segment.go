package temporalx

import (
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
)

// SegmentBy is a LeadClient.Segment over the policy's segments: the first
// whose condition matches the profile, as the workflow decides it.
func SegmentBy(p *policy.Policy) func(*lead.Profile) string {
	return func(pr *lead.Profile) string {
		vars := policy.Vars{Lead: pr.CELMap()}
		for _, sg := range p.Segments {
			if ok, err := sg.When.Match(vars); err == nil && ok {
				return sg.Name
			}
		}
		return ""
	}
}
