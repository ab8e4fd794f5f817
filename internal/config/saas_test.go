package config

import (
	"strings"
	"testing"
	"time"
)

func TestSaaSQueueAndRates(t *testing.T) {
	c, err := FromLookup(lookupMap(map[string]string{EnvCRM: "hubspot"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SaaS.Rate != DefaultHubSpotSaaSRate || c.SaaS.TaskQueue != "leadflow-saas" {
		t.Errorf("hubspot defaults: %+v", c.SaaS)
	}
	c, err = FromLookup(lookupMap(map[string]string{EnvSaaSRate: "0.5", EnvSaaSTaskQueue: "calls", EnvHubSpotRateLimit: "20/2s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SaaS != (SaaS{TaskQueue: "calls", Rate: 0.5, HubSpotBurst: 20, HubSpotWindow: 2 * time.Second}) {
		t.Errorf("set: %+v", c.SaaS)
	}
	for env, want := range map[string]string{
		EnvSaaSRate:         "LEADFLOW_SAAS_RATE=\"-1\"",
		EnvSaaSTaskQueue:    "must differ from the lead task queue",
		EnvHubSpotRateLimit: "HUBSPOT_RATE_LIMIT=\"lots\"",
	} {
		v := map[string]string{EnvSaaSRate: "-1", EnvSaaSTaskQueue: "leadflow", EnvHubSpotRateLimit: "lots"}[env]
		if _, err := FromLookup(lookupMap(map[string]string{env: v})); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%s: %v; want %q", env, v, err, want)
		}
	}
}

func TestStickyCacheSize(t *testing.T) {
	c, err := FromLookup(lookupMap(nil))
	if err != nil || c.StickyCacheSize != DefaultStickyCacheSize {
		t.Fatalf("default: %d %v", c.StickyCacheSize, err)
	}
	c, err = FromLookup(lookupMap(map[string]string{EnvStickyCacheSize: "2000"}))
	if err != nil || c.StickyCacheSize != 2000 {
		t.Fatalf("2000: %d %v", c.StickyCacheSize, err)
	}
	for _, v := range []string{"0", "99", "100001", "lots"} {
		if _, err := FromLookup(lookupMap(map[string]string{EnvStickyCacheSize: v})); err == nil || !strings.Contains(err.Error(), EnvStickyCacheSize+"=") {
			t.Errorf("%s=%s: %v", EnvStickyCacheSize, v, err)
		}
	}
}
