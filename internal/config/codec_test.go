package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const testCodecKey = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

func TestCodecRequiredUnlessOff(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keyFile, []byte(testCodecKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		wantOK bool
		keys   int
	}{
		{"no keys", nil, false, 0},
		{"keys", map[string]string{EnvCodecKeys: testCodecKey}, true, 1},
		{"key file", map[string]string{EnvCodecKeysFile: keyFile}, true, 1},
		{"off", map[string]string{EnvCodec: "OFF"}, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{EnvWebhookSecret: strings.Repeat("s", 32), EnvIDKey: strings.Repeat("k", 32)}
			for k, v := range tc.env {
				env[k] = v
			}
			c, err := FromLookup(lookupMap(env))
			if err != nil {
				t.Fatal(err)
			}
			for what, err := range map[string]error{"ForWorker": c.ForWorker(), "ForServe": c.ForServe()} {
				if tc.wantOK != (err == nil) {
					t.Errorf("%s = %v; want ok %t", what, err, tc.wantOK)
				}
				if err != nil && (!strings.Contains(err.Error(), "LEADFLOW_CODEC_KEYS or LEADFLOW_CODEC_KEYS_FILE is required") ||
					!strings.Contains(err.Error(), "LEADFLOW_CODEC=off")) {
					t.Errorf("%s: %v; want it to say what to set", what, err)
				}
			}
			keys, err := c.CodecKeys()
			if tc.wantOK && (err != nil || len(keys) != tc.keys) {
				t.Errorf("CodecKeys = %v, %v; want %d keys", keys, err, tc.keys)
			}
			if !tc.wantOK && err == nil {
				t.Error("CodecKeys without keys: want an error")
			}
		})
	}
}

func TestCodecSettings(t *testing.T) {
	c, err := FromLookup(lookupMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Codec.Addr != "127.0.0.1:8081" || !slices.Equal(c.Codec.Origins(), []string{"http://localhost:8233", "http://127.0.0.1:8233"}) {
		t.Errorf("defaults: %+v %v", c.Codec, c.Codec.Origins())
	}
	c, err = FromLookup(lookupMap(map[string]string{EnvCodecCORSOrigins: "https://temporal.example.com/, http://localhost:8080"}))
	if err != nil || !slices.Equal(c.Codec.Origins(), []string{"https://temporal.example.com", "http://localhost:8080"}) {
		t.Errorf("origins: %v, %v", c.Codec.Origins(), err)
	}
	_, err = FromLookup(lookupMap(map[string]string{EnvCodec: "maybe", EnvCodecAddr: "nope", EnvCodecCORSOrigins: "temporal.example.com"}))
	for _, want := range []string{`LEADFLOW_CODEC="maybe"`, `LEADFLOW_CODEC_ADDR="nope"`, `LEADFLOW_CODEC_CORS_ORIGINS: origin "temporal.example.com"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad settings: %v; want %s named", err, want)
		}
	}
	// A malformed key is caught when the keys are loaded, naming the variable.
	c, _ = FromLookup(lookupMap(map[string]string{EnvCodecKeys: "k1:short"}))
	if _, err := c.CodecKeys(); err == nil || !strings.HasPrefix(err.Error(), "LEADFLOW_CODEC_KEYS: key \"k1\"") {
		t.Errorf("CodecKeys(bad) = %v", err)
	}
}
