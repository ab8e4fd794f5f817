package hubspot

import (
	"context"
	"sync"
	"time"
)

// Limiter keeps requests under "max per rolling window", which is how
// HubSpot counts its burst limit (policy TEN_SECONDLY_ROLLING). A plain
// token bucket of capacity N refilling N per window can let nearly 2N
// through in one window (a full bucket plus a window's refill), so this is
// the exact form of the same idea: a request may go when fewer than max
// requests went in the last window; otherwise it waits until the oldest of
// them leaves the window. Full throughput, never more than max in any
// window. Safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	clock  Clock
	sent   []time.Time // send times within the window, oldest first
	paused time.Time   // nobody goes before this (after a 429)
}

// NewLimiter allows max requests per rolling window. A nil clock follows the
// client's (or the wall clock when used alone).
func NewLimiter(max int, window time.Duration, clock Clock) *Limiter {
	if max < 1 {
		max = 1
	}
	return &Limiter{max: max, window: window, clock: clock}
}

// Wait blocks until a request may be sent, and counts it as sent.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		clk := l.clock
		if clk == nil {
			clk = RealClock
		}
		d := l.reserve(clk.Now())
		l.mu.Unlock()
		if d <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clk.After(d):
		}
	}
}

// reserve takes a slot at now and returns 0, or returns how long to wait.
func (l *Limiter) reserve(now time.Time) time.Duration {
	if now.Before(l.paused) {
		return l.paused.Sub(now)
	}
	cut := 0
	for cut < len(l.sent) && !l.sent[cut].After(now.Add(-l.window)) {
		cut++
	}
	l.sent = l.sent[cut:]
	if len(l.sent) >= l.max {
		return l.sent[0].Add(l.window).Sub(now)
	}
	l.sent = append(l.sent, now)
	return 0
}

// PauseUntil holds every request until t (HubSpot said 429: the limit is the
// account's, so all callers wait, not only the one that hit it).
func (l *Limiter) PauseUntil(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.After(l.paused) {
		l.paused = t
	}
}
