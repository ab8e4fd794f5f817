package temporalx

import (
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leadflow/leadflow/internal/config"
)

// At start the log says how payloads are protected: a warning when
// encryption is off, the encrypting key's ID (never the key) otherwise.
func TestLogCodec(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	LogCodec(zap.New(core), config.Config{Codec: config.Codec{Off: true}})
	if e := logs.TakeAll(); len(e) != 1 || e[0].Level != zapcore.WarnLevel || !strings.Contains(e[0].Message, "LEADFLOW_CODEC=off") {
		t.Fatalf("off: %v; want one warning naming LEADFLOW_CODEC=off", e)
	}
	const key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	LogCodec(zap.New(core), config.Config{Codec: config.Codec{Keys: "2026-12:" + key}})
	e := logs.TakeAll()
	if len(e) != 1 || e[0].Level != zapcore.InfoLevel || e[0].ContextMap()["codecKeyId"] != "2026-12" {
		t.Fatalf("keys: %v; want the key ID logged", e)
	}
	if strings.Contains(e[0].Message+fmt.Sprint(e[0].ContextMap()), key) {
		t.Error("the log carries key material")
	}
}
