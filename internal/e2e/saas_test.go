package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/hubspot"
	"github.com/leadflow/leadflow/internal/hubspot/hubspottest"
	"github.com/leadflow/leadflow/internal/lead"
)

// Two workers share one HubSpot portal. Each process's own limiter allows
// the portal's whole limit, so without the SaaS task queue's rate (set on
// the server, shared by every worker) two workers send twice the limit and
// HubSpot answers 429; with it, no 429 and no call lost: every lead gets
// exactly one handoff task.
func TestTwoWorkersKeepThePortalsLimit(t *testing.T) {
	for _, c := range []struct {
		name     string
		rate     string
		want429s bool
	}{
		{"per-process limiters only", "0", true},
		{"the SaaS queue's shared rate", "3", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			const leads = 12
			// The portal: 15 requests a second; each worker alone may send 15.
			hs := hubspottest.New(t, hubspottest.WithBurstLimit(15, time.Second))
			owner7 := hs.AddOwner(hubspot.Owner{Email: "mei@example.com"})
			owner8 := hs.AddOwner(hubspot.Owner{Email: "sam@example.com"})
			var ids []string
			for i := range leads {
				ids = append(ids, "hs-"+hs.AddContact(map[string]string{"email": fmt.Sprintf("lead%d@acme.io", i)}))
			}
			s := newStack(t, longSLAPolicy(t),
				"LEADFLOW_CRM=hubspot", "HUBSPOT_BASE_URL="+hs.URL, "HUBSPOT_TOKEN="+hubspottest.DefaultToken,
				"HUBSPOT_RATE_LIMIT=15/1s", "LEADFLOW_SAAS_RATE="+c.rate)
			dir, err := directory.Load("../../deploy/directory.yaml")
			if err != nil {
				t.Fatal(err)
			}
			for rid, oid := range map[string]string{"rep-7": owner7, "rep-8": owner8} {
				r := dir.Reps[rid]
				r.HubSpotOwnerID = oid
				dir.Reps[rid] = r
			}
			if err := s.st.Directory().ImportDirectory(t.Context(), dir); err != nil {
				t.Fatal(err)
			}
			// A second worker process of the same deployment (its own
			// metrics port, the same rate).
			s.startWorkerWith("worker-2", "LEADFLOW_METRICS_ADDR="+freeAddr(t))

			var evs []lead.Event
			for i, id := range ids {
				p := westCoast()
				p.Email = fmt.Sprintf("lead%d@acme.io", i)
				evs = append(evs, quote("q-"+id, id, p))
			}
			s.send(evs...)
			for _, id := range ids {
				s.waitLead(id, "handoff, every effect confirmed", 3*time.Minute, func(v lead.View) bool {
					return v.Stage == lead.StageHandoff && len(v.Effects) == 0
				})
			}
			got429 := 0
			for _, r := range hs.Requests() {
				if r.Status == 429 {
					got429++
				}
			}
			if c.want429s && got429 == 0 {
				t.Fatalf("two workers with per-process limiters only got no 429: the test no longer overloads the portal")
			}
			if !c.want429s && got429 > 0 {
				t.Fatalf("%d requests answered 429 with the SaaS queue's rate set", got429)
			}
			perLead := map[string]int{}
			for _, task := range hs.Tasks() {
				for _, a := range task.Associations {
					perLead["hs-"+a.ToID]++
				}
			}
			for _, id := range ids {
				if perLead[id] != 1 {
					t.Errorf("%s has %d handoff tasks in HubSpot, want 1", id, perLead[id])
				}
			}
			t.Logf("%d HubSpot requests, %d answered 429", len(hs.Requests()), got429)
		})
	}
}
