package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	. "github.com/leadflow/leadflow/internal/api"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/webui/webuitest"
)

var (
	testSecret = []byte("whsec-test")
	testIDKey  = []byte("id-key-test")
	testNow    = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
)

type env struct {
	t        *testing.T
	srv      *Server
	h        http.Handler
	leads    *webuitest.Leads
	merges   *fakeMerges
	receipts *fakeReceipts
	reg      *prometheus.Registry
	logs     *observer.ObservedLogs
}

func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	cfg := Config{
		WebhookSecret: testSecret, IDKey: testIDKey,
		Now: func() time.Time { return testNow }, Logger: zap.New(core), Concurrency: 4,
	}
	if mod != nil {
		mod(&cfg)
	}
	e := &env{t: t, leads: newLeads(), merges: newFakeMerges(), receipts: &fakeReceipts{},
		reg: prometheus.NewRegistry(), logs: logs}
	srv, err := New(cfg, e.leads, e.merges, e.receipts, e.reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.srv, e.h = srv, srv.Handler()
	return e
}

func (e *env) do(req *http.Request) *httptest.ResponseRecorder {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// post sends body to POST /v1/events signed with sig (or, when sig is
// "sign", a valid signature at testNow).
func (e *env) postEvents(body []byte, sig string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewReader(body))
	if sig == "sign" {
		sig = Sign(testSecret, testNow, body)
	}
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	return e.do(req)
}

func (e *env) get(path, token string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

func (e *env) postJSON(path, body, token string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

func ev(id, leadID, typ string) map[string]any {
	m := map[string]any{"id": id, "type": typ, "occurredAt": "2026-11-22T09:00:00Z", "source": "test"}
	if leadID != "" {
		m["leadId"] = leadID
	}
	return m
}

func batch(t *testing.T, events ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"events": events})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, code int) {
	t.Helper()
	if rec.Code != code {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, code, rec.Body)
	}
}

func wantJSON(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %s: %v", rec.Body, err)
	}
	return v
}

func TestNewNeedsKeys(t *testing.T) {
	for _, cfg := range []Config{{IDKey: testIDKey}, {WebhookSecret: testSecret}} {
		if _, err := New(cfg, newLeads(), newFakeMerges(), &fakeReceipts{}, nil); err == nil {
			t.Errorf("New(%+v) succeeded without a key", cfg)
		}
	}
}

func TestEventsAcceptedInPerLeadOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.leads.Delay = time.Millisecond // give same-lead deliveries a chance to overlap if they could
	body := batch(t,
		ev("e1", "L-1", lead.EventFormSubmit), ev("e2", "L-2", lead.EventEmailOpen),
		ev("e3", "L-1", lead.EventEmailClick), ev("e4", "L-2", lead.EventWebPageView),
		ev("e5", "L-1", lead.EventEmailReply), ev("e6", "L-3", lead.EventEmailOpen))
	rec := e.postEvents(body, "sign")
	wantStatus(t, rec, http.StatusAccepted)
	wantJSON(t, rec)
	if got := decode[BatchResult](t, rec); got != (BatchResult{Accepted: 6}) {
		t.Errorf("result = %+v, want 6 accepted", got)
	}
	for id, want := range map[string][]string{"L-1": {"e1", "e3", "e5"}, "L-2": {"e2", "e4"}, "L-3": {"e6"}} {
		if got := e.leads.EventIDs(id); !slices.Equal(got, want) {
			t.Errorf("%s applied %v, want %v", id, got, want)
		}
	}
	if e.leads.Overlap() {
		t.Error("two deliveries for one lead ran concurrently")
	}
}

func TestEventsSignatureRejected(t *testing.T) {
	body := batch(t, ev("e1", "L-1", lead.EventEmailOpen))
	ts := fmt.Sprint(testNow.Unix())
	cases := map[string]string{
		"missing":         "",
		"garbage":         "garbage",
		"no v1":           "t=" + ts,
		"no t":            "v1=" + strings.Repeat("ab", 32),
		"non-numeric t":   "t=soon,v1=" + strings.Repeat("ab", 32),
		"non-hex v1":      "t=" + ts + ",v1=zz",
		"wrong secret":    Sign([]byte("other"), testNow, body),
		"other body":      Sign(testSecret, testNow, []byte(`{"events":[]}`)),
		"stale 301 s":     Sign(testSecret, testNow.Add(-301*time.Second), body),
		"future 301 s":    Sign(testSecret, testNow.Add(301*time.Second), body),
		"wrong t for mac": "t=" + fmt.Sprint(testNow.Unix()-1) + Sign(testSecret, testNow, body)[len("t=")+len(ts):],
	}
	for name, sig := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			rec := e.postEvents(body, sig)
			wantStatus(t, rec, http.StatusUnauthorized)
			wantJSON(t, rec)
			if decode[ErrorBody](t, rec).Error == "" {
				t.Error("no error message")
			}
			if e.leads.Calls() != 0 {
				t.Errorf("%d deliveries despite a bad signature", e.leads.Calls())
			}
		})
	}
}

func TestEventsSignatureAccepted(t *testing.T) {
	body := batch(t, ev("e1", "L-1", lead.EventEmailOpen))
	good := Sign(testSecret, testNow, body)
	_, goodV1, _ := strings.Cut(good, ",")
	cases := map[string]string{
		"300 s old": Sign(testSecret, testNow.Add(-300*time.Second), body),
		"rotation":  Sign([]byte("old-secret"), testNow, body) + "," + goodV1,
		"spaces":    strings.ReplaceAll(good, ",", ", "),
		"extra key": good + ",v0=whatever",
	}
	for name, sig := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			wantStatus(t, e.postEvents(body, sig), http.StatusAccepted)
		})
	}
}

func TestEventsBodyTooLarge(t *testing.T) {
	e := newEnv(t, nil)
	big := ev("e1", "L-1", lead.EventFormSubmit)
	big["attributes"] = map[string]any{"pad": strings.Repeat("x", MaxBatchBytes)}
	body := batch(t, big)
	rec := e.postEvents(body, "sign") // a valid signature does not lift the limit
	wantStatus(t, rec, http.StatusRequestEntityTooLarge)
	wantJSON(t, rec)
	if e.leads.Calls() != 0 {
		t.Error("delivered an oversized batch")
	}
}

func TestEventsInvalidBatchDeliversNothing(t *testing.T) {
	e := newEnv(t, nil)
	bad := ev("e2", "", "email.teleport") // unknown type, and no leadId or email
	bad["occurredAt"] = "yesterday"
	bad["colour"] = "blue"
	rej := ev("e4", "L-1", lead.EventLeadRejected) // missing repId and reason
	body := batch(t, ev("e1", "L-1", lead.EventEmailOpen), bad, ev("e3", "L-2", lead.EventEmailOpen), rej)
	rec := e.postEvents(body, "sign")
	wantStatus(t, rec, http.StatusBadRequest)
	wantJSON(t, rec)
	got := decode[EventErrors](t, rec).Errors
	want := map[EventError]bool{
		{Index: 1, Field: "type"}: true, {Index: 1, Field: "occurredAt"}: true,
		{Index: 1, Field: "leadId"}: true, {Index: 1, Field: "colour"}: true,
		{Index: 3, Field: "attributes.repId"}: true, {Index: 3, Field: "attributes.reason"}: true,
	}
	for _, ee := range got {
		if ee.Message == "" {
			t.Errorf("error %+v has no message", ee)
		}
		k := EventError{Index: ee.Index, Field: ee.Field}
		if !want[k] {
			t.Errorf("unexpected error %+v", ee)
		}
		delete(want, k)
	}
	for k := range want {
		t.Errorf("missing error %+v in %s", k, rec.Body)
	}
	if e.leads.Calls() != 0 {
		t.Errorf("%d deliveries from an invalid batch", e.leads.Calls())
	}
	if !strings.Contains(e.metrics(), `leadflow_events_received_total{result="invalid"} 2`) {
		t.Error("invalid events not counted")
	}
}

func TestEventsUnknownType(t *testing.T) {
	e := newEnv(t, nil)
	rec := e.postEvents(batch(t, ev("e1", "L-1", "email.openx")), "sign")
	wantStatus(t, rec, http.StatusBadRequest)
	errs := decode[EventErrors](t, rec).Errors
	if len(errs) != 1 || errs[0].Index != 0 || errs[0].Field != "type" || !strings.Contains(errs[0].Message, "unknown event type") {
		t.Errorf("errors = %+v", errs)
	}
}

func TestEventsBatchShape(t *testing.T) {
	many := make([]map[string]any, MaxBatchEvents+1)
	for i := range many {
		many[i] = ev(fmt.Sprintf("e%d", i), "L-1", lead.EventEmailOpen)
	}
	cases := map[string]struct {
		body  []byte
		field string
	}{
		"501 events":      {batch(t, many...), "events"},
		"zero events":     {[]byte(`{"events":[]}`), "events"},
		"no events key":   {[]byte(`{}`), "events"},
		"malformed JSON":  {[]byte(`{"events":[`), "body"},
		"unknown field":   {[]byte(`{"events":[],"extra":1}`), "body"},
		"events not list": {[]byte(`{"events":{}}`), "body"},
		"trailing data":   {[]byte(`{"events":[]} {}`), "body"},
		"not an object":   {[]byte(`[1,2]`), "body"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			rec := e.postEvents(c.body, "sign")
			wantStatus(t, rec, http.StatusBadRequest)
			wantJSON(t, rec)
			errs := decode[EventErrors](t, rec).Errors
			if len(errs) != 1 || errs[0].Index != -1 || errs[0].Field != c.field || errs[0].Message == "" {
				t.Errorf("errors = %+v, want one at index -1 field %s", errs, c.field)
			}
			if e.leads.Calls() != 0 {
				t.Error("delivered")
			}
		})
	}
}

func TestEventsEmailOnlyGetsDerivedLeadID(t *testing.T) {
	e := newEnv(t, nil)
	x := ev("e1", "", lead.EventFormSubmit)
	x["profile"] = map[string]any{"email": " Ana@Acme.io ", "company": "Acme"}
	wantStatus(t, e.postEvents(batch(t, x), "sign"), http.StatusAccepted)
	id := lead.DeriveLeadID(testIDKey, "ana@acme.io")
	got := e.leads.LeadEvents(id)
	if len(got) != 1 || got[0].LeadID != id {
		t.Fatalf("applied to %s: %+v (all: %v)", id, got, e.leads.Events)
	}
	if !strings.HasPrefix(id, "e-") || len(id) != 26 {
		t.Errorf("derived id %q", id)
	}
	for _, entry := range e.logs.All() {
		if strings.Contains(fmt.Sprint(entry.ContextMap()), "acme") {
			t.Errorf("log line carries the email: %v", entry.ContextMap())
		}
	}
}

func TestEventsMergedLeadRedirected(t *testing.T) {
	e := newEnv(t, nil)
	e.leads.Closed["L-old"], e.leads.Closed["L-mid"] = true, true
	e.merges.set("L-old", "L-mid")
	e.merges.set("L-mid", "L-new")
	body := batch(t, ev("e1", "L-old", lead.EventEmailOpen), ev("e2", "L-old", lead.EventEmailClick), ev("e3", "L-new", lead.EventWebPageView))
	rec := e.postEvents(body, "sign")
	wantStatus(t, rec, http.StatusAccepted)
	if got := decode[BatchResult](t, rec); got != (BatchResult{Accepted: 3}) {
		t.Errorf("result %+v", got)
	}
	got := e.leads.EventIDs("L-new")
	slices.Sort(got)
	if !slices.Equal(got, []string{"e1", "e2", "e3"}) {
		t.Fatalf("survivor got %v; all %v", got, e.leads.Events)
	}
	for _, x := range e.leads.LeadEvents("L-new") {
		if x.LeadID != "L-new" {
			t.Errorf("redirected event %s carries leadId %s", x.ID, x.LeadID)
		}
	}
	// e1 tried L-old, L-mid, L-new; e2 went straight to the survivor; e3 is L-new's.
	if e.leads.Calls() != 5 {
		t.Errorf("%d Deliver calls, want 5", e.leads.Calls())
	}
	if e.merges.calls != 2 {
		t.Errorf("%d merge lookups, want 2 (one per hop of e1)", e.merges.calls)
	}
}

// Postgres down: events for leads that are not merged are delivered and
// accepted (Postgres is not asked); a merged lead's events cannot be
// redirected, and only then is the batch 503, naming postgres.
func TestEventsWhilePostgresIsDown(t *testing.T) {
	pgDown := errors.New("postgres: connection refused")
	e := newEnv(t, nil)
	e.merges.err, e.receipts.err = pgDown, pgDown
	body := batch(t, ev("e1", "L-1", lead.EventFormSubmit), ev("e2", "L-2", lead.EventEmailOpen), ev("e3", "L-1", lead.EventEmailClick))
	rec := e.postEvents(body, "sign")
	wantStatus(t, rec, http.StatusAccepted)
	if got := decode[BatchResult](t, rec); got != (BatchResult{Accepted: 3}) {
		t.Errorf("result %+v, want 3 accepted", got)
	}
	if !slices.Equal(e.leads.EventIDs("L-1"), []string{"e1", "e3"}) || !slices.Equal(e.leads.EventIDs("L-2"), []string{"e2"}) {
		t.Errorf("applied %v", e.leads.Events)
	}
	if e.merges.calls != 0 {
		t.Errorf("%d merge lookups for leads that are not merged", e.merges.calls)
	}
	// L-1 and L-2 run in parallel and may each ask once; after a failure
	// the batch stops asking, so e3 does not.
	if e.receipts.calls > 2 {
		t.Errorf("%d receipt attempts, want at most one per lead: after the first failure the batch stops asking", e.receipts.calls)
	}
	if n := e.logs.FilterMessageSnippet("receipts not recorded").Len(); n != 1 {
		t.Errorf("%d warnings about unrecorded receipts, want 1", n)
	}
	// A resend is safe: the workflow ignores ids it has, so nothing is applied twice.
	wantStatus(t, e.postEvents(body, "sign"), http.StatusAccepted)
	if n := e.leads.EventCount(); n != 3 {
		t.Errorf("applied %d events after a resend, want 3", n)
	}

	e.leads.Closed["L-old"] = true
	rec = e.postEvents(batch(t, ev("e4", "L-old", lead.EventEmailOpen), ev("e5", "L-3", lead.EventEmailOpen)), "sign")
	wantStatus(t, rec, http.StatusServiceUnavailable)
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if msg := decode[ErrorBody](t, rec).Error; !strings.Contains(msg, "postgres") || strings.Contains(msg, "Temporal") {
		t.Errorf("error %q should name postgres, not Temporal", msg)
	}
	if len(e.leads.LeadEvents("L-old")) != 0 {
		t.Error("the merged lead took the event")
	}
}

// A completed lead whose merge Postgres does not know: the closed
// workflow's state names the survivor.
func TestEventsMergedLeadWithoutMergeRecord(t *testing.T) {
	e := newEnv(t, nil)
	e.leads.Closed["L-old"] = true
	e.leads.Views["L-old"] = lead.View{LeadID: "L-old", Stage: lead.StageMerged, MergedInto: "L-new"}
	wantStatus(t, e.postEvents(batch(t, ev("e1", "L-old", lead.EventEmailOpen)), "sign"), http.StatusAccepted)
	if got := e.leads.EventIDs("L-new"); !slices.Equal(got, []string{"e1"}) {
		t.Errorf("survivor got %v", got)
	}
	// Neither Postgres nor the state names one: 503, nothing lost.
	e.leads.Closed["L-lost"] = true
	rec := e.postEvents(batch(t, ev("e2", "L-lost", lead.EventEmailOpen)), "sign")
	wantStatus(t, rec, http.StatusServiceUnavailable)
}

func TestEventsMergeLoopsAndLongChains(t *testing.T) {
	e := newEnv(t, nil)
	e.leads.Closed["L-a"], e.leads.Closed["L-b"] = true, true
	e.merges.set("L-a", "L-b")
	e.merges.set("L-b", "L-a")
	rec := e.postEvents(batch(t, ev("e1", "L-a", lead.EventEmailOpen)), "sign")
	wantStatus(t, rec, http.StatusServiceUnavailable)
	if e.leads.Calls() != 2 {
		t.Errorf("%d Deliver calls around a loop, want 2", e.leads.Calls())
	}

	e = newEnv(t, nil)
	for i := range MaxMergeHops + 2 {
		id := fmt.Sprintf("L-%d", i)
		e.leads.Closed[id] = true
		e.merges.set(id, fmt.Sprintf("L-%d", i+1))
	}
	wantStatus(t, e.postEvents(batch(t, ev("e1", "L-0", lead.EventEmailOpen)), "sign"), http.StatusServiceUnavailable)
	if e.leads.Calls() != MaxMergeHops+1 {
		t.Errorf("%d Deliver calls along a long chain, want %d", e.leads.Calls(), MaxMergeHops+1)
	}
	if e.leads.EventCount() != 0 {
		t.Error("delivered past the bound")
	}
}

func TestEventsSameBatchTwice(t *testing.T) {
	e := newEnv(t, nil)
	body := batch(t, ev("e1", "L-1", lead.EventEmailOpen), ev("e2", "L-2", lead.EventEmailOpen), ev("e3", "L-1", lead.EventEmailClick))
	wantStatus(t, e.postEvents(body, "sign"), http.StatusAccepted)
	rec := e.postEvents(body, "sign")
	wantStatus(t, rec, http.StatusAccepted)
	if got := decode[BatchResult](t, rec); got != (BatchResult{Duplicates: 3}) {
		t.Errorf("second result = %+v, want 3 duplicates", got)
	}
	if n := e.leads.EventCount(); n != 3 {
		t.Errorf("applied %d events, want 3", n)
	}
}

func TestEventsDeliverFailsHalfwayThenRetry(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Concurrency = 2 })
	var events []map[string]any
	for i := range 12 {
		events = append(events, ev(fmt.Sprintf("e%02d", i), fmt.Sprintf("L-%d", i%3), lead.EventEmailOpen))
	}
	body := batch(t, events...)
	e.leads.FailOn = func(n int, _ string, _ lead.Event) error {
		if n >= 6 {
			return errUnavailable
		}
		return nil
	}
	rec := e.postEvents(body, "sign")
	wantStatus(t, rec, http.StatusServiceUnavailable)
	wantJSON(t, rec)
	if ra := rec.Header().Get("Retry-After"); ra != "5" {
		t.Errorf("Retry-After = %q", ra)
	}
	first := e.leads.EventCount()
	if first == 0 || first >= 12 {
		t.Fatalf("first attempt applied %d events; the test wants a partial batch", first)
	}

	e.leads.SetFailOn(nil)
	rec = e.postEvents(body, "sign")
	wantStatus(t, rec, http.StatusAccepted)
	res := decode[BatchResult](t, rec)
	if res.Accepted+res.Duplicates != 12 || res.Accepted == 0 {
		t.Errorf("retry result %+v", res)
	}
	for l := range 3 {
		id := fmt.Sprintf("L-%d", l)
		var want []string
		for i := l; i < 12; i += 3 {
			want = append(want, fmt.Sprintf("e%02d", i))
		}
		if got := e.leads.EventIDs(id); !slices.Equal(got, want) {
			t.Errorf("%s applied %v, want each once in order %v", id, got, want)
		}
	}
}

func TestEventsDuplicateIDInBatch(t *testing.T) {
	e := newEnv(t, nil)
	body := batch(t, ev("e1", "L-1", lead.EventEmailOpen), ev("e2", "L-1", lead.EventEmailClick), ev("e1", "L-1", lead.EventEmailOpen))
	rec := e.postEvents(body, "sign")
	wantStatus(t, rec, http.StatusAccepted)
	if got := decode[BatchResult](t, rec); got != (BatchResult{Accepted: 2, Duplicates: 1}) {
		t.Errorf("result = %+v", got)
	}
	if e.leads.Calls() != 2 {
		t.Errorf("%d Deliver calls, want 2", e.leads.Calls())
	}
}

func TestUpdates(t *testing.T) {
	view := lead.View{LeadID: "L-1", Stage: lead.Stage("sal"), OwnerID: "rep-7", PolicyVersion: "p1"}
	cases := []struct {
		name, path, body string
		updateErr        error
		code             int
		msg              string // substring of the error
	}{
		{"accept", "/v1/leads/L-1/accept", `{"id":"u1","repId":"rep-7"}`, nil, 200, ""},
		{"reject", "/v1/leads/L-1/reject", `{"id":"u2","repId":"rep-7","reason":"timing"}`, nil, 200, ""},
		{"reassign", "/v1/leads/L-1/reassign", `{"id":"u3","ownerId":"rep-8","by":"mgr-1"}`, nil, 200, ""},
		{"refused", "/v1/leads/L-1/accept", `{"id":"u4","repId":"rep-9"}`, &Refused{"rep-9 is not the owner of lead L-1 (rep-7 is)"}, 422, "not the owner"},
		{"refused wrapped", "/v1/leads/L-1/accept", `{"id":"u4","repId":"rep-9"}`, fmt.Errorf("update: %w", &Refused{"stage lead"}), 422, "stage lead"},
		{"reject without reason", "/v1/leads/L-1/reject", `{"id":"u5","repId":"rep-7"}`, nil, 422, "reason"},
		{"duplicate without duplicateOf", "/v1/leads/L-1/reject", `{"id":"u5","repId":"rep-7","reason":"duplicate"}`, nil, 422, "duplicateOf"},
		{"accept without id", "/v1/leads/L-1/accept", `{"repId":"rep-7"}`, nil, 422, "id"},
		{"unknown field", "/v1/leads/L-1/accept", `{"id":"u6","repId":"rep-7","rep":"x"}`, nil, 400, `"rep"`},
		{"wrong type", "/v1/leads/L-1/accept", `{"id":"u6","repId":7}`, nil, 400, "repId"},
		{"malformed", "/v1/leads/L-1/accept", `{"id":`, nil, 400, "JSON"},
		{"empty", "/v1/leads/L-1/accept", ``, nil, 400, "object"},
		{"trailing", "/v1/leads/L-1/accept", `{"id":"u6","repId":"rep-7"}{}`, nil, 400, "after"},
		{"not found", "/v1/leads/L-404/accept", `{"id":"u7","repId":"rep-7"}`, nil, 404, "no such lead"},
		{"temporal down", "/v1/leads/L-1/accept", `{"id":"u8","repId":"rep-7"}`, errUnavailable, 503, "retry"},
		{"no worker", "/v1/leads/L-1/accept", `{"id":"u8","repId":"rep-7"}`,
			&Unavailable{Message: "no worker took the accept update within 10s: the lead's workflow is not being processed; retry later"}, 503, "no worker took the accept update within 10s"},
		{"temporal silent", "/v1/leads/L-1/reject", `{"id":"u8","repId":"rep-7","reason":"timing"}`,
			fmt.Errorf("wrapped: %w", &Unavailable{Message: "Temporal did not answer the reject update within 10s; retry later"}), 503, "Temporal did not answer"},
		{"directory down in the handler", "/v1/leads/L-1/reassign", `{"id":"u8","ownerId":"rep-8","by":"mgr-1"}`,
			&Unavailable{Message: "the lead could not apply the reassign update (directory did not answer) and applied nothing; retry later"}, 503, "directory did not answer"},
		{"retry effects", "/v1/leads/L-1/retry-effects", `{"id":"u10","by":"ops-1"}`, nil, 200, ""},
		{"retry effects without by", "/v1/leads/L-1/retry-effects", `{"id":"u11"}`, nil, 422, "by is required"},
		{"retry effects refused", "/v1/leads/L-1/retry-effects", `{"id":"u12","by":"ops-1"}`, &Refused{"no failed effects to retry"}, 422, "no failed effects"},
		{"bad leadId", "/v1/leads/bad%20id/accept", `{"id":"u9","repId":"rep-7"}`, nil, 400, "leadId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.leads.Views["L-1"] = view
			e.leads.UpdateErr = map[string]error{webuitest.AnyUpdate: c.updateErr}
			rec := e.postJSON(c.path, c.body, "")
			wantStatus(t, rec, c.code)
			wantJSON(t, rec)
			if c.code == 200 {
				if got := decode[lead.View](t, rec); got.LeadID != "L-1" || got.OwnerID != "rep-7" {
					t.Errorf("view = %+v", got)
				}
				return
			}
			if msg := decode[ErrorBody](t, rec).Error; !strings.Contains(msg, c.msg) {
				t.Errorf("error %q does not mention %q", msg, c.msg)
			}
			if ra := rec.Header().Get("Retry-After"); (c.code == 503) != (ra != "") {
				t.Errorf("status %d with Retry-After %q", c.code, ra)
			}
			if c.code == 400 || c.code == 422 && c.updateErr == nil {
				if len(e.leads.Updates) != 0 {
					t.Error("a request refused at the edge reached the workflow")
				}
			}
		})
	}
}

func TestUpdatePassesRequestAndID(t *testing.T) {
	e := newEnv(t, nil)
	e.leads.Views["L-1"] = lead.View{LeadID: "L-1"}
	wantStatus(t, e.postJSON("/v1/leads/L-1/reject", `{"id":"u1","repId":"rep-7","reason":"other","note":"moved on"}`, ""), 200)
	if len(e.leads.Updates) != 1 {
		t.Fatalf("updates = %+v", e.leads.Updates)
	}
	u := e.leads.Updates[0]
	want := lead.RejectRequest{ID: "u1", RepID: "rep-7", Reason: lead.ReasonOther, Note: "moved on"}
	if u.LeadID != "L-1" || u.Name != lead.UpdateReject || u.UpdateID != "u1" || u.Req != want {
		t.Errorf("update = %+v", u)
	}
}

func TestRetryEffectsPassesRequest(t *testing.T) {
	e := newEnv(t, nil)
	e.leads.Views["L-1"] = lead.View{LeadID: "L-1"}
	wantStatus(t, e.postJSON("/v1/leads/L-1/retry-effects", `{"id":"r1","by":"ops-1"}`, ""), 200)
	if len(e.leads.Updates) != 1 {
		t.Fatalf("updates = %+v", e.leads.Updates)
	}
	u := e.leads.Updates[0]
	if u.LeadID != "L-1" || u.Name != lead.UpdateRetryEffects || u.UpdateID != "r1" || u.Req != (lead.RetryEffectsRequest{ID: "r1", By: "ops-1"}) {
		t.Errorf("update = %+v", u)
	}
}

// retry-effects is an operator's: the admin token, never a rep-scoped one.
func TestRetryEffectsAdminOnly(t *testing.T) {
	const admin = "s3cret"
	e := newEnv(t, func(c *Config) { c.APIToken = admin })
	e.leads.Views["L-1"] = lead.View{LeadID: "L-1"}
	// A rep token's shape (internal/auth); whether it is valid does not
	// matter here: /v1 takes none.
	repToken := "lft_0123456789abcdef_" + strings.Repeat("ab", 32)
	for _, tok := range []string{"", repToken, "wrong"} {
		rec := e.postJSON("/v1/leads/L-1/retry-effects", `{"id":"r1","by":"ops-1"}`, tok)
		wantStatus(t, rec, 401)
		if msg := decode[ErrorBody](t, rec).Error; (tok == repToken) != strings.Contains(msg, "rep tokens open only the web UI") {
			t.Errorf("token %q: message %q", tok, msg)
		}
	}
	if len(e.leads.Updates) != 0 {
		t.Fatal("an unauthenticated retry-effects reached the workflow")
	}
	wantStatus(t, e.postJSON("/v1/leads/L-1/retry-effects", `{"id":"r1","by":"ops-1"}`, admin), 200)
}

func TestQueries(t *testing.T) {
	e := newEnv(t, nil)
	e.leads.Views["L-1"] = lead.View{LeadID: "L-1", Stage: lead.Stage("handoff"), OwnerID: "rep-7"}
	e.leads.Explain["L-1"] = lead.Explanation{LeadID: "L-1", Why: "score 65 crossed 60"}

	rec := e.get("/v1/leads/L-1", "")
	wantStatus(t, rec, 200)
	wantJSON(t, rec)
	if v := decode[lead.View](t, rec); v.OwnerID != "rep-7" {
		t.Errorf("view = %+v", v)
	}
	rec = e.get("/v1/leads/L-1/explain", "")
	wantStatus(t, rec, 200)
	if x := decode[lead.Explanation](t, rec); x.Why != "score 65 crossed 60" {
		t.Errorf("explain = %+v", x)
	}
	for _, p := range []string{"/v1/leads/L-2", "/v1/leads/L-2/explain"} {
		rec = e.get(p, "")
		wantStatus(t, rec, 404)
		wantJSON(t, rec)
	}
	wantStatus(t, e.get("/v1/leads/"+strings.Repeat("x", 129), ""), 400)
	wantStatus(t, e.get("/v1/leads/a%2Fb", ""), 400)
}

func TestMuxErrorsAreJSON(t *testing.T) {
	e := newEnv(t, nil)
	rec := e.get("/v1/nope", "")
	wantStatus(t, rec, 404)
	wantJSON(t, rec)
	decode[ErrorBody](t, rec)
	rec = e.get("/v1/events", "")
	wantStatus(t, rec, 405)
	wantJSON(t, rec)
	if decode[ErrorBody](t, rec).Error == "" || rec.Header().Get("Allow") == "" {
		t.Errorf("405: %s %v", rec.Body, rec.Header())
	}
}

func TestTokenAuth(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.APIToken = "s3cret" })
	e.leads.Views["L-1"] = lead.View{LeadID: "L-1"}
	for _, tok := range []string{"", "wrong", "s3cret-and-more"} {
		rec := e.get("/v1/leads/L-1", tok)
		wantStatus(t, rec, 401)
		wantJSON(t, rec)
		if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
		}
	}
	wantStatus(t, e.postJSON("/v1/leads/L-1/accept", `{"id":"u","repId":"r"}`, ""), 401)
	wantStatus(t, e.get("/v1/leads/L-1", "s3cret"), 200)
	req := httptest.NewRequest(http.MethodGet, "/v1/leads/L-1", nil)
	req.Header.Set("Authorization", "bearer s3cret") // the scheme is case-insensitive
	wantStatus(t, e.do(req), 200)
	// The signed endpoint and the operational ones need no token.
	wantStatus(t, e.postEvents(batch(t, ev("e1", "L-1", lead.EventEmailOpen)), "sign"), http.StatusAccepted)
	wantStatus(t, e.get("/healthz", ""), 200)
	wantStatus(t, e.get("/readyz", ""), 200)
	wantStatus(t, e.get("/metrics", ""), 200)
	if n := e.logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("open").Len(); n != 0 {
		t.Error("warned about open endpoints although a token is set")
	}
}

func TestNoTokenIsOpenAndWarns(t *testing.T) {
	e := newEnv(t, nil)
	e.leads.Views["L-1"] = lead.View{LeadID: "L-1"}
	wantStatus(t, e.get("/v1/leads/L-1", ""), 200)
	if e.logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("open").Len() != 1 {
		t.Errorf("no warning that /v1 is open; logs %v", e.logs.All())
	}
}

func TestNeedsToken(t *testing.T) {
	for pattern, want := range map[string]bool{
		"POST /v1/events": false, "POST /v1/webhooks/hubspot": false, "GET /healthz": false,
		"GET /metrics": false, "GET /v1/leads/{leadId}": true, "/ui/": true, "GET /ui": true,
		"GET example.com/v1/leads/{leadId}": true, "GET /uix": false,
	} {
		if got := NeedsToken(pattern); got != want {
			t.Errorf("NeedsToken(%q) = %v, want %v", pattern, got, want)
		}
	}
}

func TestHealthAndReady(t *testing.T) {
	pgUp := true
	e := newEnv(t, func(c *Config) {
		c.Ready = []ReadyCheck{
			{Name: "cache", Check: func(context.Context) error { return nil }},
			{Name: "postgres", Degrades: true, Impact: "events for leads that are not merged are still accepted",
				Check: func(context.Context) error {
					if pgUp {
						return nil
					}
					return errors.New("postgres: connection refused to 10.0.0.7")
				}},
		}
	})
	rec := e.get("/healthz", "")
	wantStatus(t, rec, 200)
	if rec.Body.String() != "ok" {
		t.Errorf("healthz body %q", rec.Body)
	}
	rec = e.get("/readyz", "")
	wantStatus(t, rec, 200)
	wantJSON(t, rec)
	if b := decode[ReadyBody](t, rec); b.Status != "ready" || len(b.Failed) != 0 {
		t.Errorf("all up: %+v", b)
	}

	// Postgres down, Temporal up: degraded, still in service.
	pgUp = false
	rec = e.get("/readyz", "")
	wantStatus(t, rec, 200)
	b := decode[ReadyBody](t, rec)
	if b.Status != "degraded" || !slices.Equal(b.Failed, []string{"postgres"}) || !strings.Contains(b.Message, "events for leads that are not merged are still accepted") {
		t.Errorf("postgres down: %s", rec.Body)
	}
	if strings.Contains(rec.Body.String(), "10.0.0.7") {
		t.Error("readyz leaks the check's error")
	}

	// Temporal down too: 503, both named.
	e.leads.ReadyErr = errUnavailable
	rec = e.get("/readyz", "")
	wantStatus(t, rec, 503)
	b = decode[ReadyBody](t, rec)
	if b.Status != "down" || !slices.Equal(b.Failed, []string{"temporal", "postgres"}) || b.Error != "not ready: temporal, postgres" {
		t.Errorf("both down: %s", rec.Body)
	}
	// Temporal alone down: 503.
	pgUp = true
	rec = e.get("/readyz", "")
	wantStatus(t, rec, 503)
	if b := decode[ReadyBody](t, rec); !slices.Equal(b.Failed, []string{"temporal"}) {
		t.Errorf("temporal down: %s", rec.Body)
	}

	ok := newEnv(t, nil)
	rec = ok.get("/readyz", "")
	wantStatus(t, rec, 200)
	wantJSON(t, rec)
}

func TestReadyChecksNeedNames(t *testing.T) {
	nop := func(context.Context) error { return nil }
	for _, checks := range [][]ReadyCheck{
		{{Check: nop}},
		{{Name: "temporal", Check: nop}},
		{{Name: "postgres", Check: nop}, {Name: "postgres", Check: nop}},
		{{Name: "postgres"}},
	} {
		cfg := Config{WebhookSecret: testSecret, IDKey: testIDKey, Ready: checks}
		if _, err := New(cfg, newLeads(), newFakeMerges(), &fakeReceipts{}, nil); err == nil {
			t.Errorf("New accepted checks %+v", checks)
		}
	}
}

func (e *env) metrics() string {
	e.t.Helper()
	rec := e.get("/metrics", "")
	wantStatus(e.t, rec, 200)
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, nil)
	body := batch(t, ev("e1", "L-secret-1", lead.EventEmailOpen), ev("e2", "L-secret-1", lead.EventEmailOpen))
	wantStatus(t, e.postEvents(body, "sign"), http.StatusAccepted)
	wantStatus(t, e.postEvents(body, "sign"), http.StatusAccepted)
	wantStatus(t, e.get("/v1/leads/L-secret-2", ""), 404)
	m := e.metrics()
	for _, want := range []string{
		`leadflow_events_received_total{result="accepted"} 2`,
		`leadflow_events_received_total{result="duplicate"} 2`,
		`leadflow_http_requests_total{code="202",route="POST /v1/events"} 2`,
		`leadflow_http_requests_total{code="404",route="GET /v1/leads/{leadId}"} 1`,
		`leadflow_http_request_duration_seconds_count{route="POST /v1/events"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, "L-secret") {
		t.Error("a lead ID leaked into metric labels")
	}
	// One log line per request, with the route pattern and no lead ID.
	reqLogs := e.logs.FilterMessage("http request").All()
	if len(reqLogs) != 4 { // three calls and the scrape
		t.Errorf("%d request log lines, want 4", len(reqLogs))
	}
	for _, l := range reqLogs {
		if strings.Contains(fmt.Sprint(l.ContextMap()), "L-secret") {
			t.Errorf("log carries a lead ID: %v", l.ContextMap())
		}
	}
}

func TestSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := Config{WebhookSecret: testSecret, IDKey: testIDKey}
	for range 2 {
		if _, err := New(cfg, newLeads(), newFakeMerges(), &fakeReceipts{}, reg); err != nil {
			t.Fatalf("New on a shared registry: %v", err)
		}
	}
}

func TestDecodeEventFieldErrors(t *testing.T) {
	cases := map[string][]string{
		`null`: {"event"},
		`[]`:   {"event"},
		`{"id":"e1","leadId":"L-1","type":"email.open","occurredAt":"2026-11-22T09:00:00Z","profile":{"employees":"many"}}`: {"profile.employees"},
		`{"id":"e1","leadId":"L-1","type":"email.open","occurredAt":"2026-11-22T09:00:00Z","profile":{"emial":"a@b.c"}}`:    {"profile.emial"},
		`{"id":"e1","leadId":"L-1","type":"email.open","occurredAt":"2026-11-22T09:00:00Z","attributes":[1]}`:               {"attributes"},
		`{"id":"e1","leadId":"L-1","type":"email.open","occurredAt":5}`:                                                     {"occurredAt"},
		`{"id":"e1","leadId":7,"type":"email.open","occurredAt":"2026-11-22T09:00:00Z"}`:                                    {"leadId"},
		`{"id":"e 1","leadId":"L 1","type":"","occurredAt":null}`:                                                           {"id", "leadId", "type", "occurredAt"},
		`{"id":"e1","leadId":"L-1","type":"email.open","occurredAt":"2026-11-22T09:00:00Z"}`:                                nil,
	}
	for in, want := range cases {
		_, errs := DecodeEvent(json.RawMessage(in))
		var got []string
		for _, fe := range errs {
			got = append(got, fe.Field)
			if fe.Message == "" {
				t.Errorf("%s: %s has no message", in, fe.Field)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: fields %v, want %v (%+v)", in, got, want, errs)
		}
	}
}

func TestReadyzTimesOutAHungCheck(t *testing.T) {
	defer SetReadyTimeout(50 * time.Millisecond)()
	release := make(chan struct{})
	defer close(release)
	e := newEnv(t, func(c *Config) {
		c.Ready = []ReadyCheck{{Name: "directory", Check: func(context.Context) error { <-release; return nil }}}
	})
	rec := e.get("/readyz", "")
	wantStatus(t, rec, 503)
	if got := decode[ReadyBody](t, rec).Failed; !slices.Equal(got, []string{"directory"}) {
		t.Errorf("failed = %v", got)
	}
}

func TestEventsByteBounds(t *testing.T) {
	e := newEnv(t, nil)
	okAttrs := map[string]any{}
	for i := range lead.MaxAttributes {
		okAttrs[fmt.Sprintf("a%02d", i)] = "v"
	}
	tooMany := map[string]any{"extra": 1}
	for k, v := range okAttrs {
		tooMany[k] = v
	}
	max := ev("e1", "L-1", lead.EventFormSubmit)
	max["attributes"] = okAttrs
	max["profile"] = map[string]any{"company": strings.Repeat("c", lead.MaxProfileValueBytes)}
	wantStatus(t, e.postEvents(batch(t, max), "sign"), http.StatusAccepted)

	over := ev("e2", "L-1", lead.EventFormSubmit)
	over["attributes"] = tooMany
	big := ev("e3", "L-2", lead.EventFormSubmit)
	big["attributes"] = map[string]any{"blob": strings.Repeat("x", lead.MaxAttributeValueBytes)}
	long := ev("e4", "L-3", lead.EventFormSubmit)
	long["profile"] = map[string]any{"title": strings.Repeat("t", lead.MaxProfileValueBytes+1)}
	rec := e.postEvents(batch(t, over, big, long), "sign")
	wantStatus(t, rec, http.StatusBadRequest)
	got := map[EventError]bool{}
	for _, ee := range decode[EventErrors](t, rec).Errors {
		got[EventError{Index: ee.Index, Field: ee.Field}] = true
		if !strings.Contains(ee.Message, "at most") {
			t.Errorf("%+v does not state the bound", ee)
		}
	}
	for _, want := range []EventError{{Index: 0, Field: "attributes"}, {Index: 1, Field: "attributes.blob"}, {Index: 2, Field: "profile.title"}} {
		if !got[want] {
			t.Errorf("missing %+v in %s", want, rec.Body)
		}
	}
	if n := e.leads.EventCount(); n != 1 {
		t.Errorf("applied %d events, want only the first batch's", n)
	}
}

func TestUpdateByteBounds(t *testing.T) {
	e := newEnv(t, nil)
	e.leads.Views["L-1"] = lead.View{LeadID: "L-1"}
	note := func(n int) string { return strings.Repeat("n", n) }
	for _, c := range []struct {
		path, body, field string
	}{
		{"/v1/leads/L-1/reject", `{"id":"u1","repId":"rep-7","reason":"other","note":"` + note(lead.MaxNoteBytes+1) + `"}`, "note"},
		{"/v1/leads/L-1/reassign", `{"id":"u2","ownerId":"rep-8","by":"mgr","note":"` + note(lead.MaxNoteBytes+1) + `"}`, "note"},
		{"/v1/leads/L-1/accept", `{"id":"u3","repId":"` + note(lead.MaxRefBytes+1) + `"}`, "repId"},
	} {
		rec := e.postJSON(c.path, c.body, "")
		wantStatus(t, rec, http.StatusBadRequest)
		if b := decode[ErrorBody](t, rec); b.Field != c.field || !strings.Contains(b.Error, "at most") {
			t.Errorf("%s: %+v, want a 400 on %s", c.path, b, c.field)
		}
	}
	if len(e.leads.Updates) != 0 {
		t.Errorf("over-long requests reached the workflow: %+v", e.leads.Updates)
	}
	wantStatus(t, e.postJSON("/v1/leads/L-1/reject", `{"id":"u4","repId":"rep-7","reason":"other","note":"`+note(lead.MaxNoteBytes)+`"}`, ""), 200)
	wantStatus(t, e.postJSON("/v1/leads/L-1/reassign", `{"id":"u5","ownerId":"rep-8","by":"mgr","note":"`+note(lead.MaxNoteBytes)+`"}`, ""), 200)
}

func TestStateFallsBackToPublishedState(t *testing.T) {
	published := testNow.Add(-3 * time.Minute)
	noWorker := &Unavailable{Message: "no worker answered the state query within 5s: the lead's workflow is not being processed"}
	pgDown := errors.New("postgres: connection refused")
	cases := []struct {
		name           string
		queryErr, pgEr error
		lead           string
		code           int
		stale          bool
		msg            []string
	}{
		{"query answers", nil, nil, "L-1", 200, false, nil},
		{"no worker: published state", noWorker, nil, "L-1", 200, true, nil},
		{"Temporal down: published state", errUnavailable, nil, "L-1", 200, true, nil},
		{"Temporal has no workflow, Postgres has a state", ErrNotFound, nil, "L-1", 200, true, nil},
		{"neither knows the lead", ErrNotFound, nil, "L-2", 404, false, []string{"no such lead"}},
		{"no worker, never published", noWorker, nil, "L-2", 503, false, []string{"no worker answered", "published no state"}},
		{"both fail", noWorker, pgDown, "L-1", 503, false, []string{"no worker answered", "postgres did not answer"}},
		{"no workflow, Postgres fails", ErrNotFound, pgDown, "L-1", 503, false, []string{"no workflow", "postgres"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			states := &fakeStates{states: map[string]lead.View{"L-1": {LeadID: "L-1", Stage: lead.StageHandoff, OwnerID: "rep-old"}},
				at: map[string]time.Time{"L-1": published}, err: c.pgEr}
			e := newEnv(t, func(cfg *Config) { cfg.States = states })
			e.leads.Views["L-1"] = lead.View{LeadID: "L-1", Stage: lead.StageSAL, OwnerID: "rep-7"}
			e.leads.QueryErr = c.queryErr
			rec := e.get("/v1/leads/"+c.lead, "")
			wantStatus(t, rec, c.code)
			wantJSON(t, rec)
			if c.code != 200 {
				body := decode[ErrorBody](t, rec)
				for _, m := range c.msg {
					if !strings.Contains(body.Error, m) {
						t.Errorf("error %q does not mention %q", body.Error, m)
					}
				}
				if (c.code == 503) != (rec.Header().Get("Retry-After") != "") {
					t.Errorf("Retry-After %q on %d", rec.Header().Get("Retry-After"), c.code)
				}
				return
			}
			var raw map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
				t.Fatal(err)
			}
			v := decode[lead.View](t, rec)
			if !c.stale {
				if v.Stale || v.PublishedAt != nil || v.OwnerID != "rep-7" || raw["stale"] != nil {
					t.Errorf("fresh answer %s", rec.Body)
				}
				if states.calls != 0 {
					t.Error("Postgres asked although the query answered")
				}
				return
			}
			if !v.Stale || raw["stale"] != true || v.PublishedAt == nil || !v.PublishedAt.Equal(published) || v.OwnerID != "rep-old" {
				t.Errorf("stale answer %s", rec.Body)
			}
		})
	}
}

// Without a States port the edge answers as before: 503 when the query fails.
func TestStateWithoutStates(t *testing.T) {
	e := newEnv(t, nil)
	e.leads.QueryErr = &Unavailable{Message: "no worker answered the state query within 5s"}
	rec := e.get("/v1/leads/L-1", "")
	wantStatus(t, rec, 503)
	if msg := decode[ErrorBody](t, rec).Error; !strings.Contains(msg, "no worker answered") {
		t.Errorf("error %q", msg)
	}
}

// A duplicate rejection must name an open lead: checked with one describe
// before the update is sent.
func TestRejectDuplicateOfMustBeOpen(t *testing.T) {
	body := func(dup string) string {
		return `{"id":"u1","repId":"rep-7","reason":"duplicate","duplicateOf":"` + dup + `"}`
	}
	cases := []struct {
		name, dup string
		isOpenErr error
		code      int
		msg       string
	}{
		{"open survivor", "L-2", nil, 200, ""},
		{"no such lead", "L-9", nil, 422, "duplicateOf L-9 is not an open lead"},
		{"closed lead", "L-done", nil, 422, "duplicateOf L-done is not an open lead"},
		{"Temporal does not answer", "L-2", errUnavailable, 503, "could not check that duplicateOf L-2 is an open lead"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.leads.Views["L-1"] = lead.View{LeadID: "L-1", OwnerID: "rep-7"}
			e.leads.Views["L-2"] = lead.View{LeadID: "L-2"}
			e.leads.Views["L-done"] = lead.View{LeadID: "L-done"}
			e.leads.Closed["L-done"] = true
			e.leads.IsOpenErr = c.isOpenErr
			rec := e.postJSON("/v1/leads/L-1/reject", body(c.dup), "")
			wantStatus(t, rec, c.code)
			if !slices.Equal(e.leads.Opened, []string{c.dup}) {
				t.Errorf("IsOpen calls %v, want one for %s", e.leads.Opened, c.dup)
			}
			if c.code == 200 {
				if len(e.leads.Updates) != 1 {
					t.Errorf("updates %+v", e.leads.Updates)
				}
				return
			}
			if msg := decode[ErrorBody](t, rec).Error; !strings.Contains(msg, c.msg) {
				t.Errorf("error %q, want %q", msg, c.msg)
			}
			if len(e.leads.Updates) != 0 {
				t.Error("the update was sent")
			}
			if (c.code == 503) != (rec.Header().Get("Retry-After") != "") {
				t.Errorf("Retry-After %q on %d", rec.Header().Get("Retry-After"), c.code)
			}
		})
	}
	// Other reasons do not ask.
	e := newEnv(t, nil)
	e.leads.Views["L-1"] = lead.View{LeadID: "L-1"}
	wantStatus(t, e.postJSON("/v1/leads/L-1/reject", `{"id":"u2","repId":"rep-7","reason":"timing"}`, ""), 200)
	if len(e.leads.Opened) != 0 {
		t.Errorf("IsOpen asked for a timing rejection: %v", e.leads.Opened)
	}
}
