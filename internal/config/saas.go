package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The SaaS task queue: every call to a rate-limited third party (the CRM,
// the nurture tool, notification channels) runs as an activity on its own
// task queue, whose activity rate Temporal enforces across all workers
// (worker.Options.TaskQueueActivitiesPerSecond, managed by the server). A
// per-process limiter alone lets N workers send N times a portal's limit.
const (
	EnvSaaSTaskQueue    = "LEADFLOW_SAAS_TASK_QUEUE"
	EnvSaaSRate         = "LEADFLOW_SAAS_RATE"
	EnvHubSpotRateLimit = "HUBSPOT_RATE_LIMIT"

	// DefaultHubSpotSaaSRate is the SaaS queue's activities per second with
	// HubSpot. An activity makes one to three API calls, so 3/s stays under
	// HubSpot's documented 100 requests per 10 s per portal with room for
	// the edge's own lookups; deploy/README.md says how to size it.
	DefaultHubSpotSaaSRate = 3.0
)

// SaaS says where and how fast third-party calls run.
type SaaS struct {
	// TaskQueue is the SaaS activities' task queue (default the lead task
	// queue plus "-saas").
	TaskQueue string
	// Rate is the queue's activities per second across every worker (0:
	// unlimited). Default DefaultHubSpotSaaSRate with LEADFLOW_CRM=hubspot,
	// else 0.
	Rate float64
	// HubSpotBurst and HubSpotWindow are each process's own limiter of
	// HubSpot calls (default HubSpot's documented 100 per 10 s): a second
	// guard beside the queue's rate.
	HubSpotBurst  int
	HubSpotWindow time.Duration
}

func (s *SaaS) read(get func(name, def string) string, taskQueue, crm string) []error {
	var errs []error
	bad := func(name, value, reason string) {
		errs = append(errs, fmt.Errorf("%s=%q: %s", name, value, reason))
	}
	s.TaskQueue = get(EnvSaaSTaskQueue, taskQueue+"-saas")
	if s.TaskQueue == taskQueue {
		bad(EnvSaaSTaskQueue, s.TaskQueue, "must differ from the lead task queue: its rate limit would throttle the workflows' own activities")
	}
	if crm == CRMHubSpot {
		s.Rate = DefaultHubSpotSaaSRate
	}
	if v := get(EnvSaaSRate, ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1e5 {
			bad(EnvSaaSRate, v, "must be activities per second across all workers, 0 (unlimited) or more (e.g. 3 or 0.5)")
		} else {
			s.Rate = f
		}
	}
	s.HubSpotBurst, s.HubSpotWindow = 100, 10*time.Second
	if v := get(EnvHubSpotRateLimit, ""); v != "" {
		n, w, ok := strings.Cut(v, "/")
		burst, err1 := strconv.Atoi(n)
		window, err2 := time.ParseDuration(w)
		if !ok || err1 != nil || err2 != nil || burst <= 0 || window <= 0 {
			bad(EnvHubSpotRateLimit, v, "must be requests/window, e.g. 100/10s (HubSpot's burst limit for your portal)")
		} else {
			s.HubSpotBurst, s.HubSpotWindow = burst, window
		}
	}
	return errs
}
