package policydiff

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// labels are the change kinds as the summary says them, in report order.
var labels = []struct{ kind, text string }{
	{BecomesMQL, "would become an MQL"},
	{StopsMQL, "would stop being an MQL (already taken decisions stand)"},
	{Segment, "a different segment"},
	{Route, "a different route (rule, territory, pool)"},
	{Owner, "a different owner"},
	{SLA, "a different SLA"},
}

// WriteSummary prints the counts, then one line per changed lead.
func WriteSummary(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %s → %s over %d open leads: %d would change\n", r.Current, r.Candidate, r.Leads, len(r.Changes))
	for _, l := range labels {
		fmt.Fprintf(&b, "  %4d %s\n", r.Counts[l.kind], l.text)
	}
	if n := len(r.NoInputs); n > 0 {
		fmt.Fprintf(&b, "  %4d not evaluated: published before their inputs were kept (they are at their next event)\n", n)
	}
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "%s (%s): %s\n", c.LeadID, c.Stage, strings.Join(Describe(c), "; "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Kinds are the change kinds in report order.
func Kinds() []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = l.kind
	}
	return out
}

// Label is a change kind as the summary says it.
func Label(kind string) string {
	for _, l := range labels {
		if l.kind == kind {
			return l.text
		}
	}
	return kind
}

// Describe is one line per change of c: what it is now → under the candidate.
func Describe(c Change) []string {
	var out []string
	for _, w := range c.What {
		switch w {
		case BecomesMQL, StopsMQL:
			out = append(out, fmt.Sprintf("score %d → %d (%s)", c.Current.Score, c.Candidate.Score, c.Candidate.Why))
		case Segment:
			out = append(out, fmt.Sprintf("segment %s → %s", c.Current.Segment, c.Candidate.Segment))
		case Route:
			out = append(out, fmt.Sprintf("route %s → %s", c.Current.route(), c.Candidate.route()))
		case Owner:
			out = append(out, fmt.Sprintf("owner %s → %s", orDash(c.Current.Owner), orDash(c.Candidate.Owner)))
		case SLA:
			out = append(out, fmt.Sprintf("sla %s → %s", c.Current.SLA, c.Candidate.SLA))
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// CSVHeader is the CSV's first row.
var CSVHeader = []string{"lead_id", "stage", "changes",
	"mql_now", "mql_candidate", "score_now", "score_candidate", "segment_now", "segment_candidate",
	"route_now", "route_candidate", "owner_now", "owner_candidate", "sla_now", "sla_candidate"}

// WriteCSV writes one row per changed lead.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, c := range r.Changes {
		a, b := c.Current, c.Candidate
		row := []string{c.LeadID, string(c.Stage), strings.Join(c.What, " "),
			fmt.Sprint(a.MQL), fmt.Sprint(b.MQL), fmt.Sprint(a.Score), fmt.Sprint(b.Score), a.Segment, b.Segment,
			a.route(), b.route(), a.Owner, b.Owner, a.SLA, b.SLA}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
