package hubspot

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/store"
)

// Temporal application error types the CRM methods return.
const (
	// ErrRateLimited: HubSpot answered 429 (or 477); retryable, with the
	// error's NextRetryDelay set to HubSpot's Retry-After.
	ErrRateLimited = "HubSpotRateLimited"
	// ErrRejected: HubSpot answered a 4xx that no retry changes (validation
	// error, unknown object, conflict); non-retryable, HubSpot's message in
	// the cause.
	ErrRejected = "HubSpotRejected"
	// ErrUnauthorized: 401/403, the token is wrong or lacks a scope;
	// non-retryable (a misconfiguration to fix, not to wait out).
	ErrUnauthorized = "HubSpotUnauthorized"
	// ErrUnconfirmedCreate: an earlier attempt may have created the object
	// and HubSpot's search cannot confirm it yet; retryable, with
	// NextRetryDelay set to when it can.
	ErrUnconfirmedCreate = "HubSpotUnconfirmedCreate"
)

// ActivityError turns an error from the Client into what an activity
// should return:
//
//	429, 477             retryable  ErrRateLimited, NextRetryDelay = Retry-After
//	401, 403             non-retryable ErrUnauthorized
//	other 4xx            non-retryable ErrRejected (HubSpot's message)
//	5xx, 408, 423, no answer (timeout, connection)  plain retryable error
//
// Non-retryable errors also wrap store.ErrInvalidInput, so an activity
// layer that classifies by the store's sentinels keeps them non-retryable.
// An error that already is a *temporal.ApplicationError is returned as is.
func ActivityError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return err
	}
	if d, ok := IsRateLimited(err); ok {
		return temporal.NewApplicationErrorWithOptions(
			fmt.Sprintf("%s: HubSpot rate limit, retry after %s", op, d), ErrRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: d, Cause: err})
	}
	if IsUnauthorized(err) {
		return temporal.NewNonRetryableApplicationError(
			op+": HubSpot refused the access token (check HUBSPOT_TOKEN and the private app's scopes)",
			ErrUnauthorized, fmt.Errorf("%w (%w)", err, store.ErrInvalidInput))
	}
	if IsBadRequest(err) {
		return temporal.NewNonRetryableApplicationError(op+": HubSpot rejected the request", ErrRejected,
			fmt.Errorf("%w (%w)", err, store.ErrInvalidInput))
	}
	return fmt.Errorf("%s: %w", op, err)
}

// RetryAfterError is ActivityError for callers that only care about 429s:
// a rate-limited err becomes a retryable application error whose next
// retry waits as HubSpot's Retry-After says; anything else is returned
// unchanged.
func RetryAfterError(err error) error {
	if _, ok := IsRateLimited(err); ok {
		return ActivityError("hubspot", err)
	}
	return err
}

// invalid is a non-retryable error for input no retry can fix.
func invalid(typ string, sentinel error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return temporal.NewNonRetryableApplicationError(msg, typ, fmt.Errorf("%s: %w", msg, sentinel))
}

// unknownRep wraps a resolver error: unmappable reps are non-retryable.
func unknownRep(op string, err error) error {
	if errors.Is(err, store.ErrUnknownRep) {
		return temporal.NewNonRetryableApplicationError(op+": "+err.Error(), actions.ErrUnknownRep, err)
	}
	return ActivityError(op, err)
}

// unconfirmed asks to be retried once HubSpot's search can confirm whether
// an earlier attempt created the object.
func unconfirmed(kind, key string, wait time.Duration) error {
	if wait < time.Second {
		wait = time.Second
	}
	return temporal.NewApplicationErrorWithOptions(
		fmt.Sprintf("unconfirmed %s create for %s: waiting %s for HubSpot's search index", kind, key, wait.Round(time.Second)),
		ErrUnconfirmedCreate, temporal.ApplicationErrorOptions{NextRetryDelay: wait})
}
