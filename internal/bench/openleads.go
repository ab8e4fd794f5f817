package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
)

// openLeads keeps OpenLeads leads open on the one server, TimerLeads of
// them handed off before business hours open, so every one's first-touch
// SLA step falls due at the same instant; it reports the worker's and the
// server's RSS and how late the steps fired (from the ledger's sla_step
// rows: the step's scheduledAt against the row's at).
func (b *bench) openLeads(ctx context.Context) error {
	n, t := b.o.Counts.OpenLeads, b.o.Counts.TimerLeads
	// Open business hours after every lead is expected to exist (sized by
	// the new-lead rate just measured), on a whole minute.
	est := time.Duration(float64(n)/max(b.newRate, 1)*1.5*float64(time.Second)) + 30*time.Second
	opening := time.Now().Add(est).Truncate(time.Minute).Add(time.Minute)
	params, ok := openingPolicy(opening)
	if !ok {
		return fmt.Errorf("business hours would open at %s, too close to midnight UTC: run the bench again after 00:00 UTC", opening.Format(time.TimeOnly))
	}
	if err := writePolicy(b.policy, params); err != nil {
		return err
	}
	if err := b.reloadPolicy(ctx, params.Version); err != nil {
		return err
	}
	fmt.Fprintf(b.o.Out, "bench:   business hours open at %s UTC; %d handoffs first, then %d low-intent leads\n",
		opening.Format("15:04:05"), t, n-t)

	rss := newRSSWatch(b)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go rss.run(rctx)

	prefix := "BOPEN-" + b.runID + "-"
	var sent atomic.Int64
	var published atomic.Int64
	stop := b.progress("open leads", func() string {
		state := fmt.Sprintf("%d/%d sent", sent.Load(), n)
		if sent.Load() == int64(n) {
			state = fmt.Sprintf("all sent, %d/%d published their state", published.Load(), n)
		}
		return fmt.Sprintf("%s; worker %s, server %s", state, MiB(rss.worker.Load()), MiB(rss.server.Load()))
	})
	defer func() { stop() }() // stop is replaced by the next phase's
	batches := (n + api.MaxBatchEvents - 1) / api.MaxBatchEvents
	createStart := time.Now()
	if err := concurrently(ctx, batches, 2, func(k int) error {
		var evs []lead.Event
		for i := k * api.MaxBatchEvents; i < min(n, (k+1)*api.MaxBatchEvents); i++ {
			id := fmt.Sprintf("%s%d", prefix, i)
			if i < t {
				evs = append(evs, quoteRequest(id, time.Now()))
			} else {
				evs = append(evs, lowIntent(id, time.Now()))
			}
		}
		if err := b.post.post(ctx, evs...); err != nil {
			return err
		}
		sent.Add(int64(len(evs)))
		return nil
	}); err != nil {
		return err
	}
	count := func(query string, into *atomic.Int64) (int64, error) {
		var c int64
		if err := b.st.Pool().QueryRow(ctx, query, prefix+"%").Scan(&c); err != nil {
			return 0, fmt.Errorf("count leads: %w", err)
		}
		into.Store(c)
		return c, nil
	}
	if err := poll(ctx, 3*time.Hour, "every open lead to publish its state", func() (bool, error) {
		c, err := count(`SELECT count(*) FROM lead_states WHERE lead_id LIKE $1`, &published)
		return c >= int64(n), err
	}); err != nil {
		return err
	}
	created := time.Since(createStart)
	var steps atomic.Int64
	stop()
	stop = b.progress("SLA steps", func() string {
		return fmt.Sprintf("%d/%d fired (due from %s UTC); worker %s, server %s", steps.Load(), t,
			opening.Add(timersFirstTouch).Format("15:04:05"), MiB(rss.worker.Load()), MiB(rss.server.Load()))
	})
	if err := poll(ctx, time.Until(opening)+timersFirstTouch+15*time.Minute, "every handoff's SLA step", func() (bool, error) {
		c, err := count(`SELECT count(*) FROM ledger WHERE kind = 'sla_step' AND lead_id LIKE $1`, &steps)
		return c >= int64(t), err
	}); err != nil {
		return err
	}
	late, spread, err := b.lateness(ctx, prefix)
	if err != nil {
		return err
	}
	cancel()
	wr, wpeak, sr, speak := rss.final()

	label := fmt.Sprintf("%d open leads", n)
	if n < 100000 {
		label += " (100,000 not run: see counts)"
	}
	b.report.Add(Row{Figure: label + ": created and published", Leadflow: fmt.Sprintf("%s (%.0f leads/s)",
		created.Round(time.Second), PerSecond(n, created))})
	b.report.Add(Row{Figure: label + ": worker RSS now / peak", Leadflow: wr + " / " + wpeak,
		Target: "≤ 1 GiB", Verdict: AtMost(float64(rss.workerPeak.Load())/(1<<20), 1024, " MiB")})
	b.report.Add(Row{Figure: label + ": dev server RSS now / peak", Leadflow: sr + " / " + speak})
	b.report.Add(Row{Figure: fmt.Sprintf("SLA step lateness, %d steps due within %s: p50 / p99 / max", len(late), spread.Round(time.Millisecond)),
		Leadflow: fmt.Sprintf("%s / %s / %s", Ms(Percentile(late, 50)), Ms(Percentile(late, 99)), Ms(Max(late))),
		Target:   "p99 ≤ 2 s", Verdict: AtMost(Percentile(late, 99).Seconds(), 2, " s")})
	return nil
}

// reloadPolicy sends the worker SIGHUP and waits until a new lead runs on
// version (each probe is a fresh lead: a lead keeps its policy until its
// next event).
func (b *bench) reloadPolicy(ctx context.Context, version string) error {
	if err := b.worker.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("SIGHUP the worker: %w", err)
	}
	probe := 0
	return poll(ctx, time.Minute, "the worker to run policy "+version, func() (bool, error) {
		probe++
		id := fmt.Sprintf("BPROBE-%s-%d", b.runID, probe)
		if err := b.post.post(ctx, lowIntent(id, time.Now())); err != nil {
			return false, err
		}
		var got string
		err := poll(ctx, 20*time.Second, "probe "+id+" to publish", func() (bool, error) {
			err := b.st.Pool().QueryRow(ctx, `SELECT coalesce(view->>'policyVersion', '') FROM lead_states WHERE lead_id = $1`, id).Scan(&got)
			return err == nil, nil
		})
		return err == nil && got == version, err
	})
}

// lateness reads each sla_step row of the leads: at − scheduledAt, and the
// spread of the scheduled times.
func (b *bench) lateness(ctx context.Context, prefix string) ([]time.Duration, time.Duration, error) {
	rows, err := b.st.Pool().Query(ctx, `SELECT at, (data->>'scheduledAt')::timestamptz FROM ledger
		WHERE kind = 'sla_step' AND lead_id LIKE $1`, prefix+"%")
	if err != nil {
		return nil, 0, fmt.Errorf("read sla_step rows: %w", err)
	}
	defer rows.Close()
	var late []time.Duration
	var first, last time.Time
	for rows.Next() {
		var at, due time.Time
		if err := rows.Scan(&at, &due); err != nil {
			return nil, 0, fmt.Errorf("read sla_step row: %w", err)
		}
		late = append(late, at.Sub(due))
		if first.IsZero() || due.Before(first) {
			first = due
		}
		if due.After(last) {
			last = due
		}
	}
	return late, last.Sub(first), rows.Err()
}

// rssWatch samples the worker's and the dev server's VmRSS every second and
// keeps the highest.
type rssWatch struct {
	b                      *bench
	worker, server         atomic.Int64
	workerPeak, serverPeak atomic.Int64
}

func newRSSWatch(b *bench) *rssWatch { return &rssWatch{b: b} }

func (w *rssWatch) sample() {
	if r, _, err := RSS(w.b.worker.pid()); err == nil {
		w.worker.Store(r)
		w.workerPeak.Store(max(w.workerPeak.Load(), r))
	}
	if w.b.srvPID != 0 {
		if r, _, err := RSS(w.b.srvPID); err == nil {
			w.server.Store(r)
			w.serverPeak.Store(max(w.serverPeak.Load(), r))
		}
	}
}

func (w *rssWatch) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		w.sample()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// final is the last sample and the peaks, formatted; the server's are
// "not measured" when the bench connected to a server it did not start.
func (w *rssWatch) final() (worker, workerPeak, server, serverPeak string) {
	w.sample()
	worker, workerPeak = MiB(w.worker.Load()), MiB(w.workerPeak.Load())
	server, serverPeak = "not measured (external server)", "–"
	if w.b.srvPID != 0 {
		server, serverPeak = MiB(w.server.Load()), MiB(w.serverPeak.Load())
	}
	return
}
