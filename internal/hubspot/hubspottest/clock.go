package hubspottest

import (
	"sync"
	"time"
)

// Clock is a manual clock for the client, its limiters, the CRM and the
// fake server: time moves only when a test says so, so a test of "100
// requests per 10 s" or "wait out the index lag" sleeps for nothing.
// It implements hubspot.Clock.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	signal  chan struct{}
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock starts a clock at start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, signal: make(chan struct{}, 1)}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After fires when the clock has been moved d ahead.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	select {
	case c.signal <- struct{}{}:
	default:
	}
	return ch
}

// Waiting receives when someone starts waiting on the clock.
func (c *Clock) Waiting() <-chan struct{} { return c.signal }

// Advance moves the clock d ahead and fires the waiters that are due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fire()
}

// AdvanceToNextWaiter moves the clock to the earliest waiter's time (if it
// is ahead) and fires the due waiters; false when nobody waits.
func (c *Clock) AdvanceToNextWaiter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) == 0 {
		return false
	}
	next := c.waiters[0].at
	for _, w := range c.waiters[1:] {
		if w.at.Before(next) {
			next = w.at
		}
	}
	if next.After(c.now) {
		c.now = next
	}
	c.fire()
	return true
}

func (c *Clock) fire() {
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}
