package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
)

// Typed search-attribute keys; the names come from the contract.
var (
	saStage      = temporal.NewSearchAttributeKeyKeyword(lead.SALeadStage)
	saOwner      = temporal.NewSearchAttributeKeyKeyword(lead.SALeadOwner)
	saSegment    = temporal.NewSearchAttributeKeyKeyword(lead.SALeadSegment)
	saTerritory  = temporal.NewSearchAttributeKeyKeyword(lead.SALeadTerritory)
	saPolicy     = temporal.NewSearchAttributeKeyKeyword(lead.SAPolicyVersion)
	saScore      = temporal.NewSearchAttributeKeyInt64(lead.SALeadScore)
	saDueAt      = temporal.NewSearchAttributeKeyTime(lead.SASLADueAt)
	saBreached   = temporal.NewSearchAttributeKeyBool(lead.SASLABreached)
	saSuppressed = temporal.NewSearchAttributeKeyBool(lead.SANurtureSuppressed)
)

// publish shows the lead to operators: search attributes (only those that
// changed) and the Markdown status in the Temporal UI.
func (r *run) publish() {
	if r.s.Stage == "" && len(r.s.Ledger) == 0 && len(r.s.Effects) == 0 {
		return // a run before the lead's first event: nothing to show yet
	}
	r.startReady()
	r.flushLedger()
	now := workflow.Now(r.ctx)
	r.s.Nurture.Guard = r.guard(now)
	r.upsertSearchAttributes()
	workflow.SetCurrentDetails(r.ctx, r.details())
}

// upsertSearchAttributes upserts what differs from the run's search
// attributes (which Continue-As-New carries over), in one command: a
// continued run re-upserts nothing, an unchanged task nothing at all.
func (r *run) upsertSearchAttributes() {
	s := r.s
	cur := workflow.GetTypedSearchAttributes(r.ctx)
	var due time.Time
	breached := false
	if s.SLA != nil {
		due, breached = s.SLA.DueAt.UTC(), s.SLA.Breached
	}
	var ups []temporal.SearchAttributeUpdate
	kw := func(k temporal.SearchAttributeKeyKeyword, v string) {
		if old, _ := cur.GetKeyword(k); old == v {
			return
		}
		if v == "" {
			ups = append(ups, k.ValueUnset())
			return
		}
		ups = append(ups, k.ValueSet(v))
	}
	flag := func(k temporal.SearchAttributeKeyBool, v bool) {
		// set even when false: "SLABreached = false" finds the leads on time
		if old, ok := cur.GetBool(k); !ok || old != v {
			ups = append(ups, k.ValueSet(v))
		}
	}
	kw(saStage, string(s.Stage))
	kw(saOwner, s.OwnerID)
	kw(saSegment, s.Segment)
	kw(saTerritory, s.Territory)
	kw(saPolicy, s.PolicyVersion)
	if old, ok := cur.GetInt64(saScore); !ok || old != int64(s.Score.Total()) {
		ups = append(ups, saScore.ValueSet(int64(s.Score.Total())))
	}
	if old, ok := cur.GetTime(saDueAt); ok != !due.IsZero() || !old.Equal(due) {
		if due.IsZero() {
			ups = append(ups, saDueAt.ValueUnset())
		} else {
			ups = append(ups, saDueAt.ValueSet(due))
		}
	}
	flag(saBreached, breached)
	flag(saSuppressed, r.nurtureSuppressed())
	if len(ups) == 0 {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(r.ctx, ups...); err != nil {
		workflow.GetLogger(r.ctx).Error("upsert search attributes", "leadId", s.LeadID, "error", err)
	}
}

// nurtureSuppressed: nurture is not flowing for this lead right now.
func (r *run) nurtureSuppressed() bool { return suppressed(r.s.Nurture) }

func suppressed(n Nurture) bool {
	return !n.Guard.Allowed || n.Paused || (!n.Enrolled && (n.Unsubscribed || n.Bounced))
}

// details is the Markdown status the Temporal UI shows for the lead. No PII.
func (r *run) details() string {
	s := r.s
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** · lead `%s`", s.Stage, s.LeadID)
	if s.OwnerID != "" {
		fmt.Fprintf(&b, " · owner `%s`", s.OwnerID)
	}
	if s.Segment != "" {
		fmt.Fprintf(&b, " · %s", s.Segment)
	}
	fmt.Fprintf(&b, "\n\nScore **%d** (fit %d + intent %d; MQL at %d) · policy `%s`", s.Score.Total(), s.Score.Fit, s.Score.IntentPoints(), r.pol.Scoring.MQLThreshold, s.PolicyVersion)
	if c := s.SLA; c != nil {
		fmt.Fprintf(&b, "\n\nSLA %s due %s", slaLabel(c.Kind), c.DueAt.In(r.pol.Location).Format("Mon 2006-01-02 15:04 MST"))
		if c.Breached {
			b.WriteString(" · **BREACHED**")
		}
		if c.Level < len(c.Steps) {
			st := c.Steps[c.Level]
			fmt.Fprintf(&b, " · next: %s at %s (step %d/%d)", st.Action, st.At.In(r.pol.Location).Format("15:04 MST"), c.Level+1, len(c.Steps))
		}
	}
	if s.Stage == lead.StageRecycle && s.Play != nil {
		fmt.Fprintf(&b, "\n\nPlay %s · cool-off until %s", s.Play.Name, s.CoolOffUntil.In(r.pol.Location).Format("2006-01-02"))
	}
	if len(s.Missing) > 0 {
		fmt.Fprintf(&b, "\n\nWaiting for enrichment: %s", strings.Join(s.Missing, ", "))
	}
	n := s.Nurture
	switch {
	case n.Paused:
		b.WriteString("\n\nNurture: paused (active sales motion)")
	case n.Enrolled && len(n.Guard.Reasons) > 0:
		fmt.Fprintf(&b, "\n\nNurture: %s step %d · held: %s", n.Track, n.Step, strings.Join(n.Guard.Reasons, ", "))
	case n.Enrolled:
		fmt.Fprintf(&b, "\n\nNurture: %s step %d", n.Track, n.Step)
	case n.Unsubscribed || n.Bounced:
		b.WriteString("\n\nNurture: stopped for good (unsubscribed or bounced)")
	}
	if n := len(s.Effects); n > 0 {
		fmt.Fprintf(&b, "\n\nEffects: %d pending", n-r.failedEffects())
		if f := r.failedEffects(); f > 0 {
			fmt.Fprintf(&b, " · **%d FAILED** (", f)
			sep := ""
			for _, e := range s.Effects {
				if e.Failed {
					fmt.Fprintf(&b, "%s%s", sep, e.Kind)
					sep = ", "
				}
			}
			b.WriteString("): `starter lead retry-effects " + s.LeadID + "` re-drives them")
		}
	}
	// The last change by stage and time only: its why can hold a rep's
	// note or free text, and current details are not encrypted (the
	// `explain` query, which is, says why).
	if len(s.History) > 0 {
		t := s.History[len(s.History)-1]
		fmt.Fprintf(&b, "\n\nLast change: %s → %s at %s (`explain` says why)", t.From, t.To, t.At.In(r.pol.Location).Format("2006-01-02 15:04 MST"))
	}
	return b.String()
}

// scoreView is the score decayed to now, with a breakdown that adds up to
// it: the rule hits as awarded, then one "decay" item for what decay, caps
// and an earlier cycle's carried intent make of them.
func (r *run) scoreView() lead.ScoreView {
	now := workflow.Now(r.ctx)
	sc := r.s.Score
	half := policy.Duration(0)
	if r.pol != nil {
		half = r.pol.Scoring.Decay.HalfLife
		sc = sc.DecayedTo(half, now)
	}
	v := lead.ScoreView{Total: sc.Total(), Fit: sc.Fit, Intent: sc.IntentPoints(), AsOf: later(sc.IntentAt, now), IntentExact: sc.Intent}
	if half > 0 {
		v.HalfLife = half.D().String()
	}
	sum := 0
	for _, it := range sc.Breakdown() {
		v.Breakdown = append(v.Breakdown, lead.ScoreItem{Rule: it.Rule, Points: it.Points, EventID: it.EventID, Kind: it.Kind})
		sum += it.Points
	}
	if rest := v.Total - sum; rest != 0 {
		v.Breakdown = append(v.Breakdown, lead.ScoreItem{Rule: "decay", Points: rest, Kind: lead.ScoreItemDecay})
	}
	if v.Breakdown == nil {
		v.Breakdown = []lead.ScoreItem{}
	}
	return v
}

func (r *run) nurtureView() lead.NurtureView {
	// Judge the guard as of now: the view may be read (an update's result)
	// before the loop publishes the new state. Queries must not change
	// state, so the guard stays local.
	n := r.s.Nurture
	n.Guard = r.guard(workflow.Now(r.ctx))
	v := lead.NurtureView{Enrolled: n.Enrolled, Track: n.Track, Step: n.Step, Suppressed: suppressed(n), Reasons: n.Guard.Reasons}
	if n.Paused && len(v.Reasons) == 0 {
		v.Reasons = []string{lead.SuppressActiveSalesMotion}
	}
	if n.Enrolled && !n.Paused && !n.NextAt.IsZero() {
		t := n.NextAt
		v.NextAt = &t
	}
	return v
}

// view is the contract's lead state.
func (r *run) view() lead.View {
	s := r.s
	v := lead.View{
		LeadID: s.LeadID, Stage: s.Stage, OwnerID: s.OwnerID, Segment: s.Segment, Territory: s.Territory,
		Score: r.scoreView(), Nurture: r.nurtureView(), PolicyVersion: s.PolicyVersion, RecycleCount: s.RecycleCount,
		Missing: s.Missing, MergedInto: s.MergedInto, Play: s.Play, History: s.History,
		Effects: r.effectViews(),
	}
	if v.History == nil {
		v.History = []lead.Transition{}
	}
	if c := s.SLA; c != nil {
		v.SLA = &lead.SLAView{Kind: c.Kind, StartedAt: c.StartedAt, DueAt: c.DueAt, Breached: c.Breached, Level: c.Level}
		if c.Level < len(c.Steps) {
			v.SLA.NextStep, v.SLA.NextAt = c.Steps[c.Level].Action, c.Steps[c.Level].At
		}
	}
	if s.Profile != (lead.Profile{}) {
		if c := r.contact(); c != (lead.ContactView{}) {
			v.Contact = &c
		}
	}
	if h := s.Handoff; h != nil && !h.FirstTouchAt.IsZero() {
		t := h.FirstTouchAt
		v.FirstTouchAt = &t
	}
	if s.Stage == lead.StageSAL && s.SAL != nil {
		v.SAL = &lead.SALView{Since: s.SAL.Since}
		v.SAL.StaleAt, _ = r.salNext()
	}
	if s.Stage == lead.StageRecycle && !s.CoolOffUntil.IsZero() {
		t := s.CoolOffUntil
		v.CoolOffUntil = &t
	}
	return v
}

// explain says why the lead is where it is.
func (r *run) explain() lead.Explanation {
	s := r.s
	e := lead.Explanation{
		LeadID: s.LeadID, Stage: s.Stage, PolicyVersion: s.PolicyVersion, Score: r.scoreView(),
		Threshold: r.pol.Scoring.MQLThreshold, Trigger: s.Trigger, Routing: s.Routing, Suppression: r.nurtureView(),
		Ladder: s.Ladder, Refusals: s.Refusals, Alerts: s.Alerts, History: s.History, Timeline: r.timeline(),
		Effects: r.effectViews(),
	}
	if len(s.History) > 0 {
		e.Why = s.History[len(s.History)-1].Why
	}
	if e.Ladder == nil {
		e.Ladder = []lead.LadderTaken{}
	}
	if e.History == nil {
		e.History = []lead.Transition{}
	}
	return e
}
