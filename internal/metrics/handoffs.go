package metrics

import (
	"time"
)

// QueryHandoffFacts lists, one row per handoff, the facts every
// handoff-based definition reads ($1, $2: the period; $3: now, the last
// instant a fact may have happened). A handoff is a transition into handoff
// from another stage; its facts are the ledger rows of the same lead from
// the handoff up to the lead's next handoff:
//
//   - due_at: the handoff's first deadline (data.slaDueAt of the handoff
//     transition; for rows written before the transition carried it, the
//     data.slaDueAt of its first_touch row, which was the owner's clock);
//   - the first_touch row (the first rep contact: via touch, accept or
//     reject), at or before $3;
//   - the first feedback row (the decision), at or before $3;
//   - the current owner: the latest routing row at or before $3;
//   - the signal: the event received last (data.receivedAt, else at) at or
//     before the lead's latest transition into mql at or before the
//     handoff (the handoff itself when there is none).
//
// Handoffs made in the period or whose deadline fell in it are listed.
const QueryHandoffFacts = `
WITH all_handoffs AS (
    SELECT l.lead_id, l.at, {{dim}} AS dim,
           coalesce(l.owner_id, '') AS owner_id,
           coalesce(l.source, '') || coalesce(' / ' || l.campaign, '') AS journey,
           (l.data->>'slaDueAt')::timestamptz AS due_at,
           coalesce(l.data->>'trigger', '') AS trigger,
           lead(l.at) OVER (PARTITION BY l.lead_id ORDER BY l.at, ` + seqExpr + `, l.key) AS next_at
    FROM ledger l
    WHERE l.kind = 'transition' AND l.to_stage = 'handoff'
      AND l.from_stage IS DISTINCT FROM 'handoff' AND l.at <= $3
), h AS (
    SELECT * FROM all_handoffs
    WHERE at < $2 AND (at >= $1 OR due_at IS NULL OR due_at >= $1)
)
SELECT h.dim, h.at, h.owner_id, h.journey,
       coalesce(nullif(h.trigger, ''), ft.data->>'trigger', ''),
       coalesce(h.due_at, (ft.data->>'slaDueAt')::timestamptz),
       ft.at, (ft.data->>'ttftSeconds')::float8, (ft.data->>'ttftBusinessSeconds')::float8,
       coalesce(ft.data->>'via', 'touch'), coalesce((ft.data->>'owners')::int, 1), (ft.data->>'ownerMet')::boolean,
       coalesce(fb.data->>'outcome', ''), coalesce(fb.data->>'repId', fb.owner_id, ''), coalesce(fb.data->>'reason', ''),
       coalesce(cur.owner_id, h.owner_id),
       sig.received_at, coalesce(sig.form, '')
FROM h
LEFT JOIN LATERAL (
    SELECT f.at, f.data FROM ledger f
    WHERE f.kind = 'first_touch' AND f.lead_id = h.lead_id AND f.at >= h.at
      AND (h.next_at IS NULL OR f.at < h.next_at) AND f.at <= $3
    ORDER BY f.at, f.key LIMIT 1) ft ON true
LEFT JOIN LATERAL (
    SELECT f.data, f.owner_id FROM ledger f
    WHERE f.kind = 'feedback' AND f.lead_id = h.lead_id AND f.at >= h.at
      AND (h.next_at IS NULL OR f.at < h.next_at) AND f.at <= $3
    ORDER BY f.at, f.key LIMIT 1) fb ON true
LEFT JOIN LATERAL (
    SELECT r.owner_id FROM ledger r
    WHERE r.kind = 'routing' AND r.lead_id = h.lead_id AND r.at >= h.at
      AND (h.next_at IS NULL OR r.at < h.next_at) AND r.at <= $3 AND r.owner_id IS NOT NULL
    ORDER BY r.at DESC, r.key DESC LIMIT 1) cur ON true
LEFT JOIN LATERAL (
    SELECT coalesce((e.data->>'receivedAt')::timestamptz, e.at) AS received_at,
           coalesce(e.data->'attributes'->>'form', '') AS form
    FROM ledger e
    WHERE e.kind = 'event' AND e.lead_id = h.lead_id
      AND coalesce((e.data->>'receivedAt')::timestamptz, e.at) <= coalesce(
          (SELECT max(m.at) FROM ledger m WHERE m.kind = 'transition' AND m.lead_id = h.lead_id
             AND m.to_stage = 'mql' AND m.at <= h.at), h.at)
    ORDER BY 1 DESC, e.key DESC LIMIT 1) sig ON true
ORDER BY h.at, h.lead_id`

// handoffFact is one row of QueryHandoffFacts.
type handoffFact struct {
	at                   time.Time
	owner, journey, trig string
	due                  *time.Time
	touchAt              *time.Time
	ttft, ttftBusiness   *float64
	via                  string
	owners               int
	ownerMet             *bool
	outcome, decidedBy   string
	reason, currentOwner string
	signalAt             *time.Time
	form                 string
}

// Via values of a first contact.
const (
	ViaTouch  = "touch"
	ViaAccept = "accept"
	ViaReject = "reject"
)

// handoffAgg folds the facts of one dimension value into its Row.
type handoffAgg struct {
	raw, business, speed []float64
	byRep                map[string]*RepAcceptance
	byTrigger            map[string]*TriggerSLA
	bySource, byOffer    map[string]map[string]int
	reasons              map[string]int
	via                  map[string]int
	hist                 []Bucket
}

func newHandoffAgg() *handoffAgg {
	return &handoffAgg{byRep: map[string]*RepAcceptance{}, byTrigger: map[string]*TriggerSLA{},
		bySource: map[string]map[string]int{}, byOffer: map[string]map[string]int{},
		reasons: map[string]int{}, via: map[string]int{}, hist: newHistogram()}
}

// add applies one handoff's facts to r (rules: the package comment).
func (a *handoffAgg) add(r *Row, f handoffFact, p Period, now time.Time) {
	if f.due != nil && !f.due.Before(p.From) && f.due.Before(p.To) {
		st := judge(f, p, now)
		r.FirstTouchSLA.add(st)
		trig := a.byTrigger[f.trig]
		if trig == nil {
			trig = &TriggerSLA{Trigger: f.trig}
			a.byTrigger[f.trig] = trig
		}
		trig.SLA.add(st)
		for i := range r.SLAWeeks {
			if w := &r.SLAWeeks[i]; !f.due.Before(w.From) && f.due.Before(w.To) {
				w.SLA.add(st)
			}
		}
		if f.touchAt != nil && f.owners > 1 && f.ownerMet != nil {
			r.OwnerClock.Total++
			if *f.ownerMet {
				r.OwnerClock.Met++
			}
		}
	}
	if f.at.Before(p.From) || !f.at.Before(p.To) {
		return
	}
	r.HandedOff++
	if f.due == nil {
		r.FirstTouchSLA.Unknown++
	}
	if f.touchAt != nil && f.ttft != nil && f.ttftBusiness != nil {
		a.raw = append(a.raw, *f.ttft)
		a.business = append(a.business, *f.ttftBusiness)
		a.via[f.via]++
		a.hist[bucketOf(*f.ttftBusiness)].Count++
	} else {
		r.Untouched++
	}
	if f.signalAt != nil {
		a.speed = append(a.speed, max(0, f.at.Sub(*f.signalAt).Seconds()))
	} else {
		r.SpeedUnknown++
	}
	rep := f.decidedBy
	if f.outcome == "" {
		rep = f.currentOwner
	}
	ra := a.byRep[rep]
	if ra == nil {
		ra = &RepAcceptance{Rep: rep}
		a.byRep[rep] = ra
	}
	switch f.outcome {
	case "accepted":
		r.Accepted++
		ra.Accepted++
	case "rejected":
		r.Rejected++
		ra.Rejected++
		a.reasons[f.reason]++
		count(a.bySource, f.journey, f.reason)
		count(a.byOffer, offer(f), f.reason)
	default:
		r.Pending++
		ra.Pending++
	}
}

// offer is what the lead asked for: the handoff's trigger, else the form
// of its signal.
func offer(f handoffFact) string {
	if f.trig != "" {
		return f.trig
	}
	return f.form
}

func count(m map[string]map[string]int, key, reason string) {
	if m[key] == nil {
		m[key] = map[string]int{}
	}
	m[key][reason]++
}

// slaState is how one handoff's first deadline went.
type slaState int

const (
	slaMet slaState = iota
	slaBreached
	slaPending
)

// judge: met when the first contact came by the deadline; pending when
// none came and the deadline is after min(period end, now); else breached.
func judge(f handoffFact, p Period, now time.Time) slaState {
	if f.touchAt != nil && !f.touchAt.After(*f.due) {
		return slaMet
	}
	cut := p.To
	if now.Before(cut) {
		cut = now
	}
	if f.touchAt == nil && f.due.After(cut) {
		return slaPending
	}
	return slaBreached
}

func (s *SLA) add(st slaState) {
	switch st {
	case slaMet:
		s.Met++
	case slaBreached:
		s.Breached++
	case slaPending:
		s.Pending++
	}
}

// finish turns the collected facts into the Row's sorted lists.
func (a *handoffAgg) finish(r *Row) {
	r.TTFT, r.TTFTBusiness, r.SpeedToLead = dist(a.raw), dist(a.business), dist(a.speed)
	r.TTFTHistogram = a.hist
	r.Via = []ViaCount{}
	for _, v := range []string{ViaTouch, ViaAccept, ViaReject} {
		r.Via = append(r.Via, ViaCount{Via: v, Count: a.via[v]})
	}
	for v, n := range a.via {
		if v != ViaTouch && v != ViaAccept && v != ViaReject {
			r.Via = append(r.Via, ViaCount{Via: v, Count: n})
		}
	}
	r.AcceptanceRate = ratio(r.Accepted, r.Accepted+r.Rejected)
	r.FirstTouchSLA.rate()
	r.OwnerClock.Rate = ratio(r.OwnerClock.Met, r.OwnerClock.Total)
	for i := range r.SLAWeeks {
		r.SLAWeeks[i].SLA.rate()
	}
	r.AcceptanceByRep = sortedValues(a.byRep, func(x *RepAcceptance) string { return x.Rep })
	for i := range r.AcceptanceByRep {
		x := &r.AcceptanceByRep[i]
		x.Rate = ratio(x.Accepted, x.Accepted+x.Rejected)
	}
	r.SLAByTrigger = sortedValues(a.byTrigger, func(x *TriggerSLA) string { return x.Trigger })
	for i := range r.SLAByTrigger {
		r.SLAByTrigger[i].SLA.rate()
	}
	r.RejectionReasons = reasonCounts(a.reasons)
	r.RejectionsBySource = breakdown(a.bySource)
	r.RejectionsByOffer = breakdown(a.byOffer)
}

func (s *SLA) rate() { s.Rate = ratio(s.Met, s.Met+s.Breached) }

// sortedValues is m's values sorted by key.
func sortedValues[T any](m map[string]*T, key func(*T) string) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, *v)
	}
	sortBy(out, func(x T) string { return key(&x) })
	return out
}

func breakdown(m map[string]map[string]int) []Rejections {
	out := make([]Rejections, 0, len(m))
	for k, reasons := range m {
		rc := reasonCounts(reasons)
		total := 0
		for _, c := range rc {
			total += c.Count
		}
		out = append(out, Rejections{Key: k, Total: total, Reasons: rc})
	}
	sortBy(out, func(x Rejections) string { return x.Key })
	return out
}
