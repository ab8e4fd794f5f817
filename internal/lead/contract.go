// Package lead is leadflow's shared vocabulary: the contract names of
// ../shared/CONTRACT.md, the event envelope, stages, reasons and the lead
// state. It imports nothing of Temporal, pgx or net/http, so every other
// package (pure or adapter) can depend on it.
package lead

// Temporal names fixed by the public contract. One place defines each.
const (
	TaskQueue        = "leadflow"
	WorkflowType     = "LeadWorkflow"
	DefaultNamespace = "default"
	DefaultAddress   = "127.0.0.1:7233"

	SignalEvent    = "event"
	UpdateAccept   = "accept"
	UpdateReject   = "reject"
	UpdateReassign = "reassign"
	QueryState     = "state"
	QueryExplain   = "explain"

	// UpdateRetryEffects re-drives the lead's failed side effects (an
	// operator's `starter lead retry-effects`): an addition to the contract.
	UpdateRetryEffects = "retryEffects"
)

// ErrTypeUnavailable is the Temporal application-error type an update
// handler returns when a dependency (the directory in Postgres) could not
// answer in time: the request was not applied and may be retried. The HTTP
// edge answers 503 for it, never 422.
const ErrTypeUnavailable = "Unavailable"

// Search attribute names (types in SearchAttributeTypes).
const (
	SALeadStage         = "LeadStage"
	SALeadOwner         = "LeadOwner"
	SALeadSegment       = "LeadSegment"
	SALeadTerritory     = "LeadTerritory"
	SAPolicyVersion     = "PolicyVersion"
	SALeadScore         = "LeadScore"
	SASLADueAt          = "SLADueAt"
	SASLABreached       = "SLABreached"
	SANurtureSuppressed = "NurtureSuppressed"
)

// SearchAttributeTypes lists every search attribute the worker needs, with
// the type name the Temporal CLI and API use. Order is stable for callers
// that print or register them.
var SearchAttributeTypes = []struct{ Name, Type string }{
	{SALeadStage, "Keyword"},
	{SALeadOwner, "Keyword"},
	{SALeadSegment, "Keyword"},
	{SALeadTerritory, "Keyword"},
	{SAPolicyVersion, "Keyword"},
	{SALeadScore, "Int"},
	{SASLADueAt, "Datetime"},
	{SASLABreached, "Bool"},
	{SANurtureSuppressed, "Bool"},
}

// WorkflowID is the workflow ID of a lead: "lead/<leadId>".
func WorkflowID(leadID string) string { return "lead/" + leadID }

// StartInput is what a caller passes when SignalWithStart creates a lead's
// workflow. Its JSON is the first-run form of workflows.Input (which also
// carries the state across Continue-As-New); callers use this type so they
// need not import the workflow package.
type StartInput struct {
	LeadID string `json:"leadId"`
}
