//go:build chaos

package chaos

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// Promises measured while a SaaS dependency is down (scenario a).
const (
	handoffPromise = time.Second     // quote request POST → GET shows handoff
	ladderPromise  = 2 * time.Second // a ladder rung taken this soon after it is due
	acceptPromise  = time.Second     // accept answered
	// quickPoll is how long a probe polls at 50 ms before handing the lead
	// to the slow (1 s) poller; slowPollFor bounds the slow poller after
	// the fault ends.
	quickPoll   = 3 * time.Second
	slowPollFor = 2 * time.Minute
)

// outageRun follows what a scenario sends while a dependency is down.
type outageRun struct {
	s          *stack
	r          *report
	faultStart time.Time
	faultEnd   time.Time

	mu       sync.Mutex
	probes   []*probe
	accepts  []time.Duration
	acceptKO []string
	slow     sync.WaitGroup
}

type probe struct {
	id     string
	sentAt time.Time // the 202
	seenAt time.Time // first GET showing handoff (zero: never)
}

// handoff posts the events (the last one a quote request) and measures
// POST → a GET that shows the lead handed off: 50 ms polls for quickPoll,
// then a background poll every second until slowPollFor after the fault.
func (o *outageRun) handoff(id string, events ...lead.Event) *probe {
	o.s.t.Helper()
	t0 := time.Now()
	code, body, err := o.s.post(events...)
	if err != nil || code != http.StatusAccepted {
		o.r.fail("POST /v1/events for %s during the outage: %d %s %v", id, code, body, err)
		return nil
	}
	p := &probe{id: id, sentAt: t0}
	o.mu.Lock()
	o.probes = append(o.probes, p)
	o.mu.Unlock()
	if v, ok := o.s.waitStage(id, quickPoll, 50*time.Millisecond, inHandoffOrLater); ok {
		_ = v
		o.mu.Lock()
		p.seenAt = time.Now()
		o.mu.Unlock()
		return p
	}
	o.slow.Add(1)
	go func() {
		defer o.slow.Done()
		until := time.Until(o.faultEnd.Add(slowPollFor))
		if _, ok := o.s.waitStage(id, until, time.Second, inHandoffOrLater); ok {
			o.mu.Lock()
			p.seenAt = time.Now()
			o.mu.Unlock()
		}
	}()
	return p
}

// accept has the lead's current owner accept it and measures the answer.
// A quick refusal because the ladder had just moved the lead to another
// owner is retried with the new owner (at most 3 times); anything else is
// the measurement.
func (o *outageRun) accept(id string) {
	for try := 1; ; try++ {
		v, code, err := o.s.state(id)
		if err != nil || code != http.StatusOK || v.Stage != lead.StageHandoff {
			o.acceptFailed(fmt.Sprintf("%s: not in handoff to accept (%d %s %v)", id, code, v.Stage, err))
			return
		}
		code, _, body, took, err := o.s.update(id, lead.UpdateAccept, lead.AcceptRequest{ID: id + "-accept", RepID: v.OwnerID}, 20*time.Second)
		if err == nil && code == http.StatusUnprocessableEntity && strings.Contains(string(body), "not the owner") && took < acceptPromise && try < 3 {
			continue
		}
		o.mu.Lock()
		o.accepts = append(o.accepts, took)
		o.mu.Unlock()
		if err != nil || code != http.StatusOK {
			o.acceptFailed(fmt.Sprintf("%s: %d after %s %s %v", id, code, ms(took), strings.TrimSpace(string(body)), err))
		}
		return
	}
}

func (o *outageRun) acceptFailed(msg string) {
	o.mu.Lock()
	o.acceptKO = append(o.acceptKO, msg)
	o.mu.Unlock()
}

// every runs tick(i) every `period` from the fault's start until 3 s
// before its end (the tick's own work included), then waits out the fault.
func (o *outageRun) every(period time.Duration, tick func(i int)) int {
	i := 0
	for ; ; i++ {
		next := o.faultStart.Add(time.Duration(i) * period)
		if next.After(o.faultEnd.Add(-3 * time.Second)) {
			break
		}
		time.Sleep(time.Until(next))
		tick(i)
	}
	time.Sleep(time.Until(o.faultEnd)) // the rest of the outage
	return i
}

// results waits for the slow pollers and reports the handoff and accept
// figures, failing the promises that were broken.
func (o *outageRun) results() {
	o.slow.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	var lat []time.Duration
	var late, never []string
	for _, p := range o.probes {
		if p.seenAt.IsZero() {
			never = append(never, p.id)
			continue
		}
		d := p.seenAt.Sub(p.sentAt)
		lat = append(lat, d)
		if d > handoffPromise {
			late = append(late, fmt.Sprintf("%s %s", p.id, ms(d)))
		}
	}
	o.r.fig("handoff_latency", "%s; over %s: %d, never (within %s of the end): %d", stats(lat), handoffPromise, len(late), slowPollFor, len(never))
	o.r.check(len(late) == 0 && len(never) == 0, "handoffs during the outage not within %s: %s; never: %v", handoffPromise, strings.Join(late, ", "), never)
	var slowAccepts []string
	for _, d := range o.accepts {
		if d > acceptPromise {
			slowAccepts = append(slowAccepts, ms(d).String())
		}
	}
	o.r.fig("accept_latency", "%s; not 200: %d", stats(o.accepts), len(o.acceptKO))
	o.r.check(len(o.accepts) > 0, "no accept could be measured during the outage")
	o.r.check(len(slowAccepts) == 0, "accepts slower than %s: %v", acceptPromise, slowAccepts)
	o.r.check(len(o.acceptKO) == 0, "accepts that failed: %s", strings.Join(o.acceptKO, "; "))
}

// ladder checks that every ladder rung the ledger holds for the leads was
// taken within ladderPromise of its due time, split by whether it fell due
// during the outage.
func (o *outageRun) ladder(ids []string) {
	steps, err := o.s.slaSteps(ids)
	if err != nil {
		o.r.fail("reading sla_step rows: %v", err)
		return
	}
	var during, after []time.Duration
	var late []string
	for _, st := range steps {
		if st.Scheduled.Before(o.faultEnd) && !st.Scheduled.Before(o.faultStart) {
			during = append(during, st.Late)
		} else {
			after = append(after, st.Late)
		}
		if st.Late > ladderPromise {
			late = append(late, fmt.Sprintf("%s %s#%d %s late", st.LeadID, st.Kind, st.Step, ms(st.Late)))
		}
	}
	o.r.fig("ladder_lateness_due_in_outage", "%s", stats(during))
	o.r.fig("ladder_lateness_due_outside", "%s", stats(after))
	o.r.check(len(during) > 0, "no ladder step fell due during the outage: nothing measured")
	if len(late) > 0 {
		o.r.fail("%d of %d ladder steps taken more than %s after they were due, e.g. %s", len(late), len(steps), ladderPromise, strings.Join(late[:min(4, len(late))], "; "))
	}
}

// handedOffIDs are the probes' leads plus extra, for the ladder check.
func (o *outageRun) ids(extra ...string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := append([]string(nil), extra...)
	for _, p := range o.probes {
		out = append(out, p.id)
	}
	return out
}

// lastAlert is the newest alert the lead's explain shows, for a figure
// that says why a lead is stuck.
func (s *stack) lastAlert(id string) string {
	code, body, err := s.do(http.MethodGet, "/v1/leads/"+id+"/explain", nil, 10*time.Second)
	if err != nil || code != http.StatusOK {
		return fmt.Sprintf("(explain: %d %v)", code, err)
	}
	var x lead.Explanation
	if err := json.Unmarshal(body, &x); err != nil {
		return "(explain: " + err.Error() + ")"
	}
	if len(x.Alerts) == 0 {
		return fmt.Sprintf("stage %s, no alert", x.Stage)
	}
	a := x.Alerts[len(x.Alerts)-1]
	msg := a.Message
	if len(msg) > 140 {
		msg = msg[:140] + "…"
	}
	return fmt.Sprintf("stage %s, alert %s: %s", x.Stage, a.Kind, msg)
}
