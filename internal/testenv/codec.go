package testenv

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/temporalx"
)

// CodecKeys is the payload-encryption key of every test stack (a fixed test
// key, never used outside tests): put it in LEADFLOW_CODEC_KEYS of each
// worker and serve a test starts, so they and DevServer.Client agree.
const CodecKeys = "test-1:bGVhZGZsb3ctdGVzdC1jb2RlYy1rZXktMzItYnl0ZXM="

// CodecEnv is CodecKeys as a KEY=value environment entry.
func CodecEnv() string { return config.EnvCodecKeys + "=" + CodecKeys }

// Codec is the codec built from CodecKeys.
func Codec(t testing.TB) *codec.Codec {
	t.Helper()
	keys, err := codec.ParseKeys("testenv.CodecKeys", CodecKeys)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// RawClient is a client without the codec: it sees payloads as the server
// stores them (encrypted), as anyone reading Temporal's database would.
func (d *DevServer) RawClient(t testing.TB) client.Client {
	t.Helper()
	return d.dial(t, client.Options{})
}

// dial connects with opts plus the server's address, namespace and a test
// logger, closing the client when t ends.
func (d *DevServer) dial(t testing.TB, opts client.Options) client.Client {
	t.Helper()
	opts.HostPort, opts.Namespace = d.Address, d.Namespace
	opts.Logger = temporalx.NewLogger(TestLogger(t, zap.WarnLevel))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		t.Fatalf("dial dev server %s: %v", d.Address, err)
	}
	t.Cleanup(c.Close)
	return c
}
