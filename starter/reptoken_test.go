package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/store/storetest"
)

var tokenLine = regexp.MustCompile(`^lft_([0-9a-f]{16})_([0-9a-f]{64})\n$`)

// The token commands over a real database: mint (stdout is the token
// alone), list (never a secret), revoke, and their exit codes.
func TestRepTokenCommands(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ta := newTestApp(t, map[string]string{"DATABASE_URL": storetest.NewDB(t), "LEADFLOW_API_TOKEN": "admin-secret"})
	ta.now = func() time.Time { return at }
	if code := ta.run(t, "directory", "import", deployDirectory); code != exitOK {
		t.Fatalf("directory import: exit %d", code)
	}

	mint := func(args ...string) (id, secret string) {
		t.Helper()
		if code := ta.run(t, append([]string{"rep", "token"}, args...)...); code != exitOK {
			t.Fatalf("rep token %v: exit %d", args, code)
		}
		m := tokenLine.FindStringSubmatch(ta.out.String())
		if m == nil {
			t.Fatalf("rep token %v printed %q, want the token alone", args, ta.out)
		}
		return m[1], m[2]
	}
	id7, secret7 := mint("rep-7")
	if want := "expires 2026-12-22T12:00:00Z"; !strings.Contains(ta.errOut.String(), want) || !strings.Contains(ta.errOut.String(), "revoke "+id7) {
		t.Errorf("stderr %q lacks %q and how to revoke (30 days by default)", ta.errOut, want)
	}
	id1, secret1 := mint("--ttl", "12h", "rep-1")
	if !strings.Contains(ta.errOut.String(), "expires 2026-11-23T00:00:00Z") {
		t.Errorf("--ttl 12h: stderr %q", ta.errOut)
	}
	at = at.Add(time.Hour)
	if code := ta.run(t, "rep", "token", "revoke", id1); code != exitOK ||
		ta.out.String() != "revoked token "+id1+" of rep-1 at 2026-11-22T13:00:00Z; its UI sessions end on their next request\n" {
		t.Fatalf("revoke: exit %d, %q", code, ta.out)
	}
	at = at.Add(time.Hour)
	if code := ta.run(t, "rep", "token", "revoke", id1); code != exitOK || !strings.Contains(ta.out.String(), "already revoked at 2026-11-22T13:00:00Z") {
		t.Errorf("second revoke: exit %d, %q", code, ta.out)
	}

	if code := ta.run(t, "rep", "token", "list"); code != exitOK {
		t.Fatalf("list: exit %d", code)
	}
	out := ta.out.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "ID REP CREATED EXPIRES REVOKED LAST USED" {
		t.Fatalf("list printed:\n%s", out)
	}
	// Both were minted at the same (test) instant: find each row by its ID.
	row := map[string][]string{}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 {
			row[f[0]] = f
		}
	}
	if got, want := row[id7], []string{id7, "rep-7", "2026-11-22T12:00:00Z", "2026-12-22T12:00:00Z", "-", "-"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rep-7's row %v, want %v", got, want)
	}
	if got, want := row[id1], []string{id1, "rep-1", "2026-11-22T12:00:00Z", "2026-11-23T00:00:00Z", "2026-11-22T13:00:00Z", "-"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rep-1's row %v, want %v", got, want)
	}
	for _, secret := range []string{secret7, secret1} {
		if strings.Contains(out, secret) || strings.Contains(out, "lft_") {
			t.Errorf("list shows a secret:\n%s", out)
		}
	}
	if code := ta.run(t, "rep", "token", "list", "rep-7"); code != exitOK || strings.Count(ta.out.String(), "\n") != 2 || !strings.Contains(ta.out.String(), id7) {
		t.Errorf("list rep-7: exit %d\n%s", code, ta.out)
	}
	at = at.Add(12 * time.Hour) // past rep-1's expiry
	if code := ta.run(t, "rep", "token", "list", "rep-1"); code != exitOK || !strings.Contains(ta.out.String(), "2026-11-23T00:00:00Z (expired)") {
		t.Errorf("list rep-1: exit %d\n%s", code, ta.out)
	}
	if code := ta.run(t, "rep", "token", "list", "rep-8"); code != exitOK || ta.out.String() != "no tokens of rep-8\n" {
		t.Errorf("list rep-8: exit %d %q", code, ta.out)
	}

	// Usage and input errors: exit 2, saying what is wrong.
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"rep-99"}, `unknown rep "rep-99"`},
		{[]string{"rep-7", "--ttl", "0d"}, "must be more than 0"},
		{[]string{"rep-7", "--ttl", "367d"}, "at most 366d"},
		{[]string{"rep-7", "--ttl", "soon"}, "want a duration"},
		{[]string{"revoke"}, "revoke needs the token ID"},
		{[]string{"revoke", "nope"}, `"nope" is not a token ID`},
		{[]string{"revoke", "0123456789abcdef"}, "unknown token ID 0123456789abcdef"},
		{[]string{"list", "--ttl", "1d"}, "--ttl is only for minting"},
		{[]string{"rep-7", "rep-8"}, `unexpected argument "rep-8"`},
		{nil, "missing argument"},
	} {
		if code := ta.run(t, append([]string{"rep", "token"}, c.args...)...); code != exitUsage || !strings.Contains(ta.errOut.String(), c.says) {
			t.Errorf("rep token %v: exit %d, stderr %q; want 2 saying %q", c.args, code, ta.errOut, c.says)
		}
	}
}

// Rep tokens no longer derive from LEADFLOW_API_TOKEN: without it one is
// minted all the same, with a note that the UI is open.
func TestRepTokenWithoutAdminToken(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, map[string]string{"DATABASE_URL": storetest.NewDB(t)})
	if code := ta.run(t, "directory", "import", deployDirectory); code != exitOK {
		t.Fatalf("directory import: exit %d", code)
	}
	if code := ta.run(t, "rep", "token", "rep-7"); code != exitOK || !tokenLine.MatchString(ta.out.String()) ||
		!strings.Contains(ta.errOut.String(), "LEADFLOW_API_TOKEN is not set") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, ta.out, ta.errOut)
	}
}
