package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/lead"
)

// apiClient talks to `starter serve` over HTTP: signed event batches, lead
// queries and the rep updates.
type apiClient struct {
	base   string // no trailing slash
	token  string // bearer token for /v1 reads and updates ("" = none)
	secret []byte // LEADFLOW_WEBHOOK_SECRET, signs POST /v1/events
	hc     *http.Client
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	// maxTries bounds attempts of a batch answered 503 (or not answered).
	maxTries int
	// backoff is the first wait between tries when the server gives no
	// Retry-After; it doubles each try.
	backoff time.Duration
}

const (
	defaultMaxTries = 5
	defaultBackoff  = time.Second
	maxBackoff      = 30 * time.Second
	maxErrorBody    = 1 << 20
)

func (a *app) newAPIClient(cfg config.Config, urlOverride string) (*apiClient, error) {
	base := cfg.PublicURL
	if urlOverride != "" {
		u, err := url.Parse(urlOverride)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &usageError{msg: fmt.Sprintf("--url %q: must be an absolute http:// or https:// URL", urlOverride)}
		}
		base = urlOverride
	}
	return &apiClient{
		base: strings.TrimRight(base, "/"), token: cfg.APIToken, secret: []byte(cfg.WebhookSecret),
		hc: a.httpClient, now: a.now, sleep: a.sleep,
		maxTries: defaultMaxTries, backoff: defaultBackoff,
	}, nil
}

// httpError is an answer other than the one asked for.
type httpError struct {
	Status  int
	Message string           // the server's "error" field, or the body
	Errors  []api.EventError // per-event problems of a 400 on /v1/events
}

func (e *httpError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
}

// statusOf returns the HTTP status of err, or 0.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.Status
	}
	return 0
}

func readHTTPError(resp *http.Response) *httpError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	he := &httpError{Status: resp.StatusCode}
	var b struct {
		Error  string           `json:"error"`
		Errors []api.EventError `json:"errors"`
	}
	if json.Unmarshal(body, &b) == nil && (b.Error != "" || len(b.Errors) > 0) {
		he.Message, he.Errors = b.Error, b.Errors
	} else {
		he.Message = strings.TrimSpace(string(body))
	}
	return he
}

// do sends one request and decodes a `want` answer into out (if not nil).
func (c *apiClient) do(ctx context.Context, method, path string, hdr http.Header, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.base+path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		he := readHTTPError(resp)
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			return &retryAfterError{httpError: he, after: parseRetryAfter(ra, c.now())}
		}
		return he
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// retryAfterError is an httpError whose answer carried Retry-After.
type retryAfterError struct {
	*httpError
	after time.Duration
}

func (e *retryAfterError) Unwrap() error { return e.httpError }

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// authHeader is the bearer token header for /v1 reads and updates.
func (c *apiClient) authHeader() http.Header {
	h := http.Header{}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	return h
}

// postBatch sends one signed batch body, retrying a 503 or 429 (or a failed
// connection) with backoff, honouring Retry-After, at most maxTries times.
// Each try is signed afresh. Retrying is safe: the events keep their ids and
// leadflow applies an id once. onRetry (may be nil) hears of each wait.
func (c *apiClient) postBatch(ctx context.Context, body []byte, onRetry func(try int, wait time.Duration, err error)) (api.BatchResult, error) {
	if len(c.secret) == 0 {
		return api.BatchResult{}, fmt.Errorf("%s is not set: events cannot be signed", config.EnvWebhookSecret)
	}
	wait := c.backoff
	for try := 1; ; try++ {
		hdr := http.Header{}
		hdr.Set(api.SignatureHeader, api.Sign(c.secret, c.now(), body))
		var res api.BatchResult
		err := c.do(ctx, http.MethodPost, "/v1/events", hdr, body, http.StatusAccepted, &res)
		if err == nil {
			return res, nil
		}
		st := statusOf(err)
		// 429 is the edge's per-source rate limit: wait its Retry-After.
		retryable := st == http.StatusServiceUnavailable || st == http.StatusTooManyRequests || (st == 0 && ctx.Err() == nil)
		if !retryable || try >= c.maxTries {
			if retryable {
				return api.BatchResult{}, fmt.Errorf("gave up after %d tries: %w", try, err)
			}
			return api.BatchResult{}, err
		}
		d := wait
		var rae *retryAfterError
		if errors.As(err, &rae) && rae.after > 0 {
			d = rae.after
		}
		d = min(d, maxBackoff)
		if onRetry != nil {
			onRetry(try, d, err)
		}
		if err := c.sleep(ctx, d); err != nil {
			return api.BatchResult{}, err
		}
		wait = min(wait*2, maxBackoff)
	}
}

func leadPath(id string, suffix string) string {
	return "/v1/leads/" + url.PathEscape(id) + suffix
}

// getLead is GET /v1/leads/{id}.
func (c *apiClient) getLead(ctx context.Context, id string) (lead.View, error) {
	var v lead.View
	err := c.do(ctx, http.MethodGet, leadPath(id, ""), c.authHeader(), nil, http.StatusOK, &v)
	return v, leadErr(id, err)
}

// getRaw is a GET of a lead path, answering the body as the server sent it
// (for --json, so nothing the server says is lost in decoding).
func (c *apiClient) getRaw(ctx context.Context, id, suffix string) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.do(ctx, http.MethodGet, leadPath(id, suffix), c.authHeader(), nil, http.StatusOK, &raw)
	return raw, leadErr(id, err)
}

// update posts an update request: accept, reject, reassign or
// retryEffects (name is the update's; updatePath its endpoint).
func (c *apiClient) update(ctx context.Context, id, name string, req any) (json.RawMessage, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	err = c.do(ctx, http.MethodPost, leadPath(id, "/"+updatePath(name)), c.authHeader(), body, http.StatusOK, &raw)
	return raw, leadErr(id, err)
}

// updatePath is the endpoint of an update under /v1/leads/{leadId}/: the
// update's name, except retryEffects' retry-effects.
func updatePath(name string) string {
	if name == lead.UpdateRetryEffects {
		return "retry-effects"
	}
	return name
}

// leadErr names the lead in a 404.
func leadErr(id string, err error) error {
	if statusOf(err) == http.StatusNotFound {
		return fmt.Errorf("lead %s not found: %w", id, err)
	}
	return err
}

// newRequestID is a random update id: unique, so two different clicks are
// two updates, while a retry that passes the same --id is one.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "cli-" + hex.EncodeToString(b[:])
}
