package config

import (
	"fmt"
	"strconv"
)

// The worker's sticky cache: how many lead workflows a worker keeps in
// memory between their workflow tasks (worker.SetStickyWorkflowCacheSize).
// A cached lead's next task runs without a replay; an evicted one is
// replayed from its history (a full run of 3,000 events replays in about
// 0.2 s on the bench machine). The SDK's default, 10,000, is what the
// recorded 30,000-open-leads bench filled: the worker peaked at 1,132 MiB.
const (
	EnvStickyCacheSize     = "LEADFLOW_STICKY_CACHE_SIZE"
	DefaultStickyCacheSize = 4096
	MinStickyCacheSize     = 100
	MaxStickyCacheSize     = 100000
)

func readStickyCache(get func(name, def string) string) (int, []error) {
	v := get(EnvStickyCacheSize, "")
	if v == "" {
		return DefaultStickyCacheSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < MinStickyCacheSize || n > MaxStickyCacheSize {
		return DefaultStickyCacheSize, []error{fmt.Errorf("%s=%q: must be a number of cached workflows between %d and %d",
			EnvStickyCacheSize, v, MinStickyCacheSize, MaxStickyCacheSize)}
	}
	return n, nil
}
