package temporalx

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
)

// Deadlines of the calls the HTTP edge waits on.
const (
	// DefaultUpdateTimeout is LEADFLOW_UPDATE_TIMEOUT's default.
	DefaultUpdateTimeout = 10 * time.Second
	// maxQueryTimeout caps the state and explain queries' deadline: a read
	// that cannot be answered falls back to the published state, and
	// should do so quickly.
	maxQueryTimeout = 5 * time.Second
	// probeTimeout bounds the DescribeWorkflowExecution that tells "no
	// worker took it" from "Temporal did not answer" after a deadline.
	probeTimeout = 2 * time.Second
)

// LeadClient implements api.Leads over a Temporal client.
type LeadClient struct {
	c         client.Client
	taskQueue string
	// Segment, if set, names the segment of a new lead's first event for
	// its static summary (the policy's segments; see SegmentBy).
	Segment func(*lead.Profile) string
	// UpdateTimeout bounds Update: the wait for a worker to take the
	// update and finish it (LEADFLOW_UPDATE_TIMEOUT; 0 means
	// DefaultUpdateTimeout).
	UpdateTimeout time.Duration
	// QueryTimeout bounds Query; 0 means UpdateTimeout, at most 5 s.
	QueryTimeout time.Duration
	// ListPageSize is the page size of OwnedBy's visibility queries (0:
	// defaultListPageSize).
	ListPageSize int
}

var (
	_ api.Leads     = (*LeadClient)(nil)
	_ api.OpenLeads = (*LeadClient)(nil)
)

// NewLeadClient returns a LeadClient starting workflows on taskQueue.
func NewLeadClient(c client.Client, taskQueue string) *LeadClient {
	return &LeadClient{c: c, taskQueue: taskQueue}
}

// Deliver signals ev to the lead's workflow, starting it if needed. The
// call returns once the server has persisted the signal. A lead whose last
// run completed successfully is merged (a LeadWorkflow completes only
// then): Temporal refuses to start it again and Deliver returns an error
// wrapping api.ErrLeadClosed, so the API sends the event to the survivor.
func (l *LeadClient) Deliver(ctx context.Context, leadID string, ev lead.Event) error {
	wfID := lead.WorkflowID(leadID)
	opts := client.StartWorkflowOptions{
		ID:        wfID,
		TaskQueue: l.taskQueue,
		// Running: signalled. Terminated, failed, timed out or cancelled (an
		// operator's fix, a bug): a later event starts a new life. Completed
		// (merged): WorkflowExecutionAlreadyStarted.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		// Shown in the UI and CLI: IDs only, never PII.
		StaticSummary: l.summary(leadID, ev),
		StaticDetails: fmt.Sprintf("Started by event %s (%s) that occurred at %s.",
			summaryText(ev.ID, "?"), summaryText(ev.Type, "?"), ev.OccurredAt.UTC().Format(time.RFC3339)),
	}
	if _, err := l.c.SignalWithStartWorkflow(ctx, wfID, lead.SignalEvent, ev, opts, lead.WorkflowType, lead.StartInput{LeadID: leadID}); err != nil {
		if _, ok := errors.AsType[*serviceerror.WorkflowExecutionAlreadyStarted](err); ok {
			return fmt.Errorf("deliver event %s to %s: %w (%w)", ev.ID, wfID, api.ErrLeadClosed, err)
		}
		return fmt.Errorf("deliver event %s to %s: %w", ev.ID, wfID, err)
	}
	return nil
}

func (l *LeadClient) updateTimeout() time.Duration {
	if l.UpdateTimeout > 0 {
		return l.UpdateTimeout
	}
	return DefaultUpdateTimeout
}

func (l *LeadClient) queryTimeout() time.Duration {
	if l.QueryTimeout > 0 {
		return l.QueryTimeout
	}
	return min(l.updateTimeout(), maxQueryTimeout)
}

// Update runs the named update and waits at most UpdateTimeout for its
// result, in two steps so a timeout can say which one ran out: until a
// worker accepts the update (its validator passed) or rejects it, then
// until the handler finishes. Errors (see updateError for the mapping):
// a lead without a workflow is api.ErrNotFound; a refusal is *api.Refused;
// a deadline, or a handler error of type lead.ErrTypeUnavailable, is
// *api.Unavailable.
func (l *LeadClient) Update(ctx context.Context, leadID, name, updateID string, req any) (lead.View, error) {
	wfID := lead.WorkflowID(leadID)
	timeout := l.updateTimeout()
	uctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h, err := l.c.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID:   wfID,
		UpdateName:   name,
		UpdateID:     updateID, // the request's id: a retried request returns the first outcome
		Args:         []any{req},
		WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	if err != nil {
		if ctx.Err() == nil && isDeadline(err) {
			return lead.View{}, l.notTaken(ctx, wfID, name, timeout, err)
		}
		return lead.View{}, updateError(wfID, name, err)
	}
	var v lead.View
	if err := h.Get(uctx, &v); err != nil {
		if ctx.Err() == nil && isDeadline(err) {
			return lead.View{}, &api.Unavailable{Err: err, Message: fmt.Sprintf(
				"the lead's workflow took the %s update but did not finish it within %s; it will still be applied: retry with the same id for its outcome",
				name, timeout)}
		}
		return lead.View{}, updateError(wfID, name, err)
	}
	return v, nil
}

// notTaken explains an update nobody took in time: if Temporal answers a
// describe of the workflow, it is up and no worker is processing the lead.
func (l *LeadClient) notTaken(ctx context.Context, wfID, name string, timeout time.Duration, err error) error {
	if l.temporalAnswers(ctx, wfID) {
		return &api.Unavailable{Err: err, Message: fmt.Sprintf(
			"no worker took the %s update within %s: the lead's workflow is not being processed; retry later", name, timeout)}
	}
	return &api.Unavailable{Err: err, Message: fmt.Sprintf(
		"Temporal did not answer the %s update within %s; retry later", name, timeout)}
}

// temporalAnswers reports whether Temporal answers a describe of wfID
// within probeTimeout (a missing workflow is an answer too).
func (l *LeadClient) temporalAnswers(ctx context.Context, wfID string) bool {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, err := l.c.DescribeWorkflowExecution(pctx, wfID, "")
	return err == nil || isNotFound(err)
}

// isDeadline reports whether err is a deadline (or the SDK's update
// timeout) rather than an answer: the context's, or gRPC DeadlineExceeded.
func isDeadline(err error) bool {
	if _, ok := errors.AsType[*client.WorkflowUpdateServiceTimeoutOrCanceledError](err); ok {
		return true
	}
	if _, ok := errors.AsType[*serviceerror.DeadlineExceeded](err); ok {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded
}

// Query runs a query on the lead's workflow (open or closed) into out,
// waiting at most QueryTimeout: a query needs a worker to replay the
// workflow, and with none polling it would wait out the whole deadline.
func (l *LeadClient) Query(ctx context.Context, leadID, name string, out any) error {
	wfID := lead.WorkflowID(leadID)
	timeout := l.queryTimeout()
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	val, err := l.c.QueryWorkflow(qctx, wfID, "", name)
	if err != nil {
		if isNotFound(err) {
			return api.ErrNotFound
		}
		if ctx.Err() == nil && isDeadline(err) {
			if l.temporalAnswers(ctx, wfID) {
				return &api.Unavailable{Err: err, Message: fmt.Sprintf(
					"no worker answered the %s query within %s: the lead's workflow is not being processed", name, timeout)}
			}
			return &api.Unavailable{Err: err, Message: fmt.Sprintf("Temporal did not answer the %s query within %s", name, timeout)}
		}
		return fmt.Errorf("query %s on %s: %w", name, wfID, err)
	}
	if err := val.Get(out); err != nil {
		return fmt.Errorf("query %s on %s: decode result: %w", name, wfID, err)
	}
	return nil
}

// IsOpen reports whether the lead's workflow exists and is running (a
// describe, bounded by probeTimeout). A missing or closed lead is false
// with no error.
func (l *LeadClient) IsOpen(ctx context.Context, leadID string) (bool, error) {
	dctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	d, err := l.c.DescribeWorkflowExecution(dctx, lead.WorkflowID(leadID), "")
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("describe %s: %w", lead.WorkflowID(leadID), err)
	}
	return d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// Ready reports whether the Temporal frontend answers a health check.
func (l *LeadClient) Ready(ctx context.Context) error {
	if _, err := l.c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal health check: %w", err)
	}
	return nil
}

// updateError maps an update failure to the api's vocabulary:
//
//   - NotFound from the server: the workflow is missing → api.ErrNotFound
//     (404), or it has completed ("already completed": the lead was merged)
//     → *api.Refused (422), since the lead exists but no longer takes updates.
//   - An ApplicationError outcome whose type (or a cause's) is
//     lead.ErrTypeUnavailable: the handler could not reach the directory or
//     Postgres and applied nothing → *api.Unavailable (503, retryable).
//   - Any other ApplicationError outcome → *api.Refused (422) with the
//     workflow's innermost message. The SDK does not tell a validator's
//     rejection from a handler's error on the client side: both arrive as
//     the update outcome's Failure (updatepb.Rejection's failure and
//     Outcome_Failure alike), converted to an ApplicationError whose type is
//     whatever the workflow chose ("" for a plain Go error). Both are
//     refusals: the validator's before anything was recorded, the handler's
//     for a rule it found broken in the loop, also with nothing applied.
//   - Anything else (Unavailable, a canceled or timed-out outcome, …) is
//     returned wrapped; the api answers 503.
func updateError(wfID, name string, err error) error {
	if isNotFound(err) {
		if closedWorkflow(err) {
			return &api.Refused{Message: fmt.Sprintf("lead %s is closed; %s no longer applies", strings.TrimPrefix(wfID, "lead/"), name)}
		}
		return api.ErrNotFound
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if hasType(appErr, lead.ErrTypeUnavailable) {
			return &api.Unavailable{Err: err, Message: fmt.Sprintf(
				"the lead could not apply the %s update (%s) and applied nothing; retry later", name, innermostMessage(appErr))}
		}
		return &api.Refused{Message: innermostMessage(appErr)}
	}
	return fmt.Errorf("update %s on %s: %w", name, wfID, err)
}

// hasType reports whether appErr or an ApplicationError among its causes
// has type typ.
func hasType(appErr *temporal.ApplicationError, typ string) bool {
	for e := error(appErr); e != nil; e = errors.Unwrap(e) {
		if ae, ok := e.(*temporal.ApplicationError); ok && ae.Type() == typ {
			return true
		}
	}
	return false
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// closedWorkflow tells a completed workflow from a missing one: the server
// answers NotFound for both, with this wording for the former.
func closedWorkflow(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "already completed")
}

// innermostMessage walks the cause chain and returns the deepest
// ApplicationError message that is not empty.
func innermostMessage(appErr *temporal.ApplicationError) string {
	msg := appErr.Message()
	for cause := errors.Unwrap(error(appErr)); cause != nil; cause = errors.Unwrap(cause) {
		var inner *temporal.ApplicationError
		if errors.As(cause, &inner) {
			if m := inner.Message(); m != "" {
				msg = m
			}
			cause = inner
		}
	}
	if msg == "" {
		msg = appErr.Error()
	}
	return msg
}

// summary is the lead's one-line static summary: lead, source and, when
// known, segment. IDs and names of segments only, never PII.
func (l *LeadClient) summary(leadID string, ev lead.Event) string {
	s := fmt.Sprintf("lead %s · source %s", leadID, summarySource(ev.Source))
	if l.Segment != nil && ev.Profile != nil {
		if seg := l.Segment(ev.Profile); seg != "" {
			s += " · segment " + summaryText(seg, "")
		}
	}
	return s
}

// sourceLabel is what a source looks like when it is a label ("website",
// "g2", "partner_referral") rather than free text.
var sourceLabel = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:-]{0,39}$`)

// summarySource names the source in the summary only when it is a label:
// every Temporal UI user sees the summary in the workflow list, and a
// free-text source ("Referral from Ana Smith") may carry a name.
func summarySource(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "unknown"
	case sourceLabel.MatchString(s):
		return s
	default:
		return "(free text, not shown)"
	}
}

// summaryText bounds a caller-supplied string for the UI summary.
func summaryText(s, empty string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return empty
	}
	const limit = 64
	if r := []rune(s); len(r) > limit {
		return string(r[:limit]) + "…"
	}
	return s
}
