//go:build chaos

package chaos

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// d. No worker running: accept must answer 503 with Retry-After within
// LEADFLOW_UPDATE_TIMEOUT (3 s here), not hang until the caller gives up.
func testNoWorkerAccept(t *testing.T) {
	r := newReport(t, "d no-worker-accept")
	const timeout = 3 * time.Second
	s := newStack(t, stackConfig{policy: slowPolicy(t), env: []string{"LEADFLOW_UPDATE_TIMEOUT=" + timeout.String()}})
	id := "NOWORKER-1"
	s.send(quote("nw-1", id, westCoast("nw1@acme.io")))
	v, ok := s.waitStage(id, 30*time.Second, 100*time.Millisecond, inHandoffOrLater)
	if !ok {
		t.Fatalf("%s never reached handoff with the worker running", id)
	}
	s.worker.stop() // graceful: the worker leaves its task queue

	// The client waits far longer than the edge should, so a hang is measured.
	code, hdr, body, took, err := s.update(id, lead.UpdateAccept, lead.AcceptRequest{ID: "nw-accept-1", RepID: v.OwnerID}, timeout+20*time.Second)
	if err != nil {
		r.fig("accept", "no answer after %s (%v)", ms(took), err)
	} else {
		r.fig("accept", "%d in %s, Retry-After %q: %s", code, ms(took), hdr.Get("Retry-After"), strings.TrimSpace(string(body)))
	}
	r.check(err == nil && code == http.StatusServiceUnavailable, "accept with no worker: want 503, got %d (err %v) after %s", code, err, ms(took))
	r.check(err == nil && hdr.Get("Retry-After") != "", "accept with no worker: no Retry-After header")
	r.check(took < timeout+2*time.Second, "accept with no worker took %s, want < LEADFLOW_UPDATE_TIMEOUT (%s) + 2s", ms(took), timeout)

	// Informational (the contract's stale state, not asserted here).
	t0 := time.Now()
	sv, scode, serr := s.state(id)
	r.fig("get_state_no_worker", "%d stale=%t in %s (err %v)", scode, sv.Stale, ms(time.Since(t0)), serr)
}

// e. A terminated lead (an operator's last resort) restarts on its next
// event as a new life: new idempotency keys, so a new handoff task, a new
// owner assignment and new ledger rows.
func testTerminatedRestart(t *testing.T) {
	r := newReport(t, "e terminated-restart")
	s := newStack(t, stackConfig{policy: slowPolicy(t)})
	ctx := context.Background()
	id := "TERM-1"
	s.send(quote("tr-1", id, westCoast("term1@acme.io")))
	if _, ok := s.waitStage(id, 30*time.Second, 100*time.Millisecond, inHandoffOrLater); !ok {
		t.Fatalf("%s never reached handoff", id)
	}
	s.mustWait("the first handoff task", 20*time.Second, 100*time.Millisecond, func() bool {
		n, err := s.count(`SELECT count(*) FROM tasks WHERE lead_id = $1 AND kind = 'handoff'`, id)
		return err == nil && n == 1
	})
	before := s.ledgerKeys(id)
	firstTasks := s.taskKeys(id)

	terminatedAt := time.Now()
	if err := s.tc.TerminateWorkflow(ctx, lead.WorkflowID(id), "", "chaos: terminated by an operator"); err != nil {
		t.Fatal(err)
	}
	// The next event starts a new run (SignalWithStart on a closed workflow).
	s.send(quote("tr-2", id, westCoast("term1@acme.io")))
	v, ok := s.waitStage(id, 30*time.Second, 100*time.Millisecond, func(v lead.View) bool {
		return inHandoffOrLater(v) && len(v.History) > 0 && v.History[0].At.After(terminatedAt)
	})
	r.fig("restarted_run", "stage %s after %s", v.Stage, ms(time.Since(terminatedAt)))
	r.check(ok, "the lead did not restart into handoff within 30 s of its next event (stage %s)", v.Stage)

	var tasks, assigns int
	s.waitFor("a second handoff task", 20*time.Second, 200*time.Millisecond, func() bool {
		tasks, _ = s.count(`SELECT count(*) FROM tasks WHERE lead_id = $1 AND kind = 'handoff'`, id)
		assigns, _ = s.count(`SELECT count(*) FROM owner_assignments WHERE lead_id = $1`, id)
		return tasks >= 2 && assigns >= 2
	})
	newKeys := 0
	newTransitions := 0
	for k, kind := range s.ledgerKeys(id) {
		if _, old := before[k]; !old {
			newKeys++
			if kind == "transition" {
				newTransitions++
			}
		}
	}
	r.fig("handoff_tasks", "%d (before terminate %d)", tasks, len(firstTasks))
	r.fig("owner_assignments", "%d", assigns)
	r.fig("ledger_rows_new_life", "%d new keys, %d of them transitions (first life %d rows)", newKeys, newTransitions, len(before))
	r.check(tasks == 2, "handoff tasks after the restart: %d, want 2 (the new life's task must have a new key)", tasks)
	r.check(assigns == 2, "owner assignments after the restart: %d, want 2", assigns)
	// lead → mql → handoff again, each a new row.
	r.check(newTransitions >= 3, "new transition rows in the ledger after the restart: %d, want ≥ 3 (lead, mql, handoff)", newTransitions)
}

// ledgerKeys maps each ledger key of the lead to its kind.
func (s *stack) ledgerKeys(id string) map[string]string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := s.st.Pool().Query(ctx, `SELECT key, kind FROM ledger WHERE lead_id = $1`, id)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, kind string
		if err := rows.Scan(&k, &kind); err != nil {
			s.t.Fatal(err)
		}
		out[k] = kind
	}
	return out
}

func (s *stack) taskKeys(id string) []string {
	s.t.Helper()
	tasks, err := s.st.CRM().Tasks(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	var keys []string
	for _, task := range tasks {
		keys = append(keys, task.Key)
	}
	return keys
}
