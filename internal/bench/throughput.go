package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/leadflow/leadflow/internal/lead"
)

// concurrently runs fn(i) for i < n on c goroutines; the first error wins.
func concurrently(ctx context.Context, n, c int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range max(1, c) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// throughput is how many per second of n sends, from the first send to
// every workflow of ids settled.
func (b *bench) throughput(ctx context.Context, what string, n int, ids []string, send func(i int) error) (float64, []int64, error) {
	var sent atomic.Int64
	stop := b.progress(what, func() string {
		if s := sent.Load(); s < int64(n) {
			return fmt.Sprintf("%d/%d sent", s, n)
		}
		return fmt.Sprintf("all %d sent, waiting for %d workflows to settle", n, len(ids))
	})
	defer stop()
	start := time.Now()
	if err := concurrently(ctx, n, b.o.Counts.Concurrency, func(i int) error {
		defer sent.Add(1)
		return send(i)
	}); err != nil {
		return 0, nil, err
	}
	lengths, err := b.waitSettled(ctx, ids, 10*time.Minute)
	if err != nil {
		return 0, nil, err
	}
	return PerSecond(n, time.Since(start)), lengths, nil
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

// eventThroughput sends events to existing workflows: the floor's no-op
// receivers, then leadflow's leads (one event per signed POST).
func (b *bench) eventThroughput(ctx context.Context) error {
	k, n := b.o.Counts.SignalLeads, b.o.Counts.Signals
	now := time.Now()
	// The floor: k receivers started with one signal each, then n more.
	fids := make([]string, k)
	for i := range fids {
		fids[i] = fmt.Sprintf("floor-noop-%s-%d", b.runID, i)
		if _, err := b.c.SignalWithStartWorkflow(ctx, fids[i], floorSignal, lowIntent(fids[i], now),
			client.StartWorkflowOptions{ID: fids[i], TaskQueue: floorQueue}, floorNoop); err != nil {
			return fmt.Errorf("start %s: %w", fids[i], err)
		}
	}
	before, err := b.waitSettled(ctx, fids, time.Minute)
	if err != nil {
		return err
	}
	floorRate, after, err := b.throughput(ctx, "floor signals to no-op receivers", n, fids, func(i int) error {
		id := fids[i%k]
		return b.c.SignalWorkflow(ctx, id, "", floorSignal, plainEvent(id, i, now))
	})
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	floorPer := float64(sum(after)-sum(before)) / float64(n)

	ids := make([]string, k)
	wids := make([]string, k)
	for i := range ids {
		ids[i] = fmt.Sprintf("BEVT-%s-%d", b.runID, i)
		wids[i] = lead.WorkflowID(ids[i])
		if err := b.post.post(ctx, lowIntent(ids[i], now)); err != nil {
			return err
		}
	}
	if before, err = b.waitSettled(ctx, wids, time.Minute); err != nil {
		return err
	}
	rate, after, err := b.throughput(ctx, "leadflow events to existing leads", n, wids, func(i int) error {
		return b.post.post(ctx, plainEvent(ids[i%k], i, time.Now()))
	})
	if err != nil {
		return fmt.Errorf("leadflow: %w", err)
	}
	per := float64(sum(after)-sum(before)) / float64(n)
	r := Ratio(rate, floorRate)
	b.report.Add(Row{Figure: fmt.Sprintf("event throughput to %d existing leads (%d events, %d senders)", k, n, b.o.Counts.Concurrency),
		Leadflow: fmt.Sprintf("%.0f events/s", rate), Floor: fmt.Sprintf("%.0f signals/s (no-op receiver)", floorRate),
		Ratio: FormatRatio(r), Target: "≥ 0.9× floor", Verdict: AtLeast(r, 0.9, "×")})
	b.report.Add(Row{Figure: "history events per event, under that load (signals batched into workflow tasks)",
		Leadflow: fmt.Sprintf("%.2f", per), Floor: fmt.Sprintf("%.2f", floorPer), Ratio: FormatRatio(Ratio(per, floorPer))})
	b.eventLeads = ids
	return nil
}

// newLeadThroughput creates leads: the floor's minimal open entity, then
// leadflow's new low-intent leads (one signed POST each).
func (b *bench) newLeadThroughput(ctx context.Context) error {
	n := b.o.Counts.NewLeads
	now := time.Now()
	fids := make([]string, n)
	for i := range fids {
		fids[i] = fmt.Sprintf("floor-entity-%s-%d", b.runID, i)
	}
	floorRate, floorLen, err := b.throughput(ctx, "floor open entities", n, fids, func(i int) error {
		_, err := b.c.SignalWithStartWorkflow(ctx, fids[i], floorSignal, lowIntent(fids[i], now),
			client.StartWorkflowOptions{ID: fids[i], TaskQueue: floorQueue}, floorEntity)
		return err
	})
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	ids := make([]string, n)
	wids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("BNEW-%s-%d", b.runID, i)
		wids[i] = lead.WorkflowID(ids[i])
	}
	rate, lengths, err := b.throughput(ctx, "leadflow new leads", n, wids, func(i int) error {
		return b.post.post(ctx, lowIntent(ids[i], time.Now()))
	})
	if err != nil {
		return fmt.Errorf("leadflow: %w", err)
	}
	b.newRate = rate
	r := Ratio(rate, floorRate)
	b.report.Add(Row{Figure: fmt.Sprintf("new-lead throughput, low intent (%d leads, %d senders)", n, b.o.Counts.Concurrency),
		Leadflow: fmt.Sprintf("%.0f leads/s", rate), Floor: fmt.Sprintf("%.0f/s (open entity)", floorRate),
		Ratio: FormatRatio(r), Target: "≥ 1.0× floor", Verdict: AtLeast(r, 1.0, "×")})
	per, fper := float64(sum(lengths))/float64(n), float64(sum(floorLen))/float64(n)
	b.report.Add(Row{Figure: "history events per new low-intent lead", Leadflow: fmt.Sprintf("%.1f", per),
		Floor: fmt.Sprintf("%.1f (open entity)", fper), Ratio: FormatRatio(Ratio(per, fper)),
		Target: "≤ 12", Verdict: AtMost(per, 12, "")})
	return nil
}
