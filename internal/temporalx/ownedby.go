package temporalx

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/leadflow/leadflow/internal/lead"
)

// defaultListPageSize is the page size of OwnedBy's visibility queries.
const defaultListPageSize = 500

// OwnedBy lists the IDs of the running leads whose LeadOwner is repID and,
// if stages is not empty, whose LeadStage is one of them, reading every
// page. Visibility is eventually consistent: a lead that changed owner or
// stage a moment ago may still be listed under the old values (or be
// missing), so callers let the lead decide.
func (l *LeadClient) OwnedBy(ctx context.Context, repID string, stages []lead.Stage) ([]string, error) {
	q := OwnedByQuery(repID, stages)
	size := l.ListPageSize
	if size <= 0 {
		size = defaultListPageSize
	}
	var ids []string
	var token []byte
	for {
		resp, err := l.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			PageSize: int32(size), NextPageToken: token, Query: q,
		})
		if err != nil {
			return nil, fmt.Errorf("list leads of %s (%s): %w", repID, q, err)
		}
		for _, e := range resp.GetExecutions() {
			if id, ok := strings.CutPrefix(e.GetExecution().GetWorkflowId(), "lead/"); ok {
				ids = append(ids, id)
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return ids, nil
		}
	}
}

// OwnedByQuery is the visibility query of OwnedBy: also what an operator
// types into the Temporal UI to see the same leads.
func OwnedByQuery(repID string, stages []lead.Stage) string {
	q := fmt.Sprintf("WorkflowType = %s AND ExecutionStatus = 'Running' AND %s = %s",
		quote(lead.WorkflowType), lead.SALeadOwner, quote(repID))
	if len(stages) > 0 {
		vals := make([]string, len(stages))
		for i, s := range stages {
			vals[i] = quote(string(s))
		}
		q += fmt.Sprintf(" AND %s IN (%s)", lead.SALeadStage, strings.Join(vals, ", "))
	}
	return q
}

// quote makes s a string literal of the visibility query language, with
// quotes and backslashes escaped (a rep ID is whatever the directory holds).
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
