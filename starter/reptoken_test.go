package main

import (
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/webui"
)

func TestRepToken(t *testing.T) {
	ta := newTestApp(t, map[string]string{"LEADFLOW_API_TOKEN": "admin-secret"})
	if code := ta.run(t, "rep", "token", "rep-7"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got, want := strings.TrimSpace(ta.out.String()), webui.RepToken("admin-secret", "rep-7"); got != want || !strings.HasPrefix(got, "rep:rep-7:") {
		t.Fatalf("token %q, want %q", got, want)
	}
	open := newTestApp(t, map[string]string{})
	if code := open.run(t, "rep", "token", "rep-7"); code != 1 || !strings.Contains(open.errOut.String(), "LEADFLOW_API_TOKEN is not set") {
		t.Fatalf("without a token: exit %d, %q", code, open.errOut.String())
	}
	if code := ta.run(t, "rep", "token"); code != 2 {
		t.Fatalf("missing REP: exit %d, want 2", code)
	}
}
