package policy

import "time"

// Owner-away modes: what happens to a rep's untouched handoffs when the
// rep is marked away.
const (
	AwayReroute = "reroute" // route them again now, under the ladder's reassign rules
	AwayPause   = "pause"   // stop their SLA clocks until the rep is back
)

// DefaultReengagementWindow: an owner hears about a lead's new intent at
// most once in this long.
const DefaultReengagementWindow = Duration(time.Hour)

// HumanLoop is what the contract says about the people working leads:
// who finds missing data, when an owner hears of new intent, and what a
// rep's absence does to their leads.
type HumanLoop struct {
	// EnrichmentOwner works enrichment tasks (a rep or queue ID of the
	// directory); empty: the rep routing would give the lead's handoff to.
	EnrichmentOwner string
	// ReengagementWindow bounds re-engagement notifications per lead.
	ReengagementWindow Duration
	// Away is AwayReroute or AwayPause.
	Away string
}

func defaultHumanLoop() HumanLoop {
	return HumanLoop{ReengagementWindow: DefaultReengagementWindow, Away: AwayReroute}
}

// enrichment decodes the optional `enrichment: {owner}` section.
func (d *decoder) enrichment(f field, h *HumanLoop) {
	m := d.mapping(f, "owner")
	if o, ok := m["owner"]; ok {
		// str refuses an empty value; omitting owner lets routing decide.
		if s, ok := d.str(o); ok {
			h.EnrichmentOwner = s
		}
	}
}

// reengagement decodes the optional `reengagement: {window}` section.
func (d *decoder) reengagement(f field, h *HumanLoop) {
	m := d.mapping(f, "window")
	if w, ok := m["window"]; ok {
		if v, ok := d.duration(w, true); ok {
			h.ReengagementWindow = v
		}
	}
}

// away decodes the optional `away: {mode}` section.
func (d *decoder) away(f field, h *HumanLoop) {
	m := d.mapping(f, "mode")
	if md, ok := m["mode"]; ok {
		if s, ok := d.str(md); ok {
			switch s {
			case AwayReroute, AwayPause:
				h.Away = s
			default:
				d.errorf(md.val.Line, md.path, "must be %q or %q", AwayReroute, AwayPause)
			}
		}
	}
}
