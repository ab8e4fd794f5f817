// Package baseline keeps the frozen workflow histories of each release:
// a release directory under workflows/testdata/histories is written once
// (by `make record-histories` or `make export-histories`), sealed by a
// manifest of its files' SHA-256 and the paths each history claims to
// cover, and never rewritten. The replay gate (workflows/replay_test.go)
// replays every release against the current code; Verify and CheckGit
// make sure what it replays is what was recorded.
package baseline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ManifestName is the file that seals a directory of histories.
const ManifestName = "MANIFEST.json"

// releaseName is a release directory's name: a semantic version.
var releaseName = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// ValidRelease reports whether name can name a release directory.
func ValidRelease(name string) bool { return releaseName.MatchString(name) }

// Manifest seals one directory of histories.
type Manifest struct {
	Release string `json:"release"`
	// Source says how the histories were made: "record" (the scenarios of
	// workflows/record_test.go) or "export" (a running server's leads).
	Source string `json:"source"`
	// Commit is the code the histories were recorded with ("" when no git
	// repository was found); Dirty: it had uncommitted changes.
	Commit     string    `json:"commit"`
	Dirty      bool      `json:"dirty,omitempty"`
	RecordedAt time.Time `json:"recordedAt"`
	// Histories: file name → its digest and the paths it claims.
	Histories map[string]Entry `json:"histories"`
}

// Entry is one history file of a manifest.
type Entry struct {
	SHA256 string `json:"sha256"`
	// Claims are what the history must show (see Check); a history whose
	// scenario silently stopped covering its path fails them.
	Claims []string `json:"claims,omitempty"`
}

// Digest is the hex SHA-256 of a file's bytes.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ReadManifest reads dir's manifest.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", dir, err)
	}
	return &m, nil
}

// WriteManifest writes m into dir, refusing to replace an existing one.
func WriteManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest of %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ManifestName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("manifest of %s: %w", dir, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		_ = f.Close()
		return fmt.Errorf("manifest of %s: %w", dir, err)
	}
	return f.Close()
}

// Dirs are the sealed directories under root: every release directory and
// every directory below one that holds histories (a demo export goes to
// <release>/demo). It fails on a release directory with a bad name, and
// when there is none: the gate must not pass on an empty baseline.
func Dirs(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", root, err)
	}
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue // pre-release histories at the top; a recording under way (Writer)
		}
		if !ValidRelease(e.Name()) {
			return nil, fmt.Errorf("baseline %s: directory %q is not a release name (vMAJOR.MINOR.PATCH)", root, e.Name())
		}
		err := filepath.WalkDir(filepath.Join(root, e.Name()), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("baseline %s: %w", root, err)
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("baseline %s: no release directory; record one with `make record-histories RELEASE=vX.Y.Z`", root)
	}
	slices.Sort(dirs)
	return dirs, nil
}

// Histories lists the history files of dir (every .json but the manifest).
func Histories(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("histories of %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && e.Name() != ManifestName {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Verify checks dir against its manifest: the same set of files, each with
// its recorded digest, each showing its claims. A directory with nothing in
// it but subdirectories needs no manifest.
func Verify(dir string) error {
	names, err := Histories(dir)
	if err != nil {
		return err
	}
	m, err := ReadManifest(dir)
	if errors.Is(err, os.ErrNotExist) && len(names) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	if len(m.Histories) == 0 {
		return fmt.Errorf("%s: the manifest lists no history", dir)
	}
	var errs []error
	for _, n := range names {
		if _, ok := m.Histories[n]; !ok {
			errs = append(errs, fmt.Errorf("%s: %s is not in the manifest (a release directory is never added to: record a new release)", dir, n))
		}
	}
	for _, n := range slices.Sorted(maps.Keys(m.Histories)) {
		e := m.Histories[n]
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s is in the manifest: %w", dir, n, err))
			continue
		}
		if got := Digest(b); got != e.SHA256 {
			errs = append(errs, fmt.Errorf("%s: %s changed since it was recorded (sha256 %s, manifest %s): a baseline history is never rewritten", dir, n, got, e.SHA256))
			continue
		}
		if err := CheckFile(filepath.Join(dir, n), e.Claims); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
