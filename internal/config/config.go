// Package config turns the process environment into one typed, validated
// Config (CONTRACT.md, "Configuration"). It is read once at startup; nothing
// else in leadflow calls os.Getenv, so Vars is the complete list of knobs.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/buildinfo"
	"github.com/leadflow/leadflow/internal/lead"
)

// Environment variable names. One place defines each.
const (
	EnvTemporalAddress       = "TEMPORAL_ADDRESS"
	EnvTemporalNamespace     = "TEMPORAL_NAMESPACE"
	EnvTaskQueue             = "LEADFLOW_TASK_QUEUE"
	EnvTemporalTLSCert       = "TEMPORAL_TLS_CERT"
	EnvTemporalTLSKey        = "TEMPORAL_TLS_KEY"
	EnvTemporalTLSCA         = "TEMPORAL_TLS_CA"
	EnvTemporalTLSServerName = "TEMPORAL_TLS_SERVER_NAME"
	EnvTemporalAPIKey        = "TEMPORAL_API_KEY"
	EnvDatabaseURL           = "DATABASE_URL"
	EnvPolicy                = "LEADFLOW_POLICY"
	EnvWebhookSecret         = "LEADFLOW_WEBHOOK_SECRET"
	EnvIDKey                 = "LEADFLOW_ID_KEY"
	EnvCRM                   = "LEADFLOW_CRM"
	EnvHubSpotToken          = "HUBSPOT_TOKEN"
	EnvHubSpotBaseURL        = "HUBSPOT_BASE_URL"
	EnvHubSpotClientSecret   = "HUBSPOT_CLIENT_SECRET"
	EnvHubSpotStageMap       = "HUBSPOT_STAGE_MAP"
	EnvNurture               = "LEADFLOW_NURTURE"
	EnvNurtureWebhookURL     = "NURTURE_WEBHOOK_URL"
	EnvNurtureWebhookSecret  = "NURTURE_WEBHOOK_SECRET"
	EnvHTTPAddr              = "LEADFLOW_HTTP_ADDR"
	EnvPublicURL             = "LEADFLOW_PUBLIC_URL"
	EnvAPIToken              = "LEADFLOW_API_TOKEN"
	EnvMetricsAddr           = "LEADFLOW_METRICS_ADDR"
	EnvLogLevel              = "LEADFLOW_LOG_LEVEL"
	EnvUpdateTimeout         = "LEADFLOW_UPDATE_TIMEOUT"
	EnvWorkerStopTimeout     = "LEADFLOW_WORKER_STOP_TIMEOUT"
	// The edge (secrets.go, edge.go).
	EnvInsecureDemo    = "LEADFLOW_INSECURE_DEMO"
	EnvHubSpotPortalID = "HUBSPOT_PORTAL_ID"
	EnvEventsRate      = "LEADFLOW_EVENTS_RATE"
	EnvEventsBurst     = "LEADFLOW_EVENTS_BURST"
)

// Defaults of the contract.
const (
	DefaultDatabaseURL    = "postgres://postgres@127.0.0.1:5432/leadflow?sslmode=disable"
	DefaultPolicyPath     = "deploy/policy.yaml"
	DefaultHubSpotBaseURL = "https://api.hubapi.com"
	DefaultHTTPAddr       = "127.0.0.1:8080"
	DefaultMetricsAddr    = "127.0.0.1:9090"
	DefaultLogLevel       = "info"
	DefaultUpdateTimeout  = 10 * time.Second
	// MinUpdateTimeout and MaxUpdateTimeout bound LEADFLOW_UPDATE_TIMEOUT:
	// under a second no update could be taken; over a minute the caller's
	// HTTP client and serve's 90 s write timeout give up first.
	MinUpdateTimeout = time.Second
	MaxUpdateTimeout = time.Minute
	// DefaultWorkerStopTimeout is how long a stopping worker lets running
	// activities finish (worker.Options.WorkerStopTimeout): the longest
	// activity attempt (a CRM call, 30 s start-to-close).
	DefaultWorkerStopTimeout = 30 * time.Second
	// MinWorkerStopTimeout and MaxWorkerStopTimeout bound
	// LEADFLOW_WORKER_STOP_TIMEOUT: 0 would cancel running activities at
	// once, which is what the setting exists to prevent.
	MinWorkerStopTimeout = time.Second
	MaxWorkerStopTimeout = 10 * time.Minute

	CRMBuiltin     = "builtin"
	CRMHubSpot     = "hubspot"
	NurtureBuiltin = "builtin"
	NurtureWebhook = "webhook"
)

// vars is every variable FromLookup reads, in documentation order.
var vars = []string{
	EnvTemporalAddress, EnvTemporalNamespace, EnvTaskQueue,
	EnvTemporalTLSCert, EnvTemporalTLSKey, EnvTemporalTLSCA, EnvTemporalTLSServerName, EnvTemporalAPIKey,
	EnvDatabaseURL, EnvPolicy, EnvWebhookSecret, EnvIDKey,
	EnvCRM, EnvHubSpotToken, EnvHubSpotBaseURL, EnvHubSpotClientSecret, EnvHubSpotStageMap,
	EnvNurture, EnvNurtureWebhookURL, EnvNurtureWebhookSecret,
	EnvHTTPAddr, EnvPublicURL, EnvAPIToken, EnvMetricsAddr, EnvLogLevel, EnvUpdateTimeout,
	EnvWorkerStopTimeout, EnvPolicyPoll,
	EnvSlackWebhookURL, EnvSlackBotToken, EnvSMTPURL, EnvEmailFrom, EnvTemporalUIURL,
	// payload encryption: codec.go
	EnvCodec, EnvCodecKeys, EnvCodecKeysFile, EnvCodecAddr, EnvCodecCORSOrigins,
	EnvInsecureDemo, EnvHubSpotPortalID, EnvEventsRate, EnvEventsBurst,
	EnvSaaSTaskQueue, EnvSaaSRate, EnvHubSpotRateLimit,
	EnvStickyCacheSize,
	// Worker Deployment versioning: versioning.go
	EnvWorkerVersioning, EnvDeploymentName, EnvBuildID,
}

// Vars returns every environment variable name the config reads. A test of
// the deployment files uses it to check they name only known variables.
func Vars() []string { return append([]string(nil), vars...) }

// TLS is the transport security towards Temporal: mTLS with a client
// certificate (self-hosted or Temporal Cloud), and/or a custom CA and server
// name. All paths are files; Dial reads them.
type TLS struct {
	CertFile   string // TEMPORAL_TLS_CERT
	KeyFile    string // TEMPORAL_TLS_KEY
	CAFile     string // TEMPORAL_TLS_CA
	ServerName string // TEMPORAL_TLS_SERVER_NAME
}

// Enabled reports whether any TLS setting was given.
func (t TLS) Enabled() bool {
	return t.CertFile != "" || t.KeyFile != "" || t.CAFile != "" || t.ServerName != ""
}

// Config is leadflow's whole configuration.
type Config struct {
	TemporalAddress string
	Namespace       string
	TaskQueue       string
	TemporalTLS     TLS
	TemporalAPIKey  string // API-key auth (Temporal Cloud); implies TLS

	DatabaseURL string
	PolicyPath  string

	WebhookSecret string // HMAC key of Leadflow-Signature
	IDKey         string // HMAC key deriving leadIds from emails

	CRM                 string // builtin | hubspot
	HubSpotToken        string
	HubSpotBaseURL      string
	HubSpotClientSecret string
	// HubSpotStageMap overrides the stage → lifecyclestage/hs_lead_status
	// mapping: "sal=salesqualifiedlead/CONNECTED,recycle=lead/ATTEMPTED_TO_CONTACT".
	HubSpotStageMap string

	Nurture              string // builtin | webhook
	NurtureWebhookURL    string
	NurtureWebhookSecret string

	HTTPAddr    string
	PublicURL   string // no trailing slash
	APIToken    string
	MetricsAddr string
	LogLevel    string // debug | info | warn | error
	// UpdateTimeout is how long accept/reject/reassign/retry-effects wait
	// for the lead's workflow to take the update before the API answers 503.
	UpdateTimeout time.Duration
	// WorkerStopTimeout is how long a worker told to stop (SIGTERM) waits
	// for its running activities before cancelling them. The pod's
	// terminationGracePeriodSeconds must exceed it.
	WorkerStopTimeout time.Duration
	// StickyCacheSize: lead workflows a worker keeps in memory (cache.go).
	StickyCacheSize int
	// PolicyPoll is how often the worker reads the active policy version.
	PolicyPoll time.Duration

	// Notify: the notification channels (internal/config/notify.go).
	Notify Notify
	Codec  Codec // payload encryption (codec.go)
	Edge         // secrets rule, HubSpot portal pin, rate limits (edge.go)
	SaaS   SaaS  // the SaaS task queue and its rate (saas.go)
	// Versioning: the worker's Worker Deployment version (versioning.go).
	Versioning Versioning
}

// FromEnv reads the process environment.
func FromEnv() (Config, error) { return FromLookup(os.LookupEnv) }

// FromLookup builds and validates a Config from lookup (os.LookupEnv in
// production, a map in tests). A variable set to the empty string counts as
// unset, because compose files and Kubernetes manifests often template blanks.
// Every problem is reported at once, each naming its variable.
func FromLookup(lookup func(string) (string, bool)) (Config, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	// Secrets are taken verbatim (no trimming): a key is whatever bytes the
	// operator gave, and both ends of an HMAC must agree on them.
	secret := func(name string) string {
		v, _ := lookup(name)
		if strings.TrimSpace(v) == "" {
			return ""
		}
		return v
	}

	c := Config{
		TemporalAddress: get(EnvTemporalAddress, lead.DefaultAddress),
		Namespace:       get(EnvTemporalNamespace, lead.DefaultNamespace),
		TaskQueue:       get(EnvTaskQueue, lead.TaskQueue),
		TemporalTLS: TLS{
			CertFile:   get(EnvTemporalTLSCert, ""),
			KeyFile:    get(EnvTemporalTLSKey, ""),
			CAFile:     get(EnvTemporalTLSCA, ""),
			ServerName: get(EnvTemporalTLSServerName, ""),
		},
		TemporalAPIKey: secret(EnvTemporalAPIKey),

		DatabaseURL: get(EnvDatabaseURL, DefaultDatabaseURL),
		PolicyPath:  get(EnvPolicy, DefaultPolicyPath),

		WebhookSecret: secret(EnvWebhookSecret),
		IDKey:         secret(EnvIDKey),

		CRM:                 strings.ToLower(get(EnvCRM, CRMBuiltin)),
		HubSpotToken:        secret(EnvHubSpotToken),
		HubSpotBaseURL:      strings.TrimRight(get(EnvHubSpotBaseURL, DefaultHubSpotBaseURL), "/"),
		HubSpotClientSecret: secret(EnvHubSpotClientSecret),
		HubSpotStageMap:     get(EnvHubSpotStageMap, ""),

		Nurture:              strings.ToLower(get(EnvNurture, NurtureBuiltin)),
		NurtureWebhookURL:    get(EnvNurtureWebhookURL, ""),
		NurtureWebhookSecret: secret(EnvNurtureWebhookSecret),

		HTTPAddr:    get(EnvHTTPAddr, DefaultHTTPAddr),
		APIToken:    secret(EnvAPIToken),
		MetricsAddr: get(EnvMetricsAddr, DefaultMetricsAddr),
		LogLevel:    strings.ToLower(get(EnvLogLevel, DefaultLogLevel)),
	}
	c.PublicURL = strings.TrimRight(get(EnvPublicURL, "http://"+c.HTTPAddr), "/")
	c.Notify = notifyFromLookup(get, secret)

	var errs []error
	bad := func(name, value, reason string) {
		errs = append(errs, fmt.Errorf("%s=%q: %s", name, value, reason))
	}

	c.UpdateTimeout = DefaultUpdateTimeout
	if v := get(EnvUpdateTimeout, ""); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			bad(EnvUpdateTimeout, v, "must be a duration with a unit, e.g. 10s or 1m")
		case d < MinUpdateTimeout || d > MaxUpdateTimeout:
			bad(EnvUpdateTimeout, v, fmt.Sprintf("must be between %s and %s", MinUpdateTimeout, MaxUpdateTimeout))
		default:
			c.UpdateTimeout = d
		}
	}

	c.WorkerStopTimeout = DefaultWorkerStopTimeout
	if v := get(EnvWorkerStopTimeout, ""); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			bad(EnvWorkerStopTimeout, v, "must be a duration with a unit, e.g. 30s or 2m")
		case d < MinWorkerStopTimeout || d > MaxWorkerStopTimeout:
			bad(EnvWorkerStopTimeout, v, fmt.Sprintf("must be between %s and %s", MinWorkerStopTimeout, MaxWorkerStopTimeout))
		default:
			c.WorkerStopTimeout = d
		}
	}

	c.PolicyPoll, errs = readPolicyPoll(get, errs)
	errs = append(errs, c.Edge.read(get)...)
	errs = append(errs, c.SaaS.read(get, c.TaskQueue, c.CRM)...)
	var cacheErrs []error
	c.StickyCacheSize, cacheErrs = readStickyCache(get)
	errs = append(errs, cacheErrs...)
	errs = append(errs, c.Versioning.read(get, buildinfo.Runtime())...)

	if err := hostPort(c.TemporalAddress); err != nil {
		bad(EnvTemporalAddress, c.TemporalAddress, err.Error())
	}
	if (c.TemporalTLS.CertFile == "") != (c.TemporalTLS.KeyFile == "") {
		if c.TemporalTLS.CertFile == "" {
			errs = append(errs, fmt.Errorf("%s is set but %s is not: mTLS needs both the client certificate and its key", EnvTemporalTLSKey, EnvTemporalTLSCert))
		} else {
			errs = append(errs, fmt.Errorf("%s is set but %s is not: mTLS needs both the client certificate and its key", EnvTemporalTLSCert, EnvTemporalTLSKey))
		}
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		errs = append(errs, fmt.Errorf("%s: must be a postgres:// or postgresql:// URL", EnvDatabaseURL)) // may hold a password: not echoed
	}
	switch c.CRM {
	case CRMBuiltin, CRMHubSpot:
	default:
		bad(EnvCRM, c.CRM, "must be builtin or hubspot")
	}
	if err := httpURL(c.HubSpotBaseURL); err != nil {
		bad(EnvHubSpotBaseURL, c.HubSpotBaseURL, err.Error())
	}
	switch c.Nurture {
	case NurtureBuiltin, NurtureWebhook:
	default:
		bad(EnvNurture, c.Nurture, "must be builtin or webhook")
	}
	if c.NurtureWebhookURL != "" {
		if err := httpURL(c.NurtureWebhookURL); err != nil {
			bad(EnvNurtureWebhookURL, c.NurtureWebhookURL, err.Error())
		}
	}
	if err := hostPort(c.HTTPAddr); err != nil {
		bad(EnvHTTPAddr, c.HTTPAddr, err.Error())
	}
	if err := httpURL(c.PublicURL); err != nil {
		bad(EnvPublicURL, c.PublicURL, err.Error())
	}
	if err := hostPort(c.MetricsAddr); err != nil {
		bad(EnvMetricsAddr, c.MetricsAddr, err.Error())
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad(EnvLogLevel, c.LogLevel, "must be debug, info, warn or error")
	}
	var codecErrs []error
	c.Codec, codecErrs = codecFromLookup(get, secret)
	errs = append(errs, codecErrs...)
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return c, nil
}

// ForServe checks what `starter serve` needs beyond FromLookup.
func (c Config) ForServe() error {
	var errs []error
	if c.WebhookSecret == "" {
		errs = append(errs, fmt.Errorf("%s is required by serve: it is the HMAC key that verifies Leadflow-Signature on POST /v1/events", EnvWebhookSecret))
	}
	if c.IDKey == "" {
		errs = append(errs, fmt.Errorf("%s is required by serve: it is the HMAC key that derives a leadId from an email", EnvIDKey))
	}
	if err := c.checkCodec("serve"); err != nil {
		errs = append(errs, err)
	}
	if c.HubSpotClientSecret != "" && c.HubSpotPortalID == "" {
		errs = append(errs, fmt.Errorf("%s is required by serve when %s is set: only that portal's webhooks are applied", EnvHubSpotPortalID, EnvHubSpotClientSecret))
	}
	errs = append(errs, c.shortSecrets()...)
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

// ForWorker checks what the worker needs for the chosen adapters.
func (c Config) ForWorker() error {
	errs := c.shortSecrets()
	if err := c.checkCodec("the worker"); err != nil {
		errs = append(errs, err)
	}
	if c.CRM == CRMHubSpot && c.HubSpotToken == "" {
		errs = append(errs, fmt.Errorf("%s is required when %s=hubspot", EnvHubSpotToken, EnvCRM))
	}
	if c.Nurture == NurtureWebhook {
		if c.NurtureWebhookURL == "" {
			errs = append(errs, fmt.Errorf("%s is required when %s=webhook", EnvNurtureWebhookURL, EnvNurture))
		}
		if c.NurtureWebhookSecret == "" {
			errs = append(errs, fmt.Errorf("%s is required when %s=webhook: it signs the requests leadflow sends", EnvNurtureWebhookSecret, EnvNurture))
		}
	}
	errs = append(errs, c.Notify.check()...)
	if err := c.Versioning.check(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

// String prints the config with secrets masked, so it can be logged at start.
func (c Config) String() string {
	mask := func(s string) string {
		if s == "" {
			return `""`
		}
		return "***"
	}
	db := c.DatabaseURL
	if u, err := url.Parse(db); err == nil {
		db = u.Redacted()
	}
	return fmt.Sprintf("temporal=%s namespace=%s taskQueue=%s tls=%t apiKey=%s db=%s policy=%s "+
		"webhookSecret=%s idKey=%s crm=%s hubspotBaseURL=%s hubspotToken=%s hubspotClientSecret=%s "+
		"nurture=%s nurtureWebhookURL=%s nurtureWebhookSecret=%s http=%s publicURL=%s apiToken=%s metrics=%s logLevel=%s updateTimeout=%s workerStopTimeout=%s policyPoll=%s",
		c.TemporalAddress, c.Namespace, c.TaskQueue, c.TemporalTLS.Enabled() || c.TemporalAPIKey != "", mask(c.TemporalAPIKey),
		db, c.PolicyPath, mask(c.WebhookSecret), mask(c.IDKey), c.CRM, c.HubSpotBaseURL, mask(c.HubSpotToken),
		mask(c.HubSpotClientSecret), c.Nurture, c.NurtureWebhookURL, mask(c.NurtureWebhookSecret),
		c.HTTPAddr, c.PublicURL, mask(c.APIToken), c.MetricsAddr, c.LogLevel, c.UpdateTimeout, c.WorkerStopTimeout, c.PolicyPoll) +
		" " + c.Notify.String() + " " + c.Edge.String()
}

func hostPort(s string) error {
	// An empty host (":8080") means all interfaces, which is legal.
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("must be host:port")
	}
	if port == "" {
		return errors.New("must be host:port (port missing)")
	}
	return nil
}

func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute http:// or https:// URL")
	}
	return nil
}
