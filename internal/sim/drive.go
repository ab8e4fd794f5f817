package sim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

const (
	pollFirst      = 200 * time.Millisecond
	pollMax        = 2 * time.Second
	requestTimeout = 20 * time.Second
	maxInFlight    = 16 // concurrent API calls of the simulated reps
	sendTick       = time.Second
)

// API is what Drive needs of `starter serve`'s HTTP API (starter wires
// its HTTP client; a test may wire anything that answers the same).
type API interface {
	// Send posts evs, signed and in batches within the contract's limits,
	// retrying what the server did not take; onRetry hears of each wait.
	Send(ctx context.Context, evs []lead.Event, onRetry func(wait time.Duration, err error)) (Sent, error)
	// Lead reads the lead's state (GET /v1/leads/{id}).
	Lead(ctx context.Context, id string) (lead.View, error)
	// Update runs the named rep update (accept, reject) on the lead.
	Update(ctx context.Context, id, name string, req any) error
	// Status is the HTTP status an error of this API carries, 0 if none.
	Status(err error) int
}

// Sent counts what the server took of the events sent.
type Sent struct{ Accepted, Duplicates int }

// DriveConfig says how to play a Plan.
type DriveConfig struct {
	API     API
	Out     io.Writer // the progress and the summaries
	RepsAct bool      // act as the reps once leads reach handoff
	Wait    time.Duration
	Now     func() time.Time
	// Sleep paces the events and the polls (a test's clock may advance
	// instead of waiting).
	Sleep func(context.Context, time.Duration) error
}

// Drive sends the plan's events through the API as they "happen", plays
// the reps (when RepsAct) and prints what the reps did and the funnel.
func Drive(ctx context.Context, plan *Plan, cfg DriveConfig) error {
	if cfg.Wait <= 0 {
		return fmt.Errorf("sim: DriveConfig.Wait must be positive")
	}
	d := &driver{
		api: cfg.API, plan: plan, out: &syncWriter{w: cfg.Out}, repsAct: cfg.RepsAct, wait: cfg.Wait,
		now: cfg.Now, sleep: cfg.Sleep, limit: make(chan struct{}, maxInFlight),
	}
	return d.run(ctx)
}

// driver sends a Plan through the API and plays the reps.
type driver struct {
	api     API
	plan    *Plan
	out     io.Writer
	repsAct bool
	wait    time.Duration
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	limit   chan struct{} // bounds the reps' concurrent API calls
}

type scheduled struct {
	at   time.Duration
	lead int
	ev   lead.Event
}

// repResult is what one simulated rep did.
type repResult struct {
	did    string // "accepted", "rejected:timing", "untouched", …
	gaveUp bool
	err    error
}

func (d *driver) run(ctx context.Context) error {
	var items []scheduled
	for i, l := range d.plan.Leads {
		for _, s := range l.Events {
			items = append(items, scheduled{at: s.At, lead: i, ev: s.Event})
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at < items[j].at })

	results := make([]repResult, len(d.plan.Leads))
	actCtx, cancelActs := context.WithCancel(ctx)
	defer cancelActs()
	var wg sync.WaitGroup
	started := make([]bool, len(d.plan.Leads))
	begin := d.now()
	sent, arrived := 0, 0
	lastSend := -sendTick
	for next := 0; next < len(items); {
		// Pacing, not synchronisation: events go out when they "happen",
		// gathered into one batch per tick.
		due := max(items[next].at, lastSend+sendTick)
		if w := due - d.now().Sub(begin); w > 0 {
			if err := d.sleep(ctx, w); err != nil {
				return err
			}
		}
		elapsed := d.now().Sub(begin)
		var evs []lead.Event
		var fresh []int
		for ; next < len(items) && items[next].at <= elapsed; next++ {
			it := items[next]
			evs = append(evs, it.ev)
			if !started[it.lead] {
				started[it.lead] = true
				fresh = append(fresh, it.lead)
			}
		}
		if len(evs) == 0 {
			continue
		}
		lastSend = elapsed
		res, err := d.sendEvents(ctx, evs)
		if err != nil {
			return fmt.Errorf("simulate: sending events: %w", err)
		}
		sent += len(evs)
		arrived += len(fresh)
		fmt.Fprintf(d.out, "[%6.1fs] sent %3d events (%d/%d leads, %d/%d events): accepted %d, duplicates %d\n",
			elapsed.Seconds(), len(evs), arrived, len(d.plan.Leads), sent, len(items), res.Accepted, res.Duplicates)
		if !d.repsAct {
			continue
		}
		for _, i := range fresh {
			l := &d.plan.Leads[i]
			if !l.ExpectHandoff() {
				continue
			}
			wg.Go(func() { results[i] = d.act(actCtx, l) })
		}
	}
	if d.repsAct {
		fmt.Fprintf(d.out, "all events sent; waiting for the reps (up to %s per lead)…\n", d.wait)
		wg.Wait()
		d.printReps(results)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.printFunnel(ctx)
}

// sendEvents posts evs, telling of each retry.
func (d *driver) sendEvents(ctx context.Context, evs []lead.Event) (Sent, error) {
	return d.api.Send(ctx, evs, func(wait time.Duration, err error) {
		fmt.Fprintf(d.out, "  batch not taken (%v); retrying in %s\n", err, wait)
	})
}

// act plays the lead's rep: wait for the handoff, then do what the plan says.
func (d *driver) act(ctx context.Context, l *Lead) repResult {
	v, err := d.waitFor(ctx, l.ID, "handoff", func(v lead.View) bool {
		return v.Stage == lead.StageHandoff && v.OwnerID != ""
	})
	if err != nil {
		d.say(l, "%v", err)
		return repResult{gaveUp: true, err: err}
	}
	owner := v.OwnerID
	o := l.Outcome
	if o.Action == Untouched {
		d.say(l, "handed off to %s; left untouched so the SLA ladder runs", owner)
		return repResult{did: "untouched"}
	}
	var steps []string
	if o.Touch {
		if _, err := d.sendEvents(ctx, []lead.Event{l.TouchEvent(owner, d.now())}); err != nil {
			return d.failed(l, "touch", err)
		}
		steps = append(steps, "touched ("+owner+")")
	}
	// The owner can change under the rep (an SLA reassignment): one retry
	// as the new owner.
	var did string
	for try := 0; ; try++ {
		var err error
		if o.Action == Accept {
			req := l.AcceptRequest(owner)
			req.ID += retrySuffix(try)
			err = d.update(ctx, l.ID, lead.UpdateAccept, req)
			did = "accepted"
		} else {
			req := l.RejectRequest(owner)
			req.ID += retrySuffix(try)
			err = d.update(ctx, l.ID, lead.UpdateReject, req)
			did = "rejected:" + string(o.Reason)
		}
		if err == nil {
			break
		}
		if d.api.Status(err) == http.StatusUnprocessableEntity && try == 0 {
			if v, gerr := d.getLead(ctx, l.ID); gerr == nil && v.Stage == lead.StageHandoff && v.OwnerID != owner {
				owner = v.OwnerID
				continue
			}
		}
		return d.failed(l, strings.SplitN(did, ":", 2)[0], err)
	}
	steps = append(steps, strings.Replace(did, ":", " as ", 1)+" by "+owner)
	if o.Action == Accept && o.Opportunity != NoOpportunity {
		if _, err := d.sendEvents(ctx, []lead.Event{l.OpportunityCreated(d.now())}); err != nil {
			return d.failed(l, "opportunity", err)
		}
		steps = append(steps, fmt.Sprintf("opportunity $%d", o.Amount))
		if closed, ok := l.OpportunityClosed(d.now()); ok {
			if _, err := d.waitFor(ctx, l.ID, "opportunity", func(v lead.View) bool { return v.Stage == lead.StageOpportunity }); err != nil {
				d.say(l, "%s; %v", strings.Join(steps, ", "), err)
				return repResult{did: did, gaveUp: true, err: err}
			}
			closed.OccurredAt = d.now().UTC()
			if _, err := d.sendEvents(ctx, []lead.Event{closed}); err != nil {
				return d.failed(l, "close opportunity", err)
			}
			steps = append(steps, string(o.Opportunity))
			did += "+" + string(o.Opportunity)
		} else {
			steps = append(steps, "left open")
			did += "+open"
		}
	}
	d.say(l, "%s", strings.Join(steps, ", "))
	return repResult{did: did}
}

func retrySuffix(try int) string {
	if try == 0 {
		return ""
	}
	return fmt.Sprintf("-%d", try+1)
}

func (d *driver) failed(l *Lead, what string, err error) repResult {
	d.say(l, "%s failed: %v", what, err)
	return repResult{err: err}
}

func (d *driver) say(l *Lead, format string, a ...any) {
	fmt.Fprintf(d.out, "  %s (%s, %s): %s\n", l.ID, l.Journey, l.Source, fmt.Sprintf(format, a...))
}

// waitFor polls the lead until ok or the driver's wait runs out. Errors
// while polling (the lead's workflow not started yet, a busy server) are
// retried until then.
func (d *driver) waitFor(ctx context.Context, id, what string, ok func(lead.View) bool) (lead.View, error) {
	ctx, cancel := context.WithTimeout(ctx, d.wait)
	defer cancel()
	delay := pollFirst
	var last lead.View
	var lastErr error
	for {
		v, err := d.getLead(ctx, id)
		if err == nil {
			if ok(v) {
				return v, nil
			}
			last, lastErr = v, nil
		} else {
			lastErr = err
		}
		if err := d.sleep(ctx, delay); err != nil {
			switch {
			case lastErr != nil && last.Stage == "":
				return last, fmt.Errorf("not at %s within %s: %v", what, d.wait, lastErr)
			default:
				return last, fmt.Errorf("not at %s within %s (stage %s)", what, d.wait, orDash(string(last.Stage)))
			}
		}
		delay = min(delay*3/2, pollMax)
	}
}

func (d *driver) getLead(ctx context.Context, id string) (lead.View, error) {
	d.limit <- struct{}{}
	defer func() { <-d.limit }()
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return d.api.Lead(ctx, id)
}

func (d *driver) update(ctx context.Context, id, name string, req any) error {
	d.limit <- struct{}{}
	defer func() { <-d.limit }()
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return d.api.Update(ctx, id, name, req)
}

// printReps summarises what the simulated reps did.
func (d *driver) printReps(results []repResult) {
	counts := map[string]int{}
	gaveUp, failed := 0, 0
	for _, r := range results {
		switch {
		case r.gaveUp && r.did == "":
			gaveUp++
		case r.err != nil && !r.gaveUp:
			failed++
		case r.did != "":
			counts[r.did]++
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(d.out, "reps:")
	for _, k := range keys {
		fmt.Fprintf(d.out, "  %-26s %3d\n", k, counts[k])
	}
	if gaveUp > 0 {
		fmt.Fprintf(d.out, "  %-26s %3d\n", "never reached handoff", gaveUp)
	}
	if failed > 0 {
		fmt.Fprintf(d.out, "  %-26s %3d\n", "failed", failed)
	}
}

// funnelOrder is the order stages are printed in.
var funnelOrder = []lead.Stage{
	lead.StageLead, lead.StageMQL, lead.StageHandoff, lead.StageSAL, lead.StageOpportunity,
	lead.StageCustomer, lead.StageRecycle, lead.StageDisqualified, lead.StageMerged,
}

// printFunnel reads every simulated lead and counts them by stage.
func (d *driver) printFunnel(ctx context.Context) error {
	stages := make([]string, len(d.plan.Leads))
	var wg sync.WaitGroup
	for i := range d.plan.Leads {
		wg.Go(func() {
			v, err := d.getLead(ctx, d.plan.Leads[i].ID)
			switch {
			case err == nil:
				stages[i] = string(v.Stage)
			case d.api.Status(err) == http.StatusNotFound:
				stages[i] = "(not found)"
			default:
				stages[i] = "(unreadable)"
			}
		})
	}
	wg.Wait()
	counts := map[string]int{}
	for _, s := range stages {
		counts[s]++
	}
	fmt.Fprintf(d.out, "funnel of run %s (%d leads):\n", d.plan.RunID, len(d.plan.Leads))
	var order []string
	for _, s := range funnelOrder {
		order = append(order, string(s))
	}
	for s := range counts {
		if !slices.Contains(order, s) {
			order = append(order, s)
		}
	}
	for _, s := range order {
		n := counts[s]
		fmt.Fprintf(d.out, "  %-14s %4d  %s\n", s, n, strings.Repeat("#", n))
	}
	if counts["(unreadable)"] > 0 {
		return fmt.Errorf("simulate: %d leads could not be read back", counts["(unreadable)"])
	}
	return nil
}

// syncWriter serialises writes from the reps' goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
