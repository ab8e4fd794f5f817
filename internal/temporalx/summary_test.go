package temporalx

import "testing"

// Free-text sources may carry a name or an email: only labels reach the
// workflow's summary.
func TestSummarySource(t *testing.T) {
	for in, want := range map[string]string{
		"website":                 "website",
		" partner_referral ":      "partner_referral",
		"":                        "unknown",
		"Referral from Ana Smith": "(free text, not shown)",
		"ana@acme.io":             "(free text, not shown)",
		"+1 555 0100":             "(free text, not shown)",
	} {
		if got := summarySource(in); got != want {
			t.Errorf("summarySource(%q) = %q; want %q", in, got, want)
		}
	}
}
