package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/sim"
)

const (
	pollFirst      = 200 * time.Millisecond
	pollMax        = 2 * time.Second
	requestTimeout = 20 * time.Second
	maxInFlight    = 16 // concurrent API calls of the simulated reps
	sendTick       = time.Second
)

func cmdSimulate(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	leads := fs.Int("leads", 40, "how many leads")
	rate := fs.Float64("rate", 5, "leads arriving per second")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same leads and journeys")
	repsAct := fs.Bool("reps-act", true, "act as the reps once leads reach handoff")
	runID := fs.String("run", "", "run ID prefixed to every lead and event ID (default: a timestamp)")
	wait := fs.Duration("wait", 2*time.Minute, "how long a simulated rep waits for a lead to reach a stage")
	urlFlag := fs.String("url", "", "base `URL` of starter serve (default LEADFLOW_PUBLIC_URL)")
	if _, err := parseArgs(c, fs, args, 0, 0); err != nil {
		return err
	}
	start := a.now()
	if *runID == "" {
		*runID = start.UTC().Format("20060102-150405")
	}
	if *wait <= 0 {
		return usagef(c, "--wait must be positive")
	}
	scfg := sim.Config{Leads: *leads, Rate: *rate, Seed: *seed, RunID: *runID, Start: start}
	if err := scfg.Validate(); err != nil {
		return usagef(c, "%v", err)
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	cl, err := a.newAPIClient(cfg, *urlFlag)
	if err != nil {
		return err
	}
	if len(cl.secret) == 0 {
		return errors.New("simulate: LEADFLOW_WEBHOOK_SECRET is not set: events must be signed with the server's secret")
	}
	plan, err := sim.Generate(scfg)
	if err != nil {
		return err
	}
	d := &driver{
		a: a, cl: cl, plan: plan, out: &syncWriter{w: a.stdout},
		repsAct: *repsAct, wait: *wait, limit: make(chan struct{}, maxInFlight),
	}
	fmt.Fprintf(d.out, "simulate: run %s, %d leads at %g/s, seed %d, reps act: %t, API %s\n",
		plan.RunID, len(plan.Leads), *rate, *seed, *repsAct, cl.base)
	return d.run(ctx)
}

// driver sends a sim.Plan through the HTTP API and plays the reps.
type driver struct {
	a       *app
	cl      *apiClient
	plan    *sim.Plan
	out     io.Writer
	repsAct bool
	wait    time.Duration
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
	begin := d.a.now()
	sent, arrived := 0, 0
	lastSend := -sendTick
	for next := 0; next < len(items); {
		// Pacing, not synchronisation: events go out when they "happen",
		// gathered into one batch per tick.
		due := max(items[next].at, lastSend+sendTick)
		if w := due - d.a.now().Sub(begin); w > 0 {
			if err := d.a.sleep(ctx, w); err != nil {
				return err
			}
		}
		elapsed := d.a.now().Sub(begin)
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

// sendEvents posts evs as signed batches within the contract's limits.
func (d *driver) sendEvents(ctx context.Context, evs []lead.Event) (api.BatchResult, error) {
	var total api.BatchResult
	raws, err := rawEvents(evs)
	if err != nil {
		return total, err
	}
	batches, err := makeBatches(raws, api.MaxBatchEvents, api.MaxBatchBytes)
	if err != nil {
		return total, err
	}
	for _, b := range batches {
		res, err := d.cl.postBatch(ctx, b.body, func(try int, wait time.Duration, err error) {
			fmt.Fprintf(d.out, "  batch not taken (%v); retrying in %s\n", err, wait)
		})
		if err != nil {
			var he *httpError
			if errors.As(err, &he) && len(he.Errors) > 0 {
				return total, fmt.Errorf("%w (first problem: event %s: %s: %s)", err, evs[b.first+he.Errors[0].Index].ID, he.Errors[0].Field, he.Errors[0].Message)
			}
			return total, err
		}
		total.Accepted += res.Accepted
		total.Duplicates += res.Duplicates
	}
	return total, nil
}

// act plays the lead's rep: wait for the handoff, then do what the plan says.
func (d *driver) act(ctx context.Context, l *sim.Lead) repResult {
	v, err := d.waitFor(ctx, l.ID, "handoff", func(v lead.View) bool {
		return v.Stage == lead.StageHandoff && v.OwnerID != ""
	})
	if err != nil {
		d.say(l, "%v", err)
		return repResult{gaveUp: true, err: err}
	}
	owner := v.OwnerID
	o := l.Outcome
	if o.Action == sim.Untouched {
		d.say(l, "handed off to %s; left untouched so the SLA ladder runs", owner)
		return repResult{did: "untouched"}
	}
	var steps []string
	if o.Touch {
		if _, err := d.sendEvents(ctx, []lead.Event{l.TouchEvent(owner, d.a.now())}); err != nil {
			return d.failed(l, "touch", err)
		}
		steps = append(steps, "touched ("+owner+")")
	}
	// The owner can change under the rep (an SLA reassignment): one retry
	// as the new owner.
	var did string
	for try := 0; ; try++ {
		var err error
		if o.Action == sim.Accept {
			req := l.AcceptRequest(owner)
			req.ID += retrySuffix(try)
			_, err = d.update(ctx, l.ID, lead.UpdateAccept, req)
			did = "accepted"
		} else {
			req := l.RejectRequest(owner)
			req.ID += retrySuffix(try)
			_, err = d.update(ctx, l.ID, lead.UpdateReject, req)
			did = "rejected:" + string(o.Reason)
		}
		if err == nil {
			break
		}
		if statusOf(err) == http.StatusUnprocessableEntity && try == 0 {
			if v, gerr := d.getLead(ctx, l.ID); gerr == nil && v.Stage == lead.StageHandoff && v.OwnerID != owner {
				owner = v.OwnerID
				continue
			}
		}
		return d.failed(l, strings.SplitN(did, ":", 2)[0], err)
	}
	steps = append(steps, strings.Replace(did, ":", " as ", 1)+" by "+owner)
	if o.Action == sim.Accept && o.Opportunity != sim.NoOpportunity {
		if _, err := d.sendEvents(ctx, []lead.Event{l.OpportunityCreated(d.a.now())}); err != nil {
			return d.failed(l, "opportunity", err)
		}
		steps = append(steps, fmt.Sprintf("opportunity $%d", o.Amount))
		if closed, ok := l.OpportunityClosed(d.a.now()); ok {
			if _, err := d.waitFor(ctx, l.ID, "opportunity", func(v lead.View) bool { return v.Stage == lead.StageOpportunity }); err != nil {
				d.say(l, "%s; %v", strings.Join(steps, ", "), err)
				return repResult{did: did, gaveUp: true, err: err}
			}
			closed.OccurredAt = d.a.now().UTC()
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

func (d *driver) failed(l *sim.Lead, what string, err error) repResult {
	d.say(l, "%s failed: %v", what, err)
	return repResult{err: err}
}

func (d *driver) say(l *sim.Lead, format string, a ...any) {
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
		if err := d.a.sleep(ctx, delay); err != nil {
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
	return d.cl.getLead(ctx, id)
}

func (d *driver) update(ctx context.Context, id, name string, req any) (json.RawMessage, error) {
	d.limit <- struct{}{}
	defer func() { <-d.limit }()
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return d.cl.update(ctx, id, name, req)
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
			case statusOf(err) == http.StatusNotFound:
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
