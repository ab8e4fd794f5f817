package baseline

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/leadflow/leadflow/internal/lead"
)

// Decoder turns stored payloads back into plain ones (the codec's Decode).
type Decoder interface {
	Decode([]*commonpb.Payload) ([]*commonpb.Payload, error)
}

// ExportOptions says which histories to export and where.
type ExportOptions struct {
	// Dir is the new directory (e.g. testdata/histories/v0.1.0/demo).
	Dir, Release string
	// Queries select the workflows (visibility queries, open and closed);
	// each gives at most PerQuery histories (0: 10), a run only once.
	Queries  []string
	PerQuery int
	// Decoder, when set, decodes every payload so the committed histories
	// replay without a key.
	Decoder Decoder
}

// StageQueries spreads an export over a workflow type's lead stages and
// its closed runs, so it is not all of the newest leads' first steps.
func StageQueries(workflowType string) []string {
	q := []string{`WorkflowType = "` + workflowType + `" AND ExecutionStatus != "Running"`}
	for _, st := range []lead.Stage{lead.StageLead, lead.StageMQL, lead.StageHandoff, lead.StageSAL, lead.StageOpportunity,
		lead.StageCustomer, lead.StageRecycle, lead.StageDisqualified} {
		q = append(q, `WorkflowType = "`+workflowType+`" AND `+lead.SALeadStage+` = "`+string(st)+`"`)
	}
	return q
}

// Export writes the histories of the workflows the queries select into a
// new sealed directory, each claiming the stages it entered. It returns
// how many it wrote; a query that selects nothing is no error.
func Export(ctx context.Context, c client.Client, o ExportOptions) (int, error) {
	if o.PerQuery <= 0 {
		o.PerQuery = 10
	}
	w, err := NewWriter(o.Dir, o.Release, "export")
	if err != nil {
		return 0, err
	}
	defer w.Abort()
	done := map[string]bool{} // run IDs exported
	for _, q := range o.Queries {
		n := 0
		var token []byte
		for n < o.PerQuery {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 100, NextPageToken: token})
			if err != nil {
				return 0, fmt.Errorf("export: list %q: %w", q, err)
			}
			for _, ex := range resp.GetExecutions() {
				if n >= o.PerQuery || done[ex.GetExecution().GetRunId()] {
					continue
				}
				if err := exportOne(ctx, c, w, o.Decoder, ex.GetExecution()); err != nil {
					return 0, err
				}
				done[ex.GetExecution().GetRunId()] = true
				n++
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
	}
	if err := w.Commit(); err != nil {
		return 0, err
	}
	return w.Len(), nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func exportOne(ctx context.Context, c client.Client, w *Writer, dec Decoder, ex *commonpb.WorkflowExecution) error {
	h := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, ex.GetWorkflowId(), ex.GetRunId(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return fmt.Errorf("export %s: %w", ex.GetWorkflowId(), err)
		}
		h.Events = append(h.Events, e)
	}
	if dec != nil {
		err := proxy.VisitPayloads(ctx, h, proxy.VisitPayloadsOptions{
			// Search attributes are indexed values, never encoded.
			SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
				return decodeNested(dec, p)
			},
		})
		if err != nil {
			return fmt.Errorf("export %s: decode: %w", ex.GetWorkflowId(), err)
		}
	}
	f, err := Read(h)
	if err != nil {
		return fmt.Errorf("export %s: %w", ex.GetWorkflowId(), err)
	}
	var claims []string
	for _, s := range dedup(f.Stages) {
		claims = append(claims, "stage:"+s)
	}
	run := ex.GetRunId()
	if len(run) > 8 {
		run = run[:8]
	}
	return w.Add(unsafeName.ReplaceAllString(ex.GetWorkflowId(), "_")+"-"+run, h, claims)
}

// dedup keeps the first of each value, in order.
func dedup(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func countRequest(query string) *workflowservice.CountWorkflowExecutionsRequest {
	return &workflowservice.CountWorkflowExecutionsRequest{Query: query}
}

// decodeNested decodes payloads and the ones nested in them: a mutable
// side effect's marker (the lead's policy reference) holds an encoded
// Payloads message inside an encoded payload, and the SDK decodes both
// levels on replay.
func decodeNested(dec Decoder, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out, err := dec.Decode(ps)
	if err != nil {
		return nil, err
	}
	for _, p := range out {
		if string(p.GetMetadata()["encoding"]) != "json/protobuf" || string(p.GetMetadata()["messageType"]) != "temporal.api.common.v1.Payloads" {
			continue
		}
		var inner commonpb.Payloads
		if err := protojson.Unmarshal(p.GetData(), &inner); err != nil {
			return nil, fmt.Errorf("nested payloads: %w", err)
		}
		if inner.Payloads, err = decodeNested(dec, inner.GetPayloads()); err != nil {
			return nil, err
		}
		if p.Data, err = protojson.Marshal(&inner); err != nil {
			return nil, fmt.Errorf("nested payloads: %w", err)
		}
	}
	return out, nil
}
