// Package chaos is leadflow's fault suite (`make chaos`, part of `make
// test`): the real worker and `starter serve` binaries, built from this
// tree, on a Temporal dev server and a Postgres cluster of the suite's own
// (initdb into a temporary directory, a free loopback port), with faults
// injected from outside the processes — Postgres stopped, the worker killed
// with SIGKILL, the dev server restarted on its database file, the fake
// HubSpot and nurture receiver answering 429/503 for minutes — and each
// scenario measuring what leadflow promises under them: handoffs within a
// second, SLA ladder steps on time, every action delivered once, no lead
// lost, every history replayable.
//
// The tests are behind the build tag `chaos`, so `go test ./...` never
// starts them by accident: run them with
//
//	make chaos
//	go test -tags chaos -count=1 -v -timeout 15m ./internal/chaos
//
// Each scenario logs its figures and ends with one summary line
// ("CHAOS <scenario> PASS|FAIL: …"); the suite prints all summary lines
// again at the end. docs/reliability.md has the faults, the figures of the
// last runs and what failed then.
//
// LEADFLOW_CHAOS_SHORT=1 shortens every outage to 20 s (for working on the
// suite itself; the figures then prove little). LEADFLOW_CHAOS_LOGS=DIR keeps
// every process log there. LEADFLOW_CHAOS_RACE=1 builds the binaries with
// -race.
package chaos
