//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/temporalx"
)

// tracked is one lead a scenario follows to handoff.
type tracked struct {
	id      string
	via     string    // how its quote request went in: burst, edge, direct
	sentAt  time.Time // when Temporal had it (the 202, or the signal returned)
	sendErr error
}

// b. Postgres stopped for 3 minutes in the middle of a burst of handoffs,
// new quote requests arriving all along: every lead is handed off within
// 30 s of Postgres's return, and the ledger holds every transition each
// lead reports in its state's history.
func testPostgresOutage(t *testing.T) {
	r := newReport(t, "b postgres-3m")
	down := outage(3 * time.Minute)
	const (
		promise  = 30 * time.Second // handed off this soon after the return
		watchFor = 60 * time.Second // how long after the return we look
	)
	s := newStack(t, stackConfig{policy: slowPolicy(t)})
	// The edge's own SignalWithStart, for leads sent straight to Temporal:
	// the HTTP edge itself needs Postgres (merge lookup, receipts).
	lc := temporalx.NewLeadClient(s.tc, lead.TaskQueue)

	const burst = 30
	var mu sync.Mutex
	var leads []*tracked
	var batch []lead.Event
	for i := range burst {
		id := fmt.Sprintf("PG-B%02d", i)
		batch = append(batch, quote("pg-"+id, id, westCoast(strings.ToLower(id)+"@acme.io")))
	}
	s.send(batch...)
	burstAt := time.Now()
	for _, ev := range batch {
		leads = append(leads, &tracked{id: ev.LeadID, via: "burst", sentAt: burstAt})
	}
	// Stop Postgres once the first handoff task exists: the others are
	// being routed, assigned or not yet started.
	s.mustWait("the first handoff task", 30*time.Second, 10*time.Millisecond, func() bool {
		n, err := s.count(`SELECT count(*) FROM tasks`)
		return err == nil && n > 0
	})
	tasksAtStop, _ := s.count(`SELECT count(*) FROM tasks`)
	s.pg.Stop()
	stoppedAt := time.Now()
	w := s.watch(stoppedAt.Add(down+watchFor), time.Second, inHandoffOrLater)
	for _, l := range leads {
		w.add(l.id)
	}
	r.fig("burst", "%d quote requests; %d handoff tasks in Postgres when it stopped", burst, tasksAtStop)

	// While Postgres is down: a new lead every 10 s, alternately through
	// the edge (retried on 503 every 2 s, as an integration does) and
	// straight to Temporal.
	var wg sync.WaitGroup
	var edge503 int
	for i := 0; ; i++ {
		next := stoppedAt.Add(time.Duration(i) * 10 * time.Second)
		if next.After(stoppedAt.Add(down - 5*time.Second)) {
			break
		}
		time.Sleep(time.Until(next))
		id := fmt.Sprintf("PG-O%02d", i)
		ev := quote("pg-"+id, id, westCoast(strings.ToLower(id)+"@acme.io"))
		l := &tracked{id: id}
		mu.Lock()
		leads = append(leads, l)
		mu.Unlock()
		w.add(id)
		if i%2 == 0 {
			l.via = "edge"
			wg.Add(1)
			go func() {
				defer wg.Done()
				at, attempts, err := s.sendRetry(down+90*time.Second, 2*time.Second, ev)
				mu.Lock()
				defer mu.Unlock()
				l.sentAt, l.sendErr = at, err
				edge503 += attempts - 1
			}()
			continue
		}
		l.via = "direct"
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		l.sendErr = lc.Deliver(ctx, id, ev)
		cancel()
		l.sentAt = time.Now()
		if i == 1 {
			code, body, err := s.do(http.MethodGet, "/readyz", nil, 10*time.Second)
			r.fig("readyz_during_outage", "%d %s %v", code, strings.TrimSpace(string(body)), err)
			t0 := time.Now()
			_, code, err = s.state(leads[burst-1].id)
			r.fig("get_state_during_outage", "%d in %s (%v)", code, ms(time.Since(t0)), err)
		}
	}
	time.Sleep(time.Until(stoppedAt.Add(down))) // the outage itself
	s.pg.Start()
	returnedAt := time.Now()
	r.fig("outage", "Postgres down %s", ms(returnedAt.Sub(stoppedAt)))
	wg.Wait() // the edge's senders: accepted within seconds of the return, or gave up
	r.fig("edge_503_during_outage", "%d refused attempts: POST /v1/events needs Postgres", edge503)
	for _, l := range leads {
		if l.sendErr != nil {
			r.fail("%s (%s) was never accepted: %v", l.id, l.via, l.sendErr)
		}
	}

	// Every lead handed off within 30 s of the return (or of its own
	// arrival, if the edge took it only after the return).
	w.wait()
	var after []time.Duration
	byVia := map[string][]time.Duration{}
	var late, never []string
	duringOutage := 0
	for _, l := range leads {
		if l.sendErr != nil {
			continue
		}
		seen := w.when(l.id)
		if seen.IsZero() {
			never = append(never, l.id)
			continue
		}
		if seen.Before(returnedAt) {
			duringOutage++
			continue
		}
		d := seen.Sub(returnedAt)
		if l.sentAt.After(returnedAt) {
			d = seen.Sub(l.sentAt)
		}
		after = append(after, d)
		byVia[l.via] = append(byVia[l.via], d)
		if d > promise {
			late = append(late, fmt.Sprintf("%s %s", l.id, ms(d)))
		}
	}
	r.fig("handoff_before_return", "%d of %d leads", duringOutage, len(leads))
	r.fig("handoff_after_return", "%s (burst %s; edge %s; direct %s)", stats(after), stats(byVia["burst"]), stats(byVia["edge"]), stats(byVia["direct"]))
	r.fig("not_handed_off", "%d of %d leads %s after the return", len(never), len(leads), watchFor)
	if len(never) > 0 {
		r.fig("stuck_lead", "%s: %s", never[0], s.lastAlert(never[0]))
	}
	r.check(len(late) == 0 && len(never) == 0, "%d of %d leads not handed off within %s of Postgres's return (late: %v; not within %s: %d)",
		len(late)+len(never), len(leads), promise, late, watchFor, len(never))

	// The ledger holds every transition each lead reports. It may trail
	// the state by a moment: wait up to 15 s for it to catch up.
	ids := make([]string, len(leads))
	for i, l := range leads {
		ids[i] = l.id
	}
	var missing []string
	var reported int
	poll(15*time.Second, time.Second, func() bool {
		missing, reported = nil, 0
		views := s.states(ids)
		for _, id := range ids {
			v, ok := views[id]
			if !ok {
				missing = append(missing, id+": no state")
				continue
			}
			m, n := s.missingTransitions(v)
			missing = append(missing, m...)
			reported += n
		}
		return len(missing) == 0
	})
	r.fig("ledger_transitions", "%d reported by the leads, %d missing from the ledger", reported, len(missing))
	if len(missing) > 0 {
		r.fail("the ledger lacks %d transitions the leads report, e.g. %s", len(missing), strings.Join(missing[:min(5, len(missing))], "; "))
	}

	// And no handoff was done twice, nor lost: a lead handed off just now
	// may still have its owner and task effects on their way (they run on
	// the SaaS task queue, not eagerly), so give them a bounded while.
	var notOne []string
	poll(30*time.Second, time.Second, func() bool {
		notOne = nil
		for _, l := range leads {
			if w.when(l.id).IsZero() {
				continue
			}
			a, _ := s.count(`SELECT count(*) FROM owner_assignments WHERE lead_id = $1`, l.id)
			tk, _ := s.count(`SELECT count(*) FROM tasks WHERE lead_id = $1 AND kind = 'handoff'`, l.id)
			if a != 1 || tk != 1 {
				notOne = append(notOne, fmt.Sprintf("%s: %d assignments, %d tasks", l.id, a, tk))
			}
		}
		return len(notOne) == 0
	})
	r.fig("handoffs_not_exactly_once", "%d", len(notOne))
	r.check(len(notOne) == 0, "handed-off leads without exactly one owner assignment and one task: %v", notOne)
}

// missingTransitions lists the stage changes in the lead's history that
// have no transition row in the ledger (same from, to and time), and how
// many it checked. Reassignments (from == to) are not stage changes.
func (s *stack) missingTransitions(v lead.View) ([]string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := s.st.Pool().Query(ctx, `
SELECT coalesce(from_stage, ''), coalesce(to_stage, ''), at FROM ledger WHERE lead_id = $1 AND kind = 'transition'`, v.LeadID)
	if err != nil {
		return []string{v.LeadID + ": " + err.Error()}, 0
	}
	defer rows.Close()
	type row struct {
		from, to string
		at       time.Time
	}
	var have []row
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.from, &x.to, &x.at); err != nil {
			return []string{v.LeadID + ": " + err.Error()}, 0
		}
		have = append(have, x)
	}
	var missing []string
	n := 0
	for _, h := range v.History {
		if h.From == h.To {
			continue
		}
		n++
		found := false
		for _, x := range have {
			d := x.at.Sub(h.At)
			if x.from == string(h.From) && x.to == string(h.To) && d < time.Millisecond && d > -time.Millisecond {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%s %s→%s at %s", v.LeadID, h.From, h.To, h.At.UTC().Format("15:04:05.000")))
		}
	}
	return missing, n
}
