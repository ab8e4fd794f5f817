package temporalx

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
)

// --- logger ---

func TestLoggerFields(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	var l log.Logger = NewLogger(zap.New(core))
	boom := errors.New("boom")
	l.Debug("d", "k", 1)
	l.Info("i", "Namespace", "default", "Error", boom)
	l.Warn("w", 42, "non-string key", "odd")
	l.(log.WithLogger).With("WorkflowID", "lead/L-1").Error("e", "a", true)
	l.(log.WithSkipCallers).WithCallerSkip(1).Info("skipped")

	got := logs.AllUntimed()
	if len(got) != 5 {
		t.Fatalf("got %d entries, want 5", len(got))
	}
	levels := []zapcore.Level{zapcore.DebugLevel, zapcore.InfoLevel, zapcore.WarnLevel, zapcore.ErrorLevel, zapcore.InfoLevel}
	for i, e := range got {
		if e.Level != levels[i] {
			t.Errorf("entry %d level %v, want %v", i, e.Level, levels[i])
		}
	}
	if m := got[1].ContextMap(); m["Namespace"] != "default" || m["Error"] != "boom" {
		t.Errorf("info fields = %v", m)
	}
	if m := got[2].ContextMap(); m["42"] != "non-string key" || m[badKey] != "odd" {
		t.Errorf("warn fields = %v", m)
	}
	if m := got[3].ContextMap(); m["WorkflowID"] != "lead/L-1" || m["a"] != true {
		t.Errorf("With fields = %v", m)
	}
	NewLogger(nil).Info("nil zap logger must not panic")
}

// --- error mapping ---

func TestUpdateErrorMapping(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		notFound    bool
		refused     string
		unavailable string // substring of the *api.Unavailable message
		wrapsOrig   bool
	}{
		{name: "no workflow", err: serviceerror.NewNotFound("workflow not found for ID: lead/L-1"), notFound: true},
		{name: "wrapped not found", err: fmt.Errorf("x: %w", serviceerror.NewNotFound("sql: no rows")), notFound: true},
		{name: "closed workflow", err: serviceerror.NewNotFound("workflow execution already completed"), refused: "lead L-1 is closed; accept no longer applies"},
		{name: "validator rejection", err: temporal.NewApplicationError("rep-9 is not the owner (rep-7 is)", "Refusal"), refused: "rep-9 is not the owner (rep-7 is)"},
		{name: "plain go error from handler", err: temporal.NewApplicationError("stage sal does not accept", ""), refused: "stage sal does not accept"},
		{
			name:    "innermost cause wins",
			err:     temporal.NewApplicationErrorWithCause("update refused", "Refusal", temporal.NewApplicationError("reason other needs a note", "Validation")),
			refused: "reason other needs a note",
		},
		{
			name:        "handler could not reach the directory",
			err:         temporal.NewApplicationError("directory did not answer", lead.ErrTypeUnavailable),
			unavailable: "the lead could not apply the accept update (directory did not answer) and applied nothing; retry later",
		},
		{
			name:        "unavailable as a cause",
			err:         temporal.NewApplicationErrorWithCause("accept failed", "", temporal.NewApplicationError("postgres down", lead.ErrTypeUnavailable)),
			unavailable: "postgres down",
		},
		{name: "other types are refusals", err: temporal.NewApplicationError("no", "Unavailability"), refused: "no"},
		{name: "timeout passes through", err: context.DeadlineExceeded, wrapsOrig: true},
		{name: "unavailable passes through", err: serviceerror.NewUnavailable("down"), wrapsOrig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := updateError("lead/L-1", "accept", tt.err)
			var refused *api.Refused
			switch {
			case tt.notFound:
				if !errors.Is(got, api.ErrNotFound) {
					t.Fatalf("got %v, want api.ErrNotFound", got)
				}
			case tt.refused != "":
				if !errors.As(got, &refused) || refused.Message != tt.refused {
					t.Fatalf("got %#v, want Refused %q", got, tt.refused)
				}
			case tt.unavailable != "":
				u, ok := errors.AsType[*api.Unavailable](got)
				if !ok || !strings.Contains(u.Message, tt.unavailable) || errors.As(got, &refused) {
					t.Fatalf("got %#v, want Unavailable %q", got, tt.unavailable)
				}
			case tt.wrapsOrig:
				if !errors.Is(got, tt.err) || errors.As(got, &refused) || errors.Is(got, api.ErrNotFound) {
					t.Fatalf("got %v, want a wrap of %v", got, tt.err)
				}
				if !strings.Contains(got.Error(), "update accept on lead/L-1") {
					t.Errorf("error lacks context: %v", got)
				}
			}
		})
	}
}

// --- LeadClient over a fake client ---

type fakeClient struct {
	client.Client // unimplemented methods panic: the test uses only these

	signalWF, signalName string
	signalArg            any
	startOpts            client.StartWorkflowOptions
	startType            any
	startArgs            []any
	signalErr            error

	updateOpts client.UpdateWorkflowOptions
	updateErr  error
	handleErr  error
	handleView lead.View
	// updateHangs and getHangs make UpdateWorkflow or the handle's Get
	// wait for their context, as the SDK does when nobody takes the update.
	updateHangs, getHangs bool

	queryErr    error
	queryResult any
	queryHangs  bool

	describeErr   error
	describeHangs bool
	describeInfo  *workflowpb.WorkflowExecutionInfo

	healthErr error
}

func (f *fakeClient) DescribeWorkflowExecution(ctx context.Context, wfID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if f.describeHangs {
		<-ctx.Done()
		return nil, serviceerror.NewDeadlineExceeded(ctx.Err().Error())
	}
	if f.describeErr != nil {
		return nil, f.describeErr
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: f.describeInfo}, nil
}

func (f *fakeClient) SignalWithStartWorkflow(_ context.Context, wfID, signal string, arg any, opts client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	f.signalWF, f.signalName, f.signalArg, f.startOpts, f.startType, f.startArgs = wfID, signal, arg, opts, wf, args
	return nil, f.signalErr
}

func (f *fakeClient) UpdateWorkflow(ctx context.Context, opts client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.updateOpts = opts
	if f.updateHangs {
		<-ctx.Done()
		return nil, client.NewWorkflowUpdateServiceTimeoutOrCanceledError(serviceerror.NewDeadlineExceeded(ctx.Err().Error()))
	}
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	return fakeHandle{f}, nil
}

func (f *fakeClient) QueryWorkflow(ctx context.Context, wfID, runID, name string, _ ...any) (converter.EncodedValue, error) {
	if f.queryHangs {
		<-ctx.Done()
		return nil, serviceerror.NewDeadlineExceeded(ctx.Err().Error())
	}
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(f.queryResult)
	if err != nil {
		return nil, err
	}
	return client.NewValue(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}}), nil
}

func (f *fakeClient) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, f.healthErr
}

type fakeHandle struct{ f *fakeClient }

func (h fakeHandle) WorkflowID() string { return h.f.updateOpts.WorkflowID }
func (h fakeHandle) RunID() string      { return "" }
func (h fakeHandle) UpdateID() string   { return h.f.updateOpts.UpdateID }
func (h fakeHandle) Get(ctx context.Context, out any) error {
	if h.f.getHangs {
		<-ctx.Done()
		return client.NewWorkflowUpdateServiceTimeoutOrCanceledError(ctx.Err())
	}
	if h.f.handleErr != nil {
		return h.f.handleErr
	}
	*(out.(*lead.View)) = h.f.handleView
	return nil
}

func TestDeliver(t *testing.T) {
	f := &fakeClient{}
	lc := NewLeadClient(f, "tq")
	ev := lead.Event{ID: "evt-1", Type: "form.submit", Source: "website", OccurredAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Profile: &lead.Profile{Email: "ana@acme.io", FirstName: "Ana"}}
	if err := lc.Deliver(context.Background(), "L-1", ev); err != nil {
		t.Fatal(err)
	}
	if f.signalWF != "lead/L-1" || f.signalName != lead.SignalEvent || f.startType != lead.WorkflowType {
		t.Errorf("signal-with-start target: %q %q %v", f.signalWF, f.signalName, f.startType)
	}
	if ev2, ok := f.signalArg.(lead.Event); !ok || ev2.ID != "evt-1" {
		t.Errorf("signal arg = %#v", f.signalArg)
	}
	if len(f.startArgs) != 1 || f.startArgs[0] != (lead.StartInput{LeadID: "L-1"}) {
		t.Errorf("start args = %#v", f.startArgs)
	}
	o := f.startOpts
	if o.ID != "lead/L-1" || o.TaskQueue != "tq" || o.WorkflowIDReusePolicy != enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY {
		t.Errorf("start options = %+v", o)
	}
	if o.StaticSummary != "lead L-1 · source website" {
		t.Errorf("StaticSummary = %q", o.StaticSummary)
	}
	for _, pii := range []string{"ana@acme.io", "Ana"} {
		if strings.Contains(o.StaticSummary+o.StaticDetails, pii) {
			t.Errorf("summary/details leak %q: %q %q", pii, o.StaticSummary, o.StaticDetails)
		}
	}

	f.signalErr = serviceerror.NewUnavailable("frontend down")
	err := lc.Deliver(context.Background(), "L-1", ev)
	var unavailable *serviceerror.Unavailable
	if !errors.As(err, &unavailable) || !strings.Contains(err.Error(), "deliver event evt-1 to lead/L-1") || errors.Is(err, api.ErrLeadClosed) {
		t.Errorf("Deliver error = %v", err)
	}
	// The last run completed (merged): the server refuses to start it again.
	f.signalErr = serviceerror.NewWorkflowExecutionAlreadyStarted("Workflow execution already finished successfully.", "", "run-1")
	err = lc.Deliver(context.Background(), "L-1", ev)
	if !errors.Is(err, api.ErrLeadClosed) {
		t.Errorf("Deliver to a completed lead = %v, want api.ErrLeadClosed", err)
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	f := &fakeClient{handleView: lead.View{LeadID: "L-1"}}
	lc := NewLeadClient(f, "tq")
	req := map[string]string{"id": "u-1", "repId": "rep-7"}
	v, err := lc.Update(ctx, "L-1", lead.UpdateAccept, "u-1", req)
	if err != nil || v.LeadID != "L-1" {
		t.Fatalf("Update = %+v, %v", v, err)
	}
	o := f.updateOpts
	if o.WorkflowID != "lead/L-1" || o.UpdateName != "accept" || o.UpdateID != "u-1" || o.WaitForStage != client.WorkflowUpdateStageAccepted || len(o.Args) != 1 {
		t.Errorf("update options = %+v", o)
	}

	f.updateErr = serviceerror.NewNotFound("workflow not found")
	if _, err := lc.Update(ctx, "L-1", "accept", "u-2", req); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("missing workflow: %v", err)
	}
	f.updateErr, f.handleErr = nil, temporal.NewApplicationError("not the owner", "")
	var refused *api.Refused
	if _, err := lc.Update(ctx, "L-1", "accept", "u-3", req); !errors.As(err, &refused) || refused.Message != "not the owner" {
		t.Errorf("refusal: %v", err)
	}
}

// Past UpdateTimeout the update is *api.Unavailable, and the message says
// which step ran out: nobody took it (Temporal answers), Temporal did not
// answer, or a worker took it and did not finish.
func TestUpdateDeadline(t *testing.T) {
	ctx := context.Background()
	req := map[string]string{"id": "u-1", "repId": "rep-7"}
	cases := []struct {
		name string
		f    *fakeClient
		want string
	}{
		{"no worker", &fakeClient{updateHangs: true}, "no worker took the accept update within 50ms: the lead's workflow is not being processed; retry later"},
		{"Temporal silent", &fakeClient{updateHangs: true, describeHangs: true}, "Temporal did not answer the accept update within 50ms; retry later"},
		{"Temporal refuses", &fakeClient{updateHangs: true, describeErr: serviceerror.NewUnavailable("down")}, "Temporal did not answer"},
		{"taken, not finished", &fakeClient{getHangs: true}, "took the accept update but did not finish it within 50ms; it will still be applied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lc := NewLeadClient(c.f, "tq")
			lc.UpdateTimeout = 50 * time.Millisecond
			start := time.Now()
			_, err := lc.Update(ctx, "L-1", lead.UpdateAccept, "u-1", req)
			u, ok := errors.AsType[*api.Unavailable](err)
			if !ok || !strings.Contains(u.Message, c.want) {
				t.Fatalf("Update = %v, want Unavailable %q", err, c.want)
			}
			if d := time.Since(start); d > probeTimeout+time.Second {
				t.Errorf("Update took %v", d)
			}
		})
	}
	// The caller's own cancellation is not reported as Temporal's fault.
	f := &fakeClient{updateHangs: true}
	lc := NewLeadClient(f, "tq")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := lc.Update(cctx, "L-1", lead.UpdateAccept, "u-1", req); err == nil {
		t.Error("Update on a cancelled context succeeded")
	} else if _, ok := errors.AsType[*api.Unavailable](err); ok {
		t.Errorf("cancelled by the caller: %v, want a plain error", err)
	}
}

func TestQueryDeadline(t *testing.T) {
	f := &fakeClient{queryHangs: true}
	lc := NewLeadClient(f, "tq")
	lc.UpdateTimeout = 60 * time.Millisecond
	if lc.queryTimeout() != 60*time.Millisecond {
		t.Errorf("query timeout = %v, want the update timeout when under 5s", lc.queryTimeout())
	}
	var v lead.View
	err := lc.Query(context.Background(), "L-1", lead.QueryState, &v)
	if u, ok := errors.AsType[*api.Unavailable](err); !ok || !strings.Contains(u.Message, "no worker answered the state query within 60ms") {
		t.Errorf("Query = %v", err)
	}
	f.describeHangs = true
	err = lc.Query(context.Background(), "L-1", lead.QueryState, &v)
	if u, ok := errors.AsType[*api.Unavailable](err); !ok || !strings.Contains(u.Message, "Temporal did not answer the state query within 60ms") {
		t.Errorf("Query = %v", err)
	}
	if d := NewLeadClient(f, "tq").queryTimeout(); d != 5*time.Second {
		t.Errorf("default query timeout = %v, want 5s", d)
	}
}

func TestQueryAndReady(t *testing.T) {
	ctx := context.Background()
	f := &fakeClient{queryResult: lead.View{LeadID: "L-1"}}
	lc := NewLeadClient(f, "tq")
	var v lead.View
	if err := lc.Query(ctx, "L-1", lead.QueryState, &v); err != nil || v.LeadID != "L-1" {
		t.Fatalf("Query = %+v, %v", v, err)
	}
	f.queryErr = serviceerror.NewNotFound("no such workflow")
	if err := lc.Query(ctx, "L-2", lead.QueryState, &v); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	f.queryErr = serviceerror.NewQueryFailed("unknown queryType")
	if err := lc.Query(ctx, "L-1", "nope", &v); err == nil || errors.Is(err, api.ErrNotFound) {
		t.Errorf("query failure: %v", err)
	}
	if err := lc.Ready(ctx); err != nil {
		t.Errorf("Ready: %v", err)
	}
	f.healthErr = serviceerror.NewUnavailable("down")
	if err := lc.Ready(ctx); err == nil {
		t.Error("Ready: want error")
	}
}

// --- search attributes ---

type fakeOperator struct {
	attrs   map[string]enumspb.IndexedValueType
	addErr  error
	added   []map[string]enumspb.IndexedValueType
	listErr error
}

func (o *fakeOperator) ListSearchAttributes(context.Context, *operatorservice.ListSearchAttributesRequest, ...grpc.CallOption) (*operatorservice.ListSearchAttributesResponse, error) {
	if o.listErr != nil {
		return nil, o.listErr
	}
	cp := map[string]enumspb.IndexedValueType{}
	for k, v := range o.attrs {
		cp[k] = v
	}
	return &operatorservice.ListSearchAttributesResponse{CustomAttributes: cp,
		SystemAttributes: map[string]enumspb.IndexedValueType{"WorkflowType": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}, nil
}

func (o *fakeOperator) AddSearchAttributes(_ context.Context, in *operatorservice.AddSearchAttributesRequest, _ ...grpc.CallOption) (*operatorservice.AddSearchAttributesResponse, error) {
	if o.addErr != nil {
		return nil, o.addErr
	}
	o.added = append(o.added, in.SearchAttributes)
	for k, v := range in.SearchAttributes {
		o.attrs[k] = v
	}
	return &operatorservice.AddSearchAttributesResponse{}, nil
}

func TestEnsureSearchAttributes(t *testing.T) {
	ctx := context.Background()
	want := lead.SearchAttributeTypes

	t.Run("registers missing, then is a no-op", func(t *testing.T) {
		op := &fakeOperator{attrs: map[string]enumspb.IndexedValueType{"LeadStage": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}
		if err := ensureSearchAttributes(ctx, op, "default", want); err != nil {
			t.Fatal(err)
		}
		if len(op.added) != 1 || len(op.added[0]) != len(want)-1 {
			t.Fatalf("added = %v", op.added)
		}
		if op.attrs["LeadScore"] != enumspb.INDEXED_VALUE_TYPE_INT || op.attrs["SLADueAt"] != enumspb.INDEXED_VALUE_TYPE_DATETIME || op.attrs["SLABreached"] != enumspb.INDEXED_VALUE_TYPE_BOOL {
			t.Errorf("types = %v", op.attrs)
		}
		if err := ensureSearchAttributes(ctx, op, "default", want); err != nil || len(op.added) != 1 {
			t.Fatalf("second run: err=%v adds=%d", err, len(op.added))
		}
	})
	t.Run("wrong type names the attribute", func(t *testing.T) {
		op := &fakeOperator{attrs: map[string]enumspb.IndexedValueType{"LeadScore": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}
		err := ensureSearchAttributes(ctx, op, "default", want)
		if err == nil || !strings.Contains(err.Error(), "LeadScore exists on namespace \"default\" as Keyword, leadflow needs Int") {
			t.Fatalf("err = %v", err)
		}
		if len(op.added) != 0 {
			t.Errorf("added despite conflict: %v", op.added)
		}
	})
	t.Run("permission denied explains manual registration", func(t *testing.T) {
		op := &fakeOperator{attrs: map[string]enumspb.IndexedValueType{}, addErr: serviceerror.NewPermissionDenied("request unauthorized", "")}
		err := ensureSearchAttributes(ctx, op, "prod.acct", want)
		if err == nil {
			t.Fatal("want error")
		}
		for _, s := range []string{"tcld namespace search-attributes add", "LeadStage=Keyword", "NurtureSuppressed=Bool", "prod.acct", "refused"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error lacks %q: %v", s, err)
			}
		}
		var pd *serviceerror.PermissionDenied
		if !errors.As(err, &pd) {
			t.Errorf("error does not wrap the server's: %v", err)
		}
	})
	t.Run("list failure", func(t *testing.T) {
		op := &fakeOperator{listErr: serviceerror.NewNamespaceNotFound("nope")}
		if err := ensureSearchAttributes(ctx, op, "nope", want); err == nil || !strings.Contains(err.Error(), "list search attributes") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("lost race is fine", func(t *testing.T) {
		op := &fakeOperator{attrs: map[string]enumspb.IndexedValueType{}}
		for _, sa := range want {
			op.attrs[sa.Name], _ = IndexedValueType(sa.Type)
		}
		// Listed fully already: no add happens at all.
		if err := ensureSearchAttributes(ctx, op, "default", want); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := IndexedValueType("Float"); err == nil {
		t.Error("unknown type accepted")
	}
}

// --- dial options ---

func TestClientOptions(t *testing.T) {
	base, err := config.FromLookup(func(k string) (string, bool) {
		if k == config.EnvCodec {
			return "off", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	o, err := ClientOptions(base, nil, nil)
	if err != nil || o.HostPort != "127.0.0.1:7233" || o.Namespace != "default" || o.ConnectionOptions.TLS != nil || o.Credentials != nil || o.Logger == nil ||
		o.DataConverter != nil || o.FailureConverter != nil {
		t.Fatalf("plaintext options = %+v, %v", o, err)
	}

	// Payload encryption: the codec's converters with keys, a refusal
	// without them (unless off, as above).
	keyed := base
	keyed.Codec = config.Codec{Keys: "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}
	if o, err := ClientOptions(keyed, nil, nil); err != nil || o.DataConverter == nil || o.FailureConverter == nil {
		t.Fatalf("with codec keys: data converter %v, failure converter %v, %v", o.DataConverter, o.FailureConverter, err)
	}
	if _, err := ClientOptions(config.Config{TemporalAddress: "127.0.0.1:7233"}, nil, nil); err == nil || !strings.Contains(err.Error(), "LEADFLOW_CODEC_KEYS") {
		t.Errorf("without codec keys: %v; want a refusal naming LEADFLOW_CODEC_KEYS", err)
	}

	apiKey := base
	apiKey.TemporalAPIKey = "k"
	o, err = ClientOptions(apiKey, nil, nil)
	if err != nil || o.Credentials == nil || o.ConnectionOptions.TLS == nil {
		t.Fatalf("API key must imply TLS: %+v, %v", o, err)
	}

	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	mtls := base
	mtls.TemporalTLS = config.TLS{CertFile: certFile, KeyFile: keyFile, CAFile: certFile, ServerName: "temporal.example"}
	o, err = ClientOptions(mtls, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tc := o.ConnectionOptions.TLS
	if tc == nil || len(tc.Certificates) != 1 || tc.RootCAs == nil || tc.ServerName != "temporal.example" {
		t.Fatalf("mTLS config = %+v", tc)
	}

	bad := base
	bad.TemporalTLS = config.TLS{CertFile: filepath.Join(dir, "missing.pem"), KeyFile: keyFile}
	if _, err := ClientOptions(bad, nil, nil); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing cert: %v", err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad.TemporalTLS = config.TLS{CAFile: junk}
	if _, err := ClientOptions(bad, nil, nil); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("junk CA: %v", err)
	}
}

func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "leadflow-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// --- metrics ---

func TestPrometheusMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, closer, err := NewPrometheusMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	// A second user of the same registry (serve and worker in one process)
	// shares the handler rather than colliding with it.
	h2, closer2, err := NewPrometheusMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h.WithTags(map[string]string{"namespace": "default"}).Counter("temporal_request").Inc(2)
	h2.WithTags(map[string]string{"namespace": "default"}).Counter("temporal_request").Inc(1)
	h.Timer("temporal_workflow_endtoend_latency").Record(20 * time.Millisecond)
	h.Gauge("temporal_num_pollers").Update(2)
	// The same name with another label set: Prometheus refuses it; the
	// handler must count that, not panic.
	h.WithTags(map[string]string{"namespace": "default", "extra": "x"}).Counter("temporal_request").Inc(1)
	if err := closer2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := closer.Close(); err != nil { // the last one flushes
		t.Fatal(err)
	}
	if err := closer.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				got[mf.GetName()] += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[mf.GetName()] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				got[mf.GetName()] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"temporal_request_total":                          3,
		"temporal_num_pollers":                            2,
		"temporal_workflow_endtoend_latency_seconds":      1,
		"leadflow_temporal_metrics_register_errors_total": 1,
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v (all: %v)", name, got[name], v, got)
		}
	}
	// After every user closed, a new handler on the registry can still be
	// made (the error counter is reused, not re-registered).
	if _, c3, err := NewPrometheusMetrics(reg); err != nil {
		t.Errorf("handler after close: %v", err)
	} else {
		_ = c3.Close()
	}
	if _, _, err := NewPrometheusMetrics(nil); err == nil {
		t.Error("nil registerer accepted")
	}
}

// With the policy's segments, a new lead's summary names its segment.
func TestDeliverSummaryNamesSegment(t *testing.T) {
	p, err := policy.Load("../../deploy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeClient{}
	lc := NewLeadClient(f, "tq")
	lc.Segment = SegmentBy(p)
	ev := lead.Event{ID: "evt-1", Type: "form.submit", Source: "website", OccurredAt: time.Now(),
		Profile: &lead.Profile{Email: "ana@acme.io", Employees: 250}}
	if err := lc.Deliver(context.Background(), "L-1", ev); err != nil {
		t.Fatal(err)
	}
	if got := f.startOpts.StaticSummary; got != "lead L-1 · source website · segment mid-market" {
		t.Errorf("StaticSummary = %q", got)
	}
}
