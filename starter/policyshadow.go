package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/policydiff"
	"github.com/leadflow/leadflow/internal/store"
)

const policyShadowDetail = `
Evaluates the candidate (FILE, validated as 'policy check' does, or a
published --version) and the policy in force (the active version, else
LEADFLOW_POLICY) on every open lead's last published state, and prints what
would change: who would become or stop being an MQL, a different segment,
route (rule, territory, pool), owner or SLA. Nothing is acted on. --csv
also writes one row per changed lead. Intent is each lead's own, with the
intent rules it matched re-weighted at the candidate's points: its events
are not re-run. Owners are chosen as routing would with no load and fresh
rotation cursors. The same diff is on the dashboard at /ui/policy/shadow.`

func cmdPolicyShadow(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	version := fs.String("version", "", "a published version instead of FILE")
	csvOut := fs.String("csv", "", "also write the changed leads to this CSV file")
	pos, err := parseArgs(c, fs, args, 0, 1)
	if err != nil {
		return err
	}
	if (len(pos) == 1) == (*version != "") {
		return usagef(c, "give FILE or --version, not both")
	}
	var cand *policy.Policy
	if len(pos) == 1 {
		if cand, err = loadPolicyFile(a, pos[0]); err != nil {
			return err
		}
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	st, ctx, cancel, err := a.policyStore(ctx)
	if err != nil {
		return fmt.Errorf("policy shadow: %w", err)
	}
	defer cancel()
	defer st.Close()
	rep, err := shadowReport(ctx, st, cfg.PolicyPath, cand, *version, a.now)
	if err != nil {
		return fmt.Errorf("policy shadow: %w", err)
	}
	if err := policydiff.WriteSummary(a.stdout, rep); err != nil {
		return err
	}
	if *csvOut == "" {
		return nil
	}
	f, err := os.Create(*csvOut)
	if err != nil {
		return fmt.Errorf("policy shadow: %w", err)
	}
	if err := policydiff.WriteCSV(f, rep); err != nil {
		f.Close()
		return fmt.Errorf("policy shadow: write %s: %w", *csvOut, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("policy shadow: write %s: %w", *csvOut, err)
	}
	fmt.Fprintf(a.stdout, "wrote %d rows to %s\n", len(rep.Changes), *csvOut)
	return nil
}

// shadowReport compares cand (or the published version) with the policy in
// force on every open lead.
func shadowReport(ctx context.Context, st *store.DB, filePath string, cand *policy.Policy, version string, now func() time.Time) (policydiff.Report, error) {
	ps := st.Policies()
	if cand == nil {
		v, err := ps.Version(ctx, version)
		if err != nil {
			return policydiff.Report{}, err
		}
		if cand, err = policy.Parse("policy version "+version, v.Source); err != nil {
			return policydiff.Report{}, fmt.Errorf("published version %s: %w", version, err)
		}
	}
	cur, err := inForce(ctx, ps, filePath)
	if err != nil {
		return policydiff.Report{}, err
	}
	dir, err := st.Directory().Directory(ctx)
	if err != nil {
		return policydiff.Report{}, fmt.Errorf("read the directory: %w", err)
	}
	rows, err := ps.OpenLeadInputs(ctx)
	if err != nil {
		return policydiff.Report{}, err
	}
	leads := make([]policydiff.Lead, len(rows))
	for i, r := range rows {
		leads[i] = policydiff.Lead{View: r.View, Inputs: r.Inputs}
	}
	return policydiff.Diff(cur, cand, dir, now(), leads), nil
}

// inForce is the active version's policy, else the workers' file.
func inForce(ctx context.Context, ps *store.Policies, filePath string) (*policy.Policy, error) {
	act, ok, err := ps.Active(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		p, err := policy.Load(filePath)
		if err != nil {
			return nil, fmt.Errorf("the policy in force (no version activated: %s): %w", filePath, err)
		}
		return p, nil
	}
	p, err := policy.Parse("policy version "+act.Version, act.Source)
	if err != nil {
		return nil, fmt.Errorf("active version %s: %w", act.Version, err)
	}
	return p, nil
}

// policyShadows is the dashboard's policy shadow page over the store: the
// same report as `starter policy shadow --version V`.
type policyShadows struct {
	st   *store.DB
	file string // LEADFLOW_POLICY, in force while nothing is activated
	now  func() time.Time
}

func (p policyShadows) Versions(ctx context.Context) ([]store.PolicyVersion, error) {
	ctx, cancel := context.WithTimeout(ctx, policyDBTimeout)
	defer cancel()
	return p.st.Policies().Versions(ctx)
}

func (p policyShadows) Shadow(ctx context.Context, version string) (policydiff.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, policyDBTimeout)
	defer cancel()
	return shadowReport(ctx, p.st, p.file, nil, version, p.now)
}
