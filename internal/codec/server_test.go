package codec

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

func startServer(t *testing.T, token string) (*httptest.Server, *Codec) {
	t.Helper()
	k, _ := newKey(t, "k1")
	c := mustCodec(t, k)
	srv := httptest.NewServer(NewServer(c, ServerOptions{Origins: DefaultCORSOrigins, Token: token}))
	t.Cleanup(srv.Close)
	return srv, c
}

// The SDK's own remote codec (what `temporal --codec-endpoint` and the UI
// speak) round-trips through the server, plain and namespace-prefixed.
func TestServerRoundTrip(t *testing.T) {
	srv, local := startServer(t, "tok")
	for _, base := range []string{srv.URL, srv.URL + "/default"} {
		remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
			Endpoint: base,
			ModifyRequest: func(r *http.Request) error {
				r.Header.Set("Authorization", "Bearer tok")
				return nil
			},
		})
		in := []*commonpb.Payload{plainPayload(t, "ana.secret@acme.io")}
		enc, err := remote.Encode(in)
		if err != nil {
			t.Fatalf("%s/encode: %v", base, err)
		}
		if strings.Contains(string(enc[0].Data), "ana.secret") || string(enc[0].Metadata[MetadataKeyID]) != "k1" {
			t.Fatalf("%s/encode returned %v", base, enc[0])
		}
		// What the server sealed, the worker's codec opens, and back.
		if out, err := local.Decode(enc); err != nil || decodeString(t, out[0]) != "ana.secret@acme.io" {
			t.Fatalf("local decode of the server's encoding: %v", err)
		}
		dec, err := remote.Decode(enc)
		if err != nil || decodeString(t, dec[0]) != "ana.secret@acme.io" {
			t.Fatalf("%s/decode = %v, %v", base, dec, err)
		}
	}
}

func TestServerAuth(t *testing.T) {
	srv, _ := startServer(t, "tok")
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{plainPayload(t, "x")}})
	for _, auth := range []string{"", "Bearer wrong", "tok", "Basic dG9rOg=="} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/decode", strings.NewReader(string(body)))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d; want 401", auth, resp.StatusCode)
		}
	}
	// No token configured: open.
	open, _ := startServer(t, "")
	resp, err := http.Post(open.URL+"/decode", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"payloads"`) {
		t.Errorf("open server: %d %s", resp.StatusCode, b)
	}
}

func TestServerCORS(t *testing.T) {
	srv, _ := startServer(t, "tok")
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/default/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight("http://localhost:8233")
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "http://localhost:8233" ||
		h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight from the UI: %d %v", resp.StatusCode, h)
	}
	for _, want := range []string{"X-Namespace", "Authorization", "Content-Type"} {
		if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
			t.Errorf("Access-Control-Allow-Headers %q lacks %s", h.Get("Access-Control-Allow-Headers"), want)
		}
	}
	if resp := preflight("http://evil.example"); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v; want 403 without CORS headers", resp.StatusCode, resp.Header)
	}
	// The real request from an allowed origin carries the CORS headers too
	// (here a 401: the browser must be able to read why).
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/decode", strings.NewReader("{}"))
	req.Header.Set("Origin", "http://127.0.0.1:8233")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 401 || r2.Header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8233" {
		t.Errorf("POST from the UI without a token: %d %v", r2.StatusCode, r2.Header)
	}
}

func TestServerRejectsOtherPaths(t *testing.T) {
	srv, _ := startServer(t, "")
	for _, tc := range []struct{ method, path string }{{"GET", "/decode"}, {"POST", "/a/b/decode"}, {"POST", "/"}, {"POST", "/default/other"}} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(`{"payloads":[]}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("%s %s: %d; want a 4xx", tc.method, tc.path, resp.StatusCode)
		}
	}
}
