package baseline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrNoGitHistory: root is not in a git work tree with its full history
// (no git, an exported tarball, a shallow clone), so CheckGit could not
// tell whether a committed history was ever modified.
var ErrNoGitHistory = errors.New("no full git history")

// CheckGit fails if a history file committed under root was ever changed
// after the commit that added it: a commit that modified it (even one
// changed back), a file whose content differs from the one first added
// (which also catches an edit made in a merge), or a committed file
// modified in the work tree. Deleting a whole release directory (retiring
// it) is allowed; adding a new one is what a release does.
func CheckGit(ctx context.Context, root string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	abs, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	g := gitIn{ctx: ctx, dir: abs}
	top, err := g.run("rev-parse", "--show-toplevel")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoGitHistory, err)
	}
	if shallow, err := g.run("rev-parse", "--is-shallow-repository"); err != nil || shallow != "false" {
		return fmt.Errorf("%w: the clone is shallow (git fetch --unshallow)", ErrNoGitHistory)
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil {
		return err
	}
	g.dir = top
	var errs []error
	// Commits that touched a file other than by adding it. Merges show no
	// diff here; the content comparison below covers them.
	log, err := g.run("log", "--format=commit %H", "--name-status", "--no-renames", "--", rel)
	if err != nil {
		return err
	}
	tracked, err := g.lines("ls-files", "--", rel)
	if err != nil {
		return err
	}
	changes := map[string][]string{} // path → "<status> <commit>", newest first
	var commit string
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, "commit "); ok {
			commit = c
			continue
		}
		status, path, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		changes[path] = append(changes[path], status+" "+commit)
	}
	for _, p := range tracked {
		if !isHistory(p) {
			continue
		}
		ch := changes[p]
		if len(ch) == 0 {
			continue // staged, not committed yet
		}
		if len(ch) > 1 {
			errs = append(errs, fmt.Errorf("%s was changed after it was added: %s (a baseline history is never rewritten: record a new release)", p, strings.Join(ch, ", ")))
			continue
		}
		added := strings.TrimPrefix(ch[0], "A ")
		first, err := g.run("rev-parse", added+":"+p)
		if err != nil {
			return err
		}
		now, err := g.run("rev-parse", "HEAD:"+p)
		if err != nil {
			return err
		}
		if first != now {
			errs = append(errs, fmt.Errorf("%s differs from the version commit %s added (a merge changed it?)", p, added))
		}
	}
	status, err := g.lines("status", "--porcelain", "--", rel)
	if err != nil {
		return err
	}
	for _, s := range status {
		if len(s) > 3 && isHistory(s[3:]) && strings.ContainsAny(s[:2], "MRT") && slices.Contains(tracked, s[3:]) {
			errs = append(errs, fmt.Errorf("%s: committed history modified in the work tree (%q)", s[3:], s[:2]))
		}
	}
	return errors.Join(errs...)
}

// isHistory: a file that seals or is a release's history (not a
// pre-release history at the top of the directory).
func isHistory(p string) bool {
	if !strings.HasSuffix(p, ".json") {
		return false
	}
	for _, part := range strings.Split(filepath.ToSlash(filepath.Dir(p)), "/") {
		if ValidRelease(part) {
			return true
		}
	}
	return false
}

type gitIn struct {
	ctx context.Context
	dir string
}

func (g gitIn) run(args ...string) (string, error) {
	out, err := g.raw(args...)
	return strings.TrimSpace(out), err
}

func (g gitIn) raw(args ...string) (string, error) {
	cmd := exec.CommandContext(g.ctx, "git", append([]string{"-C", g.dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// lines is the output's lines, leading blanks kept (git status columns).
func (g gitIn) lines(args ...string) ([]string, error) {
	out, err := g.raw(args...)
	out = strings.TrimRight(out, "\n")
	if err != nil || out == "" {
		return nil, err
	}
	return strings.Split(out, "\n"), nil
}
