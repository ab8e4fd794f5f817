// Package webhooktest is a fake nurture-webhook receiver: a marketing tool
// that takes leadflow's signed webhooks, written from the contract in the
// package doc of internal/nurture/webhook and independent of its code.
//
// It checks each request as a real receiver must (POST, JSON, the
// Leadflow-Signature HMAC over the raw body within 300 s, an
// Idempotency-Key equal to the body's), processes each key once and answers
// a repeat with 409, and fails on command: see Fail.
package webhooktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tolerance is how far the signature's timestamp may be from the receiver's clock.
const Tolerance = 300 * time.Second

// Event is the body of a request, as the receiver reads it.
type Event struct {
	Type           string    `json:"type"`
	IdempotencyKey string    `json:"idempotencyKey"`
	LeadID         string    `json:"leadId"`
	Email          string    `json:"email,omitempty"`
	Track          string    `json:"track,omitempty"`
	Step           *int      `json:"step,omitempty"`
	Reasons        []string  `json:"reasons,omitempty"`
	SentAt         time.Time `json:"sentAt,omitzero"`
}

// Delivery is one processed request.
type Delivery struct {
	Key    string
	Event  Event
	Body   []byte // raw, as signed
	Header http.Header
}

// Kind is a failure the receiver can be told to produce.
type Kind int

const (
	// Throttle answers 429 with Retry-After, before processing.
	Throttle Kind = iota + 1
	// Unavailable answers 503 with Retry-After, before processing.
	Unavailable
	// ServerError answers 500, before processing.
	ServerError
	// Slow holds the request without processing it until the client gives
	// up (its timeout) or the receiver closes.
	Slow
	// CrashAfterProcessing processes the request, then answers 502 as a
	// gateway in front of a crashed tool would.
	CrashAfterProcessing
	// Reject answers 400 with {"error": Message}, before processing.
	Reject
)

// Failure is one scripted failure.
type Failure struct {
	Kind       Kind
	RetryAfter string // Throttle, Unavailable: the Retry-After value ("" for none)
	Message    string // Reject
}

// Receiver is the fake. Its methods are safe for concurrent use.
type Receiver struct {
	srv    *httptest.Server
	secret []byte
	now    func() time.Time
	stop   chan struct{}
	held   chan struct{}

	mu       sync.Mutex
	failures []Failure
	window   *window // FailUntil's outage, if any
	seen     map[string]bool
	received []Delivery
	repeats  int
	requests int
	refused  []string // why each request was refused (401/400 by checks)
}

// Option configures a Receiver.
type Option func(*Receiver)

// WithClock sets the receiver's clock for the signature's freshness.
func WithClock(now func() time.Time) Option { return func(r *Receiver) { r.now = now } }

// New starts a receiver that verifies signatures with secret; it is closed
// when the test ends.
func New(t testing.TB, secret []byte, opts ...Option) *Receiver {
	t.Helper()
	r := &Receiver{secret: secret, now: time.Now, stop: make(chan struct{}), held: make(chan struct{}, 64), seen: map[string]bool{}}
	for _, o := range opts {
		o(r)
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		close(r.stop) // release Slow handlers before Close waits for them
		r.srv.Close()
	})
	return r
}

// URL is the receiver's endpoint.
func (r *Receiver) URL() string { return r.srv.URL + "/hooks/leadflow" }

// Fail makes the next n requests fail with f (after any failures already
// scheduled). Requests refused by the checks (signature, headers) do not
// use up a failure.
func (r *Receiver) Fail(n int, f Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range n {
		r.failures = append(r.failures, f)
	}
}

type window struct {
	until time.Time
	f     Failure
}

// FailUntil makes every request fail with f until the receiver's clock
// reaches until: an outage of the tool. While it lasts, failures queued by
// Fail wait; requests refused by the checks are refused as always. A later
// call replaces the window.
func (r *Receiver) FailUntil(until time.Time, f Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.window = &window{until: until, f: f}
}

// Held receives a value each time a request is being held by a Slow
// failure, so a test can act while it waits instead of sleeping.
func (r *Receiver) Held() <-chan struct{} { return r.held }

// Received returns the processed requests, each key once, in order.
func (r *Receiver) Received() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.received...)
}

// Repeats counts requests whose key had been processed already.
func (r *Receiver) Repeats() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.repeats
}

// Requests counts every request that reached the receiver.
func (r *Receiver) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// Refused returns why each request refused by the checks was refused.
func (r *Receiver) Refused() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.refused...)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests++
	r.mu.Unlock()

	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 1<<20))
	if err != nil {
		r.refuse(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if req.Method != http.MethodPost {
		r.refuse(w, http.StatusMethodNotAllowed, "POST only")
		return
	}
	if err := r.verify(req.Header.Get("Leadflow-Signature"), body); err != nil {
		r.refuse(w, http.StatusUnauthorized, err.Error())
		return
	}
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		r.refuse(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, not "+strconv.Quote(ct))
		return
	}
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		r.refuse(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	key := req.Header.Get("Idempotency-Key")
	switch {
	case key == "":
		r.refuse(w, http.StatusBadRequest, "missing Idempotency-Key header")
		return
	case key != ev.IdempotencyKey:
		r.refuse(w, http.StatusBadRequest, "Idempotency-Key header differs from the body's idempotencyKey")
		return
	}
	if msg := checkEvent(ev); msg != "" {
		r.refuse(w, http.StatusBadRequest, msg)
		return
	}

	r.mu.Lock()
	var f Failure
	if r.window != nil && !r.now().Before(r.window.until) {
		r.window = nil
	}
	switch {
	case r.window != nil:
		f = r.window.f
	case len(r.failures) > 0:
		f, r.failures = r.failures[0], r.failures[1:]
	}
	r.mu.Unlock()

	switch f.Kind {
	case Throttle, Unavailable:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		code := http.StatusTooManyRequests
		if f.Kind == Unavailable {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]string{"error": "try later"})
		return
	case ServerError:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	case Slow:
		select {
		case r.held <- struct{}{}:
		default:
		}
		select {
		case <-req.Context().Done():
		case <-r.stop:
		}
		return
	case Reject:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": f.Message})
		return
	}

	dup := r.process(key, ev, body, req.Header)
	if f.Kind == CrashAfterProcessing {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	if dup {
		writeJSON(w, http.StatusConflict, map[string]string{"status": "duplicate"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// process records the key once; it reports whether it was a repeat.
func (r *Receiver) process(key string, ev Event, body []byte, h http.Header) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[key] {
		r.repeats++
		return true
	}
	r.seen[key] = true
	r.received = append(r.received, Delivery{Key: key, Event: ev, Body: body, Header: h.Clone()})
	return false
}

func (r *Receiver) refuse(w http.ResponseWriter, code int, msg string) {
	r.mu.Lock()
	r.refused = append(r.refused, fmt.Sprintf("%d %s", code, msg))
	r.mu.Unlock()
	writeJSON(w, code, map[string]string{"error": msg})
}

// verify checks "t=<unix>,v1=<hex>[,v1=…]" as the contract says: HMAC-SHA256
// over t + "." + the raw body, compared in constant time, t within Tolerance.
func (r *Receiver) verify(header string, body []byte) error {
	if header == "" {
		return fmt.Errorf("missing Leadflow-Signature header")
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("malformed Leadflow-Signature header")
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return fmt.Errorf("malformed Leadflow-Signature v1 value")
			}
			sigs = append(sigs, b)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("malformed Leadflow-Signature header")
	}
	if d := r.now().Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("Leadflow-Signature timestamp is %v from the receiver's clock", d.Round(time.Second))
	}
	m := hmac.New(sha256.New, r.secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("Leadflow-Signature does not match the body (wrong secret?)")
	}
	return nil
}

// checkEvent applies the contract's field rules per type.
func checkEvent(ev Event) string {
	if ev.IdempotencyKey == "" || ev.LeadID == "" {
		return "idempotencyKey and leadId are required"
	}
	switch ev.Type {
	case "enroll", "resume":
		if ev.Track == "" || ev.Step == nil {
			return ev.Type + " needs track and step"
		}
		if (ev.Type == "resume") != (*ev.Step > 0) {
			return ev.Type + " with step " + strconv.Itoa(*ev.Step)
		}
	case "send":
		if ev.Track == "" || ev.Step == nil || ev.SentAt.IsZero() {
			return "send needs track, step and sentAt"
		}
	case "pause", "unenroll":
		if ev.Track != "" || ev.Step != nil || !ev.SentAt.IsZero() {
			return ev.Type + " carries no track, step or sentAt"
		}
	default:
		return "unknown type " + strconv.Quote(ev.Type)
	}
	return ""
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
