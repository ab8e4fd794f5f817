package webui_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/webui"
)

// The inbox lists the rep's last notifications, newest first, with the
// channels each reached them on; another rep's are not there.
func TestInboxShowsRecentNotifications(t *testing.T) {
	t.Parallel()
	e := setupWith(t, setupOpts{notifications: true}, fourLeads()...)
	ctx := t.Context()
	notify := func(key, to, kind, leadID string) {
		t.Helper()
		if err := e.st.CRM().Notify(ctx, actions.NotifyInput{Key: key, LeadID: leadID, To: to, Kind: kind, Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range webui.RecentNotificationsShown + 2 {
		notify(fmt.Sprintf("k-%02d", i), "rep-1", actions.NotifyRemind, fmt.Sprintf("L-%02d", i))
	}
	notify("k-last", "rep-1", actions.NotifyHandoff, "L-a")
	notify("k-other", "rep-2", actions.NotifyHandoff, "L-x")
	for _, ch := range []string{"slack", "email"} {
		d := store.Delivery{Key: "k-last", Channel: ch, Recipient: "rep-1", LeadID: "L-a", Kind: actions.NotifyHandoff}
		if _, err := e.st.Deliveries().ClaimDelivery(ctx, d, 0, time.Hour, time.Now()); err != nil {
			t.Fatal(err)
		}
		if ch == "slack" { // email stays claimed, not delivered
			if err := e.st.Deliveries().MarkDelivered(ctx, d, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	w := e.do(t, req{path: "/ui/inbox?rep=rep-1"})
	want(t, w, 200, `<h2 id="h-notifications">Recent notifications</h2>`)
	body := w.Body.String()
	section := body[strings.Index(body, `id="notifications"`):]
	rows := regexp.MustCompile(`<th scope="row">([a-z_]+)</th><td>([^<]+)</td><td>([^<]+)</td>`).FindAllStringSubmatch(section, -1)
	if len(rows) != webui.RecentNotificationsShown {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), webui.RecentNotificationsShown, section)
	}
	if got := rows[0][1:]; got[0] != "handoff" || got[1] != "L-a" || got[2] != "slack" {
		t.Errorf("newest row %v, want handoff L-a delivered on slack", got)
	}
	if got := rows[1][1:]; got[1] != "L-21" || got[2] != "recorded only" {
		t.Errorf("second row %v, want L-21 recorded only", got)
	}
	if strings.Contains(section, "L-x") || strings.Contains(section, ">L-00<") {
		t.Errorf("section shows another rep's or an old notification:\n%s", section)
	}
}
