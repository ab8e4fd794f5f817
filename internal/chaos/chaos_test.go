//go:build chaos

package chaos

import (
	"sync"
	"testing"
)

type scenario struct {
	name string
	run  func(t *testing.T)
}

// TestChaos runs the fault scenarios in two phases. The outages are long
// and mostly idle (a lead every few seconds while a dependency is down), so
// they run side by side; the crash storm replays every workflow after each
// kill and would steal the CPU their latency figures depend on, so it runs
// alone after them. Run one with e.g.
// -run 'TestChaos/outages/postgres-3m'.
func TestChaos(t *testing.T) {
	phase(t, "outages", []scenario{
		{"nurture-503", testNurtureOutage},
		{"hubspot-429-503", testHubSpotOutage},
		{"postgres-3m", testPostgresOutage},
		{"no-worker-accept", testNoWorkerAccept},
		{"terminated-restart", testTerminatedRestart},
	})
	phase(t, "crashes", []scenario{
		{"worker-kill-20", testWorkerKills},
	})
}

// phase runs the scenarios concurrently as subtests of one subtest, so the
// next phase starts when all of them have ended. (t.Run from goroutines,
// not t.Parallel, so -parallel does not serialise them on a 2-core box.)
func phase(t *testing.T, name string, scenarios []scenario) {
	t.Run(name, func(t *testing.T) {
		var wg sync.WaitGroup
		for _, sc := range scenarios {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.Run(sc.name, sc.run)
			}()
		}
		wg.Wait()
	})
}
