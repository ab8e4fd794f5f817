package main

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/leadflow/leadflow/activities"
	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/metrics"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/notify/notifytest"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/testenv"
	"github.com/leadflow/leadflow/workflows"
)

// Two worker starts leave one schedule whose spec is the latest; the
// report workflow stores one snapshot and notifies each manager once, also
// when run twice.
func testWeeklyReport(t *testing.T, srv *testenv.DevServer) {
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const queue = "weekly-report-test"

	spec := reportSpec{Cron: "0 8 * * MON", Timezone: "America/New_York"}
	for range 2 {
		if err := ensureReportSchedule(ctx, c, queue, spec); err != nil {
			t.Fatal(err)
		}
	}
	checkNext(ctx, t, c, time.Monday, 8, "America/New_York")
	// A policy change: the next start updates the one schedule.
	spec = reportSpec{Cron: "30 9 * * TUE", Timezone: "Europe/Berlin"}
	if err := ensureReportSchedule(ctx, c, queue, spec); err != nil {
		t.Fatal(err)
	}
	checkNext(ctx, t, c, time.Tuesday, 9, "Europe/Berlin")
	d, err := c.ScheduleClient().GetHandle(ctx, reportScheduleID).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || act.TaskQueue != queue || act.Workflow != workflows.WeeklyReportType {
		t.Errorf("action = %#v", d.Schedule.Action)
	}
	// Exactly one schedule with our ID (the list is eventually consistent).
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := 0
		it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e.ID == reportScheduleID {
				n++
			}
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d schedules named %s; want 1", n, reportScheduleID)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The workflow, on a worker with a real store and the built-in CRM.
	st := storetest.Open(t)
	dir, err := directory.Load("../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mgr1 := dir.Reps["mgr-1"]
	mgr1.Email = "chris@example.com"
	dir.Reps["mgr-1"] = mgr1
	if err := st.Directory().ImportDirectory(ctx, dir); err != nil {
		t.Fatal(err)
	}
	var managers []string
	for _, r := range dir.Reps {
		if r.Manager != "" && !slices.Contains(managers, r.Manager) {
			managers = append(managers, r.Manager)
		}
	}
	slices.Sort(managers)
	if len(managers) == 0 {
		t.Fatal("the directory has no managers")
	}
	week := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	if err := st.Ledger().Record(ctx, []actions.LedgerEntry{
		{Key: "L1:t", LeadID: "L1", Kind: actions.LedgerTransition, At: week.Add(10 * time.Hour), From: lead.StageMQL, To: lead.StageHandoff},
		{Key: "L1:f", LeadID: "L1", Kind: actions.LedgerFeedback, At: week.Add(11 * time.Hour), Data: map[string]any{"outcome": "accepted", "cycle": 1}},
	}); err != nil {
		t.Fatal(err)
	}
	// Managers and the policy's marketing recipients are emailed through
	// the dispatcher, by a real SMTP server; mgr-1 has an address.
	mail := notifytest.StartSMTP(t, true, "", "")
	pol := reportPolicy(t, "notifications:\n  weekly_report_to: [revops@example.com, cmo@example.com]\n")
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.WeeklyReport, workflow.RegisterOptions{Name: workflows.WeeklyReportType})
	(&activities.Report{Metrics: st.Metrics(), Directory: st.Directory(), Records: st.CRM(), CRM: st.CRM(), Notifier: reportDispatcher(t, st, mail, pol),
		Policy: func() *policy.Policy { return pol }}).Register(w)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	in := workflows.WeeklyReportInput{Timezone: "UTC", Week: "2026-11-16"}
	for i := range 2 {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "weekly-report-test", TaskQueue: queue}, workflows.WeeklyReportType, in)
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.WeeklyReportResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if want := append(slices.Clone(managers), actions.ReportMarketingRecipient); res.Created != (i == 0) || !slices.Equal(res.Notified, want) {
			t.Errorf("run %d: %+v; want created %v, notified %v", i+1, res, i == 0, want)
		}
	}
	// Two runs, one email each: mgr-1 and the two marketing addresses.
	var rcpts []string
	for _, m := range mail.Received() {
		rcpts = append(rcpts, m.To...)
		if !strings.Contains(string(m.Data), "Handed off 1: accepted 1, rejected 0, pending 0") {
			t.Errorf("email lacks the summary:\n%s", m.Data)
		}
	}
	slices.Sort(rcpts)
	if want := []string{"chris@example.com", "cmo@example.com", "revops@example.com"}; !slices.Equal(rcpts, want) {
		t.Errorf("emailed %v; want %v once each", rcpts, want)
	}
	if n, err := st.Metrics().CountReportSnapshots(ctx); err != nil || n != 1 {
		t.Errorf("snapshots = %d, %v; want 1", n, err)
	}
	raw, _, err := st.Metrics().ReportSnapshot(ctx, week, week.AddDate(0, 0, 7), "")
	if err != nil {
		t.Fatal(err)
	}
	var rep metrics.Report
	if err := json.Unmarshal(raw, &rep); err != nil || len(rep.Rows) != 1 || rep.Rows[0].HandedOff != 1 || rep.Rows[0].Accepted != 1 {
		t.Errorf("snapshot = %s, %v", raw, err)
	}
	notes, err := st.CRM().Notifications(ctx, activities.ReportLeadID(week))
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, n := range notes {
		to = append(to, n.To)
		if n.Kind != actions.NotifyWeekly || !strings.Contains(n.Body, "Handed off 1: accepted 1, rejected 0, pending 0 (acceptance 100.0% of decided)") {
			t.Errorf("notification %+v", n)
		}
	}
	slices.Sort(to)
	if want := slices.Sorted(slices.Values(append(slices.Clone(managers), actions.ReportMarketingRecipient))); !slices.Equal(to, want) {
		t.Errorf("notified %v; want each of %v once", to, want)
	}
}

// checkNext asserts the schedule's next runs are on day at hour:00 in tz.
func checkNext(ctx context.Context, t *testing.T, c client.Client, day time.Weekday, hour int, tz string) {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.ScheduleClient().GetHandle(ctx, reportScheduleID).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Schedule.Spec == nil || d.Schedule.Spec.TimeZoneName != tz {
		t.Fatalf("spec = %+v; want time zone %s", d.Schedule.Spec, tz)
	}
	if len(d.Info.NextActionTimes) == 0 {
		t.Fatal("no next action times")
	}
	for _, n := range d.Info.NextActionTimes {
		l := n.In(loc)
		if l.Weekday() != day || l.Hour() != hour {
			t.Errorf("next run %s (%s); want %s %02d:xx", l, tz, day, hour)
		}
	}
}

// reportPolicy is deploy/policy.yaml with extra appended.
func reportPolicy(t *testing.T, extra string) *policy.Policy {
	t.Helper()
	src, err := os.ReadFile("../deploy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse("policy.yaml", append(src, []byte("\n"+extra)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// reportDispatcher emails through srv at a fixed weekday noon UTC (outside
// everyone's quiet hours).
func reportDispatcher(t *testing.T, st *store.DB, srv *notifytest.SMTPServer, p *policy.Policy) *notify.Dispatcher {
	t.Helper()
	email, err := notify.NewEmailURL(srv.URL(), "leadflow@example.com", notify.WithTLSConfig(srv.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	noon := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	return &notify.Dispatcher{Store: st.Deliveries(), Channels: []notify.Channel{email}, Now: func() time.Time { return noon },
		Policy: func() notify.Policy { return notify.Policy{Notifications: p.Notifications, Location: p.Location} }}
}
