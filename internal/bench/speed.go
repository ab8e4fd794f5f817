package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
)

// speed is speed-to-lead at each rate: the floor's signal → three local
// activities, then leadflow's signed POST → handoff task in Postgres.
func (b *bench) speed(ctx context.Context) error {
	for _, rate := range b.o.Counts.SpeedRates {
		n := max(1, int(float64(rate)*b.o.Counts.SpeedDuration.Seconds()))
		floorLat, err := b.speedFloor(ctx, rate, n)
		if err != nil {
			return fmt.Errorf("floor at %d/s: %w", rate, err)
		}
		lat, edge, ids, err := b.speedLeadflow(ctx, rate, n)
		if err != nil {
			return fmt.Errorf("leadflow at %d/s: %w", rate, err)
		}
		for _, p := range []float64{50, 90, 99} {
			lf, fl := Percentile(lat, p), Percentile(floorLat, p)
			row := Row{Figure: fmt.Sprintf("speed-to-lead p%.0f at %d leads/s (%d leads)", p, rate, n),
				Leadflow: Ms(lf), Floor: Ms(fl), Ratio: FormatRatio(Ratio(float64(lf), float64(fl)))}
			switch {
			case rate == 5 && p == 50:
				row.Target = "≤ 2× floor"
				row.Verdict = AtMost(Ratio(float64(lf), float64(fl)), 2, "×")
			case rate == 20 && p == 99:
				row.Target = "≤ 150 ms"
				row.Verdict = AtMost(float64(lf.Microseconds())/1000, 150, " ms")
			}
			b.report.Add(row)
		}
		b.report.Add(Row{Figure: fmt.Sprintf("of which the POST /v1/events answer (202) at %d leads/s: p50 / p99", rate),
			Leadflow: Ms(Percentile(edge, 50)) + " / " + Ms(Percentile(edge, 99))})
		if rate == b.o.Counts.SpeedRates[0] {
			// The leads of the first rate are the handoffs whose history is
			// counted: a new lead's quote request to its handoff.
			b.handoffIDs = ids
		}
	}
	return nil
}

// paced calls send(i) for i < n at rate per second, each on its own
// goroutine (an open loop: a slow answer does not slow the arrivals), and
// waits for all.
func paced(ctx context.Context, rate, n int, send func(i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case <-time.After(time.Until(at)):
		}
		wg.Go(func() {
			if err := send(i); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (b *bench) speedFloor(ctx context.Context, rate, n int) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	var done atomic.Int64
	stop := b.progress(fmt.Sprintf("floor speed-to-lead at %d/s", rate), func() string {
		return fmt.Sprintf("%d/%d done", done.Load(), n)
	})
	defer stop()
	err := paced(ctx, rate, n, func(i int) error {
		id := fmt.Sprintf("floor-speed-%s-%d-%d", b.runID, rate, i)
		ch := b.floor.expect(id)
		t0 := time.Now()
		if _, err := b.c.SignalWithStartWorkflow(ctx, id, floorSignal, quoteRequest(id, t0),
			client.StartWorkflowOptions{ID: id, TaskQueue: floorQueue}, floorThree); err != nil {
			return fmt.Errorf("signal-with-start %s: %w", id, err)
		}
		select {
		case t := <-ch:
			lat[i] = t.Sub(t0)
			done.Add(1)
			return nil
		case <-time.After(time.Minute):
			return fmt.Errorf("%s: third local activity not run after a minute", id)
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return lat, err
}

// speedLeadflow returns each lead's POST → handoff task latency, and the
// part of it the POST took to answer.
func (b *bench) speedLeadflow(ctx context.Context, rate, n int) (lat, edge []time.Duration, ids []string, err error) {
	lat, edge = make([]time.Duration, n), make([]time.Duration, n)
	ids = make([]string, n)
	w := newTaskWatcher(b)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go w.run(wctx)
	stop := b.progress(fmt.Sprintf("leadflow speed-to-lead at %d/s", rate), func() string {
		return fmt.Sprintf("%d/%d handoff tasks written", w.seen.Load(), n)
	})
	defer stop()
	err = paced(ctx, rate, n, func(i int) error {
		id := fmt.Sprintf("BSPEED-%s-%d-%d", b.runID, rate, i)
		ids[i] = id
		ch := w.expect(id)
		t0 := time.Now()
		if err := b.post.post(ctx, quoteRequest(id, t0)); err != nil {
			return err
		}
		edge[i] = time.Since(t0)
		select {
		case t := <-ch:
			lat[i] = t.Sub(t0)
			return nil
		case <-time.After(time.Minute):
			return fmt.Errorf("lead %s: no handoff task a minute after its POST", id)
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	return lat, edge, ids, err
}

// taskWatcher polls the built-in CRM's tasks table for the leads it is
// waiting on (one query for all, every 2 ms) and tells each when its first
// task exists.
type taskWatcher struct {
	b       *bench
	mu      sync.Mutex
	waiting map[string]chan time.Time
	seen    atomic.Int64
}

func newTaskWatcher(b *bench) *taskWatcher {
	return &taskWatcher{b: b, waiting: map[string]chan time.Time{}}
}

func (w *taskWatcher) expect(leadID string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	w.mu.Lock()
	w.waiting[leadID] = ch
	w.mu.Unlock()
	return ch
}

func (w *taskWatcher) run(ctx context.Context) {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		ids := make([]string, 0, len(w.waiting))
		for id := range w.waiting {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		rows, err := w.b.st.Pool().Query(ctx, `SELECT DISTINCT lead_id FROM tasks WHERE lead_id = ANY($1)`, ids)
		if err != nil {
			continue // ctx ended, or Postgres hiccuped: the next tick asks again
		}
		now := time.Now()
		for rows.Next() {
			var id string
			if rows.Scan(&id) != nil {
				continue
			}
			w.mu.Lock()
			if ch := w.waiting[id]; ch != nil {
				ch <- now
				delete(w.waiting, id)
				w.seen.Add(1)
			}
			w.mu.Unlock()
		}
		rows.Close()
	}
}
