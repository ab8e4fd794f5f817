// Package leadview renders a lead for a person, as `starter lead show`,
// `lead explain` and the lead updates print it: owner, score and why, the
// SLA clock, nurture, side effects not done, recent history.
package leadview

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// recentHistory is how many transitions the summaries show.
const recentHistory = 8

// View prints a lead's state for a person: who owns it, why it
// scored what it did, the SLA clock, nurture and recent history.
func View(w io.Writer, v lead.View, now time.Time) {
	p := printer{w: w}
	p.line("lead %s", v.LeadID)
	p.field("stage", string(v.Stage))
	if v.MergedInto != "" {
		p.field("merged into", v.MergedInto)
	}
	p.field("owner", orDash(v.OwnerID))
	p.field("segment", orDash(v.Segment))
	p.field("territory", orDash(v.Territory))
	p.field("policy", orDash(v.PolicyVersion))
	renderScore(&p, v.Score)
	if len(v.Missing) > 0 {
		p.field("missing", strings.Join(v.Missing, ", ")+" (needed for handoff)")
	}
	if v.SLA != nil {
		s := v.SLA
		state := "on time"
		if s.Breached {
			state = "BREACHED"
		}
		p.field("sla", fmt.Sprintf("%s due %s (%s), level %d, %s",
			s.Kind, fmtTime(s.DueAt), relative(s.DueAt, now), s.Level, state))
		if s.NextStep != "" {
			p.field("", fmt.Sprintf("next: %s at %s", s.NextStep, fmtTime(s.NextAt)))
		}
	} else {
		p.field("sla", "-")
	}
	p.field("nurture", nurtureLine(v.Nurture))
	if v.RecycleCount > 0 || v.CoolOffUntil != nil {
		s := fmt.Sprintf("recycled %d time(s)", v.RecycleCount)
		if v.CoolOffUntil != nil {
			s += ", cool-off until " + fmtTime(*v.CoolOffUntil)
		}
		p.field("recycle", s)
	}
	if v.Play != nil {
		p.field("play", playLine(*v.Play))
	}
	if v.Stale {
		at := "-"
		if v.PublishedAt != nil {
			at = fmtTime(*v.PublishedAt) + " (" + relative(*v.PublishedAt, now) + ")"
		}
		p.field("stale", "no worker answered: the last state the lead published, at "+at)
	}
	renderEffects(&p, v.Effects, now)
	renderHistory(&p, v.History, v.PolicyVersion)
}

// Effects prints the lead's side effects not yet confirmed done, or says
// there are none (`starter lead retry-effects`).
func Effects(w io.Writer, v lead.View, now time.Time) {
	p := printer{w: w}
	p.line("lead %s", v.LeadID)
	if len(v.Effects) == 0 {
		p.field("effects", "none pending: every side effect is done")
		return
	}
	renderEffects(&p, v.Effects, now)
}

// renderEffects lists the side effects not yet confirmed done: failed ones
// first (they wait for `starter lead retry-effects`), then running and
// pending, each with its attempts and last error.
func renderEffects(p *printer, effects []lead.EffectView, now time.Time) {
	if len(effects) == 0 {
		return
	}
	order := map[string]int{lead.EffectFailed: 0, lead.EffectRunning: 1, lead.EffectPending: 2}
	sorted := append([]lead.EffectView(nil), effects...)
	sort.SliceStable(sorted, func(i, j int) bool { return order[sorted[i].Status] < order[sorted[j].Status] })
	failed := 0
	for _, e := range sorted {
		if e.Status == lead.EffectFailed {
			failed++
		}
	}
	head := fmt.Sprintf("effects (%d not done", len(sorted))
	if failed > 0 {
		head += fmt.Sprintf(", %d failed: `starter lead retry-effects` starts them again", failed)
	}
	p.line("%s):", head)
	for _, e := range sorted {
		line := fmt.Sprintf("  %-7s %s  attempts %d, since %s", strings.ToUpper(e.Status), e.Kind, e.Attempts, relative(e.Since, now))
		if e.Summary != "" {
			line += "  — " + e.Summary
		}
		p.line("%s", line)
		if e.LastError != "" {
			p.line("          last error: %s", e.LastError)
		}
	}
}

// Explanation prints the explain query: the why behind the state.
func Explanation(w io.Writer, x lead.Explanation) {
	p := printer{w: w}
	p.line("lead %s", x.LeadID)
	p.field("stage", string(x.Stage))
	p.field("why", orDash(x.Why))
	p.field("policy", orDash(x.PolicyVersion))
	renderScore(&p, x.Score)
	p.field("threshold", fmt.Sprint(x.Threshold))
	if x.Trigger != "" {
		p.field("trigger", x.Trigger)
	}
	if r := x.Routing; r != nil {
		p.line("routing (%s):", fmtTime(r.At))
		p.field("  rule", r.Rule)
		if r.Territory != "" {
			p.field("  territory", r.Territory)
		}
		if r.Pool != "" {
			p.field("  pool", fmt.Sprintf("%s (%s)", r.Pool, orDash(r.Strategy)))
		}
		owner := r.OwnerID
		if r.Fallback {
			owner += " (fallback)"
		}
		p.field("  owner", owner)
		p.field("  why", orDash(r.Why))
		if len(r.Inputs) > 0 {
			keys := make([]string, 0, len(r.Inputs))
			for k := range r.Inputs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = k + "=" + r.Inputs[k]
			}
			p.field("  inputs", strings.Join(parts, " "))
		}
		for _, c := range r.Candidates {
			switch {
			case c.Chosen:
				p.line("    * %s chosen", c.RepID)
			case c.Skipped != "":
				p.line("    - %s skipped: %s", c.RepID, c.Skipped)
			default:
				p.line("    - %s", c.RepID)
			}
		}
		if r.PolicyVersion != "" && r.PolicyVersion != x.PolicyVersion {
			p.field("  policy", r.PolicyVersion)
		}
	} else {
		p.field("routing", "- (not routed)")
	}
	p.field("nurture", nurtureLine(x.Suppression))
	if len(x.Ladder) > 0 {
		p.line("sla ladder:")
		for _, s := range x.Ladder {
			line := fmt.Sprintf("  %s  %s step %d: %s (owner %s)", fmtTime(s.At), s.SLA, s.Step, s.Action, s.OwnerID)
			if s.Note != "" {
				line += " — " + s.Note
			}
			line += otherPolicy(s.Policy, x.PolicyVersion)
			p.line("%s", line)
		}
	}
	if len(x.Refusals) > 0 {
		p.line("refused feedback:")
		for _, r := range x.Refusals {
			p.line("  %s  %s %s: %s", fmtTime(r.At), r.Type, r.EventID, r.Message)
		}
	}
	if len(x.Alerts) > 0 {
		p.line("alerts:")
		for _, a := range x.Alerts {
			p.line("  %s  %s: %s", fmtTime(a.At), a.Kind, a.Message)
		}
	}
	renderHistory(&p, x.History, x.PolicyVersion)
	if n := len(x.Timeline); n > 0 {
		p.line("recent events:")
		for _, t := range x.Timeline[max(0, n-recentHistory):] {
			line := fmt.Sprintf("  %s  %s %s", fmtTime(t.At), t.Type, t.EventID)
			if t.Summary != "" {
				line += " — " + t.Summary
			}
			p.line("%s", line)
		}
	}
}

func renderScore(p *printer, s lead.ScoreView) {
	p.field("score", fmt.Sprintf("%d (fit %d, intent %d)", s.Total, s.Fit, s.Intent))
	for _, b := range s.Breakdown {
		line := fmt.Sprintf("  %+4d %s", b.Points, b.Rule)
		var extra []string
		if b.Kind != "" {
			extra = append(extra, b.Kind)
		}
		if b.EventID != "" {
			extra = append(extra, "event "+b.EventID)
		}
		if len(extra) > 0 {
			line += " (" + strings.Join(extra, ", ") + ")"
		}
		p.line("%s", line)
	}
}

// renderHistory prints the latest stage changes; one decided under another
// policy version than the lead's current one names it.
func renderHistory(p *printer, h []lead.Transition, current string) {
	if len(h) == 0 {
		return
	}
	p.line("history:")
	if len(h) > recentHistory {
		p.line("  … %d earlier", len(h)-recentHistory)
		h = h[len(h)-recentHistory:]
	}
	for _, t := range h {
		from := string(t.From)
		if from == "" {
			from = "(new)"
		}
		line := fmt.Sprintf("  %s  %s → %s", fmtTime(t.At), from, t.To)
		if t.Why != "" {
			line += "  " + t.Why
		}
		line += otherPolicy(t.Policy, current)
		p.line("%s", line)
	}
}

// otherPolicy is " [policy V]" when V decided something and is not the
// lead's current version.
func otherPolicy(v, current string) string {
	if v == "" || v == current {
		return ""
	}
	return " [policy " + v + "]"
}

func nurtureLine(n lead.NurtureView) string {
	var parts []string
	if n.Enrolled {
		s := "enrolled"
		if n.Track != "" {
			s += fmt.Sprintf(" on %s step %d", n.Track, n.Step)
		}
		parts = append(parts, s)
	} else {
		parts = append(parts, "not enrolled")
	}
	if n.Suppressed {
		s := "suppressed"
		if len(n.Reasons) > 0 {
			s += " (" + strings.Join(n.Reasons, ", ") + ")"
		}
		parts = append(parts, s)
	}
	if n.NextAt != nil {
		parts = append(parts, "next touch "+fmtTime(*n.NextAt))
	}
	return strings.Join(parts, ", ")
}

func playLine(pl lead.PlayView) string {
	s := pl.Name + " → " + pl.To
	if pl.Nurture != "" {
		s += ", nurture " + pl.Nurture
	}
	if pl.CoolOff != "" {
		s += ", cool-off " + pl.CoolOff
	}
	if pl.Score != "" {
		s += ", score " + pl.Score
	}
	return s
}

// printer writes aligned "label  value" lines.
type printer struct{ w io.Writer }

func (p *printer) line(format string, a ...any) { fmt.Fprintf(p.w, format+"\n", a...) }

func (p *printer) field(label, value string) {
	if label != "" {
		label += ":"
	}
	fmt.Fprintf(p.w, "  %-12s %s\n", label, value)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// relative says how far t is from now: "in 12m" or "3h ago".
func relative(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now)
	if d >= 0 {
		return "in " + shortDur(d)
	}
	return shortDur(-d) + " ago"
}

func shortDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
