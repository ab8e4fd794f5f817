package baseline

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repo is a git repository in a temporary directory with a baseline root
// "histories" holding one committed release.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	r.file("histories/v0.1.0/a.json", `{"events":[]}`)
	r.file("histories/v0.1.0/MANIFEST.json", `{}`)
	r.file("histories/old.json", `{}`)
	r.commit("v0.1.0")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (r *repo) file(rel, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	write(r.t, p, content)
}

func (r *repo) commit(msg string) {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
}

func (r *repo) check() error {
	return CheckGit(context.Background(), filepath.Join(r.dir, "histories"))
}

func TestCheckGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed by the baseline gate:", err)
	}
	t.Run("a committed release, a new one added, an old one retired", func(t *testing.T) {
		r := newRepo(t)
		if err := r.check(); err != nil {
			t.Fatal(err)
		}
		r.file("histories/v0.2.0/a.json", `{"events":[1]}`)
		r.file("histories/v0.2.0/MANIFEST.json", `{}`)
		r.file("histories/old.json", `{"pre-release":"may change"}`)
		r.commit("v0.2.0")
		r.file("histories/v0.3.0/a.json", `{}`) // new, untracked
		if err := r.check(); err != nil {
			t.Fatal(err)
		}
		r.git("rm", "-r", "-q", "histories/v0.1.0")
		r.commit("retire v0.1.0")
		if err := r.check(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a history rewritten in a commit", func(t *testing.T) {
		r := newRepo(t)
		r.file("histories/v0.1.0/a.json", `{"events":[2]}`)
		r.file("histories/v0.1.0/MANIFEST.json", `{"resealed":true}`)
		r.commit("re-record")
		err := r.check()
		if err == nil || !strings.Contains(err.Error(), "v0.1.0/a.json") || !strings.Contains(err.Error(), "v0.1.0/MANIFEST.json") {
			t.Fatalf("want both files named, got %v", err)
		}
	})
	t.Run("a history changed and changed back", func(t *testing.T) {
		r := newRepo(t)
		r.file("histories/v0.1.0/a.json", `{"events":[2]}`)
		r.commit("change")
		r.file("histories/v0.1.0/a.json", `{"events":[]}`)
		r.commit("back")
		if err := r.check(); err == nil {
			t.Fatal("a history modified after it was added: passed")
		}
	})
	t.Run("a history deleted and added again", func(t *testing.T) {
		r := newRepo(t)
		r.git("rm", "-q", "histories/v0.1.0/a.json")
		r.commit("drop")
		r.file("histories/v0.1.0/a.json", `{"events":[3]}`)
		r.commit("again")
		if err := r.check(); err == nil {
			t.Fatal("a history re-added: passed")
		}
	})
	t.Run("a history changed in a merge", func(t *testing.T) {
		r := newRepo(t)
		r.git("checkout", "-q", "-b", "side")
		r.file("other.txt", "x")
		r.commit("side")
		r.git("checkout", "-q", "main")
		r.file("main.txt", "y")
		r.commit("main")
		r.git("merge", "-q", "--no-ff", "--no-commit", "side")
		r.file("histories/v0.1.0/a.json", `{"events":[4]}`)
		r.git("add", "-A")
		r.git("commit", "-q", "-m", "merge")
		if err := r.check(); err == nil || !strings.Contains(err.Error(), "a.json") {
			t.Fatalf("a history changed in a merge: want an error, got %v", err)
		}
	})
	t.Run("a committed history modified in the work tree", func(t *testing.T) {
		r := newRepo(t)
		r.file("histories/v0.1.0/a.json", `{"events":[5]}`)
		if err := r.check(); err == nil || !strings.Contains(err.Error(), "work tree") {
			t.Fatalf("want a work-tree error, got %v", err)
		}
	})
	t.Run("no git history", func(t *testing.T) {
		r := newRepo(t)
		shallow := filepath.Join(t.TempDir(), "clone")
		r.git("clone", "-q", "--depth", "1", "file://"+r.dir, shallow)
		if err := CheckGit(context.Background(), filepath.Join(shallow, "histories")); !errors.Is(err, ErrNoGitHistory) {
			t.Fatalf("a shallow clone: want ErrNoGitHistory, got %v", err)
		}
		plain := t.TempDir()
		if err := CheckGit(context.Background(), plain); !errors.Is(err, ErrNoGitHistory) {
			t.Fatalf("no repository: want ErrNoGitHistory, got %v", err)
		}
	})
}
