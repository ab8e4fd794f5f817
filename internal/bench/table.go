package bench

import (
	"fmt"
	"io"
	"strings"
)

// Row is one figure of the table: leadflow's value beside its floor.
type Row struct {
	Figure   string // what is measured
	Leadflow string
	Floor    string // "" when the figure has no floor
	Ratio    string // leadflow / floor, "" without a floor
	Target   string // the target, "" when none
	Verdict  string // "met", "missed: …", or "" without a target
}

// Environment is where and how the bench ran.
type Environment struct {
	CPU, Cores, RAM string
	Go, Temporal    string
	Commit          string
	Command, Date   string
	Counts          string // the counts used, e.g. "open leads 20000"
	Note            string // e.g. the machine was shared
}

// Report is one run's table.
type Report struct {
	Env  Environment
	Rows []Row
}

// Add appends a row.
func (r *Report) Add(row Row) { r.Rows = append(r.Rows, row) }

// cell escapes what would break a markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// WriteMarkdown prints the environment as a list and the figures as one
// markdown table.
func (r *Report) WriteMarkdown(w io.Writer) error {
	e := r.Env
	var b strings.Builder
	fmt.Fprintf(&b, "### %s — `%s`\n\n", e.Date, cell(e.Command))
	fmt.Fprintf(&b, "- machine: %s, %s cores, %s RAM\n", e.CPU, e.Cores, e.RAM)
	fmt.Fprintf(&b, "- versions: %s, Temporal %s, leadflow %s\n", e.Go, e.Temporal, e.Commit)
	if e.Counts != "" {
		fmt.Fprintf(&b, "- counts: %s\n", e.Counts)
	}
	if e.Note != "" {
		fmt.Fprintf(&b, "- note: %s\n", e.Note)
	}
	b.WriteString("\n| figure | leadflow | floor | ratio | target | verdict |\n|---|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", cell(row.Figure), cell(row.Leadflow),
			cell(row.Floor), cell(row.Ratio), cell(row.Target), cell(row.Verdict))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// AtMost judges value ≤ limit (lower is better), naming the miss.
func AtMost(value, limit float64, unit string) string {
	if value <= limit {
		return "met"
	}
	return fmt.Sprintf("missed by %s%s (%.0f%% over)", trim(value-limit), unit, 100*(value-limit)/limit)
}

// AtLeast judges value ≥ limit (higher is better), naming the miss.
func AtLeast(value, limit float64, unit string) string {
	if value >= limit {
		return "met"
	}
	return fmt.Sprintf("missed by %s%s (%.0f%% short)", trim(limit-value), unit, 100*(limit-value)/limit)
}

func trim(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
