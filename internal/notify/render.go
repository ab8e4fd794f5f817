package notify

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"github.com/slack-go/slack"
)

// Limits of Slack's Block Kit (a header's text, a section's text).
const (
	maxHeader  = 150
	maxSection = 3000
)

// Text is the plain-text rendering (the email's text part).
func Text(m Message) string {
	var b strings.Builder
	b.WriteString(m.Title + "\n\n")
	if m.LeadID != "" {
		fmt.Fprintf(&b, "Lead: %s\n", m.LeadID)
	}
	if m.Contact != "" {
		fmt.Fprintf(&b, "Contact: %s\n", m.Contact)
	}
	if m.WhyNow != "" {
		fmt.Fprintf(&b, "Why now: %s\n", m.WhyNow)
	}
	if d := m.Due(); d != "" {
		fmt.Fprintf(&b, "SLA due: %s\n", d)
	}
	if m.Body != "" {
		b.WriteString("\n" + m.Body + "\n")
	}
	if m.InboxURL != "" || m.WorkflowURL != "" {
		b.WriteString("\n")
	}
	if m.InboxURL != "" {
		fmt.Fprintf(&b, "Inbox: %s\n", m.InboxURL)
	}
	if m.WorkflowURL != "" {
		fmt.Fprintf(&b, "Workflow: %s\n", m.WorkflowURL)
	}
	return b.String()
}

var htmlTmpl = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<h2>{{.Title}}</h2>
<table>
{{- if .LeadID}}<tr><th align="left">Lead</th><td>{{.LeadID}}</td></tr>{{end}}
{{- if .Contact}}<tr><th align="left">Contact</th><td>{{.Contact}}</td></tr>{{end}}
{{- if .WhyNow}}<tr><th align="left">Why now</th><td>{{.WhyNow}}</td></tr>{{end}}
{{- with .Due}}<tr><th align="left">SLA due</th><td>{{.}}</td></tr>{{end}}
</table>
{{- range .Paragraphs}}
<p>{{.}}</p>
{{- end}}
<p>
{{- if .InboxURL}}<a href="{{.InboxURL}}">Open the inbox</a>{{end}}
{{- if and .InboxURL .WorkflowURL}} · {{end}}
{{- if .WorkflowURL}}<a href="{{.WorkflowURL}}">Workflow in Temporal</a>{{end}}
</p>
</body></html>
`))

// HTML is the HTML rendering (the email's alternative part), escaped.
func HTML(m Message) (string, error) {
	var b bytes.Buffer
	err := htmlTmpl.Execute(&b, struct {
		Message
		Due        string
		Paragraphs []string
	}{m, m.Due(), paragraphs(m.Body)})
	if err != nil {
		return "", fmt.Errorf("render email for %s: %w", m.Key, err)
	}
	return b.String(), nil
}

func paragraphs(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Blocks is the Slack Block Kit rendering: a header, the lead and the body,
// why now and the due time, and buttons to the inbox and the workflow.
func Blocks(m Message) []slack.Block {
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(m.Title, maxHeader), false, false))
	var lines []string
	if m.To.Slack != "" {
		lines = append(lines, "<@"+m.To.Slack+">") // a mention, so a shared channel pings the person
	}
	if m.LeadID != "" {
		lead := "*Lead* `" + escape(m.LeadID) + "`"
		if m.Contact != "" {
			lead += " · " + escape(m.Contact)
		}
		lines = append(lines, lead)
	}
	if m.Body != "" {
		lines = append(lines, escape(m.Body))
	}
	blocks := []slack.Block{header}
	if len(lines) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(strings.Join(lines, "\n"), maxSection), false, false), nil, nil))
	}
	var fields []*slack.TextBlockObject
	if m.WhyNow != "" {
		fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, "*Why now*\n"+truncate(escape(m.WhyNow), 1900), false, false))
	}
	if d := m.Due(); d != "" {
		fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, "*SLA due*\n"+d, false, false))
	}
	if len(fields) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	}
	var buttons []slack.BlockElement
	if m.InboxURL != "" {
		b := slack.NewButtonBlockElement("inbox", m.LeadID, slack.NewTextBlockObject(slack.PlainTextType, "Open inbox", false, false))
		b.URL = m.InboxURL
		b.Style = slack.StylePrimary
		buttons = append(buttons, b)
	}
	if m.WorkflowURL != "" {
		b := slack.NewButtonBlockElement("workflow", m.LeadID, slack.NewTextBlockObject(slack.PlainTextType, "Workflow in Temporal", false, false))
		b.URL = m.WorkflowURL
		buttons = append(buttons, b)
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("links", buttons...))
	}
	return blocks
}

// escape keeps Slack from reading user text as markup (links, mentions).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
