package metrics

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/week"
)

// LastWeek is the last full week, Monday 00:00 to the next Monday 00:00 in
// loc, before the week that contains now.
func LastWeek(now time.Time, loc *time.Location) Period {
	w := week.Last(now, loc)
	return Period{From: w.From, To: w.To}
}

// Percent formats a rate as a percentage with one decimal ("28.6%").
func Percent(rate float64) string {
	return fmt.Sprintf("%.1f%%", rate*100)
}

// HumanSeconds formats a duration in seconds for people: "45s", "30m",
// "2h 5m", "2d 18h".
func HumanSeconds(s float64) string {
	d := time.Duration(math.Round(s)) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(math.Round(d.Minutes())))
	case d < 24*time.Hour:
		h := int(d / time.Hour)
		m := int(math.Round((d - time.Duration(h)*time.Hour).Minutes()))
		if m == 60 {
			h, m = h+1, 0
		}
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days := int(d / (24 * time.Hour))
	h := int(math.Round((d - time.Duration(days)*24*time.Hour).Hours()))
	if h == 24 {
		days, h = days+1, 0
	}
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// HumanDays formats a number of days ("0.5d" under a day is shown in hours).
func HumanDays(days float64) string { return HumanSeconds(days * 86400) }

// Amount formats money without currency: "12,500" (two decimals when not whole).
func Amount(a float64) string {
	neg := a < 0
	if neg {
		a = -a
	}
	whole := int64(a)
	frac := a - float64(whole)
	s := fmt.Sprintf("%d", whole)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac > 0.005 {
		out += fmt.Sprintf("%.2f", frac)[1:]
	}
	if neg {
		out = "-" + out
	}
	return out
}

// Summary is a few lines for a manager: the week's headline numbers of the
// first row (a report by "").
func Summary(r Report, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	var b strings.Builder
	from, to := r.Period.From.In(loc), r.Period.To.In(loc).Add(-time.Nanosecond)
	fmt.Fprintf(&b, "leadflow weekly report %s – %s (%s)\n", from.Format("2006-01-02"), to.Format("2006-01-02"), loc)
	if len(r.Rows) == 0 {
		b.WriteString("No activity.\n")
		return b.String()
	}
	row := r.Rows[0]
	fmt.Fprintf(&b, "Handed off %d: accepted %d, rejected %d, pending %d (acceptance %s of decided)",
		row.HandedOff, row.Accepted, row.Rejected, row.Pending, Percent(row.AcceptanceRate))
	if len(row.RejectionReasons) > 0 {
		top := row.RejectionReasons[0]
		fmt.Fprintf(&b, "; top rejection reason %s: %d (%s)", top.Reason, top.Count, Percent(top.Share))
	}
	b.WriteString("\n")
	if row.TTFTBusiness.N > 0 {
		fmt.Fprintf(&b, "Time to first touch (business hours): p50 %s, p90 %s, max %s over %d touched handoffs",
			HumanSeconds(row.TTFTBusiness.P50), HumanSeconds(row.TTFTBusiness.P90), HumanSeconds(row.TTFTBusiness.Max), row.TTFTBusiness.N)
		if row.Untouched > 0 {
			fmt.Fprintf(&b, "; %d not touched yet", row.Untouched)
		}
		b.WriteString("\n")
	} else if row.Untouched > 0 {
		fmt.Fprintf(&b, "Time to first touch: %d handoffs not touched yet\n", row.Untouched)
	}
	if row.SpeedToLead.N > 0 {
		fmt.Fprintf(&b, "Speed-to-lead: p50 %s, p90 %s\n", HumanSeconds(row.SpeedToLead.P50), HumanSeconds(row.SpeedToLead.P90))
	}
	sla := row.FirstTouchSLA
	rate := "none judged"
	if sla.Met+sla.Breached > 0 {
		rate = Percent(sla.Rate) + " met"
	}
	fmt.Fprintf(&b, "SLA: first touch %s (%d met, %d breached, %d pending), acceptance %s met (%d/%d); %d breaches, %d escalations, %d reassignments\n",
		rate, sla.Met, sla.Breached, sla.Pending,
		Percent(row.AcceptanceSLA.Rate), row.AcceptanceSLA.Met, row.AcceptanceSLA.Total,
		row.Breaches, row.Escalations, row.Reassignments)
	parts := make([]string, len(row.Cohort))
	for i, s := range row.Cohort {
		parts[i] = fmt.Sprintf("%s %d", s.Stage, s.Leads)
	}
	fmt.Fprintf(&b, "Funnel (cohort of new leads): %s\n", strings.Join(parts, " → "))
	fmt.Fprintf(&b, "Pipeline: %d opportunities created (%s), %d won (%s)\n",
		row.Pipeline.Count, Amount(row.Pipeline.Amount), row.Won.Count, Amount(row.Won.Amount))
	return b.String()
}
