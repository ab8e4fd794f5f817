package baseline

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
)

// Facts are what one lead history shows, read from its events: what the
// lead workflow decided and asked for, not what a test believed it sent.
// (The ledger is written by a local activity, whose input a history does
// not keep: the facts come from search attributes, activity inputs,
// timers, markers and updates.)
type Facts struct {
	// Stages are the LeadStage values the run published, in order.
	Stages []string
	// Activities are the scheduled activities' inputs by type, in order.
	Activities map[string][]map[string]any
	// Timers are the summaries of the timers started; Fired of those fired.
	Timers, Fired []string
	// Policies are the policy versions the run's markers recorded, in order.
	Policies []string
	// Signals are the types of the events received.
	Signals []string
	// Updates are the names of the updates the run accepted.
	Updates []string
	// Forwarded are the IDs of the events the run forwarded (merged lead).
	Forwarded []string
	// Continued: the run started from a carried state (Continue-As-New);
	// ContinuedAsNew: it ended in one, carrying effects of these kinds
	// (activity names) not yet confirmed.
	Continued      bool
	ContinuedAsNew bool
	CarriedEffects []string
	// Encrypted counts payloads still encrypted (a codec's metadata).
	Encrypted int
}

// ReadHistory reads a history file written with protojson (the recorder's
// and the exporter's format, and `temporal workflow show --output json`'s).
func ReadHistory(path string) (*historypb.History, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	h := &historypb.History{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, h); err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	return h, nil
}

// Read collects the facts of a lead history.
func Read(h *historypb.History) (*Facts, error) {
	f := &Facts{Activities: map[string][]map[string]any{}}
	timers := map[int64]string{} // started event ID → summary
	for _, e := range h.GetEvents() {
		if err := f.add(e, timers); err != nil {
			return nil, fmt.Errorf("event %d (%s): %w", e.GetEventId(), e.GetEventType(), err)
		}
	}
	return f, nil
}

func (f *Facts) add(e *historypb.HistoryEvent, timers map[int64]string) error {
	switch e.GetEventType() {
	case enums.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
		var in struct {
			State json.RawMessage `json:"state"`
		}
		// Inputs of another shape (not a lead) show no carried state.
		a := e.GetWorkflowExecutionStartedEventAttributes()
		_ = f.decode(a.GetInput().GetPayloads(), &in)
		f.Continued = len(in.State) > 0 && string(in.State) != "null"
		// A continued run starts with its predecessor's search attributes
		// and upserts only what changes: its stage so far is the one it
		// was handed.
		return f.addStage(a.GetSearchAttributes().GetIndexedFields()[lead.SALeadStage])
	case enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
		var ev lead.Event
		_ = f.decode(e.GetWorkflowExecutionSignaledEventAttributes().GetInput().GetPayloads(), &ev)
		f.Signals = append(f.Signals, ev.Type)
	case enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
		return f.addStage(e.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()[lead.SALeadStage])
	case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
		a := e.GetActivityTaskScheduledEventAttributes()
		name := a.GetActivityType().GetName()
		in := map[string]any{}
		_ = f.decode(a.GetInput().GetPayloads(), &in)
		f.Activities[name] = append(f.Activities[name], in)
		if name == actions.ForwardEvents {
			var fw actions.ForwardInput
			_ = f.decode(a.GetInput().GetPayloads(), &fw)
			for _, ev := range fw.Events {
				f.Forwarded = append(f.Forwarded, ev.ID)
			}
		}
	case enums.EVENT_TYPE_TIMER_STARTED:
		var summary string
		if p := e.GetUserMetadata().GetSummary(); p != nil {
			if err := f.decode([]*commonpb.Payload{p}, &summary); err != nil {
				return err
			}
		}
		timers[e.GetEventId()] = summary
		f.Timers = append(f.Timers, summary)
	case enums.EVENT_TYPE_TIMER_FIRED:
		f.Fired = append(f.Fired, timers[e.GetTimerFiredEventAttributes().GetStartedEventId()])
	case enums.EVENT_TYPE_MARKER_RECORDED:
		details := e.GetMarkerRecordedEventAttributes().GetDetails()
		for _, k := range slices.Sorted(maps.Keys(details)) {
			for _, p := range unwrap(details[k].GetPayloads()) {
				var ref struct {
					Version string `json:"version"`
					Digest  string `json:"digest"`
				}
				// Markers hold other values too (the history cap, local
				// activities): only a policy reference has a version and a digest.
				if f.decode([]*commonpb.Payload{p}, &ref) == nil && ref.Version != "" && ref.Digest != "" &&
					(len(f.Policies) == 0 || f.Policies[len(f.Policies)-1] != ref.Version) {
					f.Policies = append(f.Policies, ref.Version)
				}
			}
		}
	case enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
		f.Updates = append(f.Updates, e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName())
	case enums.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		f.ContinuedAsNew = true
		var in struct {
			State struct {
				Effects []struct {
					Kind string `json:"kind"`
				} `json:"effects"`
			} `json:"state"`
		}
		_ = f.decode(e.GetWorkflowExecutionContinuedAsNewEventAttributes().GetInput().GetPayloads(), &in)
		for _, e := range in.State.Effects {
			f.CarriedEffects = append(f.CarriedEffects, e.Kind)
		}
	}
	return nil
}

// decode reads the first JSON payload into v; an encrypted payload is
// counted, not an error (Check reports it).
func (f *Facts) decode(p []*commonpb.Payload, v any) error {
	for _, pl := range p {
		if enc := string(pl.GetMetadata()["encoding"]); enc != "json/plain" {
			if strings.Contains(enc, "encrypted") {
				f.Encrypted++
				return nil
			}
			continue
		}
		return json.Unmarshal(pl.GetData(), v)
	}
	return nil
}

// addStage notes a LeadStage value (nil: not set or not changed).
func (f *Facts) addStage(p *commonpb.Payload) error {
	if p == nil || string(p.GetMetadata()["encoding"]) != "json/plain" {
		return nil // not changed, or unset
	}
	var st string
	if err := json.Unmarshal(p.GetData(), &st); err != nil {
		return err
	}
	f.Stages = append(f.Stages, st)
	return nil
}

// Check reports every claim the facts do not show. Claims:
//
//	stage:S                        the lead entered stage S (LeadStage)
//	final:S                        the last stage published is S
//	activity:NAME[:FIELD=V][>=N]   activity NAME was scheduled (with input FIELD = V; at least N times)
//	timer:TEXT[>=N]                a timer whose summary contains TEXT was started (at least N times)
//	fired:TEXT[>=N]                ... and fired
//	signal:TYPE                    an event of TYPE was received
//	update:NAME                    an update NAME was accepted
//	policies:N                     the markers recorded at least N policy versions, in turn
//	forwarded:TEXT                 an event whose ID contains TEXT went to the survivor
//	continued                      the run started from a carried state
//	continued-as-new               the run continued as new
//	carried-effects[:KIND]         ... carrying effects not yet confirmed (one of activity KIND)
func (f *Facts) Check(claims []string) error {
	var errs []error
	if f.Encrypted > 0 {
		errs = append(errs, fmt.Errorf("%d payloads are encrypted: a baseline must replay without a key", f.Encrypted))
	}
	for _, c := range claims {
		ok, err := f.holds(c)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !ok:
			errs = append(errs, fmt.Errorf("claim %q does not hold", c))
		}
	}
	return errors.Join(errs...)
}

func (f *Facts) holds(claim string) (bool, error) {
	kind, arg, _ := strings.Cut(claim, ":")
	contains := func(list []string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, arg) })
	}
	// at least N timers whose summary contains the text before ">="
	counted := func(list []string) (bool, error) {
		text, min, found := strings.Cut(arg, ">=")
		if !found {
			return contains(list), nil
		}
		n, err := strconv.Atoi(min)
		if err != nil || n < 1 {
			return false, fmt.Errorf("claim %q: bad count %q", claim, min)
		}
		got := 0
		for _, s := range list {
			if strings.Contains(s, text) {
				got++
			}
		}
		return got >= n, nil
	}
	switch kind {
	case "stage":
		return slices.Contains(f.Stages, arg), nil
	case "final":
		return len(f.Stages) > 0 && f.Stages[len(f.Stages)-1] == arg, nil
	case "activity":
		arg, min, found := strings.Cut(arg, ">=")
		n := 1
		if found {
			var err error
			if n, err = strconv.Atoi(min); err != nil || n < 1 {
				return false, fmt.Errorf("claim %q: bad count %q", claim, min)
			}
		}
		name, field, _ := strings.Cut(arg, ":")
		key, want, _ := strings.Cut(field, "=")
		got := 0
		for _, in := range f.Activities[name] {
			if key == "" || fmt.Sprint(in[key]) == want {
				got++
			}
		}
		return got >= n, nil
	case "timer":
		return counted(f.Timers)
	case "fired":
		return counted(f.Fired)
	case "signal":
		return slices.Contains(f.Signals, arg), nil
	case "update":
		return slices.Contains(f.Updates, arg), nil
	case "policies":
		n, err := strconv.Atoi(arg)
		if err != nil {
			return false, fmt.Errorf("claim %q: %w", claim, err)
		}
		return len(f.Policies) >= n, nil
	case "forwarded":
		return contains(f.Forwarded), nil
	case "continued":
		return f.Continued, nil
	case "continued-as-new":
		return f.ContinuedAsNew, nil
	case "carried-effects":
		return len(f.CarriedEffects) > 0 && (arg == "" || slices.Contains(f.CarriedEffects, arg)), nil
	}
	return false, fmt.Errorf("claim %q: unknown kind %q", claim, kind)
}

// CheckFile reads the history at path and checks its claims.
func CheckFile(path string, claims []string) error {
	h, err := ReadHistory(path)
	if err != nil {
		return err
	}
	f, err := Read(h)
	if err != nil {
		return fmt.Errorf("history %s: %w", path, err)
	}
	if err := f.Check(claims); err != nil {
		return fmt.Errorf("history %s: %w", path, err)
	}
	return nil
}

// unwrap lists payloads with the ones nested in them: a mutable side
// effect's marker keeps its value as a Payloads message inside a payload.
func unwrap(ps []*commonpb.Payload) []*commonpb.Payload {
	var out []*commonpb.Payload
	for _, p := range ps {
		if string(p.GetMetadata()["encoding"]) == "json/protobuf" && string(p.GetMetadata()["messageType"]) == "temporal.api.common.v1.Payloads" {
			var inner commonpb.Payloads
			if protojson.Unmarshal(p.GetData(), &inner) == nil {
				out = append(out, unwrap(inner.GetPayloads())...)
				continue
			}
		}
		out = append(out, p)
	}
	return out
}
