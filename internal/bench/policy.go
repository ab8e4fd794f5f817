package bench

import (
	_ "embed"
	"fmt"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/leadflow/leadflow/internal/policy"
)

//go:embed policy.yaml.tmpl
var policyTemplate string

var policyTmpl = template.Must(template.New("policy").Parse(policyTemplate))

type policyParams struct {
	Version       string
	BusinessHours string
	FirstTouch    string
}

// alwaysPolicy is the bench's policy for the timed scenarios: a 24x7
// calendar and SLAs of hours, so no SLA step fires while they run.
func alwaysPolicy() policyParams {
	return policyParams{Version: "bench-1", BusinessHours: "always", FirstTouch: "8h"}
}

// timersFirstTouch is the open-leads phase's first-touch SLA: business
// time after the opening, so every handoff made before it is due at once.
const timersFirstTouch = 30 * time.Second

// openingPolicy opens business hours at opening (UTC, whole minutes), every
// day until 23:59: a handoff made before the opening has its first-touch
// step due timersFirstTouch after it. ok is false when the opening is too
// close to midnight for that day to have business hours after it.
func openingPolicy(opening time.Time) (policyParams, bool) {
	o := opening.UTC()
	if o.Hour() == 23 && o.Minute() >= 55 {
		return policyParams{}, false
	}
	bh := fmt.Sprintf(`{ days: [sun, mon, tue, wed, thu, fri, sat], start: "%02d:%02d", end: "23:59" }`, o.Hour(), o.Minute())
	return policyParams{Version: "bench-2", BusinessHours: bh, FirstTouch: timersFirstTouch.String()}, true
}

// writePolicy renders the policy to path and checks that leadflow loads it.
func writePolicy(path string, p policyParams) error {
	var b strings.Builder
	if err := policyTmpl.Execute(&b, p); err != nil {
		return fmt.Errorf("render bench policy: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write bench policy: %w", err)
	}
	if _, err := policy.Load(tmp); err != nil {
		return fmt.Errorf("bench policy %s does not load: %w", p.Version, err)
	}
	// Renamed into place so a reload never reads half a file.
	return os.Rename(tmp, path)
}
