package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/nurture"
)

// Request types (the body's "type").
const (
	TypeEnroll   = "enroll"
	TypeResume   = "resume"
	TypePause    = "pause"
	TypeUnenroll = "unenroll"
	TypeSend     = "send"
)

// Temporal application error types of the adapter's failures.
const (
	// ErrRejected: the receiver refused the request (4xx, a refused
	// signature, a redirect). Non-retryable.
	ErrRejected = "NurtureRejected"
	// ErrThrottled: 429 or 503 with Retry-After. Retryable, with
	// NextRetryDelay set to what the receiver asked for.
	ErrThrottled = "NurtureThrottled"
	// ErrUnavailable: 5xx, a timeout or a connection error. Retryable.
	ErrUnavailable = "NurtureUnavailable"
)

const (
	// DefaultTimeout bounds one request.
	DefaultTimeout = 10 * time.Second
	// IdempotencyKeyHeader carries the action's key.
	IdempotencyKeyHeader = "Idempotency-Key"
	// UserAgent is sent with every request.
	UserAgent = "leadflow"

	maxMessage  = 512      // bytes of a receiver's message kept in an error
	maxDrain    = 64 << 10 // bytes of a response read to reuse the connection
	minRetryGap = time.Millisecond
)

// Guard is what the adapter needs of leadflow's store: the built-in
// nurture's own operations, with their semantics (store.Nurture satisfies
// it). Each records its action once per Key; Send re-checks the suppression
// guard and records the send in one transaction, returns Sent for a key
// already recorded, and returns Sent=false with the reasons when refused.
type Guard interface {
	Enroll(ctx context.Context, in actions.EnrollInput) error
	Pause(ctx context.Context, in actions.PauseInput) error
	Stop(ctx context.Context, in actions.StopInput) error
	Send(ctx context.Context, in actions.SendInput) (actions.SendResult, error)
}

// Payload is the JSON body posted to the receiver (see the package doc).
type Payload struct {
	Type           string    `json:"type"`
	IdempotencyKey string    `json:"idempotencyKey"`
	LeadID         string    `json:"leadId"`
	Email          string    `json:"email,omitempty"`
	Track          string    `json:"track,omitempty"`
	Step           *int      `json:"step,omitempty"`
	Reasons        []string  `json:"reasons,omitempty"`
	SentAt         time.Time `json:"sentAt,omitzero"`
}

// Adapter is the nurture webhook adapter. It is safe for concurrent use.
type Adapter struct {
	url     string
	secret  []byte
	guard   Guard
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
	target  string // scheme://host/path, for messages (no query, no credentials)
}

var _ nurture.Nurture = (*Adapter)(nil)

// Option configures an Adapter.
type Option func(*Adapter)

// WithTimeout sets the per-request timeout (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(a *Adapter) { a.timeout = d } }

// WithHTTPClient sets the HTTP client (default: a client of its own that
// does not follow redirects). Redirects are never followed either way.
func WithHTTPClient(c *http.Client) Option { return func(a *Adapter) { a.client = c } }

// WithClock sets the clock used for signatures and sentAt (default time.Now).
func WithClock(now func() time.Time) Option { return func(a *Adapter) { a.now = now } }

// New returns an adapter posting to rawURL (NURTURE_WEBHOOK_URL), signing
// with secret (NURTURE_WEBHOOK_SECRET), recording through guard.
func New(rawURL string, secret []byte, guard Guard, opts ...Option) (*Adapter, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("nurture webhook: NURTURE_WEBHOOK_URL must be an absolute http(s) URL")
	}
	if len(secret) == 0 {
		return nil, errors.New("nurture webhook: NURTURE_WEBHOOK_SECRET is empty")
	}
	if guard == nil {
		return nil, errors.New("nurture webhook: no store to record nurture in")
	}
	a := &Adapter{url: rawURL, secret: bytes.Clone(secret), guard: guard, timeout: DefaultTimeout, now: time.Now,
		target: u.Scheme + "://" + u.Host + u.Path}
	for _, o := range opts {
		o(a)
	}
	if a.timeout <= 0 {
		return nil, fmt.Errorf("nurture webhook: timeout %v must be positive", a.timeout)
	}
	base := a.client
	if base == nil {
		base = &http.Client{}
	}
	c := *base // a copy: the caller's client keeps its own redirect policy
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	a.client = &c
	return a, nil
}

// Enroll records the enrollment, then posts "enroll" (step 0) or "resume"
// (step > 0).
func (a *Adapter) Enroll(ctx context.Context, in actions.EnrollInput) error {
	if err := a.guard.Enroll(ctx, in); err != nil {
		return err
	}
	typ := TypeEnroll
	if in.Step > 0 {
		typ = TypeResume
	}
	step := in.Step
	return a.post(ctx, Payload{Type: typ, IdempotencyKey: in.Key, LeadID: in.LeadID, Email: in.Email,
		Track: in.Track, Step: &step}, in.Email)
}

// Pause records the pause, then posts "pause" with the reasons.
func (a *Adapter) Pause(ctx context.Context, in actions.PauseInput) error {
	if err := a.guard.Pause(ctx, in); err != nil {
		return err
	}
	return a.post(ctx, Payload{Type: TypePause, IdempotencyKey: in.Key, LeadID: in.LeadID, Email: in.Email,
		Reasons: in.Reasons}, in.Email)
}

// Stop records the stop, then posts "unenroll" with the reason.
func (a *Adapter) Stop(ctx context.Context, in actions.StopInput) error {
	if err := a.guard.Stop(ctx, in); err != nil {
		return err
	}
	var reasons []string
	if r := stopReason(in.Reason); r != "" {
		reasons = []string{r}
	}
	return a.post(ctx, Payload{Type: TypeUnenroll, IdempotencyKey: in.Key, LeadID: in.LeadID, Email: in.Email,
		Reasons: reasons}, in.Email)
}

// Send lets the store decide and record the touch (the guard re-checked in
// the transaction that records it); a refused touch is returned with its
// reasons and never posted. A touch the store allowed, or had recorded
// under this key before, is posted as "send".
func (a *Adapter) Send(ctx context.Context, in actions.SendInput) (actions.SendResult, error) {
	res, err := a.guard.Send(ctx, in)
	if err != nil || !res.Sent {
		return res, err
	}
	step := in.Step
	err = a.post(ctx, Payload{Type: TypeSend, IdempotencyKey: in.Key, LeadID: in.LeadID, Email: in.Email,
		Track: in.Track, Step: &step, SentAt: a.now().UTC().Truncate(time.Second)}, in.Email)
	if err != nil {
		return actions.SendResult{}, err
	}
	return res, nil
}

// stopReason names a stop the way the receiver reads it: event names
// become the guard's reason.
func stopReason(r string) string {
	switch r {
	case "unsubscribe", "email.unsubscribe":
		return lead.SuppressUnsubscribed
	case "bounce", "email.bounce":
		return lead.SuppressBounced
	}
	return r
}

// post delivers one signed request and classifies the answer.
func (a *Adapter) post(ctx context.Context, p Payload, email string) error {
	op := fmt.Sprintf("nurture webhook %s lead %s (key %s)", p.Type, p.LeadID, p.IdempotencyKey)
	body, err := json.Marshal(p)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(op+": encode body: "+err.Error(), actions.ErrInvalidInput, nil)
	}
	rctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return temporal.NewNonRetryableApplicationError(op+": "+a.target+": bad request", ErrRejected, nil)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(IdempotencyKeyHeader, p.IdempotencyKey)
	req.Header.Set(api.SignatureHeader, api.Sign(a.secret, a.now(), body))

	resp, err := a.client.Do(req)
	if err != nil {
		return a.transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxDrain))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain)) // let the connection be reused

	code := resp.StatusCode
	status := strconv.Itoa(code) + " " + http.StatusText(code)
	switch {
	case code >= 200 && code < 300, code == http.StatusConflict:
		return nil
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		msg := fmt.Sprintf("%s: %s answered %s", op, a.target, status)
		if m := receiverMessage(raw, email); m != "" {
			msg += ": " + m
		}
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), a.now()); ok {
			return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%s; retry after %v", msg, d), ErrThrottled,
				temporal.ApplicationErrorOptions{NextRetryDelay: d})
		}
		return temporal.NewApplicationError(msg, ErrUnavailable)
	case code >= 500:
		msg := fmt.Sprintf("%s: %s answered %s", op, a.target, status)
		if m := receiverMessage(raw, email); m != "" {
			msg += ": " + m
		}
		return temporal.NewApplicationError(msg, ErrUnavailable)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		msg := fmt.Sprintf("%s: %s refused the %s signature (%s)", op, a.target, api.SignatureHeader, status)
		if m := receiverMessage(raw, email); m != "" {
			msg += ": " + m
		}
		msg += "; check that NURTURE_WEBHOOK_SECRET is the receiver's secret and that both clocks are right"
		return temporal.NewNonRetryableApplicationError(msg, ErrRejected, nil)
	case code >= 300 && code < 400:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s: %s answered %s (redirects are not followed; set NURTURE_WEBHOOK_URL to the final URL)", op, a.target, status),
			ErrRejected, nil)
	default:
		msg := fmt.Sprintf("%s: %s rejected the request (%s)", op, a.target, status)
		if m := receiverMessage(raw, email); m != "" {
			msg += ": " + m
		}
		return temporal.NewNonRetryableApplicationError(msg, ErrRejected, nil)
	}
}

// transportError reports a failure to get an answer. The *url.Error of
// net/http quotes the whole URL, which may carry a token: only its cause is
// kept.
func (a *Adapter) transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil { // the activity itself was cancelled or timed out
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return temporal.NewApplicationError(fmt.Sprintf("%s: %s did not answer within %v", op, a.target, a.timeout), ErrUnavailable)
	}
	return temporal.NewApplicationError(fmt.Sprintf("%s: %s: %v", op, a.target, err), ErrUnavailable)
}

// retryAfter reads Retry-After: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		d = time.Duration(min(n, int64(365*24*time.Hour/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	// Zero asks Temporal for the retry policy's own delay; "now" is the
	// smallest delay instead.
	return max(d, minRetryGap), true
}

// receiverMessage is what the receiver said: the "error" or "message" of a
// JSON body, else the text, cut to maxMessage bytes. The contact's email is
// masked: error messages end up in logs, alerts and workflow history.
func receiverMessage(raw []byte, email string) string {
	var j struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
	}
	msg := ""
	if json.Unmarshal(raw, &j) == nil {
		switch e := j.Error.(type) {
		case string:
			msg = e
		case map[string]any:
			if m, ok := e["message"].(string); ok {
				msg = m
			}
		}
		if msg == "" {
			msg = j.Message
		}
	}
	if msg == "" {
		msg = string(raw)
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if email = strings.TrimSpace(email); email != "" {
		msg = regexp.MustCompile(`(?i)`+regexp.QuoteMeta(email)).ReplaceAllString(msg, "<email>")
	}
	if len(msg) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
