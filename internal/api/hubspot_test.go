package api_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	. "github.com/leadflow/leadflow/internal/api"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/hswebhook"
	"github.com/leadflow/leadflow/internal/lead"
)

const (
	hsSecret    = "hs-client-secret-test"
	hsPublicURL = "https://leadflow.example.com"
	hsPortal    = "33" // the portalId of hsNote's notifications
)

// hsSignature is X-HubSpot-Signature-v3 computed from HubSpot's documented
// algorithm, independently of hswebhook: base64(HMAC-SHA256(client secret,
// method + URI + body + timestamp)).
func hsSignature(method, uri string, body []byte, ts string) string {
	m := hmac.New(sha256.New, []byte(hsSecret))
	m.Write([]byte(method + uri + string(body) + ts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// hsDeps is a small portal: contact 501 is known to leadflow as L-1001;
// contacts are owned by HubSpot owner 77 = rep-7; deal 9001 has 501 and 502.
type hsDeps struct {
	failDeal error
	leadOf   map[string]string
}

func (d *hsDeps) deps() hswebhook.Deps {
	return hswebhook.Deps{
		LeadForContact: func(_ context.Context, c string) (string, bool, error) {
			if id, ok := d.leadOf[c]; ok {
				return id, true, nil
			}
			return "", false, nil
		},
		DealContacts: func(_ context.Context, deal string) ([]string, error) {
			if d.failDeal != nil {
				return nil, d.failDeal
			}
			if deal == "9001" {
				return []string{"501", "502"}, nil
			}
			return nil, hswebhook.ErrNotFound
		},
		ContactOwner: func(context.Context, string) (string, error) { return "77", nil },
		RepForOwner: func(_ context.Context, o string) (string, bool, error) {
			return map[string]string{"77": "rep-7"}[o], o == "77", nil
		},
	}
}

func newHubSpotEnv(t *testing.T, d *hsDeps, mod func(*Config)) *env {
	t.Helper()
	e := newEnv(t, mod)
	if d.leadOf == nil {
		d.leadOf = map[string]string{"501": "L-1001"}
	}
	if err := e.srv.MountHubSpot(HubSpotConfig{ClientSecret: []byte(hsSecret), PublicURL: hsPublicURL, Deps: d.deps(), PortalID: hsPortal}); err != nil {
		t.Fatal(err)
	}
	return e
}

// postHubSpot sends body signed for signedURI (default: the public URL +
// target) at ts (default: testNow).
func (e *env) postHubSpot(target string, body []byte, sign func(req *http.Request)) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sign == nil {
		ts := strconv.FormatInt(testNow.UnixMilli(), 10)
		req.Header.Set(hswebhook.TimestampHeader, ts)
		req.Header.Set(hswebhook.SignatureHeader, hsSignature(http.MethodPost, hsPublicURL+target, body, ts))
	} else {
		sign(req)
	}
	return e.do(req)
}

func hsNote(eventID int, typ string, object int, prop, value string, occurred time.Time) string {
	s := fmt.Sprintf(`{"eventId":%d,"subscriptionId":25,"portalId":33,"appId":1160452,"occurredAt":%d,`+
		`"subscriptionType":%q,"attemptNumber":0,"objectId":%d,"changeSource":"CRM_UI","sourceId":"userId:9"`,
		eventID, occurred.UnixMilli(), typ, object)
	if prop != "" {
		s += fmt.Sprintf(`,"propertyName":%q,"propertyValue":%q`, prop, value)
	}
	return s + "}"
}

func hsBatch(notes ...string) []byte { return []byte("[" + strings.Join(notes, ",") + "]") }

var hsAt = testNow.Add(-time.Minute)

func sampleHubSpotBatch() []byte {
	return hsBatch(
		// Out of order on purpose: the SQL change happened after the email change.
		hsNote(12, "contact.propertyChange", 501, "lifecyclestage", "salesqualifiedlead", hsAt.Add(time.Second)),
		hsNote(11, "contact.propertyChange", 501, "email", "ana@acme.io", hsAt),
		hsNote(13, "deal.creation", 9001, "", "", hsAt.Add(2*time.Second)),
		hsNote(14, "contact.creation", 502, "", "", hsAt),
		hsNote(15, "ticket.creation", 1, "", "", hsAt),
	)
}

func TestHubSpotBatchDelivered(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	rec := e.postHubSpot(HubSpotWebhookPath, sampleHubSpotBatch(), nil)
	wantStatus(t, rec, http.StatusOK)
	res := decode[HubSpotResult](t, rec)
	if want := (HubSpotResult{Notifications: 5, Ignored: 2, Events: 4, Accepted: 4}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	if got, want := e.leads.EventIDs("L-1001"), []string{"hs-11-25-501", "hs-12-25-501", "hs-13-25-9001-c501"}; !slices.Equal(got, want) {
		t.Errorf("L-1001 got %v, want %v (occurredAt order)", got, want)
	}
	if got, want := e.leads.EventIDs("hs-502"), []string{"hs-13-25-9001-c502"}; !slices.Equal(got, want) {
		t.Errorf("hs-502 got %v, want %v", got, want)
	}
	evs := e.leads.LeadEvents("L-1001")
	if ev := evs[0]; ev.Type != lead.EventProfileUpdate || ev.Profile == nil || ev.Profile.Email != "ana@acme.io" || !ev.OccurredAt.Equal(hsAt) || ev.Source != "hubspot" {
		t.Errorf("profile event = %+v", ev)
	}
	if ev := evs[1]; ev.Type != lead.EventLeadAccepted || ev.Attr("repId") != "rep-7" {
		t.Errorf("accept event = %+v", ev)
	}
	if ev := evs[2]; ev.Type != lead.EventOpportunityCreated || ev.Attr("dealId") != "9001" {
		t.Errorf("deal event = %+v", ev)
	}
	m := e.metrics()
	for _, want := range []string{
		`leadflow_hubspot_notifications_total{kind="",result="mapped"} 3`,
		`leadflow_hubspot_notifications_total{kind="no_data",result="skipped"} 1`,
		`leadflow_hubspot_notifications_total{kind="unsupported_type",result="skipped"} 1`,
		`leadflow_hubspot_events_total{result="accepted"} 4`,
		`leadflow_http_requests_total{code="200",route="POST /v1/webhooks/hubspot"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// The edge's own Postgres lookups (merges, receipts) being down does not
// stop a HubSpot batch for leads that are not merged.
func TestHubSpotWhileMergesAndReceiptsAreDown(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	e.merges.err = errors.New("postgres down")
	e.receipts.err = errors.New("postgres down")
	rec := e.postHubSpot(HubSpotWebhookPath, sampleHubSpotBatch(), nil)
	wantStatus(t, rec, http.StatusOK)
	if res := decode[HubSpotResult](t, rec); res.Accepted != 4 {
		t.Errorf("result %+v, want 4 accepted", res)
	}
	if n := e.leads.EventCount(); n != 4 {
		t.Errorf("applied %d, want 4", n)
	}
}

// HubSpot redelivers the batch (attemptNumber 1, a new timestamp and
// signature): everything is a duplicate, nothing is applied twice.
func TestHubSpotRedeliveryIsDuplicate(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	body := sampleHubSpotBatch()
	wantStatus(t, e.postHubSpot(HubSpotWebhookPath, body, nil), http.StatusOK)
	again := bytes.ReplaceAll(body, []byte(`"attemptNumber":0`), []byte(`"attemptNumber":1`))
	rec := e.postHubSpot(HubSpotWebhookPath, again, func(req *http.Request) {
		ts := strconv.FormatInt(testNow.Add(2*time.Minute).UnixMilli(), 10)
		req.Header.Set(hswebhook.TimestampHeader, ts)
		req.Header.Set(hswebhook.SignatureHeader, hsSignature(http.MethodPost, hsPublicURL+HubSpotWebhookPath, again, ts))
	})
	wantStatus(t, rec, http.StatusOK)
	if res := decode[HubSpotResult](t, rec); res.Accepted != 0 || res.Duplicates != 4 {
		t.Errorf("redelivery = %+v, want 0 accepted, 4 duplicates", res)
	}
	if n := e.leads.EventCount(); n != 4 {
		t.Errorf("applied %d events, want 4", n)
	}
}

func TestHubSpotSignatureRejected(t *testing.T) {
	body := sampleHubSpotBatch()
	ts := strconv.FormatInt(testNow.UnixMilli(), 10)
	signed := func(sig, ts string) func(*http.Request) {
		return func(req *http.Request) {
			if ts != "" {
				req.Header.Set(hswebhook.TimestampHeader, ts)
			}
			if sig != "" {
				req.Header.Set(hswebhook.SignatureHeader, sig)
			}
		}
	}
	wrongSecret := func() string {
		m := hmac.New(sha256.New, []byte("not-the-secret"))
		m.Write([]byte(http.MethodPost + hsPublicURL + HubSpotWebhookPath + string(body) + ts))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}()
	stale := strconv.FormatInt(testNow.Add(-5*time.Minute-time.Second).UnixMilli(), 10)
	cases := map[string]func(*http.Request){
		"wrong secret":                  signed(wrongSecret, ts),
		"http instead of https":         signed(hsSignature(http.MethodPost, "http://leadflow.example.com"+HubSpotWebhookPath, body, ts), ts),
		"request path only":             signed(hsSignature(http.MethodPost, HubSpotWebhookPath, body, ts), ts),
		"another path":                  signed(hsSignature(http.MethodPost, hsPublicURL+"/v1/events", body, ts), ts),
		"stale (5 min + 1 s)":           signed(hsSignature(http.MethodPost, hsPublicURL+HubSpotWebhookPath, body, stale), stale),
		"replayed with a new timestamp": signed(hsSignature(http.MethodPost, hsPublicURL+HubSpotWebhookPath, body, stale), ts),
		"missing signature":             signed("", ts),
		"missing timestamp":             signed(hsSignature(http.MethodPost, hsPublicURL+HubSpotWebhookPath, body, ts), ""),
		"nothing":                       signed("", ""),
	}
	for name, sign := range cases {
		t.Run(name, func(t *testing.T) {
			e := newHubSpotEnv(t, &hsDeps{}, nil)
			rec := e.postHubSpot(HubSpotWebhookPath, body, sign)
			wantStatus(t, rec, http.StatusUnauthorized)
			wantJSON(t, rec)
			if n := e.leads.EventCount(); n != 0 {
				t.Errorf("%d events applied", n)
			}
		})
	}
}

// The signed URI includes the query, with HubSpot's listed escapes decoded.
func TestHubSpotQueryInSignedURI(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	target := HubSpotWebhookPath + "?portal=33&tag=a%3Ab%20c"
	body := hsBatch(hsNote(11, "contact.propertyChange", 502, "company", "Acme", hsAt))
	rec := e.postHubSpot(target, body, func(req *http.Request) {
		ts := strconv.FormatInt(testNow.UnixMilli(), 10)
		req.Header.Set(hswebhook.TimestampHeader, ts)
		req.Header.Set(hswebhook.SignatureHeader, hsSignature(http.MethodPost, hsPublicURL+HubSpotWebhookPath+"?portal=33&tag=a:b%20c", body, ts))
	})
	wantStatus(t, rec, http.StatusOK)
	if got := e.leads.EventIDs("hs-502"); !slices.Equal(got, []string{"hs-11-25-502"}) {
		t.Errorf("applied %v", got)
	}
}

func TestHubSpotBodyTooLarge(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	big := append(append([]byte(`[`), bytes.Repeat([]byte(" "), MaxBatchBytes)...), ']')
	rec := e.postHubSpot(HubSpotWebhookPath, big, nil)
	wantStatus(t, rec, http.StatusRequestEntityTooLarge)
	// Without a declared length, the reader's limit catches it (the
	// headers are checked first, so they must be there).
	req := httptest.NewRequest(http.MethodPost, HubSpotWebhookPath, bytes.NewReader(big))
	req.ContentLength = -1
	req.Header.Set(hswebhook.TimestampHeader, strconv.FormatInt(testNow.UnixMilli(), 10))
	req.Header.Set(hswebhook.SignatureHeader, "c2lnbmVkIGxhdGVy")
	wantStatus(t, e.do(req), http.StatusRequestEntityTooLarge)
}

func TestHubSpotMalformedBody(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	for _, body := range []string{`[{"eventId":`, `{"events":[]}`, `[1,2]`} {
		rec := e.postHubSpot(HubSpotWebhookPath, []byte(body), nil)
		wantStatus(t, rec, http.StatusBadRequest)
		wantJSON(t, rec)
	}
}

// A batch of nothing leadflow maps is still a success: a 4xx would make
// HubSpot drop it, a 5xx retry it for a day.
func TestHubSpotUnknownSubscriptionIgnored(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	rec := e.postHubSpot(HubSpotWebhookPath, hsBatch(
		hsNote(21, "conversation.newMessage", 1, "", "", hsAt),
		hsNote(22, "contact.propertyChange", 502, "hs_last_sales_activity_timestamp", "1795338000000", hsAt),
	), nil)
	wantStatus(t, rec, http.StatusOK)
	if res := decode[HubSpotResult](t, rec); res != (HubSpotResult{Notifications: 2, Ignored: 2}) {
		t.Errorf("result = %+v", res)
	}
	if e.leads.Calls() != 0 {
		t.Errorf("%d Deliver calls, want none", e.leads.Calls())
	}
}

// An owner changed in HubSpot reaches the lead as owner.changed: to a
// leadflow rep, or (owner 99) to no rep, which the workflow alerts on.
func TestHubSpotOwnerChangeDelivered(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	rec := e.postHubSpot(HubSpotWebhookPath, hsBatch(
		hsNote(31, "contact.propertyChange", 501, "hubspot_owner_id", "77", hsAt),
		hsNote(32, "contact.propertyChange", 502, "hubspot_owner_id", "99", hsAt),
	), nil)
	wantStatus(t, rec, http.StatusOK)
	if res := decode[HubSpotResult](t, rec); res != (HubSpotResult{Notifications: 2, Events: 2, Accepted: 2}) {
		t.Errorf("result = %+v", res)
	}
	for leadID, want := range map[string][2]string{"L-1001": {"rep-7", "77"}, "hs-502": {"", "99"}} {
		evs := e.leads.LeadEvents(leadID)
		if len(evs) != 1 || evs[0].Type != lead.EventOwnerChanged || evs[0].Attr("ownerId") != want[0] ||
			evs[0].Attr("crmOwnerId") != want[1] || evs[0].Attr("by") != "hubspot" {
			t.Errorf("%s got %+v, want owner.changed ownerId %q crmOwnerId %s", leadID, evs, want[0], want[1])
		}
	}
}

// Temporal fails midway: 503 so HubSpot retries; the retry completes the
// batch and what went through the first time counts as duplicates.
func TestHubSpotDeliverFails(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, nil)
	e.leads.FailOn = func(_ int, leadID string, _ lead.Event) error {
		if leadID == "hs-502" {
			return errUnavailable
		}
		return nil
	}
	body := sampleHubSpotBatch()
	rec := e.postHubSpot(HubSpotWebhookPath, body, nil)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	wantJSON(t, rec)
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	e.leads.SetFailOn(nil)
	rec = e.postHubSpot(HubSpotWebhookPath, body, nil)
	wantStatus(t, rec, http.StatusOK)
	res := decode[HubSpotResult](t, rec)
	if res.Events != 4 || res.Accepted+res.Duplicates != 4 {
		t.Errorf("retry = %+v", res)
	}
	if n := e.leads.EventCount(); n != 4 {
		t.Errorf("applied %d, want 4", n)
	}
}

// A failed lookup (HubSpot's API is down) is a 503, but the rest of the
// batch is delivered first: the retry only adds the missing events.
func TestHubSpotLookupFails(t *testing.T) {
	d := &hsDeps{failDeal: errors.New("hubspot: 502 bad gateway")}
	e := newHubSpotEnv(t, d, nil)
	body := sampleHubSpotBatch()
	rec := e.postHubSpot(HubSpotWebhookPath, body, nil)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	if got := e.leads.EventIDs("L-1001"); !slices.Equal(got, []string{"hs-11-25-501", "hs-12-25-501"}) {
		t.Errorf("before retry L-1001 got %v", got)
	}
	d.failDeal = nil
	rec = e.postHubSpot(HubSpotWebhookPath, body, nil)
	wantStatus(t, rec, http.StatusOK)
	if res := decode[HubSpotResult](t, rec); res.Accepted != 2 || res.Duplicates != 2 {
		t.Errorf("retry = %+v, want 2 accepted (the deal), 2 duplicates", res)
	}
}

// An event that fails the contract's validation is a bug in leadflow's
// mapping (here: a bad leadId from the lookup): 500, logged, the valid rest
// delivered.
func TestHubSpotInvalidMappedEventIs500(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{leadOf: map[string]string{"501": "not a lead id!"}}, nil)
	rec := e.postHubSpot(HubSpotWebhookPath, hsBatch(
		hsNote(31, "contact.propertyChange", 501, "company", "Acme", hsAt),
		hsNote(32, "contact.propertyChange", 502, "company", "Beta", hsAt),
	), nil)
	wantStatus(t, rec, http.StatusInternalServerError)
	if got := e.leads.EventIDs("hs-502"); !slices.Equal(got, []string{"hs-32-25-502"}) {
		t.Errorf("valid event not delivered: %v", got)
	}
	if e.logs.FilterMessage("hubspot notification mapped to an invalid event").Len() != 1 {
		t.Error("mapping bug not logged")
	}
}

// The webhook carries its own signature: no bearer token even when one is set.
func TestHubSpotNeedsNoToken(t *testing.T) {
	e := newHubSpotEnv(t, &hsDeps{}, func(c *Config) { c.APIToken = "tok" })
	wantStatus(t, e.postHubSpot(HubSpotWebhookPath, sampleHubSpotBatch(), nil), http.StatusOK)
}

func TestMountHubSpotConfig(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []HubSpotConfig{
		{PublicURL: hsPublicURL},
		{ClientSecret: []byte("s"), PublicURL: "leadflow.example.com"},
		{ClientSecret: []byte("s"), PublicURL: "ftp://leadflow.example.com"},
		{ClientSecret: []byte("s"), PublicURL: "https://leadflow.example.com/?x=1", PortalID: hsPortal},
		{ClientSecret: []byte("s"), PublicURL: hsPublicURL},                   // no portal pinned
		{ClientSecret: []byte("s"), PublicURL: hsPublicURL, PortalID: "acme"}, // not a portal ID
		{ClientSecret: []byte("s"), PublicURL: hsPublicURL, PortalID: "0033"}, // not as HubSpot writes it
	} {
		if err := e.srv.MountHubSpot(c); err == nil {
			t.Errorf("MountHubSpot(%+v) = nil error", c)
		}
	}
	// A trailing slash on the public URL is tolerated.
	if err := e.srv.MountHubSpot(HubSpotConfig{ClientSecret: []byte(hsSecret), PublicURL: hsPublicURL + "/",
		Deps: (&hsDeps{leadOf: map[string]string{}}).deps(), PortalID: hsPortal}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.postHubSpot(HubSpotWebhookPath, sampleHubSpotBatch(), nil), http.StatusOK)
}
