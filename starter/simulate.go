package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/sim"
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
	fmt.Fprintf(a.stdout, "simulate: run %s, %d leads at %g/s, seed %d, reps act: %t, API %s\n",
		plan.RunID, len(plan.Leads), *rate, *seed, *repsAct, cl.base)
	return sim.Drive(ctx, plan, sim.DriveConfig{
		API: simAPI{cl}, Out: a.stdout, RepsAct: *repsAct, Wait: *wait, Now: a.now, Sleep: a.sleep,
	})
}

// simAPI is the HTTP client as the simulator's API.
type simAPI struct{ cl *apiClient }

// Send posts evs as signed batches within the contract's limits.
func (s simAPI) Send(ctx context.Context, evs []lead.Event, onRetry func(time.Duration, error)) (sim.Sent, error) {
	var total sim.Sent
	raws, err := rawEvents(evs)
	if err != nil {
		return total, err
	}
	batches, err := makeBatches(raws, api.MaxBatchEvents, api.MaxBatchBytes)
	if err != nil {
		return total, err
	}
	for _, b := range batches {
		res, err := s.cl.postBatch(ctx, b.body, func(_ int, wait time.Duration, err error) { onRetry(wait, err) })
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

func (s simAPI) Lead(ctx context.Context, id string) (lead.View, error) { return s.cl.getLead(ctx, id) }

func (s simAPI) Update(ctx context.Context, id, name string, req any) error {
	_, err := s.cl.update(ctx, id, name, req)
	return err
}

func (simAPI) Status(err error) int { return statusOf(err) }
