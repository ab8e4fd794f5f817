// Package browsertest drives the web UI in headless Chromium (Debian's
// chromium package at /usr/bin/chromium) through the DevTools protocol
// (chromedp): sign in, accept a lead from the inbox by clicking its button
// and see it move from the open handoffs to the accepted list, reject one,
// and read the dashboard's funnel and its stuck leads as they follow the
// leads' SLA state. With
// LEADFLOW_WRITE_SCREENSHOTS=1 it also writes docs/screenshots/inbox.png and
// docs/screenshots/dashboard.png.
package browsertest

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/leadflow/leadflow/internal/api"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/lead"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/webui"
	"github.com/leadflow/leadflow/internal/webui/webuitest"
)

// ChromiumPath is Debian's chromium. The test fails without it: a skipped
// browser test would let a broken page ship unnoticed.
const ChromiumPath = "/usr/bin/chromium"

const token = "browser-test-admin-token"

const screenshotDir = "../../../docs/screenshots"

type noMerges struct{}

func (noMerges) MergedInto(context.Context, string) (string, bool, error) { return "", false, nil }

type allNew struct{}

func (allNew) Record(context.Context, string, string) (bool, error) { return true, nil }

func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("headless Chromium is required at %s and is missing (%v); install it with: apt-get install -y chromium", ChromiumPath, err)
	}
	profile := t.TempDir() // removed after the browser below has exited
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1200, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", ChromiumPath, err)
	}
	return ctx
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("LEADFLOW_WRITE_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(screenshotDir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", p)
}

// text reads an element's text, failing the test when it cannot.
func text(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// step runs steps, failing the test with what when one fails.
func step(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ids are the element IDs of the nodes sel matches, in document order.
func ids(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(`+strconv.Quote(sel)+`)).map(e => e.id)`))
	if err != nil {
		t.Fatalf("ids of %s: %v", sel, err)
	}
	return strings.Join(got, ",")
}

// wantLists checks the inbox's open handoffs and accepted leads, in order.
func wantLists(t *testing.T, ctx context.Context, when, open, accepted string) {
	t.Helper()
	if got := ids(t, ctx, "#open-list > li"); got != open {
		t.Errorf("%s: open handoffs %s, want %s", when, got, open)
	}
	if got := ids(t, ctx, "#sal-list > li"); got != accepted {
		t.Errorf("%s: accepted leads %s, want %s", when, got, accepted)
	}
}

func TestInboxAndDashboardInChromium(t *testing.T) {
	ctx := browser(t)

	now := time.Now().UTC().Truncate(time.Second)
	breached := webuitest.Handoff("L-1003", "rep-1", 40, now.Add(-25*time.Minute))
	breached.SLA.Breached = true
	staleSAL := webuitest.Handoff("L-2001", "rep-1", 70, time.Time{})
	staleSAL.Stage, staleSAL.SLA = lead.StageSAL, nil
	staleSAL.SAL = &lead.SALView{Since: now.Add(-9 * 24 * time.Hour), StaleAt: now.Add(-2 * time.Hour)}
	coolOff := now.Add(-time.Hour) // past, and still not a stuck lead
	recycled := webuitest.Handoff("L-2002", "rep-1", 30, time.Time{})
	recycled.Stage, recycled.SLA, recycled.CoolOffUntil = lead.StageRecycle, nil, &coolOff
	views := []lead.View{
		webuitest.Handoff("L-1001", "rep-1", 85, now.Add(3*time.Hour+20*time.Minute)),
		webuitest.Handoff("L-1002", "rep-1", 60, now.Add(45*time.Minute)),
		breached, staleSAL, recycled,
	}
	st := storetest.Open(t)
	leads := webuitest.NewLeads(views...)
	webuitest.PublishTo(t, st, leads) // every change the fake makes is published, as the workflow does
	for _, v := range views {
		webuitest.Task(t, st, v, now)
	}
	from, to := webuitest.Ledger(t, st)
	srv, err := api.New(api.Config{WebhookSecret: []byte("wh"), IDKey: []byte("id"), APIToken: token},
		leads, noMerges{}, allNew{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := auth.New(st.Auth(), auth.Config{AdminToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if err := webui.Mount(srv, webui.Config{APIToken: token, Auth: sessions, Tasks: st.CRM(), States: st.States(), Data: webui.StoreData{Metrics: st.Metrics(), States: st.States()}}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	// Sign in through the login form; the cookie carries the session ID.
	step(t, ctx, "sign in and open the inbox",
		chromedp.Navigate(hs.URL+"/ui/inbox?rep=rep-1"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#lead-L-1001")),
	)
	var open int
	if err := st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM ui_sessions`).Scan(&open); err != nil || open != 1 {
		t.Fatalf("%d sessions in Postgres after signing in (%v), want 1", open, err)
	}
	// SLA urgency first: the breached one, then the soonest deadline.
	wantLists(t, ctx, "at first", "lead-L-1003,lead-L-1002,lead-L-1001", "sal-L-2001")
	if got := text(t, ctx, "#h-L-1003"); got != "Contact L-1003 L-1003" {
		t.Errorf("L-1003's heading %q", got)
	}

	// The stuck list: L-1003's SLA and L-2001's stale-SAL time have passed.
	step(t, ctx, "dashboard before", chromedp.Navigate(hs.URL+"/ui/dashboard"), chromedp.WaitVisible(chromedp.CSS("#stuck")))
	if got := ids(t, ctx, "#stuck tbody tr"); got != "stuck-L-2001,stuck-L-1003" {
		t.Errorf("stuck leads %s, want L-2001 (stale SAL), L-1003 (SLA)", got)
	}
	if got := text(t, ctx, "#stuck-L-1003 .deadline"); got != "first_touch SLA" {
		t.Errorf("L-1003's deadline %q", got)
	}

	// Accept L-1003 by clicking its button: it moves to the accepted list.
	step(t, ctx, "accept",
		chromedp.Navigate(hs.URL+"/ui/inbox?rep=rep-1"),
		chromedp.WaitVisible(chromedp.CSS("#lead-L-1003")),
		chromedp.Click(chromedp.CSS("#lead-L-1003 form.accept button")),
		chromedp.WaitVisible(chromedp.CSS("#result.result-ok")),
	)
	if got := text(t, ctx, "#result"); got != "Accepted lead L-1003." {
		t.Errorf("after Accept the result says %q", got)
	}
	wantLists(t, ctx, "after Accept", "lead-L-1002,lead-L-1001", "sal-L-2001,sal-L-1003")
	if v := leads.View("L-1003"); v.Stage != lead.StageSAL {
		t.Errorf("L-1003 is %s after Accept", v.Stage)
	}
	screenshot(t, ctx, "inbox.png")

	// Reject L-1002 as "other" without a note: the refusal is shown inline.
	step(t, ctx, "reject without a note",
		chromedp.SetValue(chromedp.CSS("#reason-L-1002"), "other"),
		chromedp.Click(chromedp.CSS("#lead-L-1002 form.reject button")),
		chromedp.WaitVisible(chromedp.CSS("#result.result-error")),
	)
	if got := text(t, ctx, "#result"); !strings.Contains(got, "reason other needs a note saying why") {
		t.Errorf("after a refused Reject the result says %q", got)
	}
	if got := text(t, ctx, "#err-L-1002"); !strings.Contains(got, "needs a note") {
		t.Errorf("inline error %q", got)
	}
	// Now with a note; the reason the rep chose was kept.
	step(t, ctx, "reject",
		chromedp.SendKeys(chromedp.CSS("#note-L-1002"), "Moved to a reseller"),
		chromedp.Click(chromedp.CSS("#lead-L-1002 form.reject button")),
		chromedp.WaitVisible(chromedp.CSS("#result.result-ok")),
	)
	if got := text(t, ctx, "#result"); got != "Rejected lead L-1002." {
		t.Errorf("after Reject the result says %q", got)
	}
	if v := leads.View("L-1002"); v.Stage != lead.StageRecycle || v.Play == nil || v.Play.Name != "other" {
		t.Errorf("L-1002 after Reject: %+v", v)
	}
	if got := ids(t, ctx, "#open-list > li"); got != "lead-L-1001" {
		t.Errorf("open handoffs after Reject: %s, want L-1001", got)
	}

	// The stuck list follows the SLA state: accepted, L-1003 left it; L-1001's
	// SLA now runs out (the workflow publishes it breached) and it joins.
	late := leads.View("L-1001")
	late.SLA.DueAt, late.SLA.Breached = now.Add(-10*time.Minute), true
	leads.SetView(late)
	step(t, ctx, "dashboard after", chromedp.Navigate(hs.URL+"/ui/dashboard"), chromedp.WaitVisible(chromedp.CSS("#stuck")))
	if got := ids(t, ctx, "#stuck tbody tr"); got != "stuck-L-2001,stuck-L-1001" {
		t.Errorf("stuck leads after Accept and L-1001's breach: %s, want L-2001, L-1001", got)
	}
	if got := text(t, ctx, "#stuck-L-1001 .overdue-by"); got != "10m" && got != "11m" { // a minute may pass
		t.Errorf("L-1001 overdue by %q, want 10m", got)
	}

	// The dashboard shows the ledger's numbers.
	step(t, ctx, "dashboard",
		chromedp.Navigate(hs.URL+"/ui/dashboard?from="+from.Format("2006-01-02")+"&to="+to.Format("2006-01-02")),
		chromedp.WaitVisible(chromedp.CSS("#funnel")),
	)
	got := []string{
		text(t, ctx, `td[data-stage="mql"]`), text(t, ctx, `td[data-stage="handoff"]`),
		text(t, ctx, `td[data-stage="sal"]`), text(t, ctx, `td[data-stage="opportunity"]`),
		text(t, ctx, "#acceptance"), text(t, ctx, "#ttft-p50"),
	}
	// The cohort L1..L4 (webuitest.Ledger) as of now: every fact counts, L4
	// was accepted (3 of 5 decided) and touched at 0 business seconds
	// (business seconds 0, 600, 1800, 3600, 7200: p50 30m).
	if strings.Join(got, " ") != "4 4 2 1 60.0% 30m" {
		t.Errorf("dashboard cohort mql, handoff, sal, opportunity, acceptance, TTFT p50 = %v; want 4 4 2 1 60.0%% 30m", got)
	}
	screenshot(t, ctx, "dashboard.png")
}
