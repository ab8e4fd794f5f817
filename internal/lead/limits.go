package lead

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"
)

// Byte bounds on what one input may carry. Temporal refuses a payload over
// 2 MiB, and a lead's state (its profile, attributes it keeps, notes,
// history) is carried across Continue-As-New in one payload, so the edge
// bounds every caller-supplied string here; Event.Validate and the update
// requests' Check apply them, so the workflow side can rely on them too.
const (
	// MaxAttributes is the most keys an event's attributes may have.
	MaxAttributes = 32
	// MaxAttributeKeyBytes bounds one attribute key.
	MaxAttributeKeyBytes = 64
	// MaxAttributeValueBytes bounds one attribute value, JSON-encoded.
	MaxAttributeValueBytes = 2 << 10
	// MaxAttributesBytes bounds an event's attributes as a whole, JSON-encoded.
	MaxAttributesBytes = 8 << 10
	// MaxProfileValueBytes bounds each profile string (email, names,
	// company, domain, title, …) and an event's source.
	MaxProfileValueBytes = 256
	// MaxNoteBytes bounds a rejection or reassignment note (the update's
	// note, and attributes.note of a lead.rejected event).
	MaxNoteBytes = 2000
	// MaxRefBytes bounds the other strings of an update request: its id
	// and the rep, owner or operator it names.
	MaxRefBytes = 256
)

// tooLong is the FieldError of a string over max bytes, or nil.
func tooLong(field, s string, max int) *FieldError {
	if len(s) <= max {
		return nil
	}
	return &FieldError{field, fmt.Sprintf("must be at most %d bytes, got %d", max, len(s))}
}

// bounds checks every string field of the profile (reflection, so a field
// added later is bounded too).
func (pr *Profile) bounds() []FieldError {
	var errs []FieldError
	v := reflect.ValueOf(pr).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.String {
			continue
		}
		name := f.Name
		if tag := f.Tag.Get("json"); tag != "" {
			if n, _, _ := strings.Cut(tag, ","); n != "" {
				name = n
			}
		}
		if fe := tooLong("profile."+name, v.Field(i).String(), MaxProfileValueBytes); fe != nil {
			errs = append(errs, *fe)
		}
	}
	return errs
}

// attributeBounds checks the count, the keys and the encoded size of each
// value and of the whole. Keys are reported shortened, never echoed whole.
func attributeBounds(attrs map[string]any) []FieldError {
	if len(attrs) == 0 {
		return nil
	}
	var errs []FieldError
	if len(attrs) > MaxAttributes {
		errs = append(errs, FieldError{"attributes", fmt.Sprintf("at most %d attributes, got %d", MaxAttributes, len(attrs))})
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(k) > MaxAttributeKeyBytes {
			errs = append(errs, FieldError{"attributes", fmt.Sprintf("key %q… is over %d bytes (%d)", shorten(k, 32), MaxAttributeKeyBytes, len(k))})
			continue
		}
		b, err := json.Marshal(attrs[k])
		if err != nil {
			errs = append(errs, FieldError{"attributes." + k, "cannot be encoded as JSON: " + err.Error()})
			continue
		}
		if len(b) > MaxAttributeValueBytes {
			errs = append(errs, FieldError{"attributes." + k, fmt.Sprintf("must be at most %d bytes encoded, got %d", MaxAttributeValueBytes, len(b))})
		}
	}
	if b, err := json.Marshal(attrs); err == nil && len(b) > MaxAttributesBytes {
		errs = append(errs, FieldError{"attributes", fmt.Sprintf("must be at most %d bytes encoded, got %d", MaxAttributesBytes, len(b))})
	}
	return errs
}

// shorten cuts s to at most n bytes on a rune boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Bounds checks the request's byte bounds; the first problem, naming its
// field, or nil. Check applies it first.
func (r AcceptRequest) Bounds() *FieldError {
	return firstField(tooLong("id", r.ID, MaxRefBytes), tooLong("repId", r.RepID, MaxRefBytes))
}

// Bounds checks the request's byte bounds (see AcceptRequest.Bounds).
func (r RejectRequest) Bounds() *FieldError {
	return firstField(tooLong("id", r.ID, MaxRefBytes), tooLong("repId", r.RepID, MaxRefBytes),
		tooLong("note", r.Note, MaxNoteBytes), tooLong("duplicateOf", r.DuplicateOf, MaxRefBytes),
		tooLong("revisitAt", r.RevisitAt, MaxRefBytes), tooLong("reason", string(r.Reason), MaxRefBytes))
}

// Bounds checks the request's byte bounds (see AcceptRequest.Bounds).
func (r ReassignRequest) Bounds() *FieldError {
	return firstField(tooLong("id", r.ID, MaxRefBytes), tooLong("ownerId", r.OwnerID, MaxRefBytes),
		tooLong("by", r.By, MaxRefBytes), tooLong("note", r.Note, MaxNoteBytes))
}

// Bounds checks the request's byte bounds (see AcceptRequest.Bounds).
func (r RetryEffectsRequest) Bounds() *FieldError {
	return firstField(tooLong("id", r.ID, MaxRefBytes), tooLong("by", r.By, MaxRefBytes))
}

func firstField(errs ...*FieldError) *FieldError {
	for _, fe := range errs {
		if fe != nil {
			return fe
		}
	}
	return nil
}
