package actions_test

import (
	"testing"

	"github.com/leadflow/leadflow/internal/actions"
)

// The registered names are in every recorded history: a reference whose
// name drifts would make old runs fail to replay.
func TestRegisteredNamesAreStable(t *testing.T) {
	got := map[string]string{
		"Directory.Route":        actions.Directory.Route.Name,
		"Ledger.Record":          actions.Ledger.Record.Name,
		"CRM.AssignOwner":        actions.CRM.AssignOwner.Name,
		"CRM.CreateTask":         actions.CRM.CreateTask.Name,
		"CRM.CloseTask":          actions.CRM.CloseTask.Name,
		"CRM.PostNote":           actions.CRM.PostNote.Name,
		"CRM.Notify":             actions.CRM.Notify.Name,
		"CRM.RaiseAlert":         actions.CRM.RaiseAlert.Name,
		"CRM.SetLifecycleStage":  actions.CRM.SetLifecycleStage.Name,
		"Nurture.Enroll":         actions.Nurture.Enroll.Name,
		"Nurture.Pause":          actions.Nurture.Pause.Name,
		"Nurture.Send":           actions.Nurture.Send.Name,
		"Nurture.Stop":           actions.Nurture.Stop.Name,
		"Leads.ForwardEvents":    actions.Leads.ForwardEvents.Name,
		"Report.Snapshot":        actions.Report.Snapshot.Name,
		"Report.Managers":        actions.Report.Managers.Name,
		"Report.Notify":          actions.Report.Notify.Name,
		"Report.NotifyMarketing": actions.Report.NotifyMarketing.Name,
	}
	want := map[string]string{
		"Directory.Route":        "Route",
		"Ledger.Record":          "Record",
		"CRM.AssignOwner":        "AssignOwner",
		"CRM.CreateTask":         "CreateTask",
		"CRM.CloseTask":          "CloseTask",
		"CRM.PostNote":           "PostNote",
		"CRM.Notify":             "NotifyManager",
		"CRM.RaiseAlert":         "RaiseAlert",
		"CRM.SetLifecycleStage":  "SetLifecycleStage",
		"Nurture.Enroll":         "NurtureEnroll",
		"Nurture.Pause":          "NurturePause",
		"Nurture.Send":           "NurtureSend",
		"Nurture.Stop":           "NurtureStop",
		"Leads.ForwardEvents":    "ForwardEvents",
		"Report.Snapshot":        "WeeklyReport.Snapshot",
		"Report.Managers":        "WeeklyReport.Managers",
		"Report.Notify":          "WeeklyReport.Notify",
		"Report.NotifyMarketing": "WeeklyReport.NotifyMarketing",
	}
	for ref, name := range want {
		if got[ref] != name {
			t.Errorf("%s is registered as %q, histories know it as %q", ref, got[ref], name)
		}
	}
}
