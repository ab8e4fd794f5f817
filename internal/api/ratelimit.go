package api

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Defaults of the per-source limit on POST /v1/events (config.Edge carries
// the LEADFLOW_EVENTS_RATE / LEADFLOW_EVENTS_BURST values).
const (
	defaultEventsRate  = 20.0
	defaultEventsBurst = 40
	// maxSources bounds the limiter's memory: past it, new sources share
	// one more bucket (overflowSource) until idle ones are swept.
	maxSources     = 1 << 16
	overflowSource = "overflow"
	sweepEvery     = time.Minute
)

// rateLimiter is a token bucket per source: each holds up to burst tokens,
// refills at rate a second, and a request takes one.
type rateLimiter struct {
	rate, burst float64
	now         func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func newRateLimiter(rate float64, burst int, now func() time.Time) *rateLimiter {
	if rate <= 0 {
		rate = defaultEventsRate
	}
	if burst <= 0 {
		burst = defaultEventsBurst
	}
	return &rateLimiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token from source's bucket; when it is empty it says how
// long until the next token.
func (l *rateLimiter) allow(source string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	// On a clock, not on size: sweeping a full map on every request would
	// make each request of a flood cost a pass over 64k buckets.
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	b := l.buckets[source]
	if b == nil {
		if len(l.buckets) >= maxSources {
			source = overflowSource
			b = l.buckets[source]
		}
		if b == nil {
			b = &bucket{tokens: l.burst, at: now}
			l.buckets[source] = b
		}
	}
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = math.Min(l.burst, b.tokens+d*l.rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// sweep drops the buckets that have refilled: forgetting them changes nothing.
func (l *rateLimiter) sweep(now time.Time) {
	l.lastSweep = now
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.at) >= full {
			delete(l.buckets, k)
		}
	}
}

// source is who a request counts against: the client address, an IPv6
// client by its /64 (one host usually holds the whole prefix). Not the
// signing key: there is one LEADFLOW_WEBHOOK_SECRET for every sender, and
// the signature covers the body, which the limit exists to avoid reading.
// Behind a proxy every request has the proxy's address, so all senders
// share one bucket: raise LEADFLOW_EVENTS_RATE there.
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// retryAfterSeconds renders d for a Retry-After header: whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}
