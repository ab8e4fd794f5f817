package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/leadflow/leadflow/internal/api"
)

// maxInputBytes bounds what send reads: far more than any sane export, and a
// guard against piping something endless by mistake.
const maxInputBytes = 1 << 30

// parseEvents reads events in any of the three forms send accepts and
// returns each event's JSON, compacted, in file order:
//   - an object {"events":[…]} (what POST /v1/events takes),
//   - a JSON array of events,
//   - JSON lines: one event object per line (blank lines skipped).
//
// Events are kept as raw JSON so nothing is lost or reinterpreted on the way:
// the server is the one that validates them.
func parseEvents(r io.Reader) ([]json.RawMessage, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading input: %w", err)
	}
	if len(data) > maxInputBytes {
		return nil, fmt.Errorf("input is over %d bytes", maxInputBytes)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("input has no events")
	}
	var events []json.RawMessage
	switch {
	case trimmed[0] == '[':
		if err := decodeOne(trimmed, &events); err != nil {
			return nil, fmt.Errorf("JSON array of events: %w", err)
		}
	case isBatchObject(trimmed):
		var batch struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := decodeOne(trimmed, &batch); err != nil {
			return nil, fmt.Errorf(`{"events":[…]} object: %w`, err)
		}
		events = batch.Events
	default:
		if events, err = parseLines(data); err != nil {
			return nil, err
		}
	}
	if len(events) == 0 {
		return nil, errors.New("input has no events")
	}
	for i, ev := range events {
		var buf bytes.Buffer
		if err := json.Compact(&buf, ev); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if buf.Len() == 0 || buf.Bytes()[0] != '{' {
			return nil, fmt.Errorf("event %d: must be a JSON object", i)
		}
		events[i] = buf.Bytes()
	}
	return events, nil
}

// isBatchObject reports whether data is exactly one JSON object that has an
// "events" key (an event itself has none).
func isBatchObject(data []byte) bool {
	var m map[string]json.RawMessage
	if decodeOne(data, &m) != nil {
		return false
	}
	_, ok := m["events"]
	return ok
}

// decodeOne decodes data as exactly one JSON value.
func decodeOne(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// parseLines reads JSON lines; errors name the line.
func parseLines(data []byte) ([]json.RawMessage, error) {
	var events []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), api.MaxBatchBytes+1)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := decodeOne(line, &obj); err != nil {
			return nil, fmt.Errorf("line %d: not a JSON event object (input must be {\"events\":[…]}, a JSON array or JSON lines): %w", n, err)
		}
		events = append(events, bytes.Clone(line))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a line is over %d bytes: one event cannot fit in a batch", api.MaxBatchBytes)
		}
		return nil, fmt.Errorf("reading JSON lines: %w", err)
	}
	return events, nil
}

// batch is a run of consecutive events and its request body.
type batch struct {
	first int // index in the input of the batch's first event
	count int
	body  []byte
}

const (
	batchPrefix = `{"events":[`
	batchSuffix = `]}`
)

// makeBatches splits events into request bodies of at most maxEvents events
// and maxBytes bytes, keeping file order (events of one lead stay in order).
// An event too big for a batch of its own is an error naming it.
func makeBatches(events []json.RawMessage, maxEvents, maxBytes int) ([]batch, error) {
	var out []batch
	var cur *batch
	overhead := len(batchPrefix) + len(batchSuffix)
	for i, ev := range events {
		if overhead+len(ev) > maxBytes {
			return nil, fmt.Errorf("event %d is %d bytes: a batch holding only it would be over the %d-byte limit", i, len(ev), maxBytes)
		}
		if cur != nil && (cur.count == maxEvents || len(cur.body)+1+len(ev)+len(batchSuffix) > maxBytes) {
			cur.body = append(cur.body, batchSuffix...)
			cur = nil
		}
		if cur == nil {
			out = append(out, batch{first: i, body: append([]byte(nil), batchPrefix...)})
			cur = &out[len(out)-1]
		} else {
			cur.body = append(cur.body, ',')
		}
		cur.body = append(cur.body, ev...)
		cur.count++
	}
	if cur != nil {
		cur.body = append(cur.body, batchSuffix...)
	}
	return out, nil
}
