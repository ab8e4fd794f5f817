package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com"

// Defaults of the client.
const (
	// DefaultTimeout bounds one HTTP request (after the rate limiter let it
	// go). It is well under the CRM activities' 30 s start-to-close timeout
	// and under the CRM's index-lag window, which the exactly-once
	// algorithm relies on.
	DefaultTimeout = 10 * time.Second
	// DefaultBurst and DefaultBurstWindow are HubSpot's documented burst
	// limit for a private app on a Free/Starter account (the lowest tier):
	// 100 requests per rolling 10 seconds. Higher tiers allow more; raise it
	// with WithRateLimiter.
	DefaultBurst       = 100
	DefaultBurstWindow = 10 * time.Second
	// DefaultSearchRate is the CRM search API's own limit (documented as
	// 4-5 requests per second per account); searches also count against
	// the burst limit.
	DefaultSearchRate = 4
	// maxBody caps how much of a response is read.
	maxBody = 4 << 20
)

// Clock is the time source of the client, the limiter and the CRM; tests
// inject a fake one (hubspottest.Clock) so nothing sleeps for real.
type Clock interface {
	Now() time.Time
	// After is time.After on this clock.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// Client is a HubSpot CRM API v3 client authenticated with a private app's
// access token. It is safe for concurrent use. Every request first waits for
// the client-side rate limiter, so leadflow stays under HubSpot's burst
// limit and rarely sees a 429.
type Client struct {
	base    *url.URL
	token   string
	http    *http.Client
	clock   Clock
	timeout time.Duration
	limiter *Limiter // nil: no client-side limit
	search  *Limiter // nil: no separate search limit
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (transport, proxies). Its Timeout, if
// any, applies on top of the per-request timeout.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithClock sets the clock the limiters and Retry-After dates use.
func WithClock(clk Clock) Option { return func(c *Client) { c.clock = clk } }

// WithTimeout sets the per-request timeout (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRateLimiter replaces the burst limiter (default DefaultBurst requests
// per DefaultBurstWindow). nil turns client-side limiting off. The limit is
// per Client: with several worker processes on one HubSpot account, give
// each its share.
func WithRateLimiter(l *Limiter) Option { return func(c *Client) { c.limiter = l } }

// WithSearchLimiter replaces the search limiter (default DefaultSearchRate
// per second); nil turns it off.
func WithSearchLimiter(l *Limiter) Option { return func(c *Client) { c.search = l } }

// New returns a client for the API at baseURL ("" = DefaultBaseURL) with a
// private app's access token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hubspot: base URL %q: want http(s)://host", baseURL)
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("hubspot: empty access token (HUBSPOT_TOKEN)")
	}
	c := &Client{base: u, token: token, http: &http.Client{}, clock: RealClock, timeout: DefaultTimeout}
	c.limiter = NewLimiter(DefaultBurst, DefaultBurstWindow, nil)
	c.search = NewLimiter(DefaultSearchRate, time.Second, nil)
	for _, o := range opts {
		o(c)
	}
	// Limiters built before WithClock (or with a nil clock) follow the
	// client's clock.
	for _, l := range []*Limiter{c.limiter, c.search} {
		if l != nil && l.clock == nil {
			l.clock = c.clock
		}
	}
	return c, nil
}

// APIError is a non-2xx answer from HubSpot. Message is HubSpot's own text
// (with anything that looks like an email address redacted: it ends up in
// activity failures and the lead's explain, which never carry PII).
type APIError struct {
	Status        int
	Category      string // VALIDATION_ERROR, OBJECT_NOT_FOUND, CONFLICT, RATE_LIMITS, INVALID_AUTHENTICATION, ...
	Message       string
	CorrelationID string
	PolicyName    string        // rate limits: TEN_SECONDLY_ROLLING, SECONDLY, DAILY
	RetryAfter    time.Duration // 429 and 477: how long HubSpot asks us to wait
	Method, Path  string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hubspot: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Category != "" {
		b.WriteString(" " + e.Category)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.CorrelationID != "" {
		b.WriteString(" (correlationId " + e.CorrelationID + ")")
	}
	return b.String()
}

// TransportError is a request that got no HTTP answer: a timeout, a refused
// or dropped connection. HubSpot may or may not have acted on it.
type TransportError struct {
	Method, Path string
	Err          error
	// NotSent: the request never left (the context ended while it waited
	// for the rate limiter), so HubSpot certainly did nothing.
	NotSent bool
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("hubspot: %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// IsRateLimited reports whether err is HubSpot's 429 (or 477, migration in
// progress, which also says when to come back) and how long to wait.
func IsRateLimited(err error) (time.Duration, bool) {
	var e *APIError
	if errors.As(err, &e) && (e.Status == http.StatusTooManyRequests || e.Status == 477) {
		return e.RetryAfter, true
	}
	return 0, false
}

// IsRetryable reports whether a later retry may succeed: 429 and 477 (after
// RetryAfter), 423 Locked (HubSpot: wait 2 s), 408, every 5xx, and every
// request that got no answer (timeouts, connection errors).
func IsRetryable(err error) bool {
	var e *APIError
	if errors.As(err, &e) {
		switch {
		case e.Status == http.StatusTooManyRequests, e.Status == 477, e.Status == http.StatusLocked,
			e.Status == http.StatusRequestTimeout, e.Status >= 500:
			return true
		}
		return false
	}
	var t *TransportError
	return errors.As(err, &t)
}

// IsUnauthorized reports a 401 or 403: the token is wrong, revoked or lacks
// a scope. A misconfiguration: retrying does not help until someone fixes
// it, so it is not retryable.
func IsUnauthorized(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// IsBadRequest reports a 4xx that HubSpot will answer the same way every
// time: 400 validation errors, 404 (no such object), 409 conflicts, 405,
// 413, 415, 422. Excluded: 401/403 (IsUnauthorized), 408, 423, 429 and 477
// (IsRetryable).
func IsBadRequest(err error) bool {
	var e *APIError
	if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
		return false
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout,
		http.StatusLocked, http.StatusTooManyRequests, 477:
		return false
	}
	return true
}

// IsNotFound reports a 404.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// do sends one request: in (if not nil) as the JSON body, the 2xx answer
// decoded into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return &TransportError{Method: method, Path: path, Err: err, NotSent: true}
		}
	}
	if c.search != nil && strings.HasSuffix(path, "/search") {
		if err := c.search.Wait(ctx); err != nil {
			return &TransportError{Method: method, Path: path, Err: err, NotSent: true}
		}
	}
	// path is already escaped (objectPath escapes IDs).
	u := *c.base
	u.RawPath = c.base.EscapedPath() + path
	if p, err := url.PathUnescape(u.RawPath); err == nil {
		u.Path = p
	}
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("hubspot: %s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("hubspot: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &TransportError{Method: method, Path: path, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &TransportError{Method: method, Path: path, Err: fmt.Errorf("read response (%d): %w", resp.StatusCode, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := c.apiError(method, path, resp, raw)
		if e.Status == http.StatusTooManyRequests && c.limiter != nil {
			// Everyone waits, not just this caller: the limit is the
			// account's.
			c.limiter.PauseUntil(c.clock.Now().Add(e.RetryAfter))
		}
		return e
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("hubspot: %s %s: decode %d response: %w", method, path, resp.StatusCode, err)
	}
	return nil
}

// errorBody is HubSpot's error JSON; every field is optional.
type errorBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
	Category      string `json:"category"`
	ErrorType     string `json:"errorType"`  // 429 bodies
	PolicyName    string `json:"policyName"` // 429 bodies
}

func (c *Client) apiError(method, path string, resp *http.Response, raw []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, Method: method, Path: path}
	var b errorBody
	if json.Unmarshal(raw, &b) == nil {
		e.Message, e.CorrelationID, e.Category, e.PolicyName = b.Message, b.CorrelationID, b.Category, b.PolicyName
		if e.Category == "" {
			e.Category = b.ErrorType
		}
	} else if s := strings.TrimSpace(string(raw)); s != "" && len(s) < 200 {
		e.Message = s // a gateway's plain-text page
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	e.Message = redactEmails(e.Message)
	if e.Status == http.StatusTooManyRequests || e.Status == 477 || resp.Header.Get("Retry-After") != "" {
		e.RetryAfter = c.retryAfter(resp.Header, e.PolicyName)
	}
	return e
}

// retryAfter reads Retry-After (seconds or an HTTP date). Without it, a 429
// waits out the rate-limit interval HubSpot reports
// (X-HubSpot-RateLimit-Interval-Milliseconds), else the 10 s burst window;
// a daily limit waits an hour (it resets at midnight in the account's time
// zone, which the client does not know).
func (c *Client) retryAfter(h http.Header, policy string) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := t.Sub(c.clock.Now()); d > 0 {
				return d
			}
			return time.Second
		}
	}
	if strings.EqualFold(policy, "DAILY") {
		return time.Hour
	}
	if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return DefaultBurstWindow
}

// redactEmails replaces anything shaped like an email address.
func redactEmails(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	out := []byte(s)
	isWord := func(c byte) bool {
		return c == '.' || c == '_' || c == '-' || c == '+' || c == '%' ||
			(c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	}
	var res strings.Builder
	for i := 0; i < len(out); {
		at := bytes.IndexByte(out[i:], '@')
		if at < 0 {
			res.Write(out[i:])
			break
		}
		at += i
		start := at
		for start > i && isWord(out[start-1]) {
			start--
		}
		end := at + 1
		for end < len(out) && isWord(out[end]) {
			end++
		}
		if start < at && end > at+1 {
			res.Write(out[i:start])
			res.WriteString("<email>")
		} else {
			res.Write(out[i:end])
		}
		i = end
	}
	return res.String()
}
