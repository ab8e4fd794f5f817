package lead_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/lead"
)

// attrs returns n attributes whose whole encoding is exactly size bytes
// (n ≥ 1, size large enough), each value at most MaxAttributeValueBytes.
func attrs(t *testing.T, n, size int) map[string]any {
	t.Helper()
	m := map[string]any{}
	for i := range n {
		m[fmt.Sprintf("k%02d", i)] = ""
	}
	b, _ := json.Marshal(m)
	pad := size - len(b)
	for i := 0; pad > 0; i++ {
		k := fmt.Sprintf("k%02d", i%n)
		cur := m[k].(string)
		add := min(pad, lead.MaxAttributeValueBytes-2-len(cur))
		if add <= 0 {
			continue
		}
		m[k] = cur + strings.Repeat("x", add)
		pad -= add
	}
	if b, _ := json.Marshal(m); len(b) != size {
		t.Fatalf("attrs(%d, %d) encodes to %d bytes", n, size, len(b))
	}
	return m
}

func fields(errs []lead.FieldError) []string {
	var f []string
	for _, e := range errs {
		f = append(f, e.Field)
	}
	return f
}

func TestEventByteBounds(t *testing.T) {
	cases := []struct {
		name  string
		mut   func(e *lead.Event)
		field string // "": valid
	}{
		{"32 attributes", func(e *lead.Event) { e.Attributes = attrs(t, lead.MaxAttributes, 400) }, ""},
		{"33 attributes", func(e *lead.Event) { e.Attributes = attrs(t, lead.MaxAttributes+1, 400) }, "attributes"},
		{"attributes of 8 KiB", func(e *lead.Event) { e.Attributes = attrs(t, 8, lead.MaxAttributesBytes) }, ""},
		{"attributes over 8 KiB", func(e *lead.Event) { e.Attributes = attrs(t, 8, lead.MaxAttributesBytes+1) }, "attributes"},
		{"key of 64 bytes", func(e *lead.Event) { e.Attributes = map[string]any{strings.Repeat("k", 64): 1} }, ""},
		{"key of 65 bytes", func(e *lead.Event) { e.Attributes = map[string]any{strings.Repeat("k", 65): 1} }, "attributes"},
		{"value of 2 KiB", func(e *lead.Event) {
			e.Attributes = map[string]any{"v": strings.Repeat("x", lead.MaxAttributeValueBytes-2)}
		}, ""},
		{"value over 2 KiB", func(e *lead.Event) {
			e.Attributes = map[string]any{"v": strings.Repeat("x", lead.MaxAttributeValueBytes-1)}
		}, "attributes.v"},
		{"nested value over 2 KiB", func(e *lead.Event) {
			e.Attributes = map[string]any{"v": []any{strings.Repeat("x", lead.MaxAttributeValueBytes)}}
		}, "attributes.v"},
		{"profile value of 256 bytes", func(e *lead.Event) { e.Profile = &lead.Profile{Company: strings.Repeat("c", 256)} }, ""},
		{"profile value of 257 bytes", func(e *lead.Event) { e.Profile = &lead.Profile{Company: strings.Repeat("c", 257)} }, "profile.company"},
		{"email of 257 bytes", func(e *lead.Event) { e.Profile = &lead.Profile{Email: strings.Repeat("a", 250) + "@x.io12"} }, "profile.email"},
		{"first name of 257 bytes", func(e *lead.Event) { e.Profile = &lead.Profile{FirstName: strings.Repeat("é", 128) + "x"} }, "profile.firstName"},
		{"source of 256 bytes", func(e *lead.Event) { e.Source = strings.Repeat("s", 256) }, ""},
		{"source of 257 bytes", func(e *lead.Event) { e.Source = strings.Repeat("s", 257) }, "source"},
		{"rejection note of 2000 bytes", func(e *lead.Event) {
			e.Type = lead.EventLeadRejected
			e.Attributes = map[string]any{"repId": "rep-7", "reason": "other", "note": strings.Repeat("n", lead.MaxNoteBytes)}
		}, ""},
		{"rejection note of 2001 bytes", func(e *lead.Event) {
			e.Type = lead.EventLeadRejected
			e.Attributes = map[string]any{"repId": "rep-7", "reason": "other", "note": strings.Repeat("n", lead.MaxNoteBytes+1)}
		}, "attributes.note"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := valid()
			c.mut(&e)
			errs := e.Validate()
			if c.field == "" {
				if len(errs) != 0 {
					t.Fatalf("errors %+v, want none", errs)
				}
				return
			}
			if len(errs) == 0 || errs[0].Field != c.field {
				t.Fatalf("errors %+v (fields %v), want the first on %s", errs, fields(errs), c.field)
			}
			if !strings.Contains(errs[0].Message, "at most") && !strings.Contains(errs[0].Message, "over") {
				t.Errorf("message %q does not state the bound", errs[0].Message)
			}
		})
	}
}

// A key over the bound is reported shortened, never echoed whole.
func TestLongAttributeKeyNotEchoed(t *testing.T) {
	e := valid()
	key := strings.Repeat("k", 5000)
	e.Attributes = map[string]any{key: 1}
	errs := e.Validate()
	if len(errs) != 1 || len(errs[0].Field)+len(errs[0].Message) > 200 {
		t.Errorf("errors %+v", errs)
	}
}

func TestUpdateRequestBounds(t *testing.T) {
	note := func(n int) string { return strings.Repeat("n", n) }
	ref := func(n int) string { return strings.Repeat("r", n) }
	type checker interface{ Bounds() *lead.FieldError }
	cases := []struct {
		name  string
		req   checker
		field string
	}{
		{"reject note of 2000", lead.RejectRequest{ID: "u", RepID: "rep-7", Reason: lead.ReasonOther, Note: note(2000)}, ""},
		{"reject note of 2001", lead.RejectRequest{ID: "u", RepID: "rep-7", Reason: lead.ReasonOther, Note: note(2001)}, "note"},
		{"reassign note of 2000", lead.ReassignRequest{ID: "u", OwnerID: "rep-8", By: "mgr", Note: note(2000)}, ""},
		{"reassign note of 2001", lead.ReassignRequest{ID: "u", OwnerID: "rep-8", By: "mgr", Note: note(2001)}, "note"},
		{"repId of 256", lead.AcceptRequest{ID: "u", RepID: ref(256)}, ""},
		{"repId of 257", lead.AcceptRequest{ID: "u", RepID: ref(257)}, "repId"},
		{"id of 257", lead.AcceptRequest{ID: ref(257), RepID: "rep-7"}, "id"},
		{"ownerId of 257", lead.ReassignRequest{ID: "u", OwnerID: ref(257), By: "mgr"}, "ownerId"},
		{"by of 257", lead.RetryEffectsRequest{ID: "u", By: ref(257)}, "by"},
		{"by of 256", lead.RetryEffectsRequest{ID: "u", By: ref(256)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fe := c.req.Bounds()
			var checkErr error
			switch r := c.req.(type) {
			case lead.AcceptRequest:
				checkErr = r.Check()
			case lead.RejectRequest:
				checkErr = r.Check("L-1")
			case lead.ReassignRequest:
				checkErr = r.Check()
			case lead.RetryEffectsRequest:
				checkErr = r.Check()
			}
			if c.field == "" {
				if fe != nil || checkErr != nil {
					t.Fatalf("Bounds %v, Check %v; want none", fe, checkErr)
				}
				return
			}
			if fe == nil || fe.Field != c.field || !strings.Contains(fe.Message, "at most") {
				t.Fatalf("Bounds = %v, want one on %s", fe, c.field)
			}
			// Check applies the bounds too, so the workflow's validator does.
			if checkErr == nil || !strings.HasPrefix(checkErr.Error(), c.field+": ") {
				t.Errorf("Check = %v, want the bound on %s", checkErr, c.field)
			}
		})
	}
}
