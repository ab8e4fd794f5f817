package hubspot

import (
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
)

// Task and note bodies are HubSpot rich text (HTML). Everything that comes
// from a lead is escaped.

// maxTimeline is how many timeline items a task body shows (the latest).
const maxTimeline = 15

// maxBody keeps a body well under HubSpot's 65,536-character limit.
const maxBodyChars = 60000

func esc(s string) string { return html.EscapeString(s) }

// section renders a titled paragraph of lines.
func section(b *strings.Builder, title string, lines ...string) {
	if len(lines) == 0 {
		return
	}
	b.WriteString("<p><strong>" + esc(title) + "</strong>")
	for _, l := range lines {
		b.WriteString("<br>" + esc(l))
	}
	b.WriteString("</p>")
}

// paragraphs renders plain text: blank lines separate paragraphs, line
// breaks are kept.
func paragraphs(text string) string {
	var b strings.Builder
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		b.WriteString("<p>" + strings.ReplaceAll(esc(p), "\n", "<br>") + "</p>")
	}
	return truncate(b.String(), maxBodyChars)
}

// footer names the lead (and extra) for whoever reads the record.
func footer(leadID, extra string) string {
	s := "leadflow lead " + leadID
	if extra != "" {
		s += " · " + extra
	}
	return "<p>" + esc(s) + "</p>"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && (s[cut]&0xC0) == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// renderTaskBody is the rep's view of a task: why now, the score and its
// breakdown, the timeline, the campaign, what is missing.
func renderTaskBody(in actions.TaskInput) string {
	var b strings.Builder
	x := in.Context
	if x == nil {
		b.WriteString(footer(in.LeadID, in.Kind+" task"))
		return b.String()
	}
	why := x.WhyNow
	if why == "" {
		why = x.Trigger
	}
	if why != "" {
		section(&b, "Why now", why)
	}
	if x.Trigger != "" && x.Trigger != why {
		section(&b, "Trigger", x.Trigger)
	}
	if s := x.Score; s.Total != 0 || len(s.Breakdown) > 0 {
		lines := []string{fmt.Sprintf("%d (fit %d, intent %d)", s.Total, s.Fit, s.Intent)}
		for _, it := range s.Breakdown {
			l := fmt.Sprintf("%+d %s", it.Points, it.Rule)
			if it.EventID != "" {
				l += " (event " + it.EventID + ")"
			}
			lines = append(lines, l)
		}
		section(&b, "Score", lines...)
	}
	if n := len(x.Timeline); n > 0 {
		items := x.Timeline
		var lines []string
		if n > maxTimeline {
			lines = append(lines, fmt.Sprintf("(%d earlier events not shown)", n-maxTimeline))
			items = items[n-maxTimeline:]
		}
		for _, it := range items {
			l := stamp(it.At) + " — " + it.Type
			if it.Summary != "" {
				l += " — " + it.Summary
			}
			lines = append(lines, l)
		}
		section(&b, "Timeline", lines...)
	}
	if len(x.Campaign) > 0 {
		keys := make([]string, 0, len(x.Campaign))
		for k := range x.Campaign {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		lines := make([]string, len(keys))
		for i, k := range keys {
			lines[i] = k + ": " + x.Campaign[k]
		}
		section(&b, "Campaign", lines...)
	}
	if len(x.Missing) > 0 {
		section(&b, "Missing", strings.Join(x.Missing, ", "))
	}
	extra := in.Kind + " task"
	if x.Segment != "" {
		extra += " · segment " + x.Segment
	}
	if x.PolicyVersion != "" {
		extra += " · policy " + x.PolicyVersion
	}
	return truncate(b.String(), maxBodyChars) + footer(in.LeadID, extra)
}
