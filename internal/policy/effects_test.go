package policy

import (
	"strings"
	"testing"
	"time"
)

func TestEffectsDefaultAndSection(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if p.Effects.RetryFor != DefaultEffectRetryFor {
		t.Errorf("default retry_for = %s; want %s", p.Effects.RetryFor, DefaultEffectRetryFor)
	}
	p, err = Parse("policy.yaml", []byte(base+"effects:\n  retry_for: 2h\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Effects.RetryFor.D() != 2*time.Hour {
		t.Errorf("retry_for = %s; want 2h", p.Effects.RetryFor)
	}
}

func TestEffectsValidationErrors(t *testing.T) {
	for src, want := range map[string]string{
		"effects:\n  retry_for: 10s\n": "effects.retry_for: must be at least 1m",
		"effects:\n  retry: 1h\n":      "effects.retry",
		"effects:\n  retry_for: -1h\n": "effects.retry_for",
	} {
		_, err := Parse("policy.yaml", []byte(base+src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v; want it to mention %q", src, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "policy.yaml:") {
			t.Errorf("%q: error %v has no file:line", src, err)
		}
	}
}
