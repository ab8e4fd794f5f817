package api

import (
	"slices"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/hswebhook"
)

// validPortalID: HubSpot portal (hub) IDs are positive decimal numbers.
func validPortalID(id string) bool {
	if id == "" || len(id) > 20 || id[0] == '0' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// ownPortal keeps the notifications of the pinned portal. The others
// (another portal the app is installed in, or none named) are counted
// and logged by portal ID, never mapped; the request still answers 2xx,
// so HubSpot does not retry what leadflow will never apply.
func (h *hubspotHandler) ownPortal(notes []hswebhook.Notification) (own []hswebhook.Notification, others int) {
	own = notes[:0:0]
	var portals []string
	for _, n := range notes {
		if n.PortalID == h.portalID {
			own = append(own, n)
			continue
		}
		others++
		if !slices.Contains(portals, n.PortalID) {
			portals = append(portals, n.PortalID)
		}
	}
	if others > 0 {
		h.otherPortal.Add(float64(others))
		h.s.log.Warn("hubspot notifications from another portal ignored", zap.Int("notifications", others),
			zap.Strings("portalIds", portals), zap.String("pinned", h.portalID))
	}
	return own, others
}
