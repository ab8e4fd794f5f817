package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/testenv"
)

// `starter codec-server` as an operator runs it: it listens on
// LEADFLOW_CODEC_ADDR, decodes what the worker's codec encoded (namespace
// path included), asks for LEADFLOW_API_TOKEN, and stops on SIGTERM.
func TestCodecServerCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the command listens itself
	ta := newTestApp(t, map[string]string{config.EnvCodecKeys: testenv.CodecKeys, config.EnvCodecAddr: addr, config.EnvAPIToken: "ops-token"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- ta.app.run(ctx, []string{"codec-server"}) }()

	sealed, err := testenv.Codec(t).Encode([]*commonpb.Payload{mustPayload(t, "ana.secret@acme.io")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	post := func(path, token string) (int, string) { return post(t, "http://"+addr+path, string(body), token) }
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := post("/decode", ""); code != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("codec-server did not listen within 10s")
		}
		time.Sleep(50 * time.Millisecond) // polling for the listener, with a deadline
	}
	if code, _ := post("/default/decode", ""); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d; want 401", code)
	}
	code, out := post("/default/decode", "ops-token")
	var got commonpb.Payloads
	if code != 200 || protojson.Unmarshal([]byte(out), &got) != nil || !strings.Contains(string(got.Payloads[0].GetData()), "ana.secret@acme.io") {
		t.Fatalf("decode: %d %s", code, out)
	}
	cancel()
	select {
	case c := <-done:
		if c != exitOK {
			t.Errorf("codec-server exited %d after SIGTERM; want 0\n%s", c, ta.errOut)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("codec-server did not stop within 15s")
	}
}

// Without keys (or with encryption off) there is nothing to decode with: a
// usage error that says what to set.
func TestCodecServerNeedsKeys(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"no keys":  {},
		"off":      {config.EnvCodec: "off"},
		"bad keys": {config.EnvCodecKeys: "k1:c2hvcnQ="},
	} {
		ta := newTestApp(t, env)
		if code := ta.run(t, "codec-server"); code != exitUsage || !strings.Contains(ta.errOut.String(), "LEADFLOW_CODEC_KEYS") {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming LEADFLOW_CODEC_KEYS", name, code, ta.errOut)
		}
	}
}

func mustPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
