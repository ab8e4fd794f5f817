package config

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := FromLookup(lookupMap(nil))
	if err != nil {
		t.Fatalf("FromLookup(empty): %v", err)
	}
	want := Config{
		TemporalAddress: "127.0.0.1:7233",
		Namespace:       "default",
		TaskQueue:       "leadflow",
		DatabaseURL:     "postgres://postgres@127.0.0.1:5432/leadflow?sslmode=disable",
		PolicyPath:      "deploy/policy.yaml",
		CRM:             "builtin",
		HubSpotBaseURL:  "https://api.hubapi.com",
		Nurture:         "builtin",
		HTTPAddr:        "127.0.0.1:8080",
		PublicURL:       "http://127.0.0.1:8080",
		MetricsAddr:     "127.0.0.1:9090",
		LogLevel:        "info",
		UpdateTimeout:   10 * time.Second,
		// The worker's graceful stop: the longest activity attempt.
		WorkerStopTimeout: 30 * time.Second,
		PolicyPoll:        5 * time.Second,
		// No notification channel: the built-in record only.
		Notify: Notify{TemporalUIURL: "http://127.0.0.1:8233"},
		Codec:  Codec{Addr: "127.0.0.1:8081"},
		Edge:   Edge{EventsRate: 20, EventsBurst: 40},
		// Third-party calls on their own queue, unlimited with the built-in CRM.
		SaaS: SaaS{TaskQueue: "leadflow-saas", HubSpotBurst: 100, HubSpotWindow: 10 * time.Second},
		// Under the SDK's 10,000: the recorded bench filled that past 1 GiB.
		StickyCacheSize: 4096,
	}
	// Unversioned; a test binary has no VCS stamp, so no build ID.
	if v := c.Versioning; v.Mode != VersioningOff || v.Version.DeploymentName != "leadflow" || v.Version.BuildID != "" || v.BuildIDErr == nil {
		t.Errorf("versioning defaults: %+v", v)
	}
	c.Versioning = Versioning{}
	if c != want {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if err := c.ForWorker(); err == nil || !strings.Contains(err.Error(), "LEADFLOW_CODEC_KEYS") {
		t.Errorf("ForWorker on defaults: %v; want the codec keys asked for", err)
	}
	if err := c.ForServe(); err == nil {
		t.Error("ForServe on defaults: want error for missing secrets")
	}
}

func TestFromLookup(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr []string // substrings; all must appear
	}{
		{
			name: "overrides",
			env: map[string]string{
				EnvTemporalAddress: "temporal:7233", EnvTemporalNamespace: "prod.a1b2c", EnvTaskQueue: "leadflow-eu",
				EnvHTTPAddr: ":8081", EnvLogLevel: "DEBUG", EnvCRM: "HubSpot", EnvHubSpotBaseURL: "http://127.0.0.1:9999/",
			},
			check: func(t *testing.T, c Config) {
				if c.TemporalAddress != "temporal:7233" || c.Namespace != "prod.a1b2c" || c.TaskQueue != "leadflow-eu" {
					t.Errorf("temporal settings: %+v", c)
				}
				if c.PublicURL != "http://:8081" {
					t.Errorf("PublicURL = %q", c.PublicURL)
				}
				if c.LogLevel != "debug" || c.CRM != "hubspot" || c.HubSpotBaseURL != "http://127.0.0.1:9999" {
					t.Errorf("normalisation: level=%q crm=%q base=%q", c.LogLevel, c.CRM, c.HubSpotBaseURL)
				}
			},
		},
		{
			name: "public URL follows HTTP addr and drops trailing slash",
			env:  map[string]string{EnvHTTPAddr: "0.0.0.0:80", EnvPublicURL: "https://leads.example.com/"},
			check: func(t *testing.T, c Config) {
				if c.PublicURL != "https://leads.example.com" {
					t.Errorf("PublicURL = %q", c.PublicURL)
				}
			},
		},
		{
			name: "blank values mean default",
			env:  map[string]string{EnvTemporalAddress: "", EnvCRM: "  ", EnvWebhookSecret: ""},
			check: func(t *testing.T, c Config) {
				if c.TemporalAddress != "127.0.0.1:7233" || c.CRM != "builtin" || c.WebhookSecret != "" {
					t.Errorf("blank handling: %+v", c)
				}
			},
		},
		{
			name: "secrets kept verbatim",
			env:  map[string]string{EnvWebhookSecret: " s3cret " + key32, EnvIDKey: key32, EnvCodec: "off"},
			check: func(t *testing.T, c Config) {
				if c.WebhookSecret != " s3cret "+key32 || c.IDKey != key32 {
					t.Errorf("secrets: %q %q", c.WebhookSecret, c.IDKey)
				}
				if err := c.ForServe(); err != nil {
					t.Errorf("ForServe: %v", err)
				}
			},
		},
		{
			name: "mTLS and API key",
			env: map[string]string{EnvTemporalTLSCert: "/c.pem", EnvTemporalTLSKey: "/k.pem", EnvTemporalTLSCA: "/ca.pem",
				EnvTemporalTLSServerName: "t.example", EnvTemporalAPIKey: "key"},
			check: func(t *testing.T, c Config) {
				if c.TemporalTLS != (TLS{"/c.pem", "/k.pem", "/ca.pem", "t.example"}) || !c.TemporalTLS.Enabled() || c.TemporalAPIKey != "key" {
					t.Errorf("tls: %+v key=%q", c.TemporalTLS, c.TemporalAPIKey)
				}
			},
		},
		{
			name: "update timeout",
			env:  map[string]string{EnvUpdateTimeout: " 1m "},
			check: func(t *testing.T, c Config) {
				if c.UpdateTimeout != time.Minute {
					t.Errorf("UpdateTimeout = %v", c.UpdateTimeout)
				}
				if !strings.Contains(c.String(), "updateTimeout=1m0s") {
					t.Errorf("String() = %s", c)
				}
			},
		},
		{name: "update timeout without unit", env: map[string]string{EnvUpdateTimeout: "10"}, wantErr: []string{`LEADFLOW_UPDATE_TIMEOUT="10": must be a duration with a unit, e.g. 10s or 1m`}},
		{name: "update timeout not a duration", env: map[string]string{EnvUpdateTimeout: "soon"}, wantErr: []string{`LEADFLOW_UPDATE_TIMEOUT="soon": must be a duration`}},
		{name: "update timeout too short", env: map[string]string{EnvUpdateTimeout: "500ms"}, wantErr: []string{`LEADFLOW_UPDATE_TIMEOUT="500ms": must be between 1s and 1m0s`}},
		{name: "update timeout too long", env: map[string]string{EnvUpdateTimeout: "61s"}, wantErr: []string{`LEADFLOW_UPDATE_TIMEOUT="61s": must be between 1s and 1m0s`}},
		{
			name: "worker stop timeout",
			env:  map[string]string{EnvWorkerStopTimeout: "2m"},
			check: func(t *testing.T, c Config) {
				if c.WorkerStopTimeout != 2*time.Minute || !strings.Contains(c.String(), "workerStopTimeout=2m0s") {
					t.Errorf("WorkerStopTimeout = %v; %s", c.WorkerStopTimeout, c)
				}
			},
		},
		{name: "worker stop timeout zero", env: map[string]string{EnvWorkerStopTimeout: "0s"}, wantErr: []string{`LEADFLOW_WORKER_STOP_TIMEOUT="0s": must be between 1s and 10m0s`}},
		{name: "worker stop timeout without unit", env: map[string]string{EnvWorkerStopTimeout: "30"}, wantErr: []string{`LEADFLOW_WORKER_STOP_TIMEOUT="30": must be a duration with a unit`}},
		{
			name: "policy poll",
			env:  map[string]string{EnvPolicyPoll: "2s"},
			check: func(t *testing.T, c Config) {
				if c.PolicyPoll != 2*time.Second || !strings.Contains(c.String(), "policyPoll=2s") {
					t.Errorf("PolicyPoll = %v; %s", c.PolicyPoll, c)
				}
			},
		},
		{name: "policy poll too short", env: map[string]string{EnvPolicyPoll: "100ms"}, wantErr: []string{`LEADFLOW_POLICY_POLL="100ms": must be between 1s and 5m0s`}},
		{name: "policy poll without unit", env: map[string]string{EnvPolicyPoll: "5"}, wantErr: []string{`LEADFLOW_POLICY_POLL="5": must be a duration with a unit`}},
		{name: "worker stop timeout too long", env: map[string]string{EnvWorkerStopTimeout: "11m"}, wantErr: []string{`must be between 1s and 10m0s`}},
		{name: "update timeout negative", env: map[string]string{EnvUpdateTimeout: "-5s"}, wantErr: []string{`LEADFLOW_UPDATE_TIMEOUT="-5s": must be between`}},
		{name: "unknown CRM", env: map[string]string{EnvCRM: "salesforce"}, wantErr: []string{`LEADFLOW_CRM="salesforce": must be builtin or hubspot`}},
		{name: "unknown nurture", env: map[string]string{EnvNurture: "mailchimp"}, wantErr: []string{`LEADFLOW_NURTURE="mailchimp": must be builtin or webhook`}},
		{name: "bad address", env: map[string]string{EnvTemporalAddress: "localhost"}, wantErr: []string{`TEMPORAL_ADDRESS="localhost": must be host:port`}},
		{name: "bad http addr", env: map[string]string{EnvHTTPAddr: "8080"}, wantErr: []string{`LEADFLOW_HTTP_ADDR="8080"`}},
		{name: "bad metrics addr", env: map[string]string{EnvMetricsAddr: "nope"}, wantErr: []string{`LEADFLOW_METRICS_ADDR="nope"`}},
		{name: "bad log level", env: map[string]string{EnvLogLevel: "verbose"}, wantErr: []string{`LEADFLOW_LOG_LEVEL="verbose": must be debug, info, warn or error`}},
		{name: "cert without key", env: map[string]string{EnvTemporalTLSCert: "/c.pem"}, wantErr: []string{"TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not"}},
		{name: "key without cert", env: map[string]string{EnvTemporalTLSKey: "/k.pem"}, wantErr: []string{"TEMPORAL_TLS_KEY is set but TEMPORAL_TLS_CERT is not"}},
		{name: "bad database URL is not echoed", env: map[string]string{EnvDatabaseURL: "mysql://root:pw@db/x"}, wantErr: []string{"DATABASE_URL: must be a postgres://"}},
		{name: "bad public URL", env: map[string]string{EnvPublicURL: "leads.example.com"}, wantErr: []string{`LEADFLOW_PUBLIC_URL="leads.example.com": must be an absolute`}},
		{name: "bad hubspot base", env: map[string]string{EnvHubSpotBaseURL: "ftp://x"}, wantErr: []string{`HUBSPOT_BASE_URL="ftp://x"`}},
		{name: "bad nurture webhook URL", env: map[string]string{EnvNurtureWebhookURL: "/hook"}, wantErr: []string{`NURTURE_WEBHOOK_URL="/hook"`}},
		{
			name:    "all problems at once",
			env:     map[string]string{EnvCRM: "x", EnvNurture: "y", EnvLogLevel: "z"},
			wantErr: []string{"LEADFLOW_CRM", "LEADFLOW_NURTURE", "LEADFLOW_LOG_LEVEL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromLookup(lookupMap(tt.env))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want error containing %q, got config %+v", tt.wantErr, c)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "pw@") {
					t.Errorf("error leaks a password: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromLookup: %v", err)
			}
			tt.check(t, c)
		})
	}
}

// serveWorkerCase is an environment and what ForServe and ForWorker say of it.
type serveWorkerCase struct {
	name          string
	env           map[string]string
	serveErr      []string
	workerErr     []string
	serveOK, wkOK bool
}

func TestForServeAndWorker(t *testing.T) {
	tests := []serveWorkerCase{
		{name: "serve needs both keys", env: nil, serveErr: []string{"LEADFLOW_WEBHOOK_SECRET is required", "LEADFLOW_ID_KEY is required"}, wkOK: true},
		{name: "serve needs id key", env: map[string]string{EnvWebhookSecret: key32}, serveErr: []string{"LEADFLOW_ID_KEY is required"}, wkOK: true},
		{name: "serve ok", env: map[string]string{EnvWebhookSecret: key32, EnvIDKey: key32}, serveOK: true, wkOK: true},
		{name: "hubspot needs token", env: map[string]string{EnvCRM: "hubspot", EnvWebhookSecret: key32, EnvIDKey: key32}, serveOK: true,
			workerErr: []string{"HUBSPOT_TOKEN is required when LEADFLOW_CRM=hubspot"}},
		{name: "hubspot ok", env: map[string]string{EnvCRM: "hubspot", EnvHubSpotToken: "pat"}, wkOK: true,
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}},
		{name: "webhook nurture needs URL and secret", env: map[string]string{EnvNurture: "webhook"},
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, workerErr: []string{"NURTURE_WEBHOOK_URL is required", "NURTURE_WEBHOOK_SECRET is required"}},
		{name: "webhook nurture needs secret", env: map[string]string{EnvNurture: "webhook", EnvNurtureWebhookURL: "https://n.example/hook"},
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, workerErr: []string{"NURTURE_WEBHOOK_SECRET is required"}},
		{name: "webhook nurture ok", env: map[string]string{EnvNurture: "webhook", EnvNurtureWebhookURL: "https://n.example/hook", EnvNurtureWebhookSecret: "x"},
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, wkOK: true},
		{name: "smtp needs a sender", env: map[string]string{EnvSMTPURL: "smtp://127.0.0.1:1025"},
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, workerErr: []string{"LEADFLOW_EMAIL_FROM is required when LEADFLOW_SMTP_URL is set"}},
		{name: "bad smtp url", env: map[string]string{EnvSMTPURL: "http://u:hunter2@mail:25", EnvEmailFrom: "leadflow@example.com"},
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, workerErr: []string{`LEADFLOW_SMTP_URL: must be smtp://user:pass@host:port (scheme is "http")`}},
		{name: "smtp ok", env: map[string]string{EnvSMTPURL: "smtp://u:p@127.0.0.1:1025", EnvEmailFrom: "leadflow@example.com"},
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, wkOK: true},
		{name: "slack webhook not a URL", env: map[string]string{EnvSlackWebhookURL: "hooks.slack.com/services/T/B/SECRET"},
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, workerErr: []string{"LEADFLOW_SLACK_WEBHOOK_URL: must be an absolute"}},
		{name: "slack webhook and bot token", env: map[string]string{EnvSlackWebhookURL: "https://hooks.slack.com/services/T/B/X", EnvSlackBotToken: "xoxb-1"},
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, workerErr: []string{"are both set: use one"}},
		{name: "bad sender", env: map[string]string{EnvSMTPURL: "smtp://127.0.0.1:1025", EnvEmailFrom: "leadflow"},
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, workerErr: []string{`LEADFLOW_EMAIL_FROM="leadflow": must be an email address`}},
		{name: "sender with a name", env: map[string]string{EnvSMTPURL: "smtp://127.0.0.1:1025", EnvEmailFrom: "leadflow <leadflow@example.com>"},
			serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, wkOK: true},
		{name: "slack bot ok", env: map[string]string{EnvSlackBotToken: "xoxb-1"}, serveErr: []string{"LEADFLOW_WEBHOOK_SECRET"}, wkOK: true},
	}
	check := func(t *testing.T, what string, err error, ok bool, want []string) {
		t.Helper()
		if ok {
			if err != nil {
				t.Errorf("%s: unexpected error %v", what, err)
			}
			return
		}
		if err == nil {
			t.Errorf("%s: want error containing %q", what, want)
			return
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", what, err, w)
			}
		}
	}
	for _, tt := range append(tests, secretRuleCases()...) {
		t.Run(tt.name, func(t *testing.T) {
			// The codec's own requirement is tested in codec_test.go.
			env := map[string]string{EnvCodec: CodecOff}
			maps.Copy(env, tt.env)
			c, err := FromLookup(lookupMap(env))
			if err != nil {
				t.Fatalf("FromLookup: %v", err)
			}
			check(t, "ForServe", c.ForServe(), tt.serveOK, tt.serveErr)
			check(t, "ForWorker", c.ForWorker(), tt.wkOK, tt.workerErr)
		})
	}
}

// TestVarsComplete checks Vars lists exactly what FromLookup reads, so the
// compose/manifest check cannot drift from the code.
func TestVarsComplete(t *testing.T) {
	var read []string
	_, _ = FromLookup(func(k string) (string, bool) { read = append(read, k); return "", false })
	slices.Sort(read)
	read = slices.Compact(read)
	vs := Vars()
	slices.Sort(vs)
	if !slices.Equal(read, vs) {
		t.Fatalf("Vars() = %v\nFromLookup reads %v", vs, read)
	}
	for _, v := range []string{"TEMPORAL_ADDRESS", "LEADFLOW_WEBHOOK_SECRET", "HUBSPOT_CLIENT_SECRET", "NURTURE_WEBHOOK_URL", "TEMPORAL_API_KEY"} {
		if !slices.Contains(vs, v) {
			t.Errorf("Vars() lacks %s", v)
		}
	}
	// Vars returns a copy: callers may sort it freely.
	a := Vars()
	a[0] = "X"
	if Vars()[0] == "X" {
		t.Error("Vars() exposes its backing array")
	}
}

func TestStringMasksSecrets(t *testing.T) {
	c, err := FromLookup(lookupMap(map[string]string{
		EnvWebhookSecret: "whsec-1", EnvIDKey: "idkey-2", EnvAPIToken: "tok-3", EnvTemporalAPIKey: "tk-4",
		EnvHubSpotToken: "hs-5", EnvDatabaseURL: "postgres://u:dbpw-6@db/leadflow",
		EnvSlackWebhookURL: "https://hooks.slack.com/services/T/B/slk-7", EnvSlackBotToken: "xoxb-8", EnvSMTPURL: "smtp://u:smtppw-9@mail:25",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, secret := range []string{"whsec-1", "idkey-2", "tok-3", "tk-4", "hs-5", "dbpw-6", "slk-7", "xoxb-8", "smtppw-9"} {
		if strings.Contains(s, secret) {
			t.Errorf("String() leaks %q: %s", secret, s)
		}
	}
}
