package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestDependencyRules(t *testing.T) {
	const mod = "github.com/leadflow/leadflow/"
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		// The pure decision packages: no Temporal, no I/O.
		{"internal/policy", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
		{"internal/scoring", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
		{"internal/routing", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
		{"internal/sla", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
		{"internal/suppression", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
		{"internal/directory", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
		{"internal/lead", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
		{"internal/week", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
		{"internal/policydiff", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
		// The contract: names, payloads and typed references, read by pure
		// packages too; the Temporal calls live in workflows/ and activities/.
		{"internal/actions", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
		// The workflows (the lead's and the weekly report's) talk to
		// adapters only through internal/actions' typed references.
		{"workflows", []string{mod + "internal/store", mod + "internal/crm", mod + "internal/nurture", mod + "internal/api",
			mod + "internal/hubspot", mod + "activities", "github.com/jackc/pgx"}},
		{"activities", []string{mod + "workflows"}},
		// What starter/ calls: the simulator and the renderings talk to no
		// Temporal client; the renderings do no I/O of their own.
		{"internal/sim", []string{"go.temporal.io/", "github.com/jackc/pgx", mod + "internal/store", mod + "internal/temporalx"}},
		{"internal/report", []string{"go.temporal.io/", "net/http", mod + "internal/store", mod + "internal/temporalx"}},
		{"internal/leadview", []string{"go.temporal.io/", "github.com/jackc/pgx", "net/http"}},
	}
	for _, r := range rules {
		for _, d := range deps(t, "../../"+r.pkg) {
			for _, f := range r.forbidden {
				if matches(d, f) {
					t.Errorf("%s depends on %s (forbidden: %s)", r.pkg, d, f)
				}
			}
		}
	}
}

// matches: f names d or a parent of d; a trailing "/" names a module prefix.
func matches(d, f string) bool {
	if strings.HasSuffix(f, "/") {
		return strings.HasPrefix(d, f)
	}
	return d == f || strings.HasPrefix(d, f+"/")
}

// starter/ holds commands: the simulator and the renderings it prints live
// in their own packages, and the commands call them.
func TestStarterCallsItsRooms(t *testing.T) {
	const mod = "github.com/leadflow/leadflow/"
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "../../starter").Output()
	if err != nil {
		t.Fatalf("go list starter: %v", err)
	}
	imports := strings.Fields(string(out))
	for _, want := range []string{"internal/sim", "internal/report", "internal/leadview"} {
		if !slices.Contains(imports, mod+want) {
			t.Errorf("starter does not import %s: does its code live in starter/ again?", want)
		}
	}
}
