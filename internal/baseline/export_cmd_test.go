//go:build export

package baseline

// `make export-histories RELEASE=vX.Y.Z`: exports the lead histories of a
// running server (`make demo`) into
// workflows/testdata/histories/<release>/demo/, payloads decoded in-process
// with the server's codec keys so the committed JSON replays without a key
// (demo data is simulated: no real person's data is in it).

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/leadflow/leadflow/internal/codec"
	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/lead"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func TestExportHistories(t *testing.T) {
	release := os.Getenv("LEADFLOW_EXPORT_RELEASE")
	if release == "" {
		t.Fatal("LEADFLOW_EXPORT_RELEASE is not set: make export-histories RELEASE=vX.Y.Z")
	}
	per, err := strconv.Atoi(env("LEADFLOW_EXPORT_PER_QUERY", "4"))
	if err != nil {
		t.Fatalf("LEADFLOW_EXPORT_PER_QUERY: %v", err)
	}
	queries := StageQueries(lead.WorkflowType)
	if q := os.Getenv("LEADFLOW_EXPORT_QUERY"); q != "" {
		queries = []string{q}
	}
	var dec Decoder
	if os.Getenv(config.EnvCodec) != config.CodecOff {
		keys, err := codec.LoadKeys(config.EnvCodecKeys, os.Getenv(config.EnvCodecKeys), config.EnvCodecKeysFile,
			env(config.EnvCodecKeysFile, defaultDemoKeys()))
		if err != nil {
			t.Fatalf("codec keys (the demo's are in ~/.cache/leadflow/demo/codec-keys; %s=%s if the server has none): %v", config.EnvCodec, config.CodecOff, err)
		}
		c, err := codec.New(keys)
		if err != nil {
			t.Fatal(err)
		}
		dec = c
	}
	addr := env(config.EnvTemporalAddress, "127.0.0.1:7233")
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: env(config.EnvTemporalNamespace, lead.DefaultNamespace)})
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := filepath.Join("..", "..", "workflows", "testdata", "histories", release, "demo")
	n, err := Export(ctx, c, ExportOptions{Dir: dir, Release: release, PerQuery: per, Queries: queries, Decoder: dec})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exported %d histories from %s into %s", n, addr, dir)
}

// defaultDemoKeys is where scripts/demo.sh keeps its generated key, when
// LEADFLOW_CODEC_KEYS is not given either.
func defaultDemoKeys() string {
	if os.Getenv(config.EnvCodecKeys) != "" {
		return ""
	}
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "leadflow", "demo", "codec-keys")
}
