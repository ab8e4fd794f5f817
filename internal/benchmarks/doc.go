// Package benchmarks measures the pure decision path one lead takes through
// leadflow — scoring, segmenting, routing, SLA deadlines, the suppression
// guard — without Temporal or I/O. Run: go test -run x -bench . ./internal/benchmarks
package benchmarks
