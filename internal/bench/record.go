package bench

import (
	"fmt"
	"os"
	"strings"
)

// recordHeading starts the section runs are appended under.
const recordHeading = "## `starter bench` runs"

// Record appends the report to the markdown file at path under
// recordHeading (added once), keeping everything already there.
func Record(path string, r *Report) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var b strings.Builder
	b.Write(old)
	if len(old) > 0 && !strings.HasSuffix(string(old), "\n") {
		b.WriteString("\n")
	}
	if !strings.Contains(string(old), recordHeading+"\n") {
		b.WriteString("\n" + recordHeading + "\n\nAppended by `starter bench --record`, newest last.\n")
	}
	b.WriteString("\n")
	if err := r.WriteMarkdown(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
