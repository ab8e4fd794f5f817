// Package e2e holds leadflow's end-to-end tests: the real worker and
// `starter serve` binaries, built from this tree, against a real Temporal dev
// server and a fresh Postgres database, driven through the signed HTTP API.
package e2e
