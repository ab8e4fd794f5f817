package e2e

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// BenchmarkSpeedToLead measures speed-to-lead end to end: from the signed
// POST /v1/events of a quote request to the handoff task existing in the
// built-in CRM (routed, owner assigned, task with context), on a dev server
// and Postgres on this machine. Run:
//
//	LEADFLOW_E2E_NORACE=1 go test -run '^$' -bench SpeedToLead -benchtime 50x ./internal/e2e
func BenchmarkSpeedToLead(b *testing.B) {
	s := newStack(b, fastPolicy)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("SPEED-%d-%d", time.Now().UnixNano(), i)
		p := westCoast()
		start := time.Now()
		s.send(quote("s-"+id, id, p))
		for {
			var n int
			if err := s.st.Pool().QueryRow(b.Context(), `SELECT count(*) FROM tasks WHERE lead_id = $1`, id).Scan(&n); err != nil {
				b.Fatal(err)
			}
			if n > 0 {
				break
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("%s: no task after 30s", id)
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
}
