package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/directory"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/notify/notifytest"
	"github.com/leadflow/leadflow/internal/policy"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// orderCheck wraps the real dispatcher and notes whether the CRM's record
// was there when delivery began.
type orderCheck struct {
	st       *store.DB
	next     *notify.Dispatcher
	calls    int
	recorded bool
}

func (o *orderCheck) Dispatch(ctx context.Context, in actions.NotifyInput) error {
	o.calls++
	ns, err := o.st.CRM().Notifications(ctx, in.LeadID)
	o.recorded = err == nil && len(ns) == 1
	return o.next.Dispatch(ctx, in)
}

// Notify files the notification in the CRM, then delivers it (here by
// email to a real SMTP server); a refusal reaches Temporal non-retryable.
func TestNotifyRecordsThenDelivers(t *testing.T) {
	st := storetest.Open(t)
	dir, err := directory.Parse("directory.yaml", []byte(`
reps:
  - { id: rep-1, name: Dana, timezone: UTC, email: dana@example.com }
pools:
  p: { strategy: round_robin, members: [rep-1], fallback: rep-1 }
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Directory().ImportDirectory(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	srv := notifytest.StartSMTP(t, true, "", "")
	email, err := notify.NewEmailURL(srv.URL(), "leadflow@example.com", notify.WithTLSConfig(srv.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	noon := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	oc := &orderCheck{st: st, next: &notify.Dispatcher{Store: st.Deliveries(), Channels: []notify.Channel{email},
		Policy: func() notify.Policy { return notify.Policy{Notifications: policy.DefaultNotifications()} },
		Now:    func() time.Time { return noon }}}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	(&Activities{Router: st.Directory(), Ledger: st.Ledger(), States: st.States(), Merges: st.Merges(), CRM: st.CRM(), Nurture: st.Nurture(), Notifier: oc, Metrics: NewMetrics(nil)}).Register(env)

	in := actions.NotifyInput{Key: "lead/L-1:remind:1", LeadID: "L-1", To: "rep-1", Kind: actions.NotifyRemind, Body: "call them"}
	if _, err := env.ExecuteActivity(actions.NotifyManager, in); err != nil {
		t.Fatal(err)
	}
	if oc.calls != 1 || !oc.recorded {
		t.Fatalf("dispatcher calls %d, CRM record there first: %t", oc.calls, oc.recorded)
	}
	if got := srv.Received(); len(got) != 1 || got[0].To[0] != "dana@example.com" {
		t.Fatalf("received %+v", got)
	}

	srv.AnswerRcpt(func(string) error { return notifytest.ErrNoSuchUser })
	in.Key = "lead/L-1:remind:2"
	_, err = env.ExecuteActivity(actions.NotifyManager, in)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != notify.ErrRefused {
		t.Fatalf("refused delivery: %v; want non-retryable %s", err, notify.ErrRefused)
	}
}
