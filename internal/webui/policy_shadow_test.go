package webui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/auth/authtest"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policydiff"
	"github.com/leadflow/leadflow/internal/store"
)

// shadows is a PolicyShadow with one published version and its report.
type shadows struct{}

func (shadows) Versions(context.Context) ([]store.PolicyVersion, error) {
	return []store.PolicyVersion{{Version: "cand-1", PublishedAt: now, PublishedBy: "ana"}}, nil
}

func (shadows) Shadow(_ context.Context, v string) (policydiff.Report, error) {
	if v != "cand-1" {
		return policydiff.Report{}, store.ErrNotFound
	}
	return policydiff.Report{Current: "2026-11-22.1", Candidate: "cand-1", Leads: 3,
		Counts: map[string]int{policydiff.BecomesMQL: 1, policydiff.Owner: 1},
		Changes: []policydiff.Change{
			{LeadID: "L-1", Stage: lead.StageLead, What: []string{policydiff.BecomesMQL},
				Current: policydiff.Outcome{Score: 40}, Candidate: policydiff.Outcome{Score: 40, MQL: true, Why: "score 40 >= 40"}},
			{LeadID: "L-2", Stage: lead.StageHandoff, What: []string{policydiff.Owner},
				Current: policydiff.Outcome{Owner: "rep-1"}, Candidate: policydiff.Outcome{Owner: "rep-7"}},
		}}, nil
}

func TestPolicyShadowPage(t *testing.T) {
	t.Parallel()
	e := setupWith(t, setupOpts{token: token, policy: shadows{}})
	want(t, e.do(t, req{path: "/ui/policy/shadow", bearer: token}), http.StatusOK, `<option value="cand-1"`)
	w := e.do(t, req{path: "/ui/policy/shadow?version=cand-1", bearer: token})
	want(t, w, http.StatusOK,
		"Policy 2026-11-22.1 → cand-1 over 3 open leads: 2 would change",
		`<th scope="row">would become an MQL</th><td class="num">1</td>`,
		`<th scope="row">a different owner</th><td class="num">1</td>`,
		`<tr data-lead="L-2"><th scope="row">L-2</th><td>handoff</td><td>owner</td><td><div>owner rep-1 → rep-7</div>`)
	if strings.Contains(w.Body.String(), `data-lead="L-3"`) {
		t.Error("an unchanged lead is listed")
	}
	want(t, e.do(t, req{path: "/ui/policy/shadow?version=nope", bearer: token}), http.StatusNotFound, "version: nope is not published")
	rep1, _ := authtest.Mint(t, e.auth, "rep-1", 0)
	want(t, e.do(t, req{path: "/ui/policy/shadow", bearer: rep1}), http.StatusForbidden)
}

func TestPolicyShadowPageOff(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	want(t, e.do(t, req{path: "/ui/policy/shadow", bearer: token}), http.StatusNotFound, "not available")
}
