package temporalx

import (
	"fmt"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/config"
)

// applyCodec makes every payload and failure the client (and any worker
// built on it) sends encrypted with cfg's keys; nothing when LEADFLOW_CODEC
// is off. Without keys it refuses: a client that cannot decode could
// neither answer queries nor read results.
func applyCodec(opts *client.Options, cfg config.Config) error {
	keys, err := cfg.CodecKeys()
	if err != nil {
		return fmt.Errorf("payload encryption: %w", err)
	}
	if keys == nil {
		return nil
	}
	c, err := codec.New(keys)
	if err != nil {
		return err
	}
	codec.Apply(opts, c)
	return nil
}

// LogCodec says at start how payloads are protected: the encrypting key's
// ID, or a warning when encryption is off.
func LogCodec(log *zap.Logger, cfg config.Config) {
	if cfg.Codec.Off {
		log.Warn("payload encryption is off (" + config.EnvCodec + "=off): event profiles and activity inputs reach Temporal in clear; set " +
			config.EnvCodecKeys + " for anything but local development")
		return
	}
	if keys, err := cfg.CodecKeys(); err == nil && len(keys) > 0 {
		log.Info("payloads encrypted", zap.String("codecKeyId", keys[0].ID), zap.Int("codecKeys", len(keys)))
	}
}
