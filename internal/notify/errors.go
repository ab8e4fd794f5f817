package notify

import (
	"fmt"
	"time"
)

// Temporal application error types the Dispatcher returns.
const (
	// ErrRefused: a channel refused a delivery (Slack 4xx or an error
	// such as channel_not_found, SMTP 5xx); non-retryable: the workflow
	// marks the effect failed and raises an alert.
	ErrRefused = "NotifyRefused"
	// ErrHeld: something is to be sent later (quiet hours, the rate
	// limit, a channel's Retry-After); retryable with NextRetryDelay.
	ErrHeld = "NotifyHeld"
	// ErrUnknownRecipient: the person is not in the directory.
	ErrUnknownRecipient = "UnknownRep"
)

// Refused is a channel's refusal of one message: no retry changes it.
type Refused struct {
	Channel string
	Reason  string // the channel's code (HTTP status, Slack error, SMTP code); no PII
}

func (e *Refused) Error() string { return e.Channel + " refused the message: " + e.Reason }

// Limited is a channel's rate limit: try again after RetryAfter.
type Limited struct {
	Channel    string
	RetryAfter time.Duration
}

func (e *Limited) Error() string {
	return fmt.Sprintf("%s rate limit: retry after %s", e.Channel, e.RetryAfter)
}

// Unavailable is an outage (5xx, a timeout, a refused connection): retried
// with backoff. Reason carries no PII.
type Unavailable struct {
	Channel string
	Reason  string
}

func (e *Unavailable) Error() string { return e.Channel + " unavailable: " + e.Reason }
