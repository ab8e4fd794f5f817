package store_test

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

var nurtureRules = policy.Suppression{
	RecentRepTouch: policy.Duration(72 * time.Hour),
	FrequencyCap:   policy.FrequencyCap{Max: 2, Per: policy.Duration(7 * 24 * time.Hour)},
	QuietHours:     &policy.QuietHours{Start: 20 * 60, End: 8 * 60},
}

func send(key, leadID string, step int) actions.SendInput {
	return actions.SendInput{Key: key, LeadID: leadID, Track: "default", Step: step, Stage: lead.StageLead,
		Rules: nurtureRules, Timezone: "America/New_York"}
}

func TestNurtureSend(t *testing.T) {
	t.Parallel()
	// Monday 10:00 in New York: outside quiet hours.
	clk := &clock{t: date("2026-11-23T15:00:00Z")}
	s := storetest.Open(t, store.WithClock(clk.Now))
	ctx := t.Context()
	sendOK := func(in actions.SendInput, want actions.SendResult) {
		t.Helper()
		got, err := s.Nurture().Send(ctx, in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Send %s = %+v, %v; want %+v", in.Key, got, err, want)
		}
	}
	sent := actions.SendResult{Sent: true}

	if err := s.Nurture().Enroll(ctx, actions.EnrollInput{Key: "lead/N1/enroll-1", LeadID: "N1", Track: "default"}); err != nil {
		t.Fatal(err)
	}
	// Same key twice: one send.
	sendOK(send("N1/s1", "N1", 1), sent)
	clk.Set(clk.Now().Add(time.Hour))
	sendOK(send("N1/s1", "N1", 1), sent)
	if ss, _ := s.Nurture().Sends(ctx, "N1"); len(ss) != 1 || !ss[0].SentAt.Equal(date("2026-11-23T15:00:00Z")) {
		t.Errorf("sends = %+v, want one at 15:00", ss)
	}
	// Cap 2 per week: the second goes, the third is refused and recorded nowhere.
	sendOK(send("N1/s2", "N1", 2), sent)
	clk.Set(clk.Now().Add(24 * time.Hour))
	sendOK(send("N1/s3", "N1", 3), actions.SendResult{Reasons: []string{lead.SuppressFrequencyCap}})
	if ss, _ := s.Nurture().Sends(ctx, "N1"); len(ss) != 2 {
		t.Errorf("sends after cap = %d, want 2", len(ss))
	}
	// A week after the first send one slot is free again.
	clk.Set(date("2026-11-30T15:30:00Z"))
	sendOK(send("N1/s3", "N1", 3), sent)
	if st, ok, _ := s.Nurture().Nurture(ctx, "N1"); !ok || st.Step != 3 || st.Track != "default" {
		t.Errorf("state = %+v", st)
	}

	// The workflow's view counts too: a lead in handoff is in active sales motion.
	in := send("N2/s1", "N2", 1)
	in.Stage = lead.StageHandoff
	sendOK(in, actions.SendResult{Reasons: []string{lead.SuppressActiveSalesMotion}})

	// Unsubscribed: refused, and still refused after a later Enroll.
	stop := actions.StopInput{Key: "lead/N3/stop-1", LeadID: "N3", Reason: lead.SuppressUnsubscribed}
	for range 2 {
		if err := s.Nurture().Stop(ctx, stop); err != nil {
			t.Fatal(err)
		}
	}
	sendOK(send("N3/s1", "N3", 1), actions.SendResult{Reasons: []string{lead.SuppressUnsubscribed, store.ReasonStopped}})
	if err := s.Nurture().Enroll(ctx, actions.EnrollInput{Key: "lead/N3/enroll-2", LeadID: "N3", Track: "winback"}); err != nil {
		t.Fatal(err)
	}
	sendOK(send("N3/s2", "N3", 1), actions.SendResult{Reasons: []string{lead.SuppressUnsubscribed}})
	if n := count(t, s, `SELECT count(*) FROM nurture_sends WHERE lead_id = 'N3'`); n != 0 {
		t.Errorf("N3 sends = %d, want 0", n)
	}
	if n := count(t, s, `SELECT count(*) FROM nurture_stops WHERE lead_id = 'N3'`); n != 1 {
		t.Errorf("N3 stops = %d, want 1", n)
	}

	// Bounce, named as the event: the same guard.
	if err := s.Nurture().Stop(ctx, actions.StopInput{Key: "lead/N5/stop-1", LeadID: "N5", Reason: "email.bounce"}); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.Nurture().Nurture(ctx, "N5"); !reflect.DeepEqual(st.Suppressions, []string{lead.SuppressBounced}) {
		t.Errorf("N5 suppressions = %v", st.Suppressions)
	}

	// Stopped for another reason: refused until re-enrolled.
	if err := s.Nurture().Stop(ctx, actions.StopInput{Key: "lead/N4/stop-1", LeadID: "N4", Reason: "disqualified"}); err != nil {
		t.Fatal(err)
	}
	sendOK(send("N4/s1", "N4", 1), actions.SendResult{Reasons: []string{store.ReasonStopped}})
	if err := s.Nurture().Enroll(ctx, actions.EnrollInput{Key: "lead/N4/enroll-1", LeadID: "N4", Track: "default"}); err != nil {
		t.Fatal(err)
	}
	sendOK(send("N4/s1", "N4", 1), sent)

	// Quiet hours in the policy's zone: 21:00 in New York.
	clk.Set(date("2026-12-01T02:00:00Z"))
	got, err := s.Nurture().Send(ctx, send("N6/s1", "N6", 1))
	if err != nil || got.Sent || !reflect.DeepEqual(got.Reasons, []string{lead.SuppressQuietHours}) {
		t.Errorf("quiet hours: %+v, %v", got, err)
	}
	if _, err := s.Nurture().Send(ctx, actions.SendInput{Key: "k", LeadID: "N6", Timezone: "Mars/Olympus"}); err == nil {
		t.Error("bad timezone accepted")
	}
}

func TestNurturePauseEnrollIdempotent(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	for range 2 {
		if err := s.Nurture().Enroll(ctx, actions.EnrollInput{Key: "e1", LeadID: "P1", Track: "default", Step: 2}); err != nil {
			t.Fatal(err)
		}
		if err := s.Nurture().Pause(ctx, actions.PauseInput{Key: "p1", LeadID: "P1", Reasons: []string{lead.SuppressActiveSalesMotion}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM nurture_enrollments`); n != 1 {
		t.Errorf("enrollments = %d", n)
	}
	if n := count(t, s, `SELECT count(*) FROM nurture_pauses`); n != 1 {
		t.Errorf("pauses = %d", n)
	}
	st, ok, err := s.Nurture().Nurture(ctx, "P1")
	if err != nil || !ok || !st.Paused || st.Step != 2 || !reflect.DeepEqual(st.PauseReasons, []string{lead.SuppressActiveSalesMotion}) {
		t.Errorf("state = %+v %v %v", st, ok, err)
	}
	// Resuming is an Enroll with a new key.
	if err := s.Nurture().Enroll(ctx, actions.EnrollInput{Key: "e2", LeadID: "P1", Track: "recycle", Step: 0}); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.Nurture().Nurture(ctx, "P1"); st.Paused || st.Track != "recycle" {
		t.Errorf("state after resume = %+v", st)
	}
}

// Ten sends for one lead at once under a cap of 2: exactly 2 go out.
func TestNurtureSendConcurrentCap(t *testing.T) {
	t.Parallel()
	clk := &clock{t: date("2026-11-23T15:00:00Z")}
	s := storetest.Open(t, store.WithClock(clk.Now))
	var wg sync.WaitGroup
	results := make([]actions.SendResult, 10)
	errs := make([]error, 10)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = s.Nurture().Send(t.Context(), send(fmt.Sprint("C/s", i), "C", i)) })
	}
	wg.Wait()
	sent := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.Sent {
			sent++
		}
	}
	if sent != 2 {
		t.Errorf("sent = %d, want 2", sent)
	}
	if n := count(t, s, `SELECT count(*) FROM nurture_sends`); n != 2 {
		t.Errorf("rows = %d, want 2", n)
	}
}
