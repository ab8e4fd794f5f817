package lead

import (
	"cmp"
	"time"
)

// Deadline is the deadline the lead's owner works against: the SLA's due
// time while one runs, else an accepted lead's stale-SAL time; zero when
// there is neither.
func (v View) Deadline() time.Time {
	if v.SLA != nil && !v.SLA.DueAt.IsZero() {
		return v.SLA.DueAt
	}
	if v.SAL != nil {
		return v.SAL.StaleAt
	}
	return time.Time{}
}

// CompareUrgency orders leads for the inbox: a breached SLA first, then
// the soonest deadline (none last), then the higher score decayed to now,
// then lead ID, so the order is total.
func CompareUrgency(a, b View, now time.Time) int {
	if ba, bb := a.SLA != nil && a.SLA.Breached, b.SLA != nil && b.SLA.Breached; ba != bb {
		if ba {
			return -1
		}
		return 1
	}
	da, db := a.Deadline(), b.Deadline()
	switch {
	case da.IsZero() && !db.IsZero():
		return 1
	case !da.IsZero() && db.IsZero():
		return -1
	}
	if c := da.Compare(db); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Score.DecayedTo(now).Total, a.Score.DecayedTo(now).Total); c != 0 {
		return c
	}
	return cmp.Compare(a.LeadID, b.LeadID)
}
