package policy

import (
	"errors"
	"testing"
	"time"
)

// parseBudget is how long one fuzz input may take to load: a policy file
// that hangs the loader would hang the worker's start and every SIGHUP.
const parseBudget = 5 * time.Second

// parseWithin is Parse, failing the test when it takes longer than d (the
// fuzzer has no per-input timeout of its own).
func parseWithin(t *testing.T, src []byte, d time.Duration) (*Policy, error) {
	type result struct {
		pol *Policy
		err error
	}
	done := make(chan result, 1)
	go func() {
		pol, err := Parse("fuzz.yaml", src)
		done <- result{pol, err}
	}()
	select {
	case r := <-done:
		return r.pol, r.err
	case <-time.After(d):
		t.Fatalf("Parse took more than %s on a %d-byte input", d, len(src))
		return nil, nil
	}
}

// FuzzParse: any YAML either loads to a policy whose source parses again
// to the same digest, or fails with an ErrorList whose every entry says
// what is wrong. Seeds: testdata/fuzz/FuzzParse (the shipped policies among them).
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, src []byte) {
		pol, err := parseWithin(t, src, parseBudget)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v: want a non-empty ErrorList", err)
			}
			for _, e := range list {
				if e.Msg == "" {
					t.Fatalf("an error without a message: %+v", e)
				}
			}
			return
		}
		again, err := Parse("fuzz.yaml", pol.Source)
		if err != nil || again.Digest != pol.Digest {
			t.Fatalf("the loaded policy's own source does not load the same: %v", err)
		}
	})
}
