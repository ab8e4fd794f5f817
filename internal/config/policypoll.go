package config

import (
	"fmt"
	"time"
)

// EnvPolicyPoll is how often a worker asks Postgres which policy version is
// active (starter policy activate).
const EnvPolicyPoll = "LEADFLOW_POLICY_POLL"

// The poll's default and bounds: under a second it only loads Postgres; over
// five minutes workers would disagree for too long after an activation.
const (
	DefaultPolicyPoll = 5 * time.Second
	MinPolicyPoll     = time.Second
	MaxPolicyPoll     = 5 * time.Minute
)

func readPolicyPoll(get func(name, def string) string, errs []error) (time.Duration, []error) {
	v := get(EnvPolicyPoll, "")
	if v == "" {
		return DefaultPolicyPoll, errs
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return DefaultPolicyPoll, append(errs, fmt.Errorf("%s=%q: must be a duration with a unit, e.g. 5s or 1m", EnvPolicyPoll, v))
	case d < MinPolicyPoll || d > MaxPolicyPoll:
		return DefaultPolicyPoll, append(errs, fmt.Errorf("%s=%q: must be between %s and %s", EnvPolicyPoll, v, MinPolicyPoll, MaxPolicyPoll))
	}
	return d, errs
}
