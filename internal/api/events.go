package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/lead"
)

const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t.body)>".
	SignatureHeader = "Leadflow-Signature"
	// SignatureTolerance bounds replay of a captured request.
	SignatureTolerance = 300 * time.Second
	// MaxBatchBytes and MaxBatchEvents are the contract's limits on POST /v1/events.
	MaxBatchBytes  = 1 << 20
	MaxBatchEvents = 500

	maxMergeHops = 8 // a merge chain longer than this is a loop or corruption
	retryAfter   = "5"
)

// Sign returns the Leadflow-Signature header value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

var (
	errSigMissing   = errors.New("missing " + SignatureHeader + " header")
	errSigMalformed = errors.New("malformed " + SignatureHeader + " header: want t=<unix seconds>,v1=<hex>")
	errSigStale     = fmt.Errorf("%s timestamp is more than %d s from server time", SignatureHeader, int(SignatureTolerance.Seconds()))
	errSigMismatch  = errors.New(SignatureHeader + " does not match the body")
)

// parseSignature reads the timestamp and every v1 value (several during a
// secret rotation). Unknown keys are ignored so a sender may add schemes.
func parseSignature(h string) (ts string, sigs [][]byte, err error) {
	if strings.TrimSpace(h) == "" {
		return "", nil, errSigMissing
	}
	for part := range strings.SplitSeq(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, errSigMalformed
		}
		switch k {
		case "t":
			if ts != "" {
				return "", nil, errSigMalformed
			}
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return "", nil, errSigMalformed
			}
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return "", nil, errSigMalformed
			}
			sigs = append(sigs, b)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return "", nil, errSigMalformed
	}
	return ts, sigs, nil
}

func (s *Server) checkFresh(ts string) error {
	t, _ := strconv.ParseInt(ts, 10, 64) // parsed already
	d := s.cfg.Now().Sub(time.Unix(t, 0))
	if d > SignatureTolerance || d < -SignatureTolerance {
		return errSigStale
	}
	return nil
}

func (s *Server) checkMAC(ts string, sigs [][]byte, body []byte) error {
	want := mac(s.cfg.WebhookSecret, ts, body)
	ok := false
	for _, sig := range sigs {
		// Check every value, so timing does not reveal which one matched.
		if hmac.Equal(sig, want) {
			ok = true
		}
	}
	if !ok {
		return errSigMismatch
	}
	return nil
}

// EventError is one problem with one event of a batch; index -1 is the batch.
type EventError struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

type eventErrors struct {
	Errors []EventError `json:"errors"`
}

// BatchResult is the 202 answer of POST /v1/events.
type BatchResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	// Cheapest first: the source's rate limit, then the header (so an
	// unsigned sender costs no body read), then the body in a read slot;
	// the MAC itself needs the body.
	if !s.allowSource(w, r) {
		return
	}
	ts, sigs, err := parseSignature(r.Header.Get(SignatureHeader))
	if err == nil {
		err = s.checkFresh(ts)
	}
	if err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	body, ok := s.readSignedBody(w, r)
	if !ok {
		return
	}
	if err := s.checkMAC(ts, sigs, body); err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}

	events, errs := s.decodeBatch(body)
	if len(errs) > 0 {
		invalid := map[int]bool{}
		for _, e := range errs {
			if e.Index >= 0 {
				invalid[e.Index] = true
			}
		}
		s.events.WithLabelValues("invalid").Add(float64(len(invalid)))
		writeJSON(w, http.StatusBadRequest, eventErrors{errs})
		return
	}

	res, err := s.deliverBatch(r.Context(), events)
	if err != nil {
		// Safe to retry whole: events already handed over carry the same ids,
		// and the workflow ignores a repeated id, so nothing is applied twice.
		s.log.Warn("event batch not delivered", zap.Int("events", len(events)), zap.Error(err))
		w.Header().Set("Retry-After", retryAfter)
		writeError(w, http.StatusServiceUnavailable, batchErrorMessage(err)+"; retry the whole batch")
		return
	}
	s.events.WithLabelValues("accepted").Add(float64(res.Accepted))
	s.events.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	writeJSON(w, http.StatusAccepted, res)
}

// decodeBatch parses and validates the whole batch, collecting every problem
// so the sender can fix them at once. Email-only events get their derived leadId.
func (s *Server) decodeBatch(body []byte) ([]lead.Event, []EventError) {
	var batch struct {
		Events []json.RawMessage `json:"events"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&batch); err != nil {
		return nil, []EventError{{-1, "body", bodyMessage(err)}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, []EventError{{-1, "body", "unexpected data after the JSON object"}}
	}
	switch {
	case len(batch.Events) == 0:
		return nil, []EventError{{-1, "events", "at least one event is required"}}
	case len(batch.Events) > MaxBatchEvents:
		return nil, []EventError{{-1, "events", fmt.Sprintf("at most %d events per batch, got %d", MaxBatchEvents, len(batch.Events))}}
	}
	events := make([]lead.Event, len(batch.Events))
	var errs []EventError
	for i, raw := range batch.Events {
		ev, fes := decodeEvent(raw)
		for _, fe := range fes {
			errs = append(errs, EventError{i, fe.Field, fe.Message})
		}
		if ev.LeadID == "" && ev.Profile != nil && strings.TrimSpace(ev.Profile.Email) != "" {
			ev.LeadID = lead.DeriveLeadID(s.cfg.IDKey, ev.Profile.Email)
		}
		events[i] = ev
	}
	return events, errs
}

// bodyMessage describes a batch-level decode error without echoing the body.
func bodyMessage(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return "must be a JSON object {\"events\":[…]}"
		}
		return fmt.Sprintf("%s must be %s", te.Field, jsonKind(te.Type))
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + f + " (want {\"events\":[…]})"
	}
	return "malformed JSON: " + err.Error()
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	}
	return "of type " + t.String()
}

// wireEvent decodes occurredAt by hand, so a bad timestamp is reported as a
// field error instead of aborting the whole event's decoding.
type wireEvent struct {
	*eventFields
	OccurredAt json.RawMessage `json:"occurredAt"`
}

type eventFields lead.Event // no methods, so wireEvent's embedding sees plain fields

var (
	knownEventKeys   = jsonKeys(reflect.TypeFor[lead.Event]())
	knownProfileKeys = jsonKeys(reflect.TypeFor[lead.Profile]())
)

// jsonKeys lists a struct's JSON names, lowercased because encoding/json
// matches keys case-insensitively.
func jsonKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys[strings.ToLower(name)] = true
	}
	return keys
}

// decodeEvent parses one envelope and validates it. Unknown fields are
// errors (a misspelt field would otherwise vanish silently), each named with
// its path.
func decodeEvent(raw json.RawMessage) (lead.Event, []lead.FieldError) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return lead.Event{}, []lead.FieldError{{Field: "event", Message: "must be a JSON object"}}
	}
	var errs []lead.FieldError
	has := map[string]bool{}
	add := func(field, msg string) {
		if !has[field] {
			has[field] = true
			errs = append(errs, lead.FieldError{Field: field, Message: msg})
		}
	}
	for _, k := range sortedKeys(obj) {
		if !knownEventKeys[strings.ToLower(k)] {
			add(keyName(k), "unknown field")
		}
	}
	if p, ok := obj["profile"]; ok {
		var pobj map[string]json.RawMessage
		if json.Unmarshal(p, &pobj) == nil {
			for _, k := range sortedKeys(pobj) {
				if !knownProfileKeys[strings.ToLower(k)] {
					add("profile."+keyName(k), "unknown field")
				}
			}
		}
	}

	var ev lead.Event
	w := wireEvent{eventFields: (*eventFields)(&ev)}
	if err := json.Unmarshal(raw, &w); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			// The path starts at wireEvent; the caller knows the envelope only.
			add(strings.TrimPrefix(te.Field, "eventFields."), "must be "+jsonKind(te.Type))
		} else {
			add("event", "cannot be decoded: "+err.Error())
		}
	}
	if len(w.OccurredAt) > 0 && string(w.OccurredAt) != "null" {
		var s string
		if json.Unmarshal(w.OccurredAt, &s) != nil {
			add("occurredAt", "must be an RFC 3339 string")
		} else if t, err := time.Parse(time.RFC3339, s); err != nil {
			add("occurredAt", "must be RFC 3339, e.g. 2026-11-22T10:00:00Z")
		} else {
			ev.OccurredAt = t
		}
	}
	for _, fe := range ev.Validate() {
		add(fe.Field, fe.Message) // a field already reported keeps its first, more precise message
	}
	if strings.Contains(ev.ID, "@") {
		// Event IDs go into logs, receipts and Temporal's history unencrypted
		// (signal dedup): an email used as an ID would leak there.
		add("id", "must not contain @ (an event ID is logged; never use an email in it)")
	}
	return ev, errs
}

// keyName names a JSON key in an error; the empty key as "" (quotes
// included), so the error still names a field (found by FuzzDecodeBatch).
func keyName(k string) string {
	if k == "" {
		return `""`
	}
	return k
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// deliverBatch hands a valid batch to Temporal: repeated ids are sent once,
// each lead's events go in batch order one at a time, and different leads
// go in parallel. A merged lead's events are redirected to its survivor by
// deliverEvent; Postgres is asked only then.
func (s *Server) deliverBatch(ctx context.Context, events []lead.Event) (BatchResult, error) {
	var res BatchResult
	type group struct {
		leadID string
		events []lead.Event
	}
	var groups []*group
	byLead := map[string]*group{}
	seen := map[string]bool{}
	for _, ev := range events {
		if seen[ev.ID] {
			res.Duplicates++
			continue
		}
		seen[ev.ID] = true
		g := byLead[ev.LeadID]
		if g == nil {
			g = &group{leadID: ev.LeadID}
			byLead[ev.LeadID] = g
			groups = append(groups, g)
		}
		g.events = append(g.events, ev)
	}

	// The first failure cancels the rest: the sender retries the whole batch
	// anyway, so finishing the other leads would only add load on a sick Temporal.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		sem      = make(chan struct{}, s.cfg.Concurrency)
		firstErr error
		rcpt     = &receiptState{}
	)
	for _, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			accepted, dups, err := s.deliverLead(ctx, g.leadID, g.events, rcpt)
			mu.Lock()
			defer mu.Unlock()
			res.Accepted += accepted
			res.Duplicates += dups
			if err != nil && firstErr == nil {
				firstErr = err
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if n := rcpt.unrecorded.Load(); n > 0 {
		s.log.Warn("receipts not recorded: delivered events counted as accepted; a resend of them will not be counted as duplicates",
			zap.Int64("events", n), zap.Error(rcpt.firstErr()))
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = context.Cause(ctx) // the request itself was cancelled
	}
	if firstErr != nil {
		return BatchResult{}, firstErr
	}
	return res, nil
}

// receiptState is a batch's view of the receipts store: after the first
// failure the batch stops asking, so a Postgres outage costs one timeout per
// batch, not one per event.
type receiptState struct {
	down       atomic.Bool
	unrecorded atomic.Int64
	mu         sync.Mutex
	err        error
}

func (r *receiptState) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
	r.down.Store(true)
}

func (r *receiptState) firstErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// deliverLead sends one lead's events in order, stopping at the first error
// so a later event never overtakes an earlier one. Once one event found the
// lead merged, the rest go straight to the survivor.
//
// Receipts only count duplicates: the workflow itself ignores an event id
// it has seen, which is what makes a resend safe. So when recording a
// receipt fails after the delivery succeeded (Postgres is down), the event
// is still accepted and counted as such, and the failure is logged: nothing
// is lost (Temporal has the event) and nothing is applied twice (the
// workflow dedupes by id); only the duplicates count of a later resend is
// off. Answering 503 instead would make the sender resend events Temporal
// already holds, for as long as Postgres is down.
func (s *Server) deliverLead(ctx context.Context, leadID string, events []lead.Event, rcpt *receiptState) (accepted, dups int, err error) {
	target := leadID
	for _, ev := range events {
		if err := ctx.Err(); err != nil {
			return accepted, dups, err
		}
		to, err := s.deliverEvent(ctx, target, ev)
		if err != nil {
			return accepted, dups, err
		}
		target = to
		if rcpt.down.Load() {
			rcpt.unrecorded.Add(1)
			accepted++
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, postgresTimeout)
		isNew, err := s.receipts.Record(rctx, ev.ID, to)
		cancel()
		switch {
		case err != nil:
			rcpt.fail(fmt.Errorf("recording receipt of event %s: %w", ev.ID, err))
			rcpt.unrecorded.Add(1)
			accepted++
		case isNew:
			accepted++
		default:
			dups++
		}
	}
	return accepted, dups, nil
}

// errMerges marks a batch that failed because a merged lead's survivor
// could not be found: the 503 names Postgres, not Temporal.
type errMerges struct{ err error }

func (e *errMerges) Error() string { return e.err.Error() }
func (e *errMerges) Unwrap() error { return e.err }

// deliverEvent delivers ev to leadID, or, when that lead's workflow has
// completed (a LeadWorkflow completes successfully only when merged, and
// SignalWithStart's ALLOW_DUPLICATE_FAILED_ONLY refuses to start it again),
// to its survivor: merges in Postgres, else the closed workflow's own state
// (mergedInto), followed for at most maxMergeHops and never around a loop.
// It returns the lead that took the event. Postgres is consulted only for
// merged leads, so events for every other lead flow while it is down.
func (s *Server) deliverEvent(ctx context.Context, leadID string, ev lead.Event) (string, error) {
	target := leadID
	visited := map[string]bool{}
	for hop := 0; ; hop++ {
		ev.LeadID = target
		err := s.leads.Deliver(ctx, target, ev)
		if err == nil {
			return target, nil
		}
		if !errors.Is(err, ErrLeadClosed) {
			return "", fmt.Errorf("delivering event %s to lead %s: %w", ev.ID, target, err)
		}
		visited[target] = true
		if hop >= maxMergeHops {
			return "", &errMerges{fmt.Errorf("lead %s: merge chain longer than %d hops", leadID, maxMergeHops)}
		}
		next, err := s.survivor(ctx, target)
		if err != nil {
			return "", &errMerges{err}
		}
		if visited[next] {
			return "", &errMerges{fmt.Errorf("lead %s: merges loop back to %s", leadID, next)}
		}
		target = next
	}
}

// survivor is where a merged lead's events go: Postgres merges (which
// follows a chain itself), or, when Postgres has no merge recorded, the
// mergedInto of the closed workflow's state.
func (s *Server) survivor(ctx context.Context, leadID string) (string, error) {
	pctx, cancel := context.WithTimeout(ctx, postgresTimeout)
	to, merged, err := s.merges.MergedInto(pctx, leadID)
	cancel()
	if err != nil {
		return "", fmt.Errorf("looking up the survivor of merged lead %s in postgres: %w", leadID, err)
	}
	if merged && to != "" && to != leadID {
		return to, nil
	}
	var v lead.View
	if err := s.leads.Query(ctx, leadID, lead.QueryState, &v); err != nil {
		return "", fmt.Errorf("lead %s has completed, postgres records no merge, and its state cannot be read: %w", leadID, err)
	}
	if v.MergedInto == "" || v.MergedInto == leadID || !lead.ValidLeadID(v.MergedInto) {
		return "", fmt.Errorf("lead %s has completed but neither postgres nor its state names a survivor", leadID)
	}
	return v.MergedInto, nil
}

// batchErrorMessage says which dependency failed a batch.
func batchErrorMessage(err error) string {
	if _, ok := errors.AsType[*errMerges](err); ok {
		return "events for a merged lead could not be redirected: postgres (merges) did not answer or names no survivor"
	}
	return "events could not be handed to Temporal"
}
