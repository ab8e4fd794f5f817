package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// A directory file the import cannot take is an input error: exit 2, each
// error with its line, nothing imported (no database is even opened).
func TestDirectoryImportBadFileIsExit2(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	src := "reps:\n  - { id: rep-1, name: A, timezone: America/New_York, email: not-an-email }\n  - { id: rep-2, name: B, timezone: Mars/Olympus }\n"
	if err := os.WriteFile(bad, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	ta := newTestApp(t, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"})
	if code := ta.run(t, "directory", "import", bad); code != exitUsage {
		t.Fatalf("exit %d, want 2; stderr %s", code, ta.errOut)
	}
	for _, want := range []string{`bad\.yaml:2: .*email`, `bad\.yaml:3: .*timezone`} {
		if !regexp.MustCompile(want).MatchString(ta.errOut.String()) {
			t.Errorf("stderr lacks %s:\n%s", want, ta.errOut)
		}
	}
}
