// Package hubspottest is a fake of HubSpot's CRM API, written from
// HubSpot's documentation, for tests of internal/hubspot and of anything
// that runs leadflow with LEADFLOW_CRM=hubspot.
//
// It serves, over httptest:
//
//	GET    /crm/v3/objects/{type}/{id}?properties=a,b
//	PATCH  /crm/v3/objects/{type}/{id}            {"properties":{...}}
//	POST   /crm/v3/objects/{type}                 {"properties":{...},"associations":[...]}
//	POST   /crm/v3/objects/{type}/search          {"filterGroups":[...],"properties":[...],"limit":N,"after":"..."}
//	GET    /crm/v3/owners?limit=N&after=...
//	GET    /crm/v4/objects/deals/{id}/associations/contacts?limit=N&after=...
//
// for contacts, tasks and notes (deals through the associations endpoint),
// with HubSpot's shapes: IDs as strings, properties as a map with unset
// ones null, cursors in paging.next.after, errors as {status, message,
// correlationId, category}. It checks the Bearer token (401 with HubSpot's
// body), validates properties (unknown property, enumeration option, owner
// ID, required hs_timestamp: 400 VALIDATION_ERROR), keeps contact emails
// unique (409 "Contact already exists. Existing ID: N"), silently ignores a
// backwards lifecyclestage unless it was cleared first, and answers
// searches from an index that lags writes by a configurable delay on its
// clock. Failures are injected on command (Inject); Delete removes a
// record as a user deleting it in HubSpot would (404 from then on).
package hubspottest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/leadflow/leadflow/internal/hubspot"
)

// DefaultToken is the access token the fake accepts unless told otherwise.
const DefaultToken = "pat-na1-test-token"

// FaultKind is a failure the fake can produce.
type FaultKind int

const (
	// RateLimit answers 429 with HubSpot's rate-limit body and Retry-After.
	RateLimit FaultKind = iota + 1
	// ServerError answers 500 without doing anything.
	ServerError
	// Slow does the request, then waits Delay (or until the client gives
	// up) before answering: a client with a shorter timeout sees a timeout
	// although the write happened.
	Slow
	// CrashAfterWrite does the request, then drops the connection without
	// an answer: the object exists, the client never learns its ID.
	CrashAfterWrite
	// BadGatewayAfterWrite does the request, then answers 502 from a
	// "gateway" (an HTML page, no ID).
	BadGatewayAfterWrite
	// Unavailable answers 503 without doing anything, with Retry-After
	// when RetryAfter is set (HubSpot during an incident or maintenance).
	Unavailable
)

// Fault is an injected failure for the next Times requests that match
// Method and Path ("" matches any), or, when Until is set, for every
// matching request until the fake's clock reaches Until (an outage).
type Fault struct {
	Kind   FaultKind
	Method string
	Path   string
	Times  int // 0 = 1; ignored when Until is set
	// Until makes the fault a time window: it matches every request until
	// then and is dropped after.
	Until time.Time
	// RateLimit: the Retry-After header in whole seconds (0 = 10 s);
	// NoRetryAfter leaves the header out. Unavailable: the Retry-After
	// header when > 0.
	RetryAfter   time.Duration
	NoRetryAfter bool
	// Slow: how long to hold the answer.
	Delay time.Duration
}

// Request is one request the fake received.
type Request struct {
	Method, Path string
	At           time.Time // on the fake's clock
	Status       int
}

// Association is a link from a created object.
type Association struct {
	ToType string // "contacts"
	ToID   string
	TypeID int
}

// Object is a record as the fake holds it.
type Object struct {
	ID           string
	Properties   map[string]string
	Associations []Association
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

type version struct {
	props     map[string]string
	visibleAt time.Time
}

type record struct {
	Object
	versions []version // what search sees, oldest first
}

// Server is the fake. Safe for concurrent use.
type Server struct {
	URL string

	srv   *httptest.Server
	clock hubspot.Clock

	mu          sync.Mutex
	token       string
	nextID      int64
	corr        int64
	objects     map[string]map[string]*record // type → id → record
	owners      []hubspot.Owner
	deals       map[string][]string
	faults      []*Fault
	requests    []Request
	indexLag    time.Duration
	burst       int
	burstWindow time.Duration
	pageSize    int
	custom      map[string]map[string]bool
	history     map[string]map[string][]string // contact → property → values written
}

// Option configures the fake.
type Option func(*Server)

// WithToken sets the accepted access token (default DefaultToken).
func WithToken(t string) Option { return func(s *Server) { s.token = t } }

// WithClock sets the fake's clock (timestamps, index lag, burst window).
func WithClock(c hubspot.Clock) Option { return func(s *Server) { s.clock = c } }

// WithIndexLag sets how long after a write search shows it (default 0).
func WithIndexLag(d time.Duration) Option { return func(s *Server) { s.indexLag = d } }

// WithBurstLimit makes the fake enforce HubSpot's burst limit: more than n
// requests in a rolling window get 429 TEN_SECONDLY_ROLLING.
func WithBurstLimit(n int, window time.Duration) Option {
	return func(s *Server) { s.burst, s.burstWindow = n, window }
}

// WithPageSize caps page sizes (owners, associations, search), to exercise
// paging with few records.
func WithPageSize(n int) Option { return func(s *Server) { s.pageSize = n } }

// New starts a fake; it is closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	s := &Server{
		clock: hubspot.RealClock, token: DefaultToken, nextID: 100000, pageSize: 500,
		objects: map[string]map[string]*record{hubspot.Contacts: {}, hubspot.Tasks: {}, hubspot.Notes: {}},
		deals:   map[string][]string{}, custom: map[string]map[string]bool{},
		history: map[string]map[string][]string{},
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /crm/v3/objects/{type}/{id}", s.getObject)
	mux.HandleFunc("PATCH /crm/v3/objects/{type}/{id}", s.patchObject)
	mux.HandleFunc("POST /crm/v3/objects/{type}", s.createObject)
	mux.HandleFunc("POST /crm/v3/objects/{type}/search", s.search)
	mux.HandleFunc("GET /crm/v3/owners", s.listOwners)
	mux.HandleFunc("GET /crm/v3/owners/", s.listOwners)
	mux.HandleFunc("GET /crm/v4/objects/deals/{id}/associations/contacts", s.dealContacts)
	s.srv = httptest.NewServer(s.middleware(mux))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Inject queues a failure.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// SetIndexLag changes the search lag for later writes.
func (s *Server) SetIndexLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.indexLag = d
}

// DefineProperty adds a custom property to an object type.
func (s *Server) DefineProperty(objectType, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.custom[objectType] == nil {
		s.custom[objectType] = map[string]bool{}
	}
	s.custom[objectType][name] = true
}

func (s *Server) newID() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// AddContact creates a contact that search already shows (seed data).
func (s *Server) AddContact(props map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	id := s.newID()
	p := maps.Clone(props)
	if p == nil {
		p = map[string]string{}
	}
	if e, ok := p["email"]; ok {
		p["email"] = strings.ToLower(e)
	}
	r := &record{Object: Object{ID: id, Properties: p, CreatedAt: now, UpdatedAt: now}}
	r.versions = []version{{props: maps.Clone(p), visibleAt: now}}
	s.objects[hubspot.Contacts][id] = r
	return id
}

// AddOwner adds an owner (ID assigned when empty) and returns its ID.
func (s *Server) AddOwner(o hubspot.Owner) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.ID == "" {
		o.ID = s.newID()
	}
	if o.UserID == 0 {
		s.nextID++
		o.UserID = s.nextID
	}
	s.owners = append(s.owners, o)
	return o.ID
}

// AddDeal adds a deal associated with the contacts and returns its ID.
func (s *Server) AddDeal(contactIDs ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newID()
	s.deals[id] = slices.Clone(contactIDs)
	return id
}

func (s *Server) list(objectType string) []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Object
	for _, r := range s.objects[objectType] {
		o := r.Object
		o.Properties = maps.Clone(o.Properties)
		o.Associations = slices.Clone(o.Associations)
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Object) int { return cmpID(a.ID, b.ID) })
	return out
}

// Tasks are all tasks, by ID.
func (s *Server) Tasks() []Object { return s.list(hubspot.Tasks) }

// Notes are all notes, by ID.
func (s *Server) Notes() []Object { return s.list(hubspot.Notes) }

// Contact returns a contact.
func (s *Server) Contact(id string) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.objects[hubspot.Contacts][id]
	if !ok {
		return Object{}, false
	}
	o := r.Object
	o.Properties = maps.Clone(o.Properties)
	return o, true
}

// Contacts are all contacts, by ID.
func (s *Server) Contacts() []Object { return s.list(hubspot.Contacts) }

// Delete removes a record as a user deleting it in HubSpot would: reads
// and updates of its ID answer 404 and search no longer finds it. It
// reports whether the record existed.
func (s *Server) Delete(objectType, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.objects[objectType][id]
	delete(s.objects[objectType], id)
	return ok
}

// PropertyHistory is every value written to a contact's property through
// the API, in order (including "" for a clear and writes HubSpot ignored).
func (s *Server) PropertyHistory(contactID, prop string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.history[contactID][prop])
}

// Requests are the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// CountRequests counts received requests with the method and path prefix.
func (s *Server) CountRequests(method, pathPrefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// ---- plumbing ----

func (s *Server) correlationID() string {
	s.corr++
	return fmt.Sprintf("0f1e2d3c-4b5a-4968-8776-%012d", s.corr)
}

// hubspotError writes HubSpot's error body. Callers hold s.mu.
func (s *Server) hubspotError(w http.ResponseWriter, status int, category, msg string) {
	writeJSON(w, status, map[string]any{
		"status": "error", "message": msg, "correlationId": s.correlationID(), "category": category,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// takeFault returns the first fault matching the request, using up one of
// its Times (a window fault stays until its Until). Callers hold s.mu.
func (s *Server) takeFault(method, path string) *Fault {
	now := s.clock.Now()
	for i := 0; i < len(s.faults); {
		f := s.faults[i]
		if !f.Until.IsZero() && !now.Before(f.Until) {
			s.faults = append(s.faults[:i], s.faults[i+1:]...) // the window has closed
			continue
		}
		if (f.Method == "" || f.Method == method) && (f.Path == "" || f.Path == path) {
			if f.Until.IsZero() {
				f.Times--
				if f.Times <= 0 {
					s.faults = append(s.faults[:i], s.faults[i+1:]...)
				}
			}
			c := *f
			return &c
		}
		i++
	}
	return nil
}

// middleware logs, authenticates, enforces the burst limit, injects faults.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		now := s.clock.Now()
		idx := len(s.requests)
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, At: now})
		setStatus := func(code int) {
			s.mu.Lock()
			s.requests[idx].Status = code
			s.mu.Unlock()
		}
		if r.Header.Get("Authorization") != "Bearer "+s.token {
			s.requests[idx].Status = http.StatusUnauthorized
			s.hubspotError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION",
				"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
			s.mu.Unlock()
			return
		}
		if s.burst > 0 {
			n := 0
			var oldest time.Time
			for _, q := range s.requests[:idx] {
				if q.At.After(now.Add(-s.burstWindow)) && q.Status != http.StatusTooManyRequests {
					if n == 0 {
						oldest = q.At
					}
					n++
				}
			}
			if n >= s.burst {
				s.requests[idx].Status = http.StatusTooManyRequests
				s.rateLimited(w, Fault{RetryAfter: oldest.Add(s.burstWindow).Sub(now)})
				s.mu.Unlock()
				return
			}
			w.Header().Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.burst))
			w.Header().Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(s.burst-n-1))
			w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(s.burstWindow.Milliseconds(), 10))
		}
		f := s.takeFault(r.Method, r.URL.Path)
		switch {
		case f != nil && f.Kind == RateLimit:
			s.requests[idx].Status = http.StatusTooManyRequests
			s.rateLimited(w, *f)
			s.mu.Unlock()
			return
		case f != nil && f.Kind == ServerError:
			s.requests[idx].Status = http.StatusInternalServerError
			s.hubspotError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "internal error")
			s.mu.Unlock()
			return
		case f != nil && f.Kind == Unavailable:
			s.requests[idx].Status = http.StatusServiceUnavailable
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
			}
			s.hubspotError(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Please try again later.")
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()

		// Handle into a buffer, so a fault can drop or replace the answer
		// after the write happened.
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if f != nil {
			switch f.Kind {
			case CrashAfterWrite:
				setStatus(0)
				panic(http.ErrAbortHandler) // net/http closes the connection, no answer
			case BadGatewayAfterWrite:
				setStatus(http.StatusBadGateway)
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n")
				return
			case Slow:
				t := time.NewTimer(f.Delay)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
					setStatus(0)
					return
				}
			}
		}
		setStatus(rec.Code)
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// rateLimited writes HubSpot's 429. Callers hold s.mu.
func (s *Server) rateLimited(w http.ResponseWriter, f Fault) {
	ra := f.RetryAfter
	if ra <= 0 {
		ra = 10 * time.Second
	}
	if !f.NoRetryAfter {
		w.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
	}
	w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
	w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
		"errorType": "RATE_LIMIT", "correlationId": s.correlationID(), "policyName": "TEN_SECONDLY_ROLLING",
		"requestId": s.correlationID(),
	})
}

// ---- properties ----

var (
	lifecycleOrder = []string{"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
		"opportunity", "customer", "evangelist", "other"}
	leadStatuses = []string{"NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED",
		"ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING"}
	knownProps = map[string][]string{
		hubspot.Contacts: {"email", "firstname", "lastname", "company", "phone", "lifecyclestage", "hs_lead_status", "hubspot_owner_id"},
		hubspot.Tasks:    {"hs_task_subject", "hs_task_body", "hs_timestamp", "hs_task_status", "hs_task_priority", "hs_task_type", "hubspot_owner_id"},
		hubspot.Notes:    {"hs_note_body", "hs_timestamp", "hubspot_owner_id"},
	}
	enums = map[string][]string{
		"lifecyclestage":   lifecycleOrder,
		"hs_lead_status":   leadStatuses,
		"hs_task_status":   {"NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"},
		"hs_task_priority": {"NONE", "LOW", "MEDIUM", "HIGH"},
		"hs_task_type":     {"CALL", "EMAIL", "TODO", "LINKED_IN", "MEETING"},
	}
	readOnly = []string{"hs_object_id", "createdate", "lastmodifieddate", "hs_createdate", "hs_lastmodifieddate"}
)

type propError struct {
	IsValid bool   `json:"isValid"`
	Message string `json:"message"`
	Error   string `json:"error"`
	Name    string `json:"name"`
}

// validate checks properties as HubSpot does. Callers hold s.mu.
func (s *Server) validate(objectType string, props map[string]string, create bool) []propError {
	var errs []propError
	for _, name := range slices.Sorted(maps.Keys(props)) {
		v := props[name]
		switch {
		case slices.Contains(readOnly, name):
			errs = append(errs, propError{Message: fmt.Sprintf("%q is a read only property; its value cannot be set.", name), Error: "READ_ONLY_VALUE", Name: name})
		case !slices.Contains(knownProps[objectType], name) && !s.custom[objectType][name]:
			errs = append(errs, propError{Message: fmt.Sprintf("Property %q does not exist", name), Error: "PROPERTY_DOESNT_EXIST", Name: name})
		case enums[name] != nil && v != "" && !slices.Contains(enums[name], v):
			errs = append(errs, propError{Message: fmt.Sprintf("%s was not one of the allowed options: [%s]", v, strings.Join(enums[name], ", ")), Error: "INVALID_OPTION", Name: name})
		case name == "hubspot_owner_id" && v != "" && !s.ownerExists(v):
			errs = append(errs, propError{Message: fmt.Sprintf("%s is not a valid owner id", v), Error: "INVALID_OWNER_ID", Name: name})
		case name == "hs_timestamp" && v != "" && !validTimestamp(v):
			errs = append(errs, propError{Message: fmt.Sprintf("%s was not a valid long or ISO 8601 datetime", v), Error: "INVALID_DATETIME", Name: name})
		case name == "email" && v != "" && !validEmail(v):
			errs = append(errs, propError{Message: "Email address " + v + " is invalid", Error: "INVALID_EMAIL", Name: name})
		}
	}
	if create && (objectType == hubspot.Tasks || objectType == hubspot.Notes) && props["hs_timestamp"] == "" {
		errs = append(errs, propError{Message: "hs_timestamp is required", Error: "REQUIRED_PROPERTY", Name: "hs_timestamp"})
	}
	for i := range errs {
		errs[i].IsValid = false
	}
	return errs
}

func validEmail(v string) bool {
	local, domain, ok := strings.Cut(v, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(v, " <>")
}

func validTimestamp(v string) bool {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339Nano, v)
	return err == nil
}

func (s *Server) ownerExists(id string) bool {
	return slices.ContainsFunc(s.owners, func(o hubspot.Owner) bool { return o.ID == id && !o.Archived })
}

func (s *Server) validationError(w http.ResponseWriter, errs []propError) {
	b, _ := json.Marshal(errs)
	s.hubspotError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Property values were not valid: "+string(b))
}

// ---- handlers ----

func objectTypeOf(w http.ResponseWriter, r *http.Request, s *Server) (string, bool) {
	t := r.PathValue("type")
	if _, ok := s.objects[t]; !ok {
		s.hubspotError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("Unable to infer object type from: %s", t))
		return "", false
	}
	return t, true
}

// view renders a record: the requested properties (null when unset) plus
// the ones HubSpot always returns.
func (s *Server) view(objectType string, o Object, props []string) map[string]any {
	p := map[string]any{
		"hs_object_id":     o.ID,
		"createdate":       o.CreatedAt.UTC().Format(time.RFC3339Nano),
		"lastmodifieddate": o.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
	if objectType != hubspot.Contacts {
		p["hs_createdate"] = p["createdate"]
		p["hs_lastmodifieddate"] = p["lastmodifieddate"]
		delete(p, "createdate")
		delete(p, "lastmodifieddate")
	}
	if props == nil {
		if objectType == hubspot.Contacts {
			props = []string{"email", "firstname", "lastname"}
		} else {
			props = slices.Collect(maps.Keys(o.Properties))
		}
	}
	for _, name := range props {
		if v, ok := o.Properties[name]; ok {
			p[name] = v
		} else if _, set := p[name]; !set {
			p[name] = nil
		}
	}
	return map[string]any{
		"id": o.ID, "properties": p, "archived": false,
		"createdAt": o.CreatedAt.UTC().Format(time.RFC3339Nano), "updatedAt": o.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
}

func splitProps(q string) []string {
	if q == "" {
		return nil
	}
	return strings.Split(q, ",")
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := objectTypeOf(w, r, s)
	if !ok {
		return
	}
	rec, ok := s.objects[t][r.PathValue("id")]
	if !ok {
		w.WriteHeader(http.StatusNotFound) // HubSpot answers an unknown ID with an empty 404
		return
	}
	writeJSON(w, http.StatusOK, s.view(t, rec.Object, splitProps(r.URL.Query().Get("properties"))))
}

type writeBody struct {
	Properties   map[string]*string `json:"properties"`
	Associations []struct {
		To struct {
			ID string `json:"id"`
		} `json:"to"`
		Types []struct {
			Category string `json:"associationCategory"`
			TypeID   int    `json:"associationTypeId"`
		} `json:"types"`
	} `json:"associations"`
}

func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		s.hubspotError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error())
		return false
	}
	return true
}

func flatten(p map[string]*string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		if v != nil {
			out[k] = *v
		} else {
			out[k] = ""
		}
	}
	return out
}

// write applies props to a record as HubSpot would and queues the search
// index update. Callers hold s.mu.
func (s *Server) write(objectType string, rec *record, props map[string]string, now time.Time) {
	for name, v := range props {
		if objectType == hubspot.Contacts {
			if s.history[rec.ID] == nil {
				s.history[rec.ID] = map[string][]string{}
			}
			s.history[rec.ID][name] = append(s.history[rec.ID][name], v)
			if name == "lifecyclestage" && v != "" {
				cur := rec.Properties[name]
				if cur != "" && slices.Index(lifecycleOrder, v) < slices.Index(lifecycleOrder, cur) {
					continue // backwards without a clear first: silently kept
				}
			}
			if name == "email" {
				v = strings.ToLower(v)
			}
		}
		if v == "" {
			delete(rec.Properties, name)
		} else {
			rec.Properties[name] = v
		}
	}
	rec.UpdatedAt = now
	rec.versions = append(rec.versions, version{props: maps.Clone(rec.Properties), visibleAt: now.Add(s.indexLag)})
}

func (s *Server) patchObject(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := objectTypeOf(w, r, s)
	if !ok {
		return
	}
	var body writeBody
	if !s.decode(w, r, &body) {
		return
	}
	rec, ok := s.objects[t][r.PathValue("id")]
	if !ok {
		s.hubspotError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	props := flatten(body.Properties)
	if errs := s.validate(t, props, false); len(errs) > 0 {
		s.validationError(w, errs)
		return
	}
	if e, ok := props["email"]; ok && e != "" {
		if other := s.contactByEmail(e); other != "" && other != rec.ID {
			s.hubspotError(w, http.StatusConflict, "CONFLICT", "Contact already exists. Existing ID: "+other)
			return
		}
	}
	s.write(t, rec, props, s.clock.Now())
	writeJSON(w, http.StatusOK, s.view(t, rec.Object, slices.Collect(maps.Keys(props))))
}

func (s *Server) contactByEmail(email string) string {
	email = strings.ToLower(email)
	for id, c := range s.objects[hubspot.Contacts] {
		if c.Properties["email"] == email {
			return id
		}
	}
	return ""
}

var assocTypes = map[string]int{hubspot.Tasks: hubspot.AssocTaskToContact, hubspot.Notes: hubspot.AssocNoteToContact}

func (s *Server) createObject(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := objectTypeOf(w, r, s)
	if !ok {
		return
	}
	var body writeBody
	if !s.decode(w, r, &body) {
		return
	}
	props := flatten(body.Properties)
	if errs := s.validate(t, props, true); len(errs) > 0 {
		s.validationError(w, errs)
		return
	}
	if t == hubspot.Contacts && props["email"] != "" {
		if other := s.contactByEmail(props["email"]); other != "" {
			s.hubspotError(w, http.StatusConflict, "CONFLICT", "Contact already exists. Existing ID: "+other)
			return
		}
	}
	var assoc []Association
	for _, a := range body.Associations {
		if _, ok := s.objects[hubspot.Contacts][a.To.ID]; !ok {
			s.hubspotError(w, http.StatusBadRequest, "VALIDATION_ERROR",
				fmt.Sprintf("One or more associations are invalid: object %s of type contacts was not found", a.To.ID))
			return
		}
		for _, ty := range a.Types {
			if ty.Category != "HUBSPOT_DEFINED" || ty.TypeID != assocTypes[t] {
				s.hubspotError(w, http.StatusBadRequest, "VALIDATION_ERROR",
					fmt.Sprintf("%s %d is not a valid association type from %s to contacts", ty.Category, ty.TypeID, t))
				return
			}
			assoc = append(assoc, Association{ToType: hubspot.Contacts, ToID: a.To.ID, TypeID: ty.TypeID})
		}
	}
	now := s.clock.Now()
	rec := &record{Object: Object{ID: s.newID(), Properties: map[string]string{}, Associations: assoc, CreatedAt: now}}
	s.write(t, rec, props, now)
	s.objects[t][rec.ID] = rec
	writeJSON(w, http.StatusCreated, s.view(t, rec.Object, nil))
}

type searchBody struct {
	FilterGroups []struct {
		Filters []struct {
			PropertyName string `json:"propertyName"`
			Operator     string `json:"operator"`
			Value        string `json:"value"`
		} `json:"filters"`
	} `json:"filterGroups"`
	Properties []string `json:"properties"`
	Limit      int      `json:"limit"`
	After      string   `json:"after"`
}

// tokens splits text as a search index would: words of letters and digits,
// lower case (HTML tags become harmless words).
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func matches(props map[string]string, prop, op, value string) (bool, error) {
	v, has := props[prop]
	switch op {
	case "EQ":
		return has && strings.EqualFold(v, value), nil
	case "NEQ":
		return !strings.EqualFold(v, value), nil
	case "HAS_PROPERTY":
		return has, nil
	case "NOT_HAS_PROPERTY":
		return !has, nil
	case "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
		want := tokens(value)
		have := tokens(v)
		all := len(want) > 0
		for _, w := range want {
			if !slices.Contains(have, w) {
				all = false
			}
		}
		return all == (op == "CONTAINS_TOKEN"), nil
	}
	return false, fmt.Errorf("unsupported operator %s", op)
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := objectTypeOf(w, r, s)
	if !ok {
		return
	}
	var body searchBody
	if !s.decode(w, r, &body) {
		return
	}
	if len(body.FilterGroups) > 5 {
		s.hubspotError(w, http.StatusBadRequest, "VALIDATION_ERROR", "too many filterGroups (max 5)")
		return
	}
	now := s.clock.Now()
	var hits []Object
	for _, rec := range s.objects[t] {
		// What the index shows: the newest version already visible.
		var props map[string]string
		for _, v := range rec.versions {
			if !v.visibleAt.After(now) {
				props = v.props
			}
		}
		if props == nil {
			continue // not indexed yet
		}
		match := len(body.FilterGroups) == 0
		for _, g := range body.FilterGroups {
			all := true
			for _, f := range g.Filters {
				ok, err := matches(props, f.PropertyName, f.Operator, f.Value)
				if err != nil {
					s.hubspotError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
					return
				}
				all = all && ok
			}
			match = match || all
		}
		if match {
			o := rec.Object
			o.Properties = props
			hits = append(hits, o)
		}
	}
	slices.SortFunc(hits, func(a, b Object) int { return cmpID(a.ID, b.ID) })
	limit := body.Limit
	if limit <= 0 {
		limit = 10
	}
	limit = min(limit, 200, s.pageSize)
	offset, _ := strconv.Atoi(body.After)
	page := hits[min(offset, len(hits)):]
	resp := map[string]any{"total": len(hits)}
	if len(page) > limit {
		page = page[:limit]
		resp["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(offset + limit)}}
	}
	results := make([]map[string]any, len(page))
	for i, o := range page {
		results[i] = s.view(t, o, body.Properties)
	}
	resp["results"] = results
	writeJSON(w, http.StatusOK, resp)
}

func pageOf(r *http.Request, n, max int) (from, to int, next string) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, max)
	from, _ = strconv.Atoi(r.URL.Query().Get("after"))
	from = min(max0(from), n)
	to = min(from+limit, n)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

func (s *Server) listOwners(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var active []hubspot.Owner
	for _, o := range s.owners {
		if !o.Archived {
			active = append(active, o)
		}
	}
	from, to, next := pageOf(r, len(active), min(500, s.pageSize))
	results := []map[string]any{}
	for _, o := range active[from:to] {
		at := "2024-01-15T10:00:00Z"
		results = append(results, map[string]any{
			"id": o.ID, "email": o.Email, "type": "PERSON", "firstName": o.FirstName, "lastName": o.LastName,
			"userId": o.UserID, "userIdIncludingInactive": o.UserID,
			"createdAt": at, "updatedAt": at, "archived": false, "teams": []any{},
		})
	}
	resp := map[string]any{"results": results}
	if next != "" {
		resp["paging"] = map[string]any{"next": map[string]any{"after": next,
			"link": "https://api.hubapi.com/crm/v3/owners/?after=" + next}}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) dealContacts(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	contacts := s.deals[r.PathValue("id")]
	from, to, next := pageOf(r, len(contacts), min(500, s.pageSize))
	results := []map[string]any{}
	for _, id := range contacts[from:to] {
		n, _ := strconv.ParseInt(id, 10, 64)
		results = append(results, map[string]any{
			"toObjectId":       n,
			"associationTypes": []map[string]any{{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": nil}},
		})
	}
	resp := map[string]any{"results": results}
	if next != "" {
		resp["paging"] = map[string]any{"next": map[string]any{"after": next}}
	}
	writeJSON(w, http.StatusOK, resp)
}

func cmpID(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
