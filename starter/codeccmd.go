package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/config"
)

const codecServerDetail = `
Serves Temporal's Codec Server protocol on LEADFLOW_CODEC_ADDR (default
127.0.0.1:8081): POST /encode, /decode and /{namespace}/encode|decode, so
the Temporal Web UI and CLI show payloads decrypted with LEADFLOW_CODEC_KEYS
(or LEADFLOW_CODEC_KEYS_FILE) — e.g.
  temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8081
  temporal workflow show -w lead/L-1 --codec-endpoint http://127.0.0.1:8081
Browsers may call it from LEADFLOW_CODEC_CORS_ORIGINS (default the dev
server UI, http://localhost:8233 and http://127.0.0.1:8233). When
LEADFLOW_API_TOKEN is set, requests need "Authorization: Bearer <token>"
(temporal: --codec-auth "Bearer <token>"). Anyone who reaches it can decrypt:
keep it on loopback or behind the same access control as the Temporal UI.`

func cmdCodecServer(ctx context.Context, a *app, c *command, args []string) error {
	fs := c.flagSet(a)
	if _, err := parseArgs(c, fs, args, 0, 0); err != nil {
		return err
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	logger, err := newLogger(a.stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()
	h, err := codecHandler(cfg)
	if err != nil {
		return &usageError{cmd: c.name, msg: err.Error()}
	}
	ln, err := net.Listen("tcp", cfg.Codec.Addr)
	if err != nil {
		return fmt.Errorf("codec server: listen on %s (%s): %w", cfg.Codec.Addr, config.EnvCodecAddr, err)
	}
	if err := runCodecServer(ctx, h, ln, cfg, logger); err != nil {
		logger.Error("codec server failed", zap.Error(err))
		return errReported
	}
	return nil
}

// codecHandler is the Codec Server for cfg's keys, origins and token.
func codecHandler(cfg config.Config) (http.Handler, error) {
	if cfg.Codec.Off {
		return nil, fmt.Errorf("%s=off: the codec server needs the keys the worker encrypts with (%s or %s)", config.EnvCodec, config.EnvCodecKeys, config.EnvCodecKeysFile)
	}
	keys, err := cfg.CodecKeys()
	if err != nil {
		return nil, err
	}
	c, err := codec.New(keys)
	if err != nil {
		return nil, err
	}
	return codec.NewServer(c, codec.ServerOptions{Origins: cfg.Codec.Origins(), Token: cfg.APIToken}), nil
}

// runCodecServer serves h on ln until ctx ends.
func runCodecServer(ctx context.Context, h http.Handler, ln net.Listener, cfg config.Config, logger *zap.Logger) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          zap.NewStdLog(logger.Named("http")),
	}
	if cfg.APIToken == "" {
		logger.Warn("codec server without " + config.EnvAPIToken + ": anyone who reaches " + ln.Addr().String() + " can decrypt payloads; keep it on loopback")
	}
	logger.Info("codec server listening", zap.String("addr", ln.Addr().String()),
		zap.String("corsOrigins", strings.Join(cfg.Codec.Origins(), ",")), zap.Bool("tokenRequired", cfg.APIToken != ""))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("codec server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("codec server shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("codec server: %w", err)
	}
	return nil
}
