package main

import (
	"reflect"
	"sort"
	"testing"

	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/config"
)

func TestSaaSKinds(t *testing.T) {
	names := func(m map[string]bool) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	builtin := config.Config{CRM: config.CRMBuiltin, Nurture: config.NurtureBuiltin}
	if got := names(saasKinds(builtin, false)); len(got) != 0 {
		t.Errorf("built-in CRM and nurture, no channel: %v on the SaaS queue, want none", got)
	}
	if got := names(saasKinds(builtin, true)); !reflect.DeepEqual(got, []string{actions.NotifyManager}) {
		t.Errorf("with Slack or email: %v", got)
	}
	hs := builtin
	hs.CRM = config.CRMHubSpot
	if got := saasKinds(hs, false); !got[actions.CreateTask] || !got[actions.AssignOwner] || !got[actions.NotifyManager] || got[actions.NurtureSend] {
		t.Errorf("HubSpot: %v", names(got))
	}
	wh := builtin
	wh.Nurture = config.NurtureWebhook
	if got := saasKinds(wh, false); !got[actions.NurtureSend] || !got[actions.NurturePause] || got[actions.CreateTask] || got[actions.ForwardEvents] {
		t.Errorf("nurture webhook: %v", names(got))
	}
}
