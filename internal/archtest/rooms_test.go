package archtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The places allowed what the rules below forbid elsewhere; a name ending
// in "/" is a directory.
var (
	// byNameAllowed turn a typed reference into the Temporal call (the
	// workflows' helpers, activities' registration); internal/bench's
	// floor measures bare Temporal, with no leadflow code in the way.
	byNameAllowed = []string{"workflows/activity.go", "activities/register.go", "internal/bench/"}
	// workflowCodeAllowed: the workflows, the bench's floor workflows, and
	// the upgrade test's probe (registered only by a worker built with
	// -tags upgradeprobe).
	workflowCodeAllowed = []string{"workflows/", "internal/bench/", "internal/upgradeprobe/"}
	// dbHolders may hold the whole *store.DB: the binaries' wiring, the
	// bench (which sets up a database), and the test helpers that seed one.
	dbHolders = []string{"worker/", "starter/", "internal/bench/", "internal/store/", "internal/webui/webuitest/"}
)

var (
	// A call or registration by a name string skips the typed reference.
	byName = regexp.MustCompile(`\b(ExecuteActivity|ExecuteLocalActivity|RegisterActivity|RegisterActivityWithOptions)\(`)
	// Workflow code takes a workflow.Context.
	workflowCode = regexp.MustCompile(`\bworkflow\.Context\b`)
	// The whole database handle; everyone but the wiring takes a port.
	wholeDB = regexp.MustCompile(`\*store\.DB\b`)
)

// Activities are called and registered only through internal/actions'
// typed references, workflow code lives in workflows/, and only the wiring
// holds the whole database: checked over every non-test Go file of the
// module.
func TestRooms(t *testing.T) {
	root := "../.."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			if m := byName.FindString(line); m != "" && !allowed(rel, byNameAllowed) {
				t.Errorf("%s:%d: %s… by name: use internal/actions' typed reference (workflows' execute/perform/fetch, activities' register)", rel, i+1, m)
			}
			if workflowCode.MatchString(line) && !allowed(rel, workflowCodeAllowed) {
				t.Errorf("%s:%d: workflow code outside workflows/", rel, i+1)
			}
			if wholeDB.MatchString(line) && !allowed(rel, dbHolders) {
				t.Errorf("%s:%d: *store.DB outside the wiring: take the port (store.Ledger, store.CRM, …) or an interface", rel, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// allowed reports whether rel is one of places (a file, or a directory
// ending in "/").
func allowed(rel string, places []string) bool {
	for _, p := range places {
		if rel == p || strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p) {
			return true
		}
	}
	return false
}
