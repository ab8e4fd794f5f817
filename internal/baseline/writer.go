package baseline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Writer fills a new sealed directory. Histories go to a temporary sibling
// and the directory appears only on Commit, whole, with its manifest: a
// recording that fails half-way leaves nothing a later run could mistake
// for a release.
type Writer struct {
	dir, tmp string
	m        Manifest
}

// NewWriter starts a new directory dir (a release directory, or one below
// it) for histories made by source ("record", "export"). It refuses a
// directory that exists: a release is never rewritten or added to.
func NewWriter(dir, release, source string) (*Writer, error) {
	if !ValidRelease(release) {
		return nil, fmt.Errorf("release %q: want vMAJOR.MINOR.PATCH (e.g. v0.1.0)", release)
	}
	if _, err := os.Stat(dir); err == nil {
		return nil, fmt.Errorf("%s exists: a baseline is never rewritten; record a new release", dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return nil, err
	}
	w := &Writer{dir: dir, tmp: tmp, m: Manifest{Release: release, Source: source, Histories: map[string]Entry{}}}
	w.m.Commit, w.m.Dirty = headCommit(dir)
	return w, nil
}

// Add writes one history as name (".json" added) once it shows its claims.
func (w *Writer) Add(name string, h *historypb.History, claims []string) error {
	name += ".json"
	if _, dup := w.m.Histories[name]; dup || name == ManifestName {
		return fmt.Errorf("history %s: written twice", name)
	}
	f, err := Read(h)
	if err != nil {
		return fmt.Errorf("history %s: %w", name, err)
	}
	if err := f.Check(claims); err != nil {
		return fmt.Errorf("history %s does not show its path: %w", name, err)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		return fmt.Errorf("history %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(w.tmp, name), b, 0o644); err != nil {
		return fmt.Errorf("history %s: %w", name, err)
	}
	w.m.Histories[name] = Entry{SHA256: Digest(b), Claims: claims}
	return nil
}

// Len is the number of histories added.
func (w *Writer) Len() int { return len(w.m.Histories) }

// Commit seals the directory: the manifest, then the directory in place.
func (w *Writer) Commit() error {
	if len(w.m.Histories) == 0 {
		return fmt.Errorf("%s: no history to seal", w.dir)
	}
	w.m.RecordedAt = time.Now().UTC().Truncate(time.Second)
	if err := WriteManifest(w.tmp, &w.m); err != nil {
		return err
	}
	if _, err := os.Stat(w.dir); err == nil {
		return fmt.Errorf("%s appeared while recording: not replaced", w.dir)
	}
	if err := os.Rename(w.tmp, w.dir); err != nil {
		return fmt.Errorf("seal %s: %w", w.dir, err)
	}
	return Verify(w.dir)
}

// Abort drops what was written (after a failure; a no-op after Commit).
func (w *Writer) Abort() { _ = os.RemoveAll(w.tmp) }

// headCommit is the commit dir's code is at, and whether the work tree
// has changes; "" when there is no git repository.
func headCommit(dir string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g := gitIn{ctx: ctx, dir: filepath.Dir(dir)}
	head, err := g.run("rev-parse", "HEAD")
	if err != nil {
		return "", false
	}
	status, err := g.run("status", "--porcelain", "--untracked-files=no")
	return head, err != nil || status != ""
}
