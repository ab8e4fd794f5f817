package temporalx_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

// OwnedBy against a real dev server's visibility: running leads of one
// owner in the stages asked for, over several pages; other owners, other
// stages and closed leads are left out; an owner ID with a quote is
// escaped, not an injection.
func TestOwnedByOnDevServer(t *testing.T) {
	t.Parallel()
	srv := testenv.StartDevServer(t, testenv.DevServerOptions{})
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	owner := temporal.NewSearchAttributeKeyKeyword(lead.SALeadOwner)
	stage := temporal.NewSearchAttributeKeyKeyword(lead.SALeadStage)
	start := func(id, rep string, st lead.Stage) {
		t.Helper()
		// No worker polls this queue: the workflows stay running.
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: lead.WorkflowID(id), TaskQueue: "nobody-polls",
			TypedSearchAttributes: temporal.NewSearchAttributes(owner.ValueSet(rep), stage.ValueSet(string(st)))},
			lead.WorkflowType, lead.StartInput{LeadID: id})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"L-1", "L-2", "L-3", "L-4", "L-5"} {
		start(id, "rep-7", lead.StageHandoff)
	}
	start("L-sal", "rep-7", lead.StageSAL)
	start("L-recycle", "rep-7", lead.StageRecycle)
	start("L-other", "rep-8", lead.StageHandoff)
	start("L-quote", "o'neil", lead.StageHandoff)
	start("L-closed", "rep-7", lead.StageHandoff)
	if err := c.TerminateWorkflow(ctx, lead.WorkflowID("L-closed"), "", "test"); err != nil {
		t.Fatal(err)
	}

	lc := temporalx.NewLeadClient(c, "nobody-polls")
	lc.ListPageSize = 2
	// Visibility trails the starts: poll until it shows them, bounded.
	eventually := func(repID string, stages []lead.Stage, want []string) {
		t.Helper()
		var got []string
		deadline := time.Now().Add(30 * time.Second)
		for {
			var err error
			got, err = lc.OwnedBy(ctx, repID, stages)
			if err != nil {
				t.Fatalf("OwnedBy(%s, %v): %v", repID, stages, err)
			}
			slices.Sort(got)
			if slices.Equal(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("OwnedBy(%s, %v) = %v, want %v", repID, stages, got, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	eventually("rep-7", []lead.Stage{lead.StageHandoff}, []string{"L-1", "L-2", "L-3", "L-4", "L-5"})
	eventually("rep-7", []lead.Stage{lead.StageHandoff, lead.StageSAL}, []string{"L-1", "L-2", "L-3", "L-4", "L-5", "L-sal"})
	eventually("rep-7", nil, []string{"L-1", "L-2", "L-3", "L-4", "L-5", "L-recycle", "L-sal"})
	eventually("o'neil", []lead.Stage{lead.StageHandoff}, []string{"L-quote"})
	eventually("rep-7' OR LeadOwner = 'rep-8", nil, nil)
}
