package api

import (
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// The edge's tests are package api_test, so that they can drive the edge
// with the shared api.Leads double (internal/webui/webuitest imports this
// package); these are the internals they look at.

type (
	ErrorBody   = errorBody
	EventErrors = eventErrors
	ReadyBody   = readyBody
	RateLimiter = rateLimiter
)

const (
	BodyBusyRetry = bodyBusyRetry
	MaxMergeHops  = maxMergeHops
	MaxSources    = maxSources
	SweepEvery    = sweepEvery
)

var (
	ErrSigMissing   = errSigMissing
	ErrSigMalformed = errSigMalformed
	NeedsToken      = needsToken
	NewRateLimiter  = newRateLimiter
	ParseSignature  = parseSignature
	DecodeEvent     = decodeEvent
)

func (s *Server) DecodeBatch(body []byte) ([]lead.Event, []EventError) { return s.decodeBatch(body) }

func (l *rateLimiter) Allow(source string) (bool, time.Duration) { return l.allow(source) }

// Buckets is how many sources the limiter tracks.
func (l *rateLimiter) Buckets() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// SetReadyTimeout sets the /readyz bound until the returned func restores it.
func SetReadyTimeout(d time.Duration) (restore func()) {
	old := readyTimeout
	readyTimeout = d
	return func() { readyTimeout = old }
}
