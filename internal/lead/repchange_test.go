package lead_test

import (
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/lead"
)

func TestRepChangeRequestsCheck(t *testing.T) {
	ok := lead.RepUnavailableRequest{ID: "u-1", RepID: "rep-7", Reason: lead.RepAway, By: "ops", Until: "2026-12-24T00:00:00Z"}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		mut  func(*lead.RepUnavailableRequest)
		want string
	}{
		"no id":      {func(r *lead.RepUnavailableRequest) { r.ID = "" }, "id is required"},
		"no rep":     {func(r *lead.RepUnavailableRequest) { r.RepID = "" }, "repId is required"},
		"bad reason": {func(r *lead.RepUnavailableRequest) { r.Reason = "gone" }, `reason must be "away" or "deactivated"`},
		"no by":      {func(r *lead.RepUnavailableRequest) { r.By = "" }, "by is required"},
		"bad until":  {func(r *lead.RepUnavailableRequest) { r.Until = "tomorrow" }, `until "tomorrow" is not RFC 3339`},
		"long rep":   {func(r *lead.RepUnavailableRequest) { r.RepID = strings.Repeat("r", 300) }, "repId"},
	} {
		r := ok
		c.mut(&r)
		if err := r.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", name, err, c.want)
		}
	}
	if err := (lead.RepBackRequest{ID: "b-1", RepID: "rep-7"}).Check(); err == nil || !strings.Contains(err.Error(), "by is required") {
		t.Errorf("back without by: %v", err)
	}
}
