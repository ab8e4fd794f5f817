package policy

import "time"

// DefaultEffectRetryFor is how long a side effect on a remote system (CRM,
// nurture, notifications) is retried before the lead raises an alert.
const DefaultEffectRetryFor = Duration(24 * time.Hour)

// Effects says how patient the lead is with its dependencies.
type Effects struct {
	// RetryFor bounds the retries of one remote side effect; past it the
	// effect is marked failed, an alert is raised, and an operator can
	// re-drive it (`starter lead retry-effects`).
	RetryFor Duration
}

// effects decodes the optional `effects: {retry_for}` section.
func (d *decoder) effects(f field) Effects {
	e := Effects{RetryFor: DefaultEffectRetryFor}
	m := d.mapping(f, "retry_for")
	if m == nil {
		return e
	}
	if r, ok := m["retry_for"]; ok {
		if v, ok := d.duration(r, true); ok {
			if v.D() < time.Minute {
				d.errorf(r.val.Line, r.path, "must be at least 1m: a shorter window turns a brief outage into an alert")
			} else {
				e.RetryFor = v
			}
		}
	}
	return e
}
