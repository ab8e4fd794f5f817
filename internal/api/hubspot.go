package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/hswebhook"
	"github.com/leadflow/leadflow/internal/lead"
)

// HubSpotWebhookPath is the contract's HubSpot webhook endpoint.
const HubSpotWebhookPath = "/v1/webhooks/hubspot"

// mapConcurrency bounds the lookups (HubSpot API, store) run at once while
// mapping one batch: HubSpot waits only a few seconds for the answer.
const mapConcurrency = 8

// HubSpotConfig configures POST /v1/webhooks/hubspot.
type HubSpotConfig struct {
	ClientSecret []byte // HUBSPOT_CLIENT_SECRET: the app's client secret, the v3 HMAC key
	// PublicURL is LEADFLOW_PUBLIC_URL: scheme and host (and any path prefix
	// a proxy strips) as HubSpot calls them. The signed URI is PublicURL +
	// the request URI, since behind a proxy the request's own host and
	// scheme are not what HubSpot signed.
	PublicURL string
	Deps      hswebhook.Deps
	Now       func() time.Time // default: the server's Config.Now
	// PortalID is HUBSPOT_PORTAL_ID, the one portal whose notifications
	// are applied. An app's client secret signs for every portal the app
	// is installed in, so a valid signature alone does not say whose
	// CRM a notification is about.
	PortalID string
}

// HubSpotResult is the 200 answer: what the batch became.
type HubSpotResult struct {
	Notifications int `json:"notifications"`
	Ignored       int `json:"ignored"` // mapped to nothing on purpose (see hswebhook's table)
	Events        int `json:"events"`
	Accepted      int `json:"accepted"`
	Duplicates    int `json:"duplicates"` // redeliveries: already handed to Temporal
	// OtherPortal counts notifications from a portal other than
	// HUBSPOT_PORTAL_ID: answered 2xx (so HubSpot does not retry them) and
	// never applied.
	OtherPortal int `json:"otherPortal,omitempty"`
}

type hubspotHandler struct {
	s             *Server
	secret        []byte
	publicURL     string
	deps          hswebhook.Deps
	now           func() time.Time
	portalID      string
	notifications *prometheus.CounterVec
	events        *prometheus.CounterVec
	otherPortal   prometheus.Counter
}

// MountHubSpot mounts POST /v1/webhooks/hubspot (once per server). Like
// POST /v1/events it needs no bearer token: the v3 signature authenticates it.
func (s *Server) MountHubSpot(cfg HubSpotConfig) error {
	if len(cfg.ClientSecret) == 0 {
		return errors.New("api: HUBSPOT_CLIENT_SECRET is empty: HubSpot webhooks cannot be verified")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("api: LEADFLOW_PUBLIC_URL %q must be an absolute http(s) URL without query", cfg.PublicURL)
	}
	if !validPortalID(cfg.PortalID) {
		return fmt.Errorf("api: HUBSPOT_PORTAL_ID %q must be the HubSpot portal ID (digits): only that portal's webhooks are applied", cfg.PortalID)
	}
	if cfg.Now == nil {
		cfg.Now = s.cfg.Now
	}
	h := &hubspotHandler{
		s: s, secret: cfg.ClientSecret, publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		deps: cfg.Deps, now: cfg.Now, portalID: cfg.PortalID,
	}
	if err := h.initMetrics(); err != nil {
		return err
	}
	s.Handle("POST "+HubSpotWebhookPath, h)
	return nil
}

func (h *hubspotHandler) initMetrics() error {
	// New keeps the registry only as a Gatherer; a *prometheus.Registry (and
	// the default one) is a Registerer too. Otherwise the counters stay private.
	reg, ok := h.s.gatherer.(prometheus.Registerer)
	if !ok {
		reg = prometheus.NewRegistry()
	}
	var err error
	h.notifications, err = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadflow_hubspot_notifications_total",
		Help: "HubSpot webhook notifications by result (mapped, skipped, failed, invalid) and skip kind.",
	}, []string{"result", "kind"}))
	if err != nil {
		return err
	}
	h.events, err = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadflow_hubspot_events_total",
		Help: "Events mapped from HubSpot webhooks and handed to Temporal, by result (accepted, duplicate).",
	}, []string{"result"}))
	if err != nil {
		return err
	}
	h.otherPortal, err = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leadflow_hubspot_other_portal_notifications_total",
		Help: "HubSpot webhook notifications from a portal other than HUBSPOT_PORTAL_ID: answered 2xx, never applied.",
	}))
	return err
}

// mapped is one notification's outcome.
type mapped struct {
	events  []lead.Event
	skipped *hswebhook.Skipped
	err     error // a lookup failed: HubSpot should retry
}

// ServeHTTP: 401 on missing or stale headers (before any body read), 503
// with Retry-After when every body-read slot is taken, 413 over 1 MiB, 401
// on a bad signature, 400 on a body that is not a notification array;
// other portals' notifications are counted and dropped (ownPortal);
// otherwise every mappable event is delivered
// (per lead in occurredAt order, duplicates counted) and the answer is 200
// only when all of them are durably with Temporal and no lookup failed.
// A delivery or lookup failure is 503 and a mapping bug (an event that
// fails lead.Validate) is 500: HubSpot retries both, and the redelivery's
// events carry the same IDs, so what already went through is a duplicate.
func (h *hubspotHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The headers first (presence, freshness), so an unsigned sender costs
	// no body read. Every 401 here loses the request's notifications for
	// good (HubSpot never retries a 401): only a missing, stale or wrong
	// signature gets one (hswebhook.Verify).
	tsHeader, sigHeader := r.Header.Get(hswebhook.TimestampHeader), r.Header.Get(hswebhook.SignatureHeader)
	now := h.now()
	if err := hswebhook.CheckHeaders(tsHeader, sigHeader, now); err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	body, ok := h.s.readSignedBody(w, r)
	if !ok {
		return
	}
	uri := h.publicURL + requestURI(r)
	if err := hswebhook.Verify(h.secret, r.Method, uri, body, tsHeader, sigHeader, now); err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	notes, err := hswebhook.Parse(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	total := len(notes)
	notes, others := h.ownPortal(notes)

	ctx := r.Context()
	results := h.mapAll(ctx, notes)
	res := HubSpotResult{Notifications: total, OtherPortal: others}
	var (
		events           []lead.Event
		lookupErrs, bugs int
		firstLookup      error
		skippedKinds     = map[string]int{}
		log              = h.s.log
	)
	for i, m := range results {
		n := notes[i]
		switch {
		case m.skipped != nil:
			res.Ignored++
			skippedKinds[m.skipped.Kind]++
			h.notifications.WithLabelValues("skipped", m.skipped.Kind).Inc()
			log.Debug("hubspot notification skipped", zap.String("subscriptionType", n.SubscriptionType),
				zap.String("eventId", n.EventID), zap.String("objectId", n.ObjectID),
				zap.String("kind", m.skipped.Kind), zap.String("reason", m.skipped.Reason))
		case m.err != nil:
			lookupErrs++
			if firstLookup == nil {
				firstLookup = m.err
			}
			h.notifications.WithLabelValues("failed", "").Inc()
			log.Warn("hubspot notification not mapped: lookup failed", zap.String("subscriptionType", n.SubscriptionType),
				zap.String("eventId", n.EventID), zap.String("objectId", n.ObjectID), zap.Error(m.err))
		default:
			ok := true
			for _, ev := range m.events {
				if fes := ev.Validate(); len(fes) > 0 {
					// A bug in the mapping, not in HubSpot's data: answer 500 so
					// HubSpot retries (perhaps into a fixed release).
					ok = false
					log.Error("hubspot notification mapped to an invalid event", zap.String("subscriptionType", n.SubscriptionType),
						zap.String("eventId", n.EventID), zap.String("event", ev.ID), zap.String("type", ev.Type),
						zap.Any("errors", fes))
				}
			}
			if !ok {
				bugs++
				h.notifications.WithLabelValues("invalid", "").Inc()
				continue
			}
			h.notifications.WithLabelValues("mapped", "").Inc()
			events = append(events, m.events...)
		}
	}
	if len(skippedKinds) > 0 {
		log.Info("hubspot notifications skipped", zap.Int("notifications", len(notes)),
			zap.Int("skipped", res.Ignored), zap.Any("kinds", skippedKinds))
	}

	// HubSpot does not order a batch; each lead's events go in HubSpot's time
	// order (stable, so equal times keep batch order).
	slices.SortStableFunc(events, func(a, b lead.Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
	res.Events = len(events)
	if len(events) > 0 {
		br, err := h.s.deliverBatch(ctx, events)
		if err != nil {
			log.Warn("hubspot batch not delivered", zap.Int("events", len(events)), zap.Error(err))
			w.Header().Set("Retry-After", retryAfter)
			writeError(w, http.StatusServiceUnavailable, batchErrorMessage(err)+"; HubSpot will retry")
			return
		}
		res.Accepted, res.Duplicates = br.Accepted, br.Duplicates
		h.events.WithLabelValues("accepted").Add(float64(br.Accepted))
		h.events.WithLabelValues("duplicate").Add(float64(br.Duplicates))
	}
	switch {
	case bugs > 0:
		writeError(w, http.StatusInternalServerError,
			fmt.Sprintf("%d notification(s) mapped to invalid events; the others were delivered", bugs))
	case lookupErrs > 0:
		w.Header().Set("Retry-After", retryAfter)
		writeError(w, http.StatusServiceUnavailable,
			fmt.Sprintf("%d notification(s) could not be mapped (lookup failed: %v); the others were delivered", lookupErrs, firstLookup))
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// mapAll maps the notifications concurrently; results keep batch order.
func (h *hubspotHandler) mapAll(ctx context.Context, notes []hswebhook.Notification) []mapped {
	results := make([]mapped, len(notes))
	sem := make(chan struct{}, mapConcurrency)
	var wg sync.WaitGroup
	for i, n := range notes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			defer func() {
				// A panicking lookup must not take the process down (this is
				// not the request goroutine, so serve's recover cannot help).
				if p := recover(); p != nil {
					h.s.log.Error("panic mapping a hubspot notification", zap.Any("panic", p), zap.Stack("stack"))
					results[i] = mapped{err: fmt.Errorf("panic mapping notification: %v", p)}
				}
			}()
			evs, err := hswebhook.Map(ctx, n, h.deps)
			if sk, ok := errors.AsType[*hswebhook.Skipped](err); ok {
				results[i] = mapped{skipped: sk}
				return
			}
			results[i] = mapped{events: evs, err: err}
		}()
	}
	wg.Wait()
	return results
}

// requestURI is the request target as the client sent it (path and query,
// escapes untouched), which is what HubSpot signed; URL.RequestURI
// re-escapes and could differ.
func requestURI(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}
