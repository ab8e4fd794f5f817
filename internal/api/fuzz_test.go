package api_test

import (
	"errors"
	. "github.com/leadflow/leadflow/internal/api"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// FuzzDecodeBatch: any body either decodes to events that all pass the
// contract's validation (with a leadId, and no @ in an ID), or yields
// errors that each name a field of an event in the batch (or -1, the batch).
// Seeds: testdata/fuzz/FuzzDecodeBatch.
func FuzzDecodeBatch(f *testing.F) {
	srv, err := New(Config{WebhookSecret: testSecret, IDKey: testIDKey}, newLeads(), newFakeMerges(), &fakeReceipts{}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, errs := srv.DecodeBatch(body)
		if len(errs) > 0 {
			for _, e := range errs {
				if e.Field == "" || e.Message == "" || e.Index < -1 || e.Index >= max(len(events), MaxBatchEvents) {
					t.Fatalf("error %+v: want a field, a message and an index in the batch", e)
				}
			}
			return
		}
		if len(events) == 0 || len(events) > MaxBatchEvents {
			t.Fatalf("%d events accepted without an error", len(events))
		}
		for i, ev := range events {
			if fes := ev.Validate(); len(fes) > 0 {
				t.Fatalf("event %d accepted but invalid: %v", i, fes)
			}
			if !lead.ValidLeadID(ev.LeadID) {
				t.Fatalf("event %d accepted with leadId %q", i, ev.LeadID)
			}
			if strings.Contains(ev.ID, "@") {
				t.Fatalf("event %d accepted with an @ in its ID", i)
			}
		}
	})
}

// FuzzParseSignature: a Leadflow-Signature header either parses to a
// timestamp and 32-byte MACs, or fails with one of the documented errors;
// a header Sign wrote always parses back. Seeds: testdata/fuzz/FuzzParseSignature.
func FuzzParseSignature(f *testing.F) {
	f.Fuzz(func(t *testing.T, h string) {
		ts, sigs, err := ParseSignature(h)
		if err != nil {
			if !errors.Is(err, ErrSigMissing) && !errors.Is(err, ErrSigMalformed) {
				t.Fatalf("ParseSignature(%q): undocumented error %v", h, err)
			}
			return
		}
		if _, perr := strconv.ParseInt(ts, 10, 64); perr != nil || len(sigs) == 0 {
			t.Fatalf("ParseSignature(%q) = %q, %d MACs", h, ts, len(sigs))
		}
		for _, s := range sigs {
			if len(s) != 32 {
				t.Fatalf("ParseSignature(%q): a %d-byte MAC", h, len(s))
			}
		}
		// The header Sign writes for this timestamp parses back to it.
		n, _ := strconv.ParseInt(ts, 10, 64)
		signed := Sign(testSecret, time.Unix(n, 0), []byte(h))
		if ts2, sigs2, err := ParseSignature(signed); err != nil || ts2 != strconv.FormatInt(n, 10) || len(sigs2) != 1 {
			t.Fatalf("Sign's own header %q: %q %d %v", signed, ts2, len(sigs2), err)
		}
	})
}
