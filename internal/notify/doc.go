// Package notify is the notification port: it tells a person (a rep, a
// manager, a marketing recipient) what a lead needs of them, on every
// channel configured and that the person has an address for — Slack (an
// incoming webhook, or a bot token posting to the person's Slack user ID)
// and email over SMTP.
//
// The Notify activity files each notification in the CRM first (the
// built-in record is the notifications table), then calls the Dispatcher,
// which sends each (key, channel, recipient) at most once: a delivery is
// claimed in Postgres (notification_deliveries) before it is sent and
// marked delivered after, so a retried activity sends only what is
// missing. A recipient over the policy's rate limit, or in their quiet
// hours (non-urgent notifications only), is held: the activity fails with
// a retry delay until then, and nothing is dropped.
//
// Errors tell Temporal what to do: a channel that refuses (Slack 4xx,
// SMTP 5xx) is non-retryable (ErrRefused), so the workflow marks the
// effect failed and raises an alert; a rate limit (429 with Retry-After)
// or a hold retries after its delay; an outage (5xx, timeouts, refused
// connections) is retried with the workflow's backoff.
//
// The contact's PII (their email, name) may be in the message a rep reads
// — they need it to call — but never in a log line, an error or a key:
// recipients outside the directory are keyed by a hash of their address.
package notify
