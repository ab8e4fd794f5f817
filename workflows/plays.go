package workflows

import (
	"fmt"
	"slices"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/scoring"
)

// Plays that respect what Sales said: a recycled lead needs new intent
// before it is an MQL again and goes back to the rep who had it; a rep's
// revisit date hands it to them again; a disqualified lead returns only
// when what made it a bad fit changes; a customer's signals go to the
// account owner and its expansion deals are pipeline of their own.

// newIntent reports whether the event scored intent points.
func newIntent(res scoring.Result) bool {
	for _, it := range res.Matched {
		if it.Points > 0 {
			return true
		}
	}
	return false
}

// fitFieldChanged reports whether a profile change touched a field a fit
// rule reads.
func (r *run) fitFieldChanged(changed []string) bool {
	for _, rule := range r.pol.Scoring.Fit {
		if rule.When == nil {
			continue
		}
		for _, f := range rule.When.LeadFields {
			if slices.Contains(changed, f) {
				return true
			}
		}
	}
	return false
}

// fitPasses: the profile alone now makes the lead a fit.
func (r *run) fitPasses() bool {
	return r.s.Score.Fit > 0 && r.s.Score.Fit >= r.pol.Scoring.MinFit
}

// preferredOwner is the sticky owner for this handoff: the rep who had the
// lead before its recycle, while the territory is the same.
func (r *run) preferredOwner(rules []routing.Rule) string {
	if !r.pol.StickyOwner || r.s.LastOwner == "" {
		return ""
	}
	for _, rule := range rules {
		if rule.Pool != "" || rule.Territory != "" {
			if rule.Territory != r.s.LastTerritory {
				return ""
			}
			return r.s.LastOwner
		}
	}
	return ""
}

// revisitDue: the rep asked to come back to the lead on this date. It is
// handed to them again (routing decides when they can no longer take it),
// with a task that says why and an SLA.
func (r *run) revisitDue(now time.Time) {
	rv := r.s.Revisit
	r.s.Revisit = nil
	switch r.s.Stage {
	case lead.StageRecycle, lead.StageLead:
	default:
		r.addHistory(lead.Transition{At: now, From: r.s.Stage, To: r.s.Stage, Why: "revisit date of " + rv.RepID + " passed in stage " + string(r.s.Stage) + ": nothing to do"})
		return
	}
	r.s.CoolOffUntil, r.s.NeedIntent = time.Time{}, false
	r.s.LastOwner = rv.RepID // the same rep, if still active
	r.s.Trigger, r.s.TriggerEvent = "revisit", ""
	r.s.WhyNow = fmt.Sprintf("revisit asked by %s for %s", rv.RepID, rv.At.UTC().Format(time.RFC3339))
	if rv.Note != "" {
		r.s.WhyNow += ": " + rv.Note
	}
	r.s.Missing = nil
	r.transition(now, lead.StageMQL, r.s.WhyNow)
	r.handoff(now)
}

// accountOwner is who works a customer's new buying signal: the owner of
// the matched account, else the rep who won the deal, else the lead's
// owner, else routing. False when the directory could not answer (alerted).
func (r *run) accountOwner(now time.Time, ev lead.Event) (string, bool) {
	rules := r.matchedRules()
	var account []routing.Rule
	for _, rule := range rules {
		if rule.AccountOwner {
			account = append(account, rule)
		}
	}
	if len(account) > 0 && r.s.Profile.EmailDomain() != "" {
		d, err := r.route(actions.RouteInput{Key: r.key("event", ev.ID, "account"), Domain: r.s.Profile.EmailDomain(), Rules: account, At: now})
		switch {
		case err == nil:
			return d.OwnerID, true
		case !isNonRetryable(err):
			r.alert("routing_failed", "upsell routing failed: "+errMessage(err), true)
			return "", false
		}
		// No account matched: the rep who won the deal.
	}
	for _, rep := range []string{r.s.WonBy, r.s.OwnerID} {
		if rep != "" {
			return rep, true
		}
	}
	d, err := r.route(actions.RouteInput{Key: r.key("event", ev.ID, "route"), Domain: r.s.Profile.EmailDomain(), Rules: rules, At: now})
	if err != nil {
		r.alert("routing_failed", "upsell routing failed: "+errMessage(err), true)
		return "", false
	}
	r.s.OwnerID, r.s.ManagerID = d.OwnerID, d.ManagerID
	return d.OwnerID, true
}

// expansion follows a customer's expansion opportunity: created pauses
// customer nurture, won or lost resumes it; each is a ledger row of its own
// (expansion pipeline is reported apart from new business).
func (r *run) expansion(now time.Time, ev lead.Event, outcome string) {
	if outcome == "created" && r.s.Expansion != nil {
		r.refuseQuietly(ev, "opportunity.created ignored: expansion "+r.s.Expansion.EventID+" is open")
		return
	}
	data := map[string]any{"outcome": outcome, "eventId": ev.ID}
	if a, ok := ev.Attributes["amount"]; ok {
		data["amount"] = a
	}
	if outcome == "created" {
		r.s.Expansion = &Expansion{EventID: ev.ID, At: now}
		r.pauseNurture("expansion-" + ev.ID)
	} else {
		data["openedBy"] = r.s.Expansion.EventID
		r.s.Expansion = nil
		r.enrollTrack(now, r.pol.Nurture.OnEnterCustomer, ev.ID)
	}
	r.ledger(actions.LedgerEntry{Key: r.key("event", ev.ID, "expansion"), Kind: actions.LedgerExpansion,
		Why: "expansion opportunity " + outcome + " (" + ev.ID + ")" + amountNote(ev), Data: data})
	r.addHistory(lead.Transition{At: now, From: r.s.Stage, To: r.s.Stage, Why: "expansion opportunity " + outcome + " (" + ev.ID + ")" + amountNote(ev)})
}
