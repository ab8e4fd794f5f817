package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
)

// Channel is one way of reaching people.
type Channel interface {
	Name() string
	// Reaches reports whether the channel has an address for p.
	Reaches(p Person) bool
	// Send delivers m to m.To; errors are *Refused, *Limited or anything
	// else (an outage, retried).
	Send(ctx context.Context, m Message) error
}

// Store is what the Dispatcher needs of Postgres (internal/store).
type Store interface {
	Person(ctx context.Context, id string) (directory.Rep, bool, error)
	ClaimDelivery(ctx context.Context, d store.Delivery, limit int, window time.Duration, now time.Time) (store.Claim, error)
	MarkDelivered(ctx context.Context, d store.Delivery, at time.Time) error
	ReleaseDelivery(ctx context.Context, d store.Delivery) error
}

// Policy is the part of the current policy the Dispatcher reads on every
// call (a reloaded policy applies at once).
type Policy struct {
	Notifications policy.Notifications
	Location      *time.Location // for recipients without a time zone
}

// rateWindow is the rate limit's window: RatePerHour per hour.
const rateWindow = time.Hour

// Dispatcher delivers a notification on every channel, once per
// (key, channel, recipient).
type Dispatcher struct {
	Store    Store
	Channels []Channel
	Policy   func() Policy // default: the policy defaults, in UTC
	Links    Links
	Now      func() time.Time // default time.Now
	Log      *zap.Logger      // default: none
}

// target is one delivery to make.
type target struct {
	ch Channel
	to Person
}

// outcome gathers what a Dispatch did, to decide what Temporal does next.
type outcome struct {
	delivered, done int
	hold            time.Time // earliest end of a hold (quiet hours, rate limit)
	retryAfter      time.Duration
	holds, limits   []string
	refused         []string
	failed          []string
}

// Dispatch delivers in to its recipients (in.To, from the directory, and
// in.ToEmails by email). It returns nil when every delivery is made (now
// or by an earlier attempt); a retryable ErrHeld application error whose
// NextRetryDelay is when to come back when something is held; a plain
// error on an outage; a non-retryable ErrRefused error when all that is
// left was refused.
func (d *Dispatcher) Dispatch(ctx context.Context, in actions.NotifyInput) error {
	if len(d.Channels) == 0 {
		return nil
	}
	pol := Policy{Notifications: policy.DefaultNotifications()}
	if d.Policy != nil {
		pol = d.Policy()
	}
	if pol.Location == nil {
		pol.Location = time.UTC
	}
	targets, err := d.targets(ctx, in)
	if err != nil {
		return err
	}
	now := d.now()
	var out outcome
	for _, t := range targets {
		d.deliver(ctx, in, t, pol, now, &out)
	}
	return out.result(in, now)
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) log() *zap.Logger {
	if d.Log != nil {
		return d.Log
	}
	return zap.NewNop()
}

// targets are the (channel, person) pairs of in: each recipient on each
// channel that reaches them.
func (d *Dispatcher) targets(ctx context.Context, in actions.NotifyInput) ([]target, error) {
	var people []Person
	if in.To != "" {
		r, ok, err := d.Store.Person(ctx, in.To)
		switch {
		case err != nil:
			return nil, fmt.Errorf("notify %s about lead %s: %w", in.To, in.LeadID, err)
		case ok:
			people = append(people, FromRep(r))
		case len(in.ToEmails) == 0:
			return nil, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("notify %s about lead %s: no such person in the directory", in.To, in.LeadID), ErrUnknownRecipient, nil)
		}
		// Not in the directory but with extra addresses: a pseudo-recipient
		// such as the weekly report's "marketing".
	}
	seen := map[string]bool{}
	for _, e := range in.ToEmails {
		e = strings.TrimSpace(e)
		id := ExternalID(e)
		if e == "" || seen[id] {
			continue
		}
		seen[id] = true
		people = append(people, Person{ID: id, Email: e, External: true})
	}
	var out []target
	for _, p := range people {
		for _, ch := range d.Channels {
			if ch.Reaches(p) {
				out = append(out, target{ch: ch, to: p})
			}
		}
	}
	return out, nil
}

// deliver makes one delivery unless it was made, is held, or fails.
func (d *Dispatcher) deliver(ctx context.Context, in actions.NotifyInput, t target, pol Policy, now time.Time, out *outcome) {
	rec := store.Delivery{Key: in.Key, Channel: t.ch.Name(), Recipient: t.to.ID, LeadID: in.LeadID, Kind: in.Kind}
	name := rec.Channel + " to " + rec.Recipient
	log := d.log().With(zap.String("key", in.Key), zap.String("lead", in.LeadID), zap.String("kind", in.Kind),
		zap.String("channel", rec.Channel), zap.String("recipient", rec.Recipient))
	// Urgent notifications skip the rate limit as they skip quiet hours:
	// holding one would defeat it. They still count.
	urgent := isUrgent(in)
	limit := pol.Notifications.RatePerHour
	if urgent {
		limit = 0
	}
	claim, err := d.Store.ClaimDelivery(ctx, rec, limit, rateWindow, now)
	if err != nil {
		out.failed = append(out.failed, fmt.Sprintf("%s: %v", name, err))
		return
	}
	switch claim.Status {
	case store.ClaimDone:
		out.done++
		return
	case store.ClaimHeld:
		log.Info("notification held: recipient over the rate limit", zap.Time("until", claim.RetryAt))
		out.holdUntil(claim.RetryAt)
		out.limits = append(out.limits, name)
		return
	}
	loc := pol.Location
	if t.to.Timezone != "" {
		if l, err := time.LoadLocation(t.to.Timezone); err == nil {
			loc = l
		}
	}
	if !urgent {
		if until, quiet := pol.Notifications.QuietUntil(now, loc); quiet {
			if err := d.Store.ReleaseDelivery(ctx, rec); err != nil {
				out.failed = append(out.failed, fmt.Sprintf("%s: %v", name, err))
				return
			}
			log.Info("notification held: recipient's quiet hours", zap.Time("until", until))
			out.holdUntil(until)
			out.holds = append(out.holds, name)
			return
		}
	}
	m := Build(in, t.to, loc, d.Links)
	sendErr := t.ch.Send(ctx, m)
	if sendErr == nil {
		if err := d.Store.MarkDelivered(ctx, rec, d.now()); err != nil {
			// Sent but not recorded: the retry sends it again (at least
			// once; an email keeps its Message-ID).
			out.failed = append(out.failed, fmt.Sprintf("%s: sent, not recorded: %v", name, err))
			return
		}
		log.Info("notification delivered")
		out.delivered++
		return
	}
	if err := d.Store.ReleaseDelivery(ctx, rec); err != nil {
		log.Warn("cannot release a failed delivery's claim", zap.Error(err))
	}
	var refused *Refused
	var limited *Limited
	switch {
	case errors.As(sendErr, &refused):
		log.Error("notification refused by the channel", zap.String("reason", refused.Reason))
		out.refused = append(out.refused, fmt.Sprintf("%s: %s", name, refused.Reason))
	case errors.As(sendErr, &limited):
		log.Warn("channel rate limit", zap.Duration("retryAfter", limited.RetryAfter))
		out.retryAfter = max(out.retryAfter, limited.RetryAfter)
		out.limits = append(out.limits, fmt.Sprintf("%s (retry after %s)", name, limited.RetryAfter))
	default:
		log.Warn("notification not delivered; will retry", zap.Error(sendErr))
		out.failed = append(out.failed, fmt.Sprintf("%s: %v", name, sendErr))
	}
}

// isUrgent: the input says so, or it is an escalation (whose whole point
// is to reach the manager now, whether or not the caller set Urgent).
func isUrgent(in actions.NotifyInput) bool {
	return in.Urgent || in.Kind == actions.NotifyEscalate
}

func (o *outcome) holdUntil(t time.Time) {
	if o.hold.IsZero() || t.Before(o.hold) {
		o.hold = t
	}
}

// result is the activity's answer for what was done.
func (o *outcome) result(in actions.NotifyInput, now time.Time) error {
	op := fmt.Sprintf("notify %s about lead %s (%s)", in.To, in.LeadID, in.Kind)
	var parts []string
	add := func(label string, items []string) {
		if len(items) > 0 {
			parts = append(parts, label+": "+strings.Join(items, "; "))
		}
	}
	add("refused", o.refused)
	add("failed", o.failed)
	add("rate limited", o.limits)
	add("quiet hours", o.holds)
	msg := op + ": " + strings.Join(parts, ", ")
	switch {
	case len(o.failed) > 0:
		// An outage: the workflow's backoff.
		return errors.New(msg)
	case len(o.holds) > 0 || len(o.limits) > 0:
		delay := o.retryAfter
		if !o.hold.IsZero() {
			// A hold's end is later than a Retry-After: the later one, so
			// neither is asked again too early.
			delay = max(delay, o.hold.Sub(now))
		}
		return temporal.NewApplicationErrorWithOptions(msg, ErrHeld,
			temporal.ApplicationErrorOptions{NextRetryDelay: max(delay, time.Second)})
	case len(o.refused) > 0:
		return temporal.NewNonRetryableApplicationError(msg, ErrRefused, nil)
	}
	return nil
}
