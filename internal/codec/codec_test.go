package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func newKey(t testing.TB, id string) (Key, string) {
	t.Helper()
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return Key{ID: id, Secret: b}, id + ":" + base64.StdEncoding.EncodeToString(b)
}

func mustCodec(t testing.TB, keys ...Key) *Codec {
	t.Helper()
	c, err := New(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseKeys(t *testing.T) {
	_, a := newKey(t, "k1")
	_, b := newKey(t, "k2")
	keys, err := ParseKeys("ENV", a+", "+b)
	if err != nil || len(keys) != 2 || keys[0].ID != "k1" || keys[1].ID != "k2" {
		t.Fatalf("ParseKeys = %v, %v; want k1 then k2", keys, err)
	}
	short := "k3:" + base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!"))
	for _, tc := range []struct{ spec, want string }{
		{"", "no key given"},
		{"k1", "want id:base64key"},
		{"k1:!!notbase64", `key "k1": not standard base64`},
		{short, `key "k3": 16 bytes after base64 decoding, AES-256 needs 32`},
		{a + "," + strings.Replace(b, "k2", "k1", 1), `key ID "k1" appears twice`},
		{"bad id:" + strings.SplitN(a, ":", 2)[1], `key "bad id": the ID must be`},
	} {
		_, err := ParseKeys("ENV", tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "ENV") {
			t.Errorf("ParseKeys(%q) = %v; want an error starting with ENV and containing %q", tc.spec, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), strings.SplitN(a, ":", 2)[1]) {
			t.Errorf("ParseKeys(%q): the error echoes key material: %v", tc.spec, err)
		}
	}
}

func TestLoadKeysFromFile(t *testing.T) {
	_, a := newKey(t, "old")
	_, b := newKey(t, "new")
	path := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(path, []byte("# newest first\n"+b+"\n"+a+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeys("K", "", "KF", path)
	if err != nil || len(keys) != 2 || keys[0].ID != "new" {
		t.Fatalf("LoadKeys(file) = %v, %v", keys, err)
	}
	if _, err := LoadKeys("K", a, "KF", path); err == nil || !strings.Contains(err.Error(), "both K and KF") {
		t.Errorf("both set: %v; want a refusal naming both", err)
	}
	if _, err := LoadKeys("K", "", "KF", filepath.Join(t.TempDir(), "missing")); err == nil || !strings.HasPrefix(err.Error(), "KF") {
		t.Errorf("missing file: %v; want an error naming KF", err)
	}
}

func TestRoundTripHidesPlaintext(t *testing.T) {
	k, _ := newKey(t, "k1")
	c := mustCodec(t, k)
	dc := DataConverter(c)
	secret := "ana.secret@acme.io"
	p, err := dc.ToPayload(map[string]string{"email": secret})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.GetData(), []byte(secret)) || string(p.Metadata[MetadataEncoding]) != EncodingEncrypted || string(p.Metadata[MetadataKeyID]) != "k1" {
		t.Fatalf("encoded payload leaks or lacks its markers: %v", p)
	}
	var got map[string]string
	if err := dc.FromPayload(p, &got); err != nil || got["email"] != secret {
		t.Fatalf("FromPayload = %v, %v", got, err)
	}
	// A fresh nonce per payload: the same value twice seals differently.
	p2, _ := dc.ToPayload(map[string]string{"email": secret})
	if bytes.Equal(p.Data[:12], p2.Data[:12]) || bytes.Equal(p.Data, p2.Data) {
		t.Error("two encodings of one value share a nonce or ciphertext")
	}
}

func TestRotation(t *testing.T) {
	old, _ := newKey(t, "2026-01")
	newer, _ := newKey(t, "2026-06")
	before := mustCodec(t, old)
	sealed, err := before.Encode([]*commonpb.Payload{plainPayload(t, "written under the old key")})
	if err != nil {
		t.Fatal(err)
	}
	after := mustCodec(t, newer, old) // the new key first, the old one kept
	if out, err := after.Decode(sealed); err != nil || decodeString(t, out[0]) != "written under the old key" {
		t.Fatalf("after rotation, an old payload: %v, %v", out, err)
	}
	fresh, err := after.Encode([]*commonpb.Payload{plainPayload(t, "new")})
	if err != nil || string(fresh[0].Metadata[MetadataKeyID]) != "2026-06" {
		t.Fatalf("after rotation, new payloads are sealed with %q (%v); want 2026-06", fresh[0].Metadata[MetadataKeyID], err)
	}
	// Dropping the old key too early is an error that names it.
	_, err = mustCodec(t, newer).Decode(sealed)
	if err == nil || !strings.Contains(err.Error(), `"2026-01"`) {
		t.Errorf("decode with the old key gone = %v; want an error naming 2026-01", err)
	}
}

func TestDecodePassesUnencryptedThrough(t *testing.T) {
	k, _ := newKey(t, "k1")
	p := plainPayload(t, "from before encryption")
	out, err := mustCodec(t, k).Decode([]*commonpb.Payload{p})
	if err != nil || out[0] != p {
		t.Fatalf("Decode(plain) = %v, %v; want it unchanged", out, err)
	}
}

func TestDecodeRefusesTamperedOrRelabelled(t *testing.T) {
	k1, _ := newKey(t, "k1")
	k2, _ := newKey(t, "k2")
	c := mustCodec(t, k1, k2)
	sealed, err := c.Encode([]*commonpb.Payload{plainPayload(t, "x")})
	if err != nil {
		t.Fatal(err)
	}
	flipped := &commonpb.Payload{Metadata: sealed[0].Metadata, Data: append([]byte(nil), sealed[0].Data...)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	relabelled := &commonpb.Payload{Metadata: map[string][]byte{MetadataEncoding: []byte(EncodingEncrypted), MetadataKeyID: []byte("k2")}, Data: sealed[0].Data}
	for name, p := range map[string]*commonpb.Payload{"tampered": flipped, "relabelled": relabelled} {
		if _, err := c.Decode([]*commonpb.Payload{p}); err == nil || !strings.Contains(err.Error(), "cannot decrypt") {
			t.Errorf("%s: Decode = %v; want cannot decrypt", name, err)
		}
	}
}

func TestFailureConverterEncryptsMessages(t *testing.T) {
	k, _ := newKey(t, "k1")
	dc := DataConverter(mustCodec(t, k))
	fc := FailureConverter(dc)
	f := fc.ErrorToFailure(&testError{"cannot email ana.secret@acme.io"})
	if strings.Contains(f.GetMessage(), "ana.secret") || f.GetEncodedAttributes() == nil {
		t.Fatalf("failure message in clear: %q (encoded attributes %v)", f.GetMessage(), f.GetEncodedAttributes())
	}
	if bytes.Contains(f.GetEncodedAttributes().GetData(), []byte("ana.secret")) {
		t.Fatal("encoded attributes not encrypted")
	}
	if err := fc.FailureToError(f); !strings.Contains(err.Error(), "ana.secret@acme.io") {
		t.Errorf("round trip lost the message: %v", err)
	}
}

type testError struct{ msg string }

func (e *testError) Error() string { return e.msg }

func plainPayload(t testing.TB, s string) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeString(t testing.TB, p *commonpb.Payload) string {
	t.Helper()
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		t.Fatal(err)
	}
	return s
}
