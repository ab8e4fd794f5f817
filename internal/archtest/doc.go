// Package archtest holds a test that keeps the house plan's dependency rules
// true: pure decision packages import nothing of Temporal, pgx or net/http;
// workflows/ imports no adapter; activities/ never imports workflows/.
package archtest
