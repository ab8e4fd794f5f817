package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/api"
)

func ev(i int) string {
	return fmt.Sprintf(`{"id":"evt-%d","leadId":"L-1","type":"email.open","occurredAt":"2026-11-22T10:00:00Z"}`, i)
}

func TestParseEventsForms(t *testing.T) {
	want := []string{ev(1), ev(2), ev(3)}
	cases := map[string]string{
		"object":                       `{"events":[` + strings.Join(want, ",") + `]}`,
		"object indented":              "{\n  \"events\": [\n    " + strings.Join(want, ",\n    ") + "\n  ]\n}\n",
		"array":                        "[" + strings.Join(want, ", ") + "]",
		"array indented":               "[\n" + strings.Join(want, ",\n") + "\n]",
		"json lines":                   strings.Join(want, "\n") + "\n",
		"json lines, blanks":           "\n" + want[0] + "\n\n  " + want[1] + "  \r\n" + want[2],
		"pretty object event in array": "[" + strings.Replace(want[0], ",", ",\n  ", -1) + "," + want[1] + "," + want[2] + "]",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := parseEvents(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d events, want %d", len(got), len(want))
			}
			for i := range want {
				if string(got[i]) != want[i] {
					t.Errorf("event %d = %s, want %s (compacted, in order)", i, got[i], want[i])
				}
			}
		})
	}
}

func TestParseEventsSingleLineEventIsJSONLines(t *testing.T) {
	got, err := parseEvents(strings.NewReader(ev(7)))
	if err != nil || len(got) != 1 || string(got[0]) != ev(7) {
		t.Fatalf("got %q, %v; want the one event", got, err)
	}
}

func TestParseEventsErrors(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"empty":            {"  \n", "no events"},
		"empty object":     {`{"events":[]}`, "no events"},
		"empty array":      {`[]`, "no events"},
		"bad line":         {ev(1) + "\n" + `{"id":` + "\n", "line 2"},
		"line not object":  {ev(1) + "\n42\n", "line 2"},
		"array of numbers": {`[1,2]`, "event 0: must be a JSON object"},
		"trailing data":    {`[` + ev(1) + `] x`, "unexpected data"},
		"events not array": {`{"events":{}}`, `{"events":[…]} object`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseEvents(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

// checkBatches checks every body is a valid POST /v1/events body within the
// limits and that together they carry events in order.
func checkBatches(t *testing.T, events []json.RawMessage, batches []batch, maxEvents, maxBytes int) {
	t.Helper()
	next := 0
	for n, b := range batches {
		if len(b.body) > maxBytes {
			t.Errorf("batch %d is %d bytes, over %d", n, len(b.body), maxBytes)
		}
		var body struct{ Events []json.RawMessage }
		if err := json.Unmarshal(b.body, &body); err != nil {
			t.Fatalf("batch %d is not JSON: %v", n, err)
		}
		if len(body.Events) != b.count || b.count > maxEvents || b.count == 0 {
			t.Errorf("batch %d: %d events decoded, count %d, max %d", n, len(body.Events), b.count, maxEvents)
		}
		if b.first != next {
			t.Errorf("batch %d starts at %d, want %d", n, b.first, next)
		}
		for i, e := range body.Events {
			if !bytes.Equal(e, events[next+i]) {
				t.Fatalf("batch %d event %d is not input event %d", n, i, next+i)
			}
		}
		next += b.count
	}
	if next != len(events) {
		t.Errorf("batches carry %d events, want %d", next, len(events))
	}
}

func TestMakeBatchesCountLimit(t *testing.T) {
	events := make([]json.RawMessage, 1201)
	for i := range events {
		events[i] = json.RawMessage(ev(i))
	}
	batches, err := makeBatches(events, api.MaxBatchEvents, api.MaxBatchBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 3 || batches[0].count != 500 || batches[1].count != 500 || batches[2].count != 201 {
		t.Fatalf("got %d batches %+v, want 500+500+201", len(batches), counts(batches))
	}
	checkBatches(t, events, batches, api.MaxBatchEvents, api.MaxBatchBytes)
}

func TestMakeBatchesByteLimit(t *testing.T) {
	// 300 KB events: three fit in 1 MiB, a fourth does not.
	big := strings.Repeat("x", 300<<10)
	events := make([]json.RawMessage, 7)
	for i := range events {
		events[i] = json.RawMessage(fmt.Sprintf(`{"id":"evt-%d","leadId":"L-1","type":"email.open","occurredAt":"2026-11-22T10:00:00Z","attributes":{"blob":%q}}`, i, big))
	}
	batches, err := makeBatches(events, api.MaxBatchEvents, api.MaxBatchBytes)
	if err != nil {
		t.Fatal(err)
	}
	if got := counts(batches); fmt.Sprint(got) != "[3 3 1]" {
		t.Fatalf("batch sizes %v, want [3 3 1]", got)
	}
	checkBatches(t, events, batches, api.MaxBatchEvents, api.MaxBatchBytes)
}

func TestMakeBatchesExactFit(t *testing.T) {
	// Two events that fill a small limit exactly, then one more.
	e := json.RawMessage(`{"id":"a"}`) // 10 bytes
	limit := len(batchPrefix) + 10 + 1 + 10 + len(batchSuffix)
	batches, err := makeBatches([]json.RawMessage{e, e, e}, 500, limit)
	if err != nil {
		t.Fatal(err)
	}
	if got := counts(batches); fmt.Sprint(got) != "[2 1]" {
		t.Fatalf("batch sizes %v, want [2 1]", got)
	}
	if len(batches[0].body) != limit {
		t.Errorf("first body %d bytes, want exactly %d", len(batches[0].body), limit)
	}
	checkBatches(t, []json.RawMessage{e, e, e}, batches, 500, limit)
}

func TestMakeBatchesEventTooBig(t *testing.T) {
	events := []json.RawMessage{json.RawMessage(ev(0)), json.RawMessage(`{"blob":"` + strings.Repeat("x", api.MaxBatchBytes) + `"}`)}
	_, err := makeBatches(events, api.MaxBatchEvents, api.MaxBatchBytes)
	if err == nil || !strings.Contains(err.Error(), "event 1 ") {
		t.Fatalf("err = %v, want one naming event 1", err)
	}
}

func counts(bs []batch) []int {
	out := make([]int, len(bs))
	for i, b := range bs {
		out[i] = b.count
	}
	return out
}
