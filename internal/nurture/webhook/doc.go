// Package webhook is the nurture adapter for LEADFLOW_NURTURE=webhook: any
// marketing-automation tool that can take a webhook runs leadflow's nurture.
//
// # What leadflow keeps, what the tool does
//
// Leadflow's store (Postgres) stays the book of record and keeps exactly the
// built-in nurture's guarantees: every enrollment, pause, stop and send is
// recorded once per idempotency key, and a send is decided in one
// transaction that re-checks the suppression guard (unsubscribed, bounced,
// disqualified, active sales motion, recent rep touch, frequency cap, quiet
// hours, a stopped track) and records the send. Only then is the tool told.
// A send the guard refuses is never posted: the tool receives no request.
//
// # Requests
//
// Each call is one POST to NURTURE_WEBHOOK_URL with a JSON body and these
// headers:
//
//	Content-Type:       application/json
//	User-Agent:         leadflow
//	Idempotency-Key:    <the key; equal to the body's idempotencyKey>
//	Leadflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(NURTURE_WEBHOOK_SECRET, t + "." + raw body)>
//
// The signature is the scheme of POST /v1/events: the receiver recomputes
// the HMAC over the timestamp, a '.', and the raw body bytes as received
// (before any JSON parsing), compares in constant time, and rejects a
// timestamp more than 300 s from its own clock. A redelivery is signed
// again with a fresh timestamp.
//
// The body:
//
//	{"type":"enroll","idempotencyKey":"lead/L-1001/nurture/enroll/evt-81f2/default",
//	 "leadId":"L-1001","email":"ana@acme.io","track":"default","step":0}
//	{"type":"resume","idempotencyKey":"…","leadId":"L-1001","email":"ana@acme.io","track":"default","step":3}
//	{"type":"pause","idempotencyKey":"…","leadId":"L-1001","email":"ana@acme.io","reasons":["active_sales_motion"]}
//	{"type":"unenroll","idempotencyKey":"…","leadId":"L-1001","email":"ana@acme.io","reasons":["unsubscribed"]}
//	{"type":"send","idempotencyKey":"…","leadId":"L-1001","email":"ana@acme.io","track":"default","step":2,
//	 "sentAt":"2026-11-23T15:00:00Z"}
//
// Fields:
//
//   - type: enroll | resume | pause | unenroll | send.
//   - idempotencyKey: unique per action; the same action retried carries
//     the same key (and, apart from sentAt, the same body).
//   - leadId: leadflow's lead ID ([A-Za-z0-9._:-]{1,128}).
//   - email: the contact's address; omitted when leadflow has none. It is
//     personal data: leadflow sends it only in this body, never in a URL,
//     header or log line, and the receiver should treat it the same way.
//   - track, step: enroll, resume and send only. step counts from 0: enroll
//     and resume put the lead on the track at that step; send asks for that
//     step's touch.
//   - reasons: pause and unenroll. Pause: the guard's reasons (today
//     active_sales_motion). Unenroll: one reason, unsubscribed, bounced,
//     disqualified or merged (event names such as email.unsubscribe are
//     sent as unsubscribed, email.bounce as bounced).
//   - sentAt: send only; when leadflow handed the touch over (RFC 3339,
//     UTC). A redelivery carries its own, later time.
//
// Enroll or resume: leadflow puts a lead back on nurture after a pause (a
// recycle ending) by enrolling it again. The adapter tells the two apart
// from the input alone, so a retried call is the same call: step 0 is
// "enroll" (start the track from its first touch), step > 0 is "resume"
// (continue the track at that step). Both lift any pause or unenroll the
// tool holds for the lead on that track, except the tool's own unsubscribe
// and bounce lists, which it must keep honouring. Today leadflow's workflow
// restarts tracks at step 0, so after a pause the tool sees "enroll".
//
// Unknown fields may be added later; a receiver must ignore them.
//
// # Responses
//
//   - 2xx: done.
//   - 409: already processed (a repeat of an idempotency key): done.
//   - 429 or 503 with Retry-After (seconds or an HTTP date): leadflow retries
//     no sooner than that (a Temporal application error of type
//     NurtureThrottled carrying NextRetryDelay).
//   - 429 or 503 without Retry-After, any other 5xx, a timeout (default
//     10 s per request), a connection error: retried with the activity's
//     backoff (type NurtureUnavailable).
//   - 401 or 403: the signature was refused; not retried (type
//     NurtureRejected); the message says to check NURTURE_WEBHOOK_SECRET and
//     the clocks. Any other 4xx, or a 3xx (redirects are not followed: set
//     the final URL): not retried (NurtureRejected) with the receiver's
//     message, the first 512 bytes of the body or its JSON "error" or
//     "message" field; the workflow raises it as an alert.
//
// # Delivery: at least once, processed once
//
// A retried activity repeats its key: the store finds the key already
// recorded (a send is not re-decided and not recorded twice) and the
// request is delivered again, so the receiver must drop a repeated
// Idempotency-Key (answering 2xx or 409). A receiver that processes a
// request and crashes before replying gets it again and must not act twice.
// Order is not guaranteed: leadflow runs some side effects side by side,
// and a retried request may arrive after a later one. A receiver that needs
// order can keep, per lead, the state the last request implied (a send for
// a lead it holds as unenrolled should be dropped).
package webhook
