// Package nurture is the port marketing nurture goes through. The built-in
// nurture is internal/store (Postgres); a webhook adapter is another. Every
// method is idempotent by its input's Key, and Send re-checks the suppression
// guard at send time.
package nurture

import (
	"context"

	"github.com/leadflow/leadflow/internal/actions"
)

// Nurture enrolls, pauses, stops and sends touches.
type Nurture interface {
	Enroll(ctx context.Context, in actions.EnrollInput) error
	Pause(ctx context.Context, in actions.PauseInput) error
	Stop(ctx context.Context, in actions.StopInput) error
	Send(ctx context.Context, in actions.SendInput) (actions.SendResult, error)
}
