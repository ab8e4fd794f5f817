package temporalx

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/lead"
)

// LeadClient implements api.Leads over a Temporal client.
type LeadClient struct {
	c         client.Client
	taskQueue string
	// Segment, if set, names the segment of a new lead's first event for
	// its static summary (the policy's segments; see SegmentBy).
	Segment func(*lead.Profile) string
}

var _ api.Leads = (*LeadClient)(nil)

// NewLeadClient returns a LeadClient starting workflows on taskQueue.
func NewLeadClient(c client.Client, taskQueue string) *LeadClient {
	return &LeadClient{c: c, taskQueue: taskQueue}
}

// Deliver signals ev to the lead's workflow, starting it if needed. The
// call returns once the server has persisted the signal.
func (l *LeadClient) Deliver(ctx context.Context, leadID string, ev lead.Event) error {
	wfID := lead.WorkflowID(leadID)
	opts := client.StartWorkflowOptions{
		ID:        wfID,
		TaskQueue: l.taskQueue,
		// A lead whose workflow has closed (merged) may be started again by
		// a later event; the API checks merges before delivering.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// Shown in the UI and CLI: IDs only, never PII.
		StaticSummary: l.summary(leadID, ev),
		StaticDetails: fmt.Sprintf("Started by event %s (%s) that occurred at %s.",
			summaryText(ev.ID, "?"), summaryText(ev.Type, "?"), ev.OccurredAt.UTC().Format(time.RFC3339)),
	}
	if _, err := l.c.SignalWithStartWorkflow(ctx, wfID, lead.SignalEvent, ev, opts, lead.WorkflowType, lead.StartInput{LeadID: leadID}); err != nil {
		return fmt.Errorf("deliver event %s to %s: %w", ev.ID, wfID, err)
	}
	return nil
}

// Update runs the named update and waits for its result. A lead without a
// workflow is api.ErrNotFound; a validator or handler refusal is *api.Refused.
func (l *LeadClient) Update(ctx context.Context, leadID, name, updateID string, req any) (lead.View, error) {
	wfID := lead.WorkflowID(leadID)
	h, err := l.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   wfID,
		UpdateName:   name,
		UpdateID:     updateID, // the request's id: a retried request returns the first outcome
		Args:         []any{req},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return lead.View{}, updateError(wfID, name, err)
	}
	var v lead.View
	if err := h.Get(ctx, &v); err != nil {
		return lead.View{}, updateError(wfID, name, err)
	}
	return v, nil
}

// Query runs a query on the lead's workflow (open or closed) into out.
func (l *LeadClient) Query(ctx context.Context, leadID, name string, out any) error {
	wfID := lead.WorkflowID(leadID)
	val, err := l.c.QueryWorkflow(ctx, wfID, "", name)
	if err != nil {
		if isNotFound(err) {
			return api.ErrNotFound
		}
		return fmt.Errorf("query %s on %s: %w", name, wfID, err)
	}
	if err := val.Get(out); err != nil {
		return fmt.Errorf("query %s on %s: decode result: %w", name, wfID, err)
	}
	return nil
}

// Ready reports whether the Temporal frontend answers a health check.
func (l *LeadClient) Ready(ctx context.Context) error {
	if _, err := l.c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal health check: %w", err)
	}
	return nil
}

// updateError maps an update failure to the api's vocabulary.
func updateError(wfID, name string, err error) error {
	if isNotFound(err) {
		if closedWorkflow(err) {
			// The lead exists but its workflow has ended (e.g. merged into
			// another lead): the request is refused, not a 404.
			return &api.Refused{Message: fmt.Sprintf("lead %s is closed; %s no longer applies", strings.TrimPrefix(wfID, "lead/"), name)}
		}
		return api.ErrNotFound
	}
	// The SDK turns a validator rejection or a handler error into an
	// ApplicationError (possibly with causes); the innermost message is the
	// workflow's own words.
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return &api.Refused{Message: innermostMessage(appErr)}
	}
	return fmt.Errorf("update %s on %s: %w", name, wfID, err)
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
	s := fmt.Sprintf("lead %s · source %s", leadID, summaryText(ev.Source, "unknown"))
	if l.Segment != nil && ev.Profile != nil {
		if seg := l.Segment(ev.Profile); seg != "" {
			s += " · segment " + summaryText(seg, "")
		}
	}
	return s
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
