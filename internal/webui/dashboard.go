package webui

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/metrics"
)

// defaultDays is the dashboard's period when none is given: the last four
// weeks up to the end of today (UTC).
const defaultDays = 28

type bar struct {
	Label, Value string
	Y, W, TextY  int
	ValueX       int
}

// barChart is a horizontal bar chart in SVG user units.
type barChart struct {
	ID, Title     string
	Width, Height int
	LabelW, BarH  int
	Bars          []bar
}

const (
	chartW   = 560
	labelW   = 130
	valueW   = 90
	rowH     = 30
	barThick = 20
)

// newBarChart scales values against max (the largest value when max is 0).
func newBarChart(id, title string, labels []string, values []float64, texts []string, max float64) barChart {
	if max == 0 {
		for _, v := range values {
			if v > max {
				max = v
			}
		}
	}
	c := barChart{ID: id, Title: title, Width: chartW, Height: rowH*len(labels) + 4, LabelW: labelW, BarH: barThick}
	span := chartW - labelW - valueW
	for i, l := range labels {
		w := 0
		if max > 0 {
			w = int(values[i] / max * float64(span))
		}
		if w == 0 && values[i] > 0 {
			w = 1
		}
		y := i*rowH + 4
		c.Bars = append(c.Bars, bar{Label: l, Value: texts[i], Y: y, W: w, TextY: y + barThick - 5, ValueX: labelW + w + 6})
	}
	return c
}

func (u *UI) dashboard(w http.ResponseWriter, r *http.Request, p principal) {
	period, from, to, err := u.period(r.URL.Query())
	pg := dashboardPage{page: u.newPage("Dashboard", "dashboard", p), From: from, To: to, Period: period}
	if err != nil {
		pg.Error = err.Error()
		u.render(w, http.StatusBadRequest, "dashboard", pg)
		return
	}
	d, err := u.cfg.Data.Dashboard(r.Context(), period)
	if err != nil {
		u.log.Warn("webui: dashboard", zap.Error(err))
		u.fail(w, http.StatusServiceUnavailable, p, "The numbers could not be computed; try again shortly.")
		return
	}
	pg.fill(d)
	for _, s := range d.Stuck {
		pg.Stuck = append(pg.Stuck, stuckRow{LeadID: s.LeadID, Stage: s.Stage, OwnerID: s.OwnerID, Deadline: s.Deadline,
			DueAt: s.DueAt, Overdue: fmtDuration(d.AsOf.Sub(s.DueAt)), URL: u.workflowURL(s.LeadID)})
	}
	u.render(w, http.StatusOK, "dashboard", pg)
}

// workflowURL is the lead's workflow in the Temporal UI.
func (u *UI) workflowURL(leadID string) string {
	return u.cfg.TemporalUIURL + url.PathEscape("lead/"+leadID)
}

// period reads from/to: dates (YYYY-MM-DD, midnight in the policy's time
// zone, as `starter report` reads its days) or RFC 3339 times; the window
// is [from, to). The default is the last four weeks up to the end of today.
// Dashboard from=A&to=B covers the same period as `starter report --from A
// --to <the day before B>`.
func (u *UI) period(q url.Values) (Period, string, string, error) {
	fromS, toS := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	loc := u.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := u.cfg.Now().In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	p := Period{To: today.AddDate(0, 0, 1)}
	var err error
	if toS != "" {
		if p.To, err = parseWhen(toS, loc); err != nil {
			return Period{}, fromS, toS, fmt.Errorf("to: %v", err)
		}
	}
	p.From = p.To.AddDate(0, 0, -defaultDays)
	if fromS != "" {
		if p.From, err = parseWhen(fromS, loc); err != nil {
			return Period{}, fromS, toS, fmt.Errorf("from: %v", err)
		}
	}
	if !p.From.Before(p.To) {
		return Period{}, fromS, toS, fmt.Errorf("from must be before to")
	}
	if p.To.Sub(p.From) > metrics.MaxWeeks*7*24*time.Hour {
		return Period{}, fromS, toS, fmt.Errorf("the period is longer than %d weeks", metrics.MaxWeeks)
	}
	if fromS == "" {
		fromS = p.From.In(loc).Format("2006-01-02")
	}
	if toS == "" {
		toS = p.To.In(loc).Format("2006-01-02")
	}
	return p, fromS, toS, nil
}

func parseWhen(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a date (2006-01-02) nor an RFC 3339 time", s)
}
