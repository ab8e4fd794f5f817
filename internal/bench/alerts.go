package bench

import (
	"context"
	"fmt"
	"strings"
)

// alerts counts the lead alerts (the built-in CRM's alerts table) each
// scenario's leads raised: an alert such as routing_failed means a lead
// waited for a retry, which the latency figures include but do not name.
func (b *bench) alerts(ctx context.Context) error {
	rows, err := b.st.Pool().Query(ctx, `
		SELECT regexp_replace(lead_id, '-[0-9]+$', '') AS scenario, kind, count(*)
		FROM alerts WHERE lead_id LIKE $1 GROUP BY 1, 2 ORDER BY 1, 2`, "%-"+b.runID+"%")
	if err != nil {
		return fmt.Errorf("count alerts: %w", err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var scenario, kind string
		var n int
		if err := rows.Scan(&scenario, &kind, &n); err != nil {
			return fmt.Errorf("read alert count: %w", err)
		}
		parts = append(parts, fmt.Sprintf("%s: %s × %d", strings.Replace(scenario, "-"+b.runID, "", 1), kind, n))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read alert counts: %w", err)
	}
	v := "none"
	if len(parts) > 0 {
		v = strings.Join(parts, "; ")
	}
	b.report.Add(Row{Figure: "lead alerts raised, by scenario (BSPEED-R: speed-to-lead at R/s; BOPEN: open leads)", Leadflow: v})
	return nil
}
