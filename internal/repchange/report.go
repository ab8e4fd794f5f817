package repchange

import (
	"errors"
	"fmt"
	"strings"

	"github.com/leadflow/leadflow/internal/api"
)

// String is the outcome as one line for a person: "L-1: moved to rep-8".
func (o Outcome) String() string {
	var what string
	switch o.Kind {
	case Moved:
		what = "moved to " + o.Detail
	case WouldMove:
		what = "would move to " + o.Detail
	case Paused:
		what = "clock paused"
	case Resumed:
		what = "clock resumed"
	case Stays:
		what = "stays: " + o.Detail
	case Failed:
		what = "error: " + errText(o.Err)
	default:
		what = string(o.Kind)
	}
	return o.LeadID + ": " + what
}

// errText is the part of an update error a person acts on: the lead's
// refusal, or why it could not be reached.
func errText(err error) string {
	if r, ok := errors.AsType[*api.Refused](err); ok {
		return "refused: " + r.Message
	}
	if u, ok := errors.AsType[*api.Unavailable](err); ok {
		return u.Message
	}
	if errors.Is(err, api.ErrNotFound) {
		return "no such lead"
	}
	return err.Error()
}

// Summary counts outcomes by kind: "3 leads: 1 moved, 1 clock paused, 1
// stays, 0 errors" (kinds that did not happen are left out, errors never).
func Summary(out []Outcome) string {
	n := map[Kind]int{}
	for _, o := range out {
		n[o.Kind]++
	}
	parts := []string{}
	for _, k := range []struct {
		kind  Kind
		label string
	}{{Moved, "moved"}, {WouldMove, "would move"}, {Paused, "clock paused"}, {Resumed, "clock resumed"}, {Stays, "stay"}} {
		if n[k.kind] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[k.kind], k.label))
		}
	}
	parts = append(parts, fmt.Sprintf("%d %s", n[Failed], plural(n[Failed], "error", "errors")))
	return fmt.Sprintf("%d %s: %s", len(out), plural(len(out), "lead", "leads"), strings.Join(parts, ", "))
}

// Failures counts the outcomes that are errors.
func Failures(out []Outcome) int {
	n := 0
	for _, o := range out {
		if o.Kind == Failed {
			n++
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
