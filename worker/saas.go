package main

import (
	"github.com/leadflow/leadflow/internal/actions"
	"github.com/leadflow/leadflow/internal/config"
)

// saasKinds names the effects that reach a third party and so run on the
// SaaS task queue, whose activity rate the server enforces across workers.
// An effect on the built-in CRM or nurture is a Postgres write: it stays on
// the lead's own queue, where eager activity execution hands it to this
// worker in the workflow task's reply, with no extra trip through the
// server (speed-to-lead: the handoff task is such an effect).
func saasKinds(cfg config.Config, notifying bool) map[string]bool {
	kinds := map[string]bool{}
	if cfg.CRM != config.CRMBuiltin {
		for _, k := range []string{actions.AssignOwner, actions.CreateTask, actions.CloseTask, actions.PostNote,
			actions.SetLifecycleStage, actions.RaiseAlert, actions.NotifyManager} {
			kinds[k] = true
		}
	}
	if cfg.Nurture != config.NurtureBuiltin {
		for _, k := range []string{actions.NurtureEnroll, actions.NurturePause, actions.NurtureSend, actions.NurtureStop} {
			kinds[k] = true
		}
	}
	if notifying { // Slack, email
		kinds[actions.NotifyManager] = true
	}
	return kinds
}
