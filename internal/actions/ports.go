package actions

import "github.com/leadflow/leadflow/internal/routing"

// The activities, one struct per port they reach. Each field is the typed
// reference of one activity under its registered name.

// Directory is the routing transaction against the sales directory.
var Directory = struct {
	Route Ref[RouteInput, routing.Decision]
}{
	Route: Ref[RouteInput, routing.Decision]{Name: Route},
}

// Ledger writes the lead's facts and its published state.
var Ledger = struct {
	Record Proc[RecordInput]
}{
	Record: Proc[RecordInput]{Name: Record},
}

// CRM is the CRM port (and, for NotifyManager, the notification channels
// behind it).
var CRM = struct {
	AssignOwner       Proc[AssignOwnerInput]
	CreateTask        Ref[TaskInput, TaskRef]
	CloseTask         Proc[CloseTaskInput]
	PostNote          Proc[NoteInput]
	Notify            Proc[NotifyInput]
	RaiseAlert        Proc[AlertInput]
	SetLifecycleStage Proc[StageInput]
}{
	AssignOwner:       Proc[AssignOwnerInput]{Name: AssignOwner},
	CreateTask:        Ref[TaskInput, TaskRef]{Name: CreateTask},
	CloseTask:         Proc[CloseTaskInput]{Name: CloseTask},
	PostNote:          Proc[NoteInput]{Name: PostNote},
	Notify:            Proc[NotifyInput]{Name: NotifyManager},
	RaiseAlert:        Proc[AlertInput]{Name: RaiseAlert},
	SetLifecycleStage: Proc[StageInput]{Name: SetLifecycleStage},
}

// Nurture is the nurture port.
var Nurture = struct {
	Enroll Proc[EnrollInput]
	Pause  Proc[PauseInput]
	Send   Ref[SendInput, SendResult]
	Stop   Proc[StopInput]
}{
	Enroll: Proc[EnrollInput]{Name: NurtureEnroll},
	Pause:  Proc[PauseInput]{Name: NurturePause},
	Send:   Ref[SendInput, SendResult]{Name: NurtureSend},
	Stop:   Proc[StopInput]{Name: NurtureStop},
}

// Leads reaches other leads' workflows (merge forwarding).
var Leads = struct {
	ForwardEvents Proc[ForwardInput]
}{
	ForwardEvents: Proc[ForwardInput]{Name: ForwardEvents},
}
