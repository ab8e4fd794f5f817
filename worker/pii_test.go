package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

// piiLead is a test lead whose every identifying value is unique, so a byte
// search of the history cannot match anything else.
type piiLead struct {
	email, first, last, phone, company, source, note string
}

func newPIILead(t *testing.T) piiLead {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	m := hex.EncodeToString(b)
	return piiLead{
		email:   "zelda." + m + "@proof-initech.com",
		first:   "Zelda" + m,
		last:    "Quist" + m,
		phone:   "+1-555-" + m,
		company: "Initech " + m,
		source:  "Referral from Zelda" + m,
		note:    "Rep note " + m + ": call back on Tuesday",
	}
}

// payloadSecrets must not appear anywhere in what Temporal stores.
func (p piiLead) payloadSecrets() map[string]string {
	return map[string]string{"email": p.email, "first name": p.first, "last name": p.last, "phone": p.phone}
}

// visibleSecrets must not appear in what Temporal shows without decoding
// (search attributes) nor in summaries, details and memo even decoded.
func (p piiLead) visibleSecrets() map[string]string {
	m := p.payloadSecrets()
	m["company"], m["free-text source"], m["rep note"] = p.company, p.source, p.note
	return m
}

// The worker with codec keys, on a real dev server and Postgres: a lead's
// events carry an email, name and phone, yet the history the server
// stores (read with a client that has no codec, as anyone with access to
// Temporal's database or API would) holds none of them; the Codec Server
// decodes the signal back to the email.
func testPayloadsEncrypted(t *testing.T, srv *testenv.DevServer) {
	ready := make(chan struct{})
	r := startWorker(t, srv, nil, hooks{ready: ready})
	r.waitReady(t, ready)
	ctx := t.Context()
	importDirectory(t, r)

	p := newPIILead(t)
	const leadID = "P-1"
	leads := temporalx.NewLeadClient(srv.Client(t), r.cfg.TaskQueue)
	ev := lead.Event{ID: "p-evt-1", LeadID: leadID, Type: lead.EventFormSubmit, OccurredAt: time.Now().UTC(), Source: p.source,
		Attributes: map[string]any{"form": "quote_request"},
		Profile: &lead.Profile{Email: p.email, FirstName: p.first, LastName: p.last, Phone: p.phone, Company: p.company,
			Domain: "initech.com", Country: "US", Employees: 400, Title: "VP Sales"}}
	if err := leads.Deliver(ctx, leadID, ev); err != nil {
		t.Fatal(err)
	}
	// A rejection with a note (update payloads and the note's trail), by
	// whoever owns the lead at that moment: policy-fast reassigns often.
	eventually(t, 60*time.Second, "the lead is handed off and rejected with a note", func() bool {
		var v lead.View
		if leads.Query(ctx, leadID, lead.QueryState, &v) != nil || v.Stage != lead.StageHandoff {
			return false
		}
		_, err := leads.Update(ctx, leadID, lead.UpdateReject, "p-rej-"+v.OwnerID, lead.RejectRequest{ID: "p-rej-" + v.OwnerID, RepID: v.OwnerID, Reason: lead.ReasonOther, Note: p.note})
		return err == nil
	})

	raw := srv.RawClient(t)
	wfID := lead.WorkflowID(leadID)
	events := history(t, raw, wfID)
	var signal *commonpb.Payload
	for _, e := range events {
		b, err := proto.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		for what, s := range p.payloadSecrets() {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("history event %d (%s) holds the lead's %s in clear", e.GetEventId(), e.GetEventType(), what)
			}
		}
		if a := e.GetWorkflowExecutionSignaledEventAttributes(); a != nil && signal == nil {
			signal = a.GetInput().GetPayloads()[0]
		}
	}
	desc, err := raw.DescribeWorkflowExecution(ctx, wfID, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := proto.Marshal(desc)
	for what, s := range p.visibleSecrets() {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("DescribeWorkflowExecution (search attributes, memo, summary) holds the lead's %s in clear", what)
		}
	}
	if signal == nil || string(signal.GetMetadata()[codec.MetadataEncoding]) != codec.EncodingEncrypted {
		t.Fatalf("signal payload not encrypted: %v", signal)
	}

	// The Codec Server (what `starter codec-server` serves) decodes it.
	cs := httptest.NewServer(codec.NewServer(testenv.Codec(t), codec.ServerOptions{Origins: codec.DefaultCORSOrigins, Token: "ops-token"}))
	defer cs.Close()
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{signal}})
	req, _ := http.NewRequest(http.MethodPost, cs.URL+"/"+srv.Namespace+"/decode", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer ops-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var decoded commonpb.Payloads
	if resp.StatusCode != 200 || protojson.Unmarshal(out, &decoded) != nil || len(decoded.Payloads) != 1 ||
		!strings.Contains(string(decoded.Payloads[0].GetData()), p.email) {
		t.Fatalf("codec server decode: %d %s", resp.StatusCode, out)
	}

	checkVisibleFieldsClean(t, srv, wfID, events, desc.GetExecutionConfig().GetUserMetadata(), p)
}

// checkVisibleFieldsClean: what the UI shows as text — summaries and
// details of the workflow, timers and activities, the memo and the current
// details — holds no PII even once decoded.
func checkVisibleFieldsClean(t *testing.T, srv *testenv.DevServer, wfID string, events []*historypb.HistoryEvent, static *sdkpb.UserMetadata, p piiLead) {
	t.Helper()
	c := testenv.Codec(t)
	check := func(where string, ps ...*commonpb.Payload) {
		for _, pl := range ps {
			if pl == nil {
				continue
			}
			dec, err := c.Decode([]*commonpb.Payload{pl})
			if err != nil {
				t.Errorf("%s: decode: %v", where, err)
				continue
			}
			for what, s := range p.visibleSecrets() {
				if bytes.Contains(dec[0].GetData(), []byte(s)) {
					t.Errorf("%s shows the lead's %s: %s", where, what, dec[0].GetData())
				}
			}
		}
	}
	check("the workflow's static summary/details", static.GetSummary(), static.GetDetails())
	for _, e := range events {
		where := e.GetEventType().String()
		check(where+" summary/details", e.GetUserMetadata().GetSummary(), e.GetUserMetadata().GetDetails())
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED {
			for k, m := range e.GetWorkflowExecutionStartedEventAttributes().GetMemo().GetFields() {
				check("memo "+k, m)
			}
		}
	}
	// Current details: what the workflow's metadata query answers.
	val, err := srv.Client(t).QueryWorkflow(t.Context(), wfID, "", "__temporal_workflow_metadata")
	if err != nil {
		t.Fatal(err)
	}
	var md sdkpb.WorkflowMetadata
	if err := val.Get(&md); err != nil {
		t.Fatal(err)
	}
	for what, s := range p.visibleSecrets() {
		if strings.Contains(md.GetCurrentDetails(), s) {
			t.Errorf("current details show the lead's %s:\n%s", what, md.GetCurrentDetails())
		}
	}
}

func history(t *testing.T, c client.Client, wfID string) []*historypb.HistoryEvent {
	t.Helper()
	var out []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(t.Context(), wfID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// importDirectory loads deploy/directory.yaml into the worker's database.
func importDirectory(t *testing.T, r *running) {
	t.Helper()
	st, err := store.Open(t.Context(), r.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	importDirectoryInto(t, st)
}

func importDirectoryInto(t *testing.T, st *store.DB) {
	t.Helper()
	dir, err := directory.Load("../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Directory().ImportDirectory(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
}
