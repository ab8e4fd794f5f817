package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/notify/notifytest"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/temporalx"
	"github.com/leadflow/leadflow/internal/testenv"
)

// checks records the notification channels' start checks.
type checks struct {
	mu  sync.Mutex
	got map[string]error
}

func (c *checks) hook(ch string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got[ch] = err
}

func (c *checks) get(ch string) (error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	err, ok := c.got[ch]
	return err, ok
}

// fastPolicyWithoutQuietHours is the fast test policy with no quiet hours,
// so the ladder's reminders go out whatever the hour of the test.
func fastPolicyWithoutQuietHours(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../workflows/testdata/policy-fast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.yaml")
	extra := "\nnotifications:\n  quiet_hours: { start: \"00:00\", end: \"00:00\" }\n"
	if err := os.WriteFile(path, append(src, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// With LEADFLOW_SMTP_URL and LEADFLOW_SLACK_WEBHOOK_URL set, the SLA
// ladder's reminder reaches the owner by email (a real SMTP server) and on
// Slack (a receiver checking the Block Kit shape), through the worker's
// wiring.
func testEmailsTheLadder(t *testing.T, srv *testenv.DevServer) {
	mail := notifytest.StartSMTP(t, false, "", "")
	slack := notifytest.NewSlack(t)
	ck := &checks{got: map[string]error{}}
	ready := make(chan struct{})
	r := startWorker(t, srv, map[string]string{
		"LEADFLOW_SMTP_URL": mail.URL(), "LEADFLOW_EMAIL_FROM": "leadflow@example.com",
		"LEADFLOW_SLACK_WEBHOOK_URL": slack.WebhookURL(),
		"LEADFLOW_POLICY":            fastPolicyWithoutQuietHours(t),
	}, hooks{ready: ready, notifyChecked: ck.hook})
	r.waitReady(t, ready)
	ctx := t.Context()
	st, err := store.Open(ctx, r.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, err := directory.Load("../deploy/directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep := dir.Reps["rep-7"]
	rep.Email = "mei@example.com"
	dir.Reps["rep-7"] = rep
	if err := st.Directory().ImportDirectory(ctx, dir); err != nil {
		t.Fatal(err)
	}
	leads := temporalx.NewLeadClient(srv.Client(t), r.cfg.TaskQueue)
	ev := lead.Event{ID: "n-evt-1", LeadID: "N-1", Type: lead.EventFormSubmit, OccurredAt: time.Now().UTC(), Source: "website",
		Attributes: map[string]any{"form": "demo_request"},
		Profile:    &lead.Profile{Email: "kim@initech.com", Company: "Initech", Domain: "initech.com", Country: "US", Employees: 400}}
	if err := leads.Deliver(ctx, "N-1", ev); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the reminder is emailed to rep-7", func() bool {
		for _, m := range mail.Received() {
			if len(m.To) == 1 && m.To[0] == "mei@example.com" && strings.Contains(string(m.Data), "Reminder") {
				return true
			}
		}
		return false
	})
	eventually(t, 30*time.Second, "the reminder is posted to Slack in Block Kit", func() bool {
		for _, p := range slack.Received() {
			if p.ShapeErr == "" && strings.HasPrefix(p.Text, "Reminder: first-touch of Initech") {
				return true
			}
		}
		return false
	})
	eventually(t, 15*time.Second, "the start check of email", func() bool {
		err, ok := ck.get("email")
		return ok && err == nil
	})
}

// An SMTP server that does not answer at start is a warning, not a stop:
// the worker runs and its emails wait.
func testUnreachableSMTPIsAWarning(t *testing.T, srv *testenv.DevServer) {
	ck := &checks{got: map[string]error{}}
	ready := make(chan struct{})
	r := startWorker(t, srv, map[string]string{
		"LEADFLOW_SMTP_URL": "smtp://" + closedAddr(t), "LEADFLOW_EMAIL_FROM": "leadflow@example.com",
	}, hooks{ready: ready, notifyChecked: ck.hook})
	r.waitReady(t, ready)
	eventually(t, 20*time.Second, "the failed start check of email", func() bool {
		err, ok := ck.get("email")
		return ok && err != nil
	})
}
