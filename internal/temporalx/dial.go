// Package temporalx is leadflow's Temporal plumbing: dialling (mTLS or API
// key), the zap logger adapter, search-attribute registration, Prometheus
// metrics and LeadClient, the api.Leads implementation over a client.
package temporalx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/config"
)

// Dial connects to Temporal as cfg says and checks the connection (the SDK
// calls GetSystemInfo while dialling). logger and metrics may be nil.
func Dial(ctx context.Context, cfg config.Config, logger *zap.Logger, metrics client.MetricsHandler) (client.Client, error) {
	opts, err := ClientOptions(cfg, logger, metrics)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("dial temporal at %s (namespace %q): %w", cfg.TemporalAddress, cfg.Namespace, err)
	}
	return c, nil
}

// ClientOptions builds the SDK options Dial uses; exported so a caller that
// needs a lazy client or extra interceptors can start from the same options.
func ClientOptions(cfg config.Config, logger *zap.Logger, metrics client.MetricsHandler) (client.Options, error) {
	opts := client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.Namespace,
		Logger:    NewLogger(logger),
	}
	if metrics != nil {
		opts.MetricsHandler = metrics
	}
	if err := applyCodec(&opts, cfg); err != nil {
		return client.Options{}, err
	}
	tlsCfg, err := tlsConfig(cfg.TemporalTLS)
	if err != nil {
		return client.Options{}, err
	}
	if cfg.TemporalAPIKey != "" {
		// Temporal Cloud API keys are bearer tokens: never send them in
		// plaintext, so an API key always means TLS (system roots unless a CA
		// was given).
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
		if tlsCfg == nil {
			tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	}
	opts.ConnectionOptions.TLS = tlsCfg
	return opts, nil
}

// tlsConfig returns nil when no TLS setting was given (plaintext, as for a
// local dev server).
func tlsConfig(t config.TLS) (*tls.Config, error) {
	if !t.Enabled() {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CertFile != "" || t.KeyFile != "" {
		if t.CertFile == "" || t.KeyFile == "" {
			return nil, errors.New("temporal mTLS: both " + config.EnvTemporalTLSCert + " and " + config.EnvTemporalTLSKey + " are needed")
		}
		pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("temporal mTLS: load client certificate %s / key %s: %w", t.CertFile, t.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("temporal TLS: read CA %s (%s): %w", t.CAFile, config.EnvTemporalTLSCA, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("temporal TLS: CA %s (%s) holds no PEM certificate", t.CAFile, config.EnvTemporalTLSCA)
		}
		c.RootCAs = pool
	}
	return c, nil
}
