package workflows

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/scoring"
)

// Tasks follow the lead: a rep's task exists exactly while its work does.
// The handoff task is completed when the owner accepts, and cancelled with
// the reason when the lead is rejected, reassigned (the new owner gets a
// task of their own), merged, or leaves handoff any other way. The
// enrichment task is completed when the missing fields arrive.

// handoffTask creates the owner's task, due when the SLA in force is due,
// with the context a rep needs: why now, the score, the timeline, campaign;
// and tells the owner (of a reassignment, from whom).
func (r *run) handoffTask(now time.Time, from string) {
	campaign := map[string]string{}
	for _, ev := range r.s.Recent {
		//workflowcheck:ignore (sorted keys)
		for _, k := range slices.Sorted(maps.Keys(ev.Attributes)) {
			if s, ok := ev.Attributes[k].(string); ok && strings.HasPrefix(k, "utm_") {
				campaign[k] = s
			}
		}
	}
	due := now
	if r.s.SLA != nil {
		due = r.s.SLA.DueAt
	}
	key := r.key("handoff", r.s.Cycle, "task", r.s.OwnerID)
	if h := r.s.Handoff; h != nil {
		h.TaskKey, h.TaskID = key, ""
	}
	title := fmt.Sprintf("New lead %s (%s): %s", r.s.LeadID, r.s.Segment, r.s.Trigger)
	if r.s.Trigger == "revisit" {
		title = fmt.Sprintf("Revisit lead %s: %s", r.s.LeadID, r.s.WhyNow)
	}
	r.createTask(actions.TaskInput{
		Key:     key,
		OwnerID: r.s.OwnerID,
		Kind:    actions.TaskHandoff,
		Title:   truncate(title, 200),
		DueAt:   due,
		Context: &actions.HandoffContext{WhyNow: r.s.WhyNow, Trigger: r.s.Trigger, Score: r.scoreView(), Timeline: r.timeline(),
			Campaign: campaign, Segment: r.s.Segment, PolicyVersion: r.pol.Version},
	})
	kind, title := actions.NotifyHandoff, "New lead for you: "
	if from != "" {
		kind, title = actions.NotifyReassigned, "Reassigned to you from "+from+": "
	}
	r.tell(key+":notify", r.s.OwnerID, kind, false, due,
		fmt.Sprintf("%s%s, %s due %s", title, r.contactLine(), slaLabel(r.slaKind()), due.UTC().Format(time.RFC3339)),
		fmt.Sprintf("Lead %s (%s) is yours: %s. Touch it by %s.", r.s.LeadID, r.s.Segment, r.s.WhyNow, due.UTC().Format(time.RFC3339)))
}

// closeTask closes the current handoff task, once: completed (accepted)
// or cancelled with why. The close waits for the task's creation.
func (r *run) closeTask(outcome, by, why string) {
	h := r.s.Handoff
	if h == nil || h.TaskKey == "" {
		return
	}
	r.closeTaskKey(h.TaskKey, outcome, by, why)
	h.TaskKey, h.TaskID = "", ""
}

func (r *run) closeTaskKey(taskKey, outcome, by, why string) {
	r.enqueue(outcome+" task", EffectInput{Close: &actions.CloseTaskInput{
		Key: taskKey + ":close", LeadID: r.s.LeadID, Email: r.s.Profile.Email,
		TaskKey: taskKey, Outcome: outcome, By: by, Reason: truncate(why, maxWhyBytes)}})
}

// requestEnrichment: a qualified lead missing a field needed for handoff gets
// that field found, not a handoff, by someone: the policy's enrichment
// owner, else the rep routing would give the handoff to. It is handed off
// when the field arrives.
func (r *run) requestEnrichment(now time.Time) {
	missing := strings.Join(r.s.Missing, ", ")
	key := r.key("mql", r.s.Cycle+1, "enrichment", missing)
	owner := r.pol.People.EnrichmentOwner
	if owner == "" {
		d, err := r.route(actions.RouteInput{Key: key + ":route", Domain: r.s.Profile.EmailDomain(), Rules: r.matchedRules(), At: now})
		if err != nil {
			r.routeLater(now, "no owner for the enrichment task", err) // never an ownerless task
			return
		}
		r.s.RouteFails = 0
		owner = d.OwnerID
	}
	due := r.cal.Add(now, policy.Duration(24*time.Hour))
	r.s.Enrichment = &Enrichment{TaskKey: key, OwnerID: owner, At: now}
	r.createTask(actions.TaskInput{
		Key:     key,
		OwnerID: owner,
		Kind:    actions.TaskEnrichment,
		Title:   "Find missing fields before handoff: " + missing,
		DueAt:   due,
		Context: &actions.HandoffContext{WhyNow: r.s.WhyNow, Trigger: r.s.Trigger, Score: r.scoreView(),
			Timeline: r.timeline(), Missing: r.s.Missing, Segment: r.s.Segment, PolicyVersion: r.pol.Version},
	})
	r.tell(key+":notify", owner, actions.NotifyEnrichment, false, due,
		fmt.Sprintf("Enrichment needed: %s is missing %s", r.contactLine(), missing),
		fmt.Sprintf("Lead %s qualified (%s) but cannot be handed off without: %s.", r.s.LeadID, r.s.WhyNow, missing))
}

// enrichmentDone completes the enrichment task once its fields are found.
func (r *run) enrichmentDone() {
	if e := r.s.Enrichment; e != nil {
		r.closeTaskKey(e.TaskKey, actions.TaskCompleted, "", "missing fields found")
		r.s.Enrichment = nil
	}
}

// contactLine names the contact for the owner's notification: the person
// and company when known, else the lead ID.
func (r *run) contactLine() string {
	c := r.contact()
	var parts []string
	if c.Name != "" {
		parts = append(parts, c.Name)
	}
	if c.Title != "" {
		parts = append(parts, c.Title)
	}
	if c.Company != "" {
		parts = append(parts, c.Company)
	}
	if len(parts) == 0 {
		return "lead " + r.s.LeadID
	}
	return strings.Join(parts, ", ")
}

func (r *run) contact() lead.ContactView {
	p := r.s.Profile
	return lead.ContactView{Name: strings.TrimSpace(p.FirstName + " " + p.LastName), Company: p.Company, Title: p.Title}
}

func (r *run) slaKind() string {
	if r.s.SLA != nil {
		return r.s.SLA.Kind
	}
	return lead.SLAFirstTouch
}

// handOver follows an owner change (an ops reassign, the ladder, the CRM,
// an away rep): in handoff the old task is cancelled and the new owner gets
// a fresh clock of the SLA in force and a task of their own; both reps are
// told.
func (r *run) handOver(now time.Time, key, from, why string) {
	to := r.s.OwnerID
	due := time.Time{}
	if r.s.Stage == lead.StageHandoff && r.s.SLA != nil {
		r.closeTask(actions.TaskCancelled, "", "reassigned to "+to+": "+why)
		r.s.Away = nil
		r.startSLA(now, r.s.SLA.Kind, r.s.SLA.Within)
		due = r.s.SLA.DueAt
		r.handoffTask(now, from)
	}
	if from != "" {
		r.tell(key+":notify-from", from, actions.NotifyReassigned, false, time.Time{},
			fmt.Sprintf("%s moved to %s", r.contactLine(), to),
			fmt.Sprintf("Lead %s is no longer yours: reassigned to %s (%s).", r.s.LeadID, to, why))
	}
	if r.s.Stage != lead.StageHandoff {
		// In handoff the new task's notification says it; elsewhere say so.
		r.tell(key+":notify-to", to, actions.NotifyReassigned, false, due,
			fmt.Sprintf("%s is now yours (%s)", r.contactLine(), r.s.Stage),
			fmt.Sprintf("Lead %s in stage %s was reassigned to you from %s (%s).", r.s.LeadID, r.s.Stage, from, why))
	}
}

// reengaged: an owned lead shows new intent. Its owner hears of it, at
// most once per policy window, and the CRM record gets the event; the lead
// is never routed again for it.
func (r *run) reengaged(now time.Time, res scoring.Result, ev lead.Event) {
	points := 0
	for _, it := range res.Matched {
		points += it.Points
	}
	if points <= 0 || r.s.OwnerID == "" {
		return
	}
	if !r.s.ReengagedAt.IsZero() && now.Sub(r.s.ReengagedAt) < r.pol.People.ReengagementWindow.D() {
		return
	}
	r.s.ReengagedAt = now
	what := fmt.Sprintf("%s (%s), +%d", ev.Type, eventSummary(ev), points)
	key := r.key("event", ev.ID, "reengaged")
	r.tell(key, r.s.OwnerID, actions.NotifyReengaged, false, time.Time{},
		"Re-engaged: "+r.contactLine()+": "+what,
		fmt.Sprintf("Lead %s (stage %s) showed new intent: %s at %s. Score now %d.", r.s.LeadID, r.s.Stage, what,
			ev.OccurredAt.UTC().Format(time.RFC3339), r.s.Score.Total()))
	r.note(key+":note", "Re-engaged: "+what)
	r.addHistory(lead.Transition{At: now, From: r.s.Stage, To: r.s.Stage, Why: "re-engaged: " + what + "; owner " + r.s.OwnerID + " told"})
}
