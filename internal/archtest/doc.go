// Package archtest holds a test that keeps the house plan's dependency rules
// true: pure decision packages import nothing of Temporal, pgx or net/http;
// workflows/ imports no adapter; activities/ never imports workflows/; the
// simulator (internal/sim) and the renderings (internal/report,
// internal/leadview) import no Temporal client, and starter/ calls them;
// activities are called and registered only through internal/actions'
// typed references, workflow code lives only in workflows/, and only the
// wiring holds the whole *store.DB.
package archtest
