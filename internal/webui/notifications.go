package webui

import (
	"context"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/store"
)

// RecentNotificationsShown is how many of a rep's notifications the inbox
// lists.
const RecentNotificationsShown = 20

// Notifications is the record of what people were told (the store's
// notifications and notification_deliveries tables).
type Notifications interface {
	RecentNotifications(ctx context.Context, to string, n int) ([]store.DeliveredNotification, error)
}

// notificationRow is one line of the inbox's "Recent notifications".
type notificationRow struct {
	Kind, LeadID string
	At           time.Time
	Channels     string // "slack, email"; "" when only recorded
}

// recentNotifications loads the rep's last notifications, newest first.
// A failure shows a note, not an error page: the tasks are what matters.
func (u *UI) recentNotifications(ctx context.Context, rep string) ([]notificationRow, bool) {
	if u.cfg.Notifications == nil || rep == "" {
		return nil, true
	}
	ns, err := u.cfg.Notifications.RecentNotifications(ctx, rep, RecentNotificationsShown)
	if err != nil {
		u.log.Warn("webui: recent notifications", zap.String("rep", rep), zap.Error(err))
		return nil, false
	}
	rows := make([]notificationRow, len(ns))
	for i, n := range ns {
		rows[i] = notificationRow{Kind: n.Kind, LeadID: n.LeadID, At: n.At, Channels: strings.Join(n.Channels, ", ")}
	}
	return rows, true
}
