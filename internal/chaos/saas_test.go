//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/hubspot/hubspottest"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/nurture/webhook/webhooktest"
)

// a (nurture). The nurture tool's webhook answers 503 (Retry-After: 5) for
// two minutes. Leads on nurture ask for a quote (their nurture must be
// paused) and new leads arrive (an email open and a quote request in one
// batch: handed off before their first touch, so the tool never hears of
// their enrollment): each
// is handed off within 1 s, ladder steps keep their times, accepts answer
// within 1 s, and afterwards every nurture action leadflow recorded reaches
// the tool exactly once.
func testNurtureOutage(t *testing.T) {
	r := newReport(t, "a nurture-503")
	dur := outage(2 * time.Minute)
	const hookSecret = "chaos-nurture-secret"
	rcv := webhooktest.New(t, []byte(hookSecret))
	s := newStack(t, stackConfig{policy: fastPolicy, env: []string{
		"LEADFLOW_NURTURE=webhook", "NURTURE_WEBHOOK_URL=" + rcv.URL(), "NURTURE_WEBHOOK_SECRET=" + hookSecret}})

	// Before the outage: four leads on nurture (enrolled, first touch
	// sent) and three handed off, to be accepted during it.
	var warm, held []string
	for i := 1; i <= 4; i++ {
		id := fmt.Sprintf("NW-%d", i)
		warm = append(warm, id)
		s.send(emailOpen("nw-open-"+id, id, westCoast(strings.ToLower(id)+"@acme.io")))
	}
	s.mustWait("the warm leads enrolled and sent their first touch", 60*time.Second, 100*time.Millisecond, func() bool {
		got := map[string]int{}
		for _, d := range rcv.Received() {
			got[d.Event.LeadID]++
		}
		for _, id := range warm {
			if got[id] < 2 {
				return false
			}
		}
		return true
	})
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("NH-%d", i)
		held = append(held, id)
		s.send(quote("nh-q-"+id, id, westCoast(strings.ToLower(id)+"@acme.io")))
	}
	for _, id := range held {
		if _, ok := s.waitStage(id, 30*time.Second, 100*time.Millisecond, inHandoffOrLater); !ok {
			t.Fatalf("%s not handed off before the outage", id)
		}
	}

	o := &outageRun{s: s, r: r, faultStart: time.Now()}
	o.faultEnd = o.faultStart.Add(dur)
	rcv.FailUntil(o.faultEnd, webhooktest.Failure{Kind: webhooktest.Unavailable, RetryAfter: "5"})
	requestsAtStart := rcv.Requests()
	fresh := 0
	var requestsAtEnd int
	ticks := o.every(10*time.Second, func(i int) {
		switch {
		case i%3 == 0 && i/3 < len(warm):
			id := warm[i/3]
			o.handoff(id, quote("nw-q-"+id, id, nil))
		default:
			fresh++
			id := fmt.Sprintf("NF-%d", fresh)
			p := westCoast(strings.ToLower(id) + "@acme.io")
			o.handoff(id, emailOpen("nf-open-"+id, id, p), quote("nf-q-"+id, id, nil))
		}
		if i%4 == 1 && len(held) > 0 {
			o.accept(held[0])
			held = held[1:]
		}
	})
	requestsAtEnd = rcv.Requests()
	r.fig("outage", "webhook 503 (Retry-After: 5) for %s; %d leads sent in it; %d requests answered 503", ms(dur), ticks, requestsAtEnd-requestsAtStart)
	o.results()

	// Every nurture action leadflow recorded (its store is the book of
	// record) reaches the tool once: wait for the retries to drain.
	var missing []string
	outstanding := 0
	drained := poll(slowPollFor, time.Second, func() bool {
		missing = s.nurtureKeysNotIn(rcv)
		outstanding = 0
		for _, v := range s.states(o.ids(warm...)) {
			outstanding += len(v.Effects)
		}
		return len(missing) == 0 && outstanding == 0
	})
	r.fig("nurture_drain", "all recorded actions delivered %t, %s after the outage ended; %d deliveries, %d repeats of a processed key, %d effects outstanding",
		drained, ms(time.Since(o.faultEnd)), len(rcv.Received()), rcv.Repeats(), outstanding)
	r.check(drained, "nurture actions recorded but never delivered: %v; effects outstanding: %d", missing, outstanding)
	// None twice: one delivery per lead and action (type, track, step).
	seen := map[string]int{}
	var twice []string
	for _, d := range rcv.Received() {
		k := fmt.Sprintf("%s %s %s", d.Event.LeadID, d.Event.Type, d.Event.Track)
		if d.Event.Step != nil && d.Event.Type == "send" {
			k += fmt.Sprint(" step ", *d.Event.Step)
		}
		if seen[k]++; seen[k] == 2 {
			twice = append(twice, k)
		}
	}
	r.check(len(twice) == 0, "actions delivered twice under different keys: %v", twice)
	// Each lead that was on nurture when it asked for a quote had its
	// nurture paused.
	var notPaused []string
	for _, id := range o.ids() {
		if seen[id+" enroll default"] > 0 && seen[id+" pause "] == 0 {
			notPaused = append(notPaused, id)
		}
	}
	r.check(len(notPaused) == 0, "leads enrolled and handed off but never paused at the tool: %v", notPaused)

	o.ladder(o.ids("NH-1", "NH-2", "NH-3"))
}

// nurtureKeysNotIn lists the keys of nurture actions in Postgres that the
// receiver has not processed.
func (s *stack) nurtureKeysNotIn(rcv *webhooktest.Receiver) []string {
	got := map[string]bool{}
	for _, d := range rcv.Received() {
		got[d.Key] = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := s.st.Pool().Query(ctx, `
SELECT key FROM nurture_enrollments UNION ALL SELECT key FROM nurture_pauses
UNION ALL SELECT key FROM nurture_stops UNION ALL SELECT key FROM nurture_sends`)
	if err != nil {
		return []string{err.Error()}
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return []string{err.Error()}
		}
		if !got[k] {
			out = append(out, k)
		}
	}
	return out
}

// a (HubSpot). The HubSpot API answers 429 (Retry-After: 10) for the first
// minute and 503 (Retry-After: 5) for the second: handoffs within 1 s,
// ladder steps on time, accepts within 1 s, and afterwards every owner
// change, task and note exactly once.
func testHubSpotOutage(t *testing.T) {
	r := newReport(t, "a hubspot-429-503")
	dur := outage(2 * time.Minute)
	hs := hubspottest.New(t, hubspottest.WithIndexLag(time.Second))
	owners := map[string]string{} // rep → HubSpot owner
	s := newStack(t, stackConfig{policy: fastPolicy,
		env: []string{"LEADFLOW_CRM=hubspot", "HUBSPOT_BASE_URL=" + hs.URL, "HUBSPOT_TOKEN=" + hubspottest.DefaultToken},
		directory: func(d *directory.Directory) {
			for id, rep := range d.Reps {
				rep.HubSpotOwnerID = hs.AddOwner(hubspot.Owner{Email: id + "@example.com", FirstName: rep.Name})
				owners[id] = rep.HubSpotOwnerID
				d.Reps[id] = rep
			}
		}})
	contact := map[string]string{} // lead → contact
	newLead := func(prefix string, i int) (string, *lead.Profile) {
		email := fmt.Sprintf("%s-%d@acme.io", strings.ToLower(prefix), i)
		c := hs.AddContact(map[string]string{"email": email})
		id := "hs-" + c
		contact[id] = c
		return id, westCoast(email)
	}

	var held []string
	for i := 1; i <= 3; i++ {
		id, p := newLead("held", i)
		held = append(held, id)
		s.send(quote("hh-q-"+id, id, p))
	}
	for _, id := range held {
		if _, ok := s.waitStage(id, 30*time.Second, 100*time.Millisecond, inHandoffOrLater); !ok {
			t.Fatalf("%s not handed off before the outage", id)
		}
	}
	heldIDs := slices.Clone(held)

	o := &outageRun{s: s, r: r, faultStart: time.Now()}
	o.faultEnd = o.faultStart.Add(dur)
	hs.Inject(hubspottest.Fault{Kind: hubspottest.RateLimit, RetryAfter: 10 * time.Second, Until: o.faultStart.Add(dur / 2)})
	hs.Inject(hubspottest.Fault{Kind: hubspottest.Unavailable, RetryAfter: 5 * time.Second, Until: o.faultEnd})
	requestsAtStart := len(hs.Requests())
	ticks := o.every(10*time.Second, func(i int) {
		id, p := newLead("fresh", i)
		o.handoff(id, quote("hf-q-"+id, id, p))
		if i%4 == 1 && len(held) > 0 {
			o.accept(held[0])
			held = held[1:]
		}
	})
	var refused429, refused503 int
	for _, q := range hs.Requests()[requestsAtStart:] {
		switch q.Status {
		case 429:
			refused429++
		case 503:
			refused503++
		}
	}
	r.fig("outage", "HubSpot 429 (Retry-After: 10) then 503 (Retry-After: 5) for %s; %d leads sent in it; %d requests answered 429, %d answered 503", ms(dur), ticks, refused429, refused503)
	o.results()

	// Afterwards: every action delivered, none twice. Wait for the retries
	// to drain: every create confirmed, no effect outstanding in any lead's
	// state, HubSpot matching the ledger.
	ids := o.ids(heldIDs...)
	var hc hubspotCheck
	drained := poll(slowPollFor, time.Second, func() bool {
		hc = s.checkHubSpot(hs, ids, contact, owners)
		return hc.settled && len(hc.twice) == 0 && len(hc.mismatch) == 0
	})
	r.fig("hubspot_drain", "settled %t, %s after the outage ended (%d creates unconfirmed, %d effects outstanding)",
		drained, ms(time.Since(o.faultEnd)), hc.unconfirmed, hc.outstanding)
	r.fig("hubspot_objects", "%d tasks+notes with a key marker, %d creates recorded, %d keys made twice", hc.marked, hc.recorded, len(hc.twice))
	r.fig("hubspot_per_lead_mismatches", "%d of %d leads", len(hc.mismatch), len(ids))
	r.check(hc.settled, "HubSpot writes still outstanding %s after the outage: %d unconfirmed creates, %d effects", slowPollFor, hc.unconfirmed, hc.outstanding)
	r.check(len(hc.twice) == 0, "HubSpot objects created twice for one action: %v", hc.twice)
	r.check(hc.recorded == hc.marked, "creates recorded in hubspot_objects %d ≠ objects with a key marker in HubSpot %d", hc.recorded, hc.marked)
	r.check(len(hc.mismatch) == 0, "HubSpot writes that do not match the ledger: %s", strings.Join(hc.mismatch, "; "))

	o.ladder(ids)
}

// markerRE finds the key token (hubspot.KeyToken) a created object carries.
var markerRE = regexp.MustCompile(`lfk[0-9a-f]{32}`)

type hubspotCheck struct {
	settled          bool // no unconfirmed create, no effect outstanding, every lead handed off
	unconfirmed      int
	outstanding      int
	marked, recorded int
	twice, mismatch  []string
}

// checkHubSpot compares the fake HubSpot with Postgres: no object made
// twice for one action (key marker), every recorded create present, and per
// lead as many handoff tasks, reminders and escalations as the ledger has
// routing decisions, remind and escalate steps; the contact's owner written
// at most once per assignment (a newer owner supersedes a write not yet
// made) and the lead's owner now.
func (s *stack) checkHubSpot(hs *hubspottest.Server, ids []string, contact map[string]string, owners map[string]string) hubspotCheck {
	var c hubspotCheck
	c.unconfirmed, _ = s.count(`SELECT count(*) FROM hubspot_objects WHERE object_id IS NULL`)
	c.recorded, _ = s.count(`SELECT count(*) FROM hubspot_objects`)
	views := s.states(ids)
	c.settled = c.unconfirmed == 0 && len(views) == len(ids)
	for _, v := range views {
		c.outstanding += len(v.Effects)
		c.settled = c.settled && inHandoffOrLater(v) && len(v.Effects) == 0
	}

	byKey := map[string]int{}
	type perLead struct{ handoff, remind, escalate int }
	tasks := map[string]*perLead{}
	leadOf := map[string]string{}
	for id, cid := range contact {
		leadOf[cid] = id
	}
	for _, o := range append(hs.Tasks(), hs.Notes()...) {
		body := o.Properties["hs_task_body"] + o.Properties["hs_note_body"]
		if m := markerRE.FindString(body); m != "" {
			byKey[m]++
		}
		subj := o.Properties["hs_task_subject"]
		for _, a := range o.Associations {
			id := leadOf[a.ToID]
			if id == "" || subj == "" {
				continue
			}
			if tasks[id] == nil {
				tasks[id] = &perLead{}
			}
			switch {
			case strings.HasPrefix(subj, "New lead"):
				tasks[id].handoff++
			case strings.HasPrefix(subj, "Reminder"):
				tasks[id].remind++
			case strings.HasPrefix(subj, "SLA escalation"):
				tasks[id].escalate++
			}
		}
	}
	c.marked = len(byKey)
	for k, n := range byKey {
		if n > 1 {
			c.twice = append(c.twice, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	for _, id := range ids {
		routes, _ := s.count(`SELECT count(*) FROM ledger WHERE lead_id = $1 AND kind = 'routing'`, id)
		// SLA reminders only: a stale SAL's reminder is another message.
		reminds, _ := s.count(`SELECT count(*) FROM ledger WHERE lead_id = $1 AND kind = 'sla_step' AND data->>'action' = 'remind' AND data->>'sla' IN ('first_touch', 'acceptance')`, id)
		escalates, _ := s.count(`SELECT count(*) FROM ledger WHERE lead_id = $1 AND kind = 'sla_step' AND data->>'action' = 'escalate'`, id)
		got := tasks[id]
		if got == nil {
			got = &perLead{}
		}
		if got.handoff != routes || got.remind != reminds || got.escalate != escalates {
			c.mismatch = append(c.mismatch, fmt.Sprintf("%s: handoff tasks %d/%d, reminders %d/%d, escalations %d/%d (HubSpot/ledger)",
				id, got.handoff, routes, got.remind, reminds, got.escalate, escalates))
		}
		hist := hs.PropertyHistory(contact[id], "hubspot_owner_id")
		owner := views[id].OwnerID
		// A newer owner supersedes an older write that had not gone out
		// (the outbox's owner lane): at most one write per assignment, at
		// least one, ending on the lead's owner. (The same owner may come
		// twice in a row: a recycled lead routed again to its last rep.)
		if len(hist) == 0 || len(hist) > routes || (owner != "" && hist[len(hist)-1] != owners[owner]) {
			c.mismatch = append(c.mismatch, fmt.Sprintf("%s: owner writes %v for %d assignments, owner now %s (%s)", id, hist, routes, owner, owners[owner]))
		}
	}
	return c
}
