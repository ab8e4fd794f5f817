package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// historyPerEvent counts history events one event at a time (each event
// settled before the next, so none shares a workflow task), and per handoff.
func (b *bench) historyPerEvent(ctx context.Context) error {
	n := b.o.Counts.PlainEvents
	fid := fmt.Sprintf("floor-noop-%s-0", b.runID)
	floorPer, err := b.oneAtATime(ctx, fid, n, func(i int) error {
		return b.c.SignalWorkflow(ctx, fid, "", floorSignal, plainEvent(fid, 1_000_000+i, time.Now()))
	})
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	id := b.eventLeads[0]
	per, err := b.oneAtATime(ctx, lead.WorkflowID(id), n, func(i int) error {
		return b.post.post(ctx, plainEvent(id, 1_000_000+i, time.Now()))
	})
	if err != nil {
		return fmt.Errorf("leadflow: %w", err)
	}
	b.report.Add(Row{Figure: fmt.Sprintf("history events per plain event, one at a time (%d events)", n),
		Leadflow: fmt.Sprintf("%.1f", per), Floor: fmt.Sprintf("%.1f (no-op receiver)", floorPer),
		Ratio: FormatRatio(Ratio(per, floorPer)), Target: "≤ 4", Verdict: AtMost(per, 4, "")})

	wids := make([]string, len(b.handoffIDs))
	for i, id := range b.handoffIDs {
		wids[i] = lead.WorkflowID(id)
	}
	lengths, err := b.waitSettled(ctx, wids, 5*time.Minute)
	if err != nil {
		return err
	}
	slices.Sort(lengths)
	b.report.Add(Row{Figure: fmt.Sprintf("history events per handoff (new lead's quote request → handoff; median of %d)", len(lengths)),
		Leadflow: fmt.Sprintf("%d (min %d, max %d)", lengths[len(lengths)/2], lengths[0], lengths[len(lengths)-1])})
	return nil
}

// oneAtATime sends n events to workflowID, each after the last settled,
// and returns the history events each added on average.
func (b *bench) oneAtATime(ctx context.Context, workflowID string, n int, send func(i int) error) (float64, error) {
	before, err := b.waitSettled(ctx, []string{workflowID}, time.Minute)
	if err != nil {
		return 0, err
	}
	var after []int64
	for i := range n {
		if err := send(i); err != nil {
			return 0, err
		}
		// The signal is in the history once the call returns, so settled
		// means it was handled.
		if after, err = b.waitSettled(ctx, []string{workflowID}, time.Minute); err != nil {
			return 0, err
		}
	}
	return float64(after[0]-before[0]) / float64(n), nil
}
