package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/lead"
)

// Each rejection reason runs its play from the example policy.
func TestRejectionPlays(t *testing.T) {
	cases := []struct {
		req       lead.RejectRequest
		stage     lead.Stage
		track     string
		coolOff   time.Duration
		intent    int // intent after the play (40 before)
		enrolled  bool
		completed bool
	}{
		{req: lead.RejectRequest{Reason: lead.ReasonBadFit}, stage: lead.StageDisqualified, intent: 40},
		{req: lead.RejectRequest{Reason: lead.ReasonNoResponse}, stage: lead.StageRecycle, track: "re-engagement", coolOff: 30 * 24 * time.Hour, intent: 0, enrolled: true},
		{req: lead.RejectRequest{Reason: lead.ReasonTiming}, stage: lead.StageRecycle, track: "long-term", coolOff: 90 * 24 * time.Hour, intent: 20, enrolled: true},
		{req: lead.RejectRequest{Reason: lead.ReasonCompetitor}, stage: lead.StageRecycle, track: "win-back", coolOff: 180 * 24 * time.Hour, intent: 0, enrolled: true},
		{req: lead.RejectRequest{Reason: lead.ReasonOther, Note: "wrong product line"}, stage: lead.StageRecycle, track: "default", coolOff: 30 * 24 * time.Hour, intent: 40, enrolled: true},
		{req: lead.RejectRequest{Reason: lead.ReasonDuplicate, DuplicateOf: "L-0999"}, stage: lead.StageMerged, completed: true},
	}
	for _, tc := range cases {
		t.Run(string(tc.req.Reason), func(t *testing.T) {
			h := newHarness(t)
			h.event(0, quoteRequest("evt-1"))
			h.event(time.Minute, ev("page-1", lead.EventWebPageView, map[string]any{"category": "product"}))
			req := tc.req
			req.ID, req.RepID = "rej-1", "rep-7"
			var res *updateResult
			rejectAt := 2 * time.Minute
			h.at(rejectAt, func() { res = h.update(lead.UpdateReject, req.ID, req) })
			var after lead.View
			if !tc.completed {
				h.at(3*time.Minute, func() { after = h.state() })
			}
			err := h.run(time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if !res.done || res.err != nil {
				t.Fatalf("reject: %+v", res)
			}
			v := res.view
			if v.Stage != tc.stage || v.Play == nil || v.Play.Name != string(tc.req.Reason) {
				t.Fatalf("after reject: stage %s play %+v", v.Stage, v.Play)
			}
			if tc.completed {
				if v.MergedInto != "L-0999" || len(h.f.forwards) != 1 {
					t.Fatalf("merge: %+v forwards %+v", v, h.f.forwards)
				}
				fw := h.f.forwards[0]
				if fw.To != "L-0999" || len(fw.Events) != 2 || fw.Events[0].ID != "merged:L-1001:evt-1" || fw.Events[0].LeadID != "L-0999" {
					t.Fatalf("forwarded: %+v", fw)
				}
				if len(h.f.stops) != 1 {
					t.Fatalf("nurture should stop on merge: %+v", h.f.stops)
				}
				return
			}
			if v.Score.Intent != tc.intent {
				t.Fatalf("intent after play: %d, want %d", v.Score.Intent, tc.intent)
			}
			if v.OwnerID != "" || v.SLA != nil {
				t.Fatalf("recycled or disqualified lead keeps no owner or SLA: %+v", v)
			}
			if after.Nurture.Enrolled != tc.enrolled || after.Nurture.Track != tc.track && tc.enrolled {
				t.Fatalf("nurture: %+v", after.Nurture)
			}
			if tc.stage == lead.StageRecycle {
				want := monday10.Add(rejectAt).Add(tc.coolOff)
				if v.CoolOffUntil == nil || !v.CoolOffUntil.Equal(want) {
					t.Fatalf("cool-off until %v, want %s", v.CoolOffUntil, want)
				}
				if v.RecycleCount != 1 {
					t.Fatalf("recycle count %d", v.RecycleCount)
				}
			}
			if tc.stage == lead.StageDisqualified && (len(h.f.stops) != 1 || h.f.stops[0].Reason != "disqualified" || !after.Nurture.Suppressed) {
				t.Fatalf("disqualified stops nurture: %+v %+v", h.f.stops, after.Nurture)
			}
			if len(h.f.notes) != 1 || !strings.Contains(h.f.notes[0].Body, string(tc.req.Reason)) {
				t.Fatalf("CRM note: %+v", h.f.notes)
			}
			fb := 0
			for _, e := range h.f.ledger {
				if e.Kind == "feedback" && e.Data["reason"] == string(tc.req.Reason) {
					fb++
				}
			}
			if fb != 1 {
				t.Fatalf("ledger feedback rows for %s: %d", tc.req.Reason, fb)
			}
		})
	}
}

// A rejection with revisitAt sets the cool-off to that date; when it ends the
// lead is a lead again and, with its score kept, qualifies and is handed off
// anew (a second handoff, a second task).
func TestCoolOffEndsAndLeadQualifiesAgain(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	revisit := monday10.Add(10 * 24 * time.Hour)
	h.at(time.Minute, func() {
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonOther, Note: "call back", RevisitAt: revisit.Format(time.RFC3339)})
	})
	var during, after lead.View
	h.at(9*24*time.Hour, func() { during = h.state() })
	h.at(10*24*time.Hour+time.Minute, func() { after = h.state() })
	if err := h.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	if during.Stage != lead.StageRecycle {
		t.Fatalf("during cool-off: %s", during.Stage)
	}
	if after.Stage != lead.StageHandoff || after.OwnerID != "rep-8" {
		t.Fatalf("after cool-off: stage %s owner %s history %+v", after.Stage, after.OwnerID, after.History)
	}
	if got := h.f.taskKinds(); !equal(got, []string{"handoff:rep-7", "handoff:rep-8"}) {
		t.Fatalf("tasks: %v", got)
	}
	// Nurture ran on the play's track while the lead was recycled.
	if len(h.f.sends) == 0 || h.f.sends[0].Track != "default" {
		t.Fatalf("nurture sends: %+v", h.f.sends)
	}
}

// A fast-track signal (a hand-raise) during cool-off ends it early.
func TestFastTrackEndsCoolOffEarly(t *testing.T) {
	h := newHarness(t)
	h.event(0, quoteRequest("evt-1"))
	h.at(time.Minute, func() {
		h.update(lead.UpdateReject, "rej-1", lead.RejectRequest{ID: "rej-1", RepID: "rep-7", Reason: lead.ReasonTiming})
	})
	h.event(5*24*time.Hour, lead.Event{ID: "evt-2", Type: lead.EventFormSubmit, Attributes: map[string]any{"form": "demo_request"}})
	var after lead.View
	h.at(5*24*time.Hour+time.Minute, func() { after = h.state() })
	if err := h.run(0); err != nil {
		t.Fatal(err)
	}
	if after.Stage != lead.StageHandoff {
		t.Fatalf("stage %s, history %+v", after.Stage, after.History)
	}
}
