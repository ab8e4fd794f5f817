package webui

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/policydiff"
	"github.com/leadflow/leadflow/internal/store"
)

// PolicyShadow is what the policy shadow page reads: the published versions,
// and the diff of one against the policy in force (`starter policy shadow
// --version V`). Shadow returns store.ErrNotFound for an unknown version.
type PolicyShadow interface {
	Versions(ctx context.Context) ([]store.PolicyVersion, error)
	Shadow(ctx context.Context, version string) (policydiff.Report, error)
}

type shadowRow struct {
	LeadID, Stage, What string
	Lines               []string
}

type shadowPage struct {
	page
	Version  string
	Versions []store.PolicyVersion
	Report   *policydiff.Report
	Counts   []kv
	Rows     []shadowRow
}

// policyShadow serves /ui/policy/shadow: the published versions, and with
// ?version=V what V would change for every open lead.
func (u *UI) policyShadow(w http.ResponseWriter, r *http.Request, p principal) {
	if u.cfg.Policy == nil {
		u.fail(w, http.StatusNotFound, p, "Policy shadow is not available on this server.")
		return
	}
	pg := shadowPage{page: u.newPage("Policy shadow", "policy", p), Version: strings.TrimSpace(r.URL.Query().Get("version"))}
	vs, err := u.cfg.Policy.Versions(r.Context())
	if err != nil {
		u.log.Warn("webui: policy versions", zap.Error(err))
		u.fail(w, http.StatusServiceUnavailable, p, "The published policy versions could not be read; try again shortly.")
		return
	}
	pg.Versions = vs
	if pg.Version == "" {
		u.render(w, http.StatusOK, "policy_shadow", pg)
		return
	}
	rep, err := u.cfg.Policy.Shadow(r.Context(), pg.Version)
	if errors.Is(err, store.ErrNotFound) {
		pg.Error = "version: " + pg.Version + " is not published (starter policy publish FILE)"
		u.render(w, http.StatusNotFound, "policy_shadow", pg)
		return
	}
	if err != nil {
		u.log.Warn("webui: policy shadow", zap.String("version", pg.Version), zap.Error(err))
		u.fail(w, http.StatusServiceUnavailable, p, "The shadow report could not be computed; try again shortly.")
		return
	}
	pg.Report = &rep
	for _, k := range policydiff.Kinds() {
		pg.Counts = append(pg.Counts, kv{Key: policydiff.Label(k), Value: strconv.Itoa(rep.Counts[k])})
	}
	for _, c := range rep.Changes {
		pg.Rows = append(pg.Rows, shadowRow{LeadID: c.LeadID, Stage: string(c.Stage), What: strings.Join(c.What, " "), Lines: policydiff.Describe(c)})
	}
	u.render(w, http.StatusOK, "policy_shadow", pg)
}
