package config

import (
	"strings"
	"testing"
)

var key32 = strings.Repeat("k", MinSecretBytes)

// secretRuleCases are TestForServeAndWorker's cases for the 32-byte rule.
func secretRuleCases() []serveWorkerCase {
	short := key32[:MinSecretBytes-1]
	ok := map[string]string{EnvWebhookSecret: key32, EnvIDKey: key32}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range ok {
			env[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	const rule = "bytes: secrets must be at least 32 bytes"
	return []serveWorkerCase{
		{name: "32-byte secrets pass", env: with(EnvAPIToken, key32, EnvHubSpotClientSecret, key32, EnvHubSpotPortalID, "123"), serveOK: true, wkOK: true},
		{name: "short webhook secret", env: with(EnvWebhookSecret, short),
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET is 31 " + rule}, workerErr: []string{"LEADFLOW_WEBHOOK_SECRET is 31 " + rule}},
		{name: "short id key", env: with(EnvIDKey, "k"),
			serveErr: []string{"LEADFLOW_ID_KEY is 1 " + rule}, workerErr: []string{"LEADFLOW_ID_KEY is 1 " + rule}},
		{name: "short api token", env: with(EnvAPIToken, "tok"),
			serveErr: []string{"LEADFLOW_API_TOKEN is 3 " + rule}, workerErr: []string{"LEADFLOW_API_TOKEN is 3 " + rule}},
		{name: "short hubspot client secret", env: with(EnvHubSpotClientSecret, short, EnvHubSpotPortalID, "123"),
			serveErr: []string{"HUBSPOT_CLIENT_SECRET is 31 " + rule}, workerErr: []string{"HUBSPOT_CLIENT_SECRET is 31 " + rule}},
		{name: "worker without secrets", env: map[string]string{}, serveErr: []string{"LEADFLOW_WEBHOOK_SECRET is required"}, wkOK: true},
		{name: "demo flag accepts short secrets", env: with(EnvWebhookSecret, "s", EnvIDKey, "k", EnvAPIToken, "t", EnvInsecureDemo, "1"),
			serveOK: true, wkOK: true},
		{name: "hubspot secret needs the portal", env: with(EnvHubSpotClientSecret, key32),
			serveErr: []string{"HUBSPOT_PORTAL_ID is required by serve when HUBSPOT_CLIENT_SECRET is set"}, wkOK: true},
	}
}

func TestInsecureDemoWarning(t *testing.T) {
	c, err := FromLookup(lookupMap(map[string]string{EnvWebhookSecret: "short", EnvIDKey: key32, EnvInsecureDemo: "true"}))
	if err != nil {
		t.Fatal(err)
	}
	w := c.InsecureDemoWarning()
	if !strings.Contains(w, "LEADFLOW_INSECURE_DEMO is set") || !strings.Contains(w, "LEADFLOW_WEBHOOK_SECRET") || strings.Contains(w, "LEADFLOW_ID_KEY") {
		t.Errorf("warning %q: want the flag and the one short secret named", w)
	}
	c.InsecureDemo = false
	if w := c.InsecureDemoWarning(); w != "" {
		t.Errorf("warning without the flag: %q", w)
	}
}

func TestEdgeSettings(t *testing.T) {
	c, err := FromLookup(lookupMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.EventsRate != DefaultEventsRate || c.EventsBurst != DefaultEventsBurst || c.InsecureDemo || c.HubSpotPortalID != "" {
		t.Errorf("defaults: %+v", c.Edge)
	}
	c, err = FromLookup(lookupMap(map[string]string{EnvEventsRate: "0.5", EnvEventsBurst: "3", EnvHubSpotPortalID: "62515", EnvInsecureDemo: "0"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.EventsRate != 0.5 || c.EventsBurst != 3 || c.HubSpotPortalID != "62515" || c.InsecureDemo {
		t.Errorf("set: %+v", c.Edge)
	}
	_, err = FromLookup(lookupMap(map[string]string{EnvEventsRate: "0", EnvEventsBurst: "many", EnvHubSpotPortalID: "acme", EnvInsecureDemo: "yes"}))
	for _, v := range []string{EnvEventsRate, EnvEventsBurst, EnvHubSpotPortalID, EnvInsecureDemo} {
		if err == nil || !strings.Contains(err.Error(), v+"=") {
			t.Errorf("error %v does not name %s", err, v)
		}
	}
}
