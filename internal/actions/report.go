package actions

import "time"

// The weekly report's activities (workflows.WeeklyReport): names as
// registered and recorded, never to change.
const (
	ReportSnapshot        = "WeeklyReport.Snapshot"
	ReportManagers        = "WeeklyReport.Managers"
	ReportNotify          = "WeeklyReport.Notify"
	ReportNotifyMarketing = "WeeklyReport.NotifyMarketing"
)

// ReportMarketingRecipient is the To of the marketing recipients'
// notification record: their addresses are outside the directory.
const ReportMarketingRecipient = "marketing"

// ReportSnapshotInput is the week to compute and store.
type ReportSnapshotInput struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Timezone string    `json:"timezone"`
}

// ReportSnapshotResult says whether the snapshot is new and carries the
// summary of the stored one.
type ReportSnapshotResult struct {
	Created bool   `json:"created"`
	Summary string `json:"summary"`
}

// ReportNotifyInput is one manager's notification of the week's summary.
type ReportNotifyInput struct {
	From    time.Time `json:"from"`
	Manager string    `json:"manager"`
	Body    string    `json:"body"`
}

// ReportMarketingInput is the marketing recipients' notification.
type ReportMarketingInput struct {
	From time.Time `json:"from"`
	Body string    `json:"body"`
}

// Report is the weekly report's port: the ledger's numbers, the
// directory's managers, the notifications.
var Report = struct {
	// Snapshot computes the week and stores it once.
	Snapshot Ref[ReportSnapshotInput, ReportSnapshotResult]
	// Managers lists the directory's managers, sorted.
	Managers Source[[]string]
	// Notify files and delivers one manager's summary.
	Notify Proc[ReportNotifyInput]
	// NotifyMarketing emails the policy's weekly_report_to addresses and
	// returns how many there are.
	NotifyMarketing Ref[ReportMarketingInput, int]
}{
	Snapshot:        Ref[ReportSnapshotInput, ReportSnapshotResult]{Name: ReportSnapshot},
	Managers:        Source[[]string]{Name: ReportManagers},
	Notify:          Proc[ReportNotifyInput]{Name: ReportNotify},
	NotifyMarketing: Ref[ReportMarketingInput, int]{Name: ReportNotifyMarketing},
}
