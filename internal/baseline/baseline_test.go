package baseline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	updatepb "go.temporal.io/api/update/v1"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

func jsonPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: b}
}

func payloads(t *testing.T, vs ...any) *commonpb.Payloads {
	p := &commonpb.Payloads{}
	for _, v := range vs {
		p.Payloads = append(p.Payloads, jsonPayload(t, v))
	}
	return p
}

// sampleHistory is a small lead history with one of each fact Read knows.
func sampleHistory(t *testing.T) *historypb.History {
	t.Helper()
	var events []*historypb.HistoryEvent
	add := func(typ enums.EventType, set func(e *historypb.HistoryEvent)) {
		e := &historypb.HistoryEvent{EventId: int64(len(events) + 1), EventType: typ}
		set(e)
		events = append(events, e)
	}
	add(enums.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
			Input: payloads(t, map[string]any{"leadId": "L-1", "state": map[string]any{"leadId": "L-1"}}),
			// a continued run starts with the stage it was handed
			SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{lead.SALeadStage: jsonPayload(t, "lead")}}}}
	})
	add(enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_WorkflowExecutionSignaledEventAttributes{WorkflowExecutionSignaledEventAttributes: &historypb.WorkflowExecutionSignaledEventAttributes{
			SignalName: lead.SignalEvent, Input: payloads(t, lead.Event{ID: "e1", Type: lead.EventEmailOpen})}}
	})
	// A mutable side effect's marker: the id, then the value nested in a Payloads message.
	inner, err := json.Marshal(map[string]any{"payloads": []any{map[string]any{
		"metadata": map[string]string{"encoding": "anNvbi9wbGFpbg=="}, // json/plain
		"data":     []byte(`{"version":"p-2","digest":"abc","source":"version: p-2"}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{`{"version":"p-1","digest":"d1"}`} {
		add(enums.EVENT_TYPE_MARKER_RECORDED, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
				MarkerName: "MutableSideEffect", Details: map[string]*commonpb.Payloads{"data": {Payloads: []*commonpb.Payload{
					jsonPayload(t, "policy"), {Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(ref)}}}}}}
		})
	}
	add(enums.EVENT_TYPE_MARKER_RECORDED, func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
			MarkerName: "MutableSideEffect", Details: map[string]*commonpb.Payloads{"data": {Payloads: []*commonpb.Payload{
				jsonPayload(t, "policy"), {Metadata: map[string][]byte{"encoding": []byte("json/protobuf"), "messageType": []byte("temporal.api.common.v1.Payloads")}, Data: inner}}}}}}
	})
	add(enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_UpsertWorkflowSearchAttributesEventAttributes{UpsertWorkflowSearchAttributesEventAttributes: &historypb.UpsertWorkflowSearchAttributesEventAttributes{
			SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{lead.SALeadStage: jsonPayload(t, "handoff")}}}}
	})
	for _, kind := range []string{"sla_max_reassigns", "routing_failed"} {
		add(enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, func(e *historypb.HistoryEvent) {
			e.Attributes = &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
				ActivityType: &commonpb.ActivityType{Name: actions.RaiseAlert}, Input: payloads(t, actions.AlertInput{Key: "k", Kind: kind})}}
		})
	}
	add(enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
			ActivityType: &commonpb.ActivityType{Name: actions.ForwardEvents}, Input: payloads(t, actions.ForwardInput{From: "L-1", Events: []lead.Event{{ID: "merged:L-1:e1"}}})}}
	})
	add(enums.EVENT_TYPE_TIMER_STARTED, func(e *historypb.HistoryEvent) {
		e.UserMetadata = &sdkpb.UserMetadata{Summary: jsonPayload(t, "first-touch SLA remind · rep-1")}
		e.Attributes = &historypb.HistoryEvent_TimerStartedEventAttributes{TimerStartedEventAttributes: &historypb.TimerStartedEventAttributes{TimerId: "1"}}
	})
	started := int64(len(events))
	add(enums.EVENT_TYPE_TIMER_STARTED, func(e *historypb.HistoryEvent) {
		e.UserMetadata = &sdkpb.UserMetadata{Summary: jsonPayload(t, "cool-off ends · timing")}
		e.Attributes = &historypb.HistoryEvent_TimerStartedEventAttributes{TimerStartedEventAttributes: &historypb.TimerStartedEventAttributes{TimerId: "2"}}
	})
	add(enums.EVENT_TYPE_TIMER_FIRED, func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_TimerFiredEventAttributes{TimerFiredEventAttributes: &historypb.TimerFiredEventAttributes{TimerId: "1", StartedEventId: started}}
	})
	add(enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_WorkflowExecutionUpdateAcceptedEventAttributes{WorkflowExecutionUpdateAcceptedEventAttributes: &historypb.WorkflowExecutionUpdateAcceptedEventAttributes{
			AcceptedRequest: &updatepb.Request{Input: &updatepb.Input{Name: lead.UpdateAccept}}}}
	})
	add(enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_UpsertWorkflowSearchAttributesEventAttributes{UpsertWorkflowSearchAttributesEventAttributes: &historypb.UpsertWorkflowSearchAttributesEventAttributes{
			SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{lead.SALeadStage: jsonPayload(t, "sal")}}}}
	})
	add(enums.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, func(e *historypb.HistoryEvent) {
		e.Attributes = &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{WorkflowExecutionContinuedAsNewEventAttributes: &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
			Input: payloads(t, map[string]any{"leadId": "L-1", "state": map[string]any{"effects": []any{map[string]any{"key": "x", "kind": actions.CreateTask}}}})}}
	})
	return &historypb.History{Events: events}
}

func TestClaims(t *testing.T) {
	f, err := Read(sampleHistory(t))
	if err != nil {
		t.Fatal(err)
	}
	hold := []string{"stage:lead", "stage:handoff", "stage:sal", "final:sal", "timer:cool-off>=1", "timer: · >=2", "fired:first-touch>=1", "activity:RaiseAlert>=2", "activity:RaiseAlert:kind=sla_max_reassigns",
		"timer:cool-off ends · timing", "fired:first-touch SLA remind", "signal:email.open", "update:accept", "policies:2",
		"forwarded:merged:L-1:e1", "continued", "continued-as-new", "carried-effects", "carried-effects:CreateTask"}
	if err := f.Check(hold); err != nil {
		t.Fatalf("claims the sample shows: %v", err)
	}
	for _, c := range []string{"stage:customer", "final:handoff", "timer: · >=3", "fired:first-touch>=2", "activity:RaiseAlert>=3", "activity:RaiseAlert:kind=unknown_track",
		"activity:CreateTask", "fired:cool-off ends", "signal:email.bounce", "update:reject", "policies:3", "forwarded:e2", "carried-effects:PostNote"} {
		if err := f.Check([]string{c}); err == nil {
			t.Errorf("claim %q holds on a history that does not show it", c)
		}
	}
	for _, c := range []string{"stages:lead", "activity:X>=zero", "policies:two", "timer:x>=0"} {
		if err := f.Check([]string{c}); err == nil || !strings.Contains(err.Error(), c) {
			t.Errorf("bad claim %q: want an error naming it, got %v", c, err)
		}
	}
}

func TestClaimsRefuseEncryptedPayloads(t *testing.T) {
	h := sampleHistory(t)
	h.Events[1].GetWorkflowExecutionSignaledEventAttributes().Input.Payloads[0].Metadata["encoding"] = []byte("binary/encrypted")
	f, err := Read(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Check(nil); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("an encrypted payload: want an error, got %v", err)
	}
}

func TestWriterSealsOnceAndVerifyCatchesChanges(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "v1.2.3")
	if _, err := NewWriter(dir, "1.2.3", "record"); err == nil {
		t.Fatal("a release without a v: accepted")
	}
	w, err := NewWriter(dir, "v1.2.3", "record")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add("a", sampleHistory(t), []string{"stage:customer"}); err == nil {
		t.Fatal("a history that does not show its claim: written")
	}
	if err := w.Add("a", sampleHistory(t), []string{"final:sal"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("the release directory exists before Commit")
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(dir, "v1.2.3", "record"); err == nil {
		t.Fatal("an existing release: not refused")
	}
	if left, _ := filepath.Glob(filepath.Join(root, ".*")); len(left) != 0 {
		t.Fatalf("temporary directories left: %v", left)
	}

	a := filepath.Join(dir, "a.json")
	orig, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(){
		"a changed history": func() { write(t, a, string(orig)+"\n") },
		"an extra history":  func() { write(t, filepath.Join(dir, "b.json"), string(orig)) },
		"a missing history": func() { _ = os.Remove(a) },
	} {
		change()
		if err := Verify(dir); err == nil {
			t.Errorf("%s: Verify passed", name)
		}
		_ = os.Remove(filepath.Join(dir, "b.json"))
		write(t, a, string(orig))
		if err := Verify(dir); err != nil {
			t.Fatalf("after undoing %s: %v", name, err)
		}
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDirsNeedsARelease(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "pre-release.json"), "{}")
	if _, err := Dirs(root); err == nil {
		t.Fatal("no release directory: Dirs passed")
	}
	if err := os.Mkdir(filepath.Join(root, "latest"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Dirs(root); err == nil || !strings.Contains(err.Error(), "latest") {
		t.Fatalf("a directory that is no release name: want an error naming it, got %v", err)
	}
	if err := os.Rename(filepath.Join(root, "latest"), filepath.Join(root, "v0.1.0")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "v0.1.0", "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	dirs, err := Dirs(root)
	if err != nil || len(dirs) != 2 {
		t.Fatalf("Dirs = %v, %v; want the release and its demo directory", dirs, err)
	}
}
