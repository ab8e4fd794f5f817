package hswebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hubspotSignature computes X-HubSpot-Signature-v3 exactly as HubSpot's
// request-validation guide describes, independently of the package: the
// UTF-8 string method + URI + body + timestamp, HMAC-SHA256 keyed with the
// client secret, base64. signedURI is the URI as HubSpot signs it (the
// listed escapes already decoded).
func hubspotSignature(secret, method, signedURI, body, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method + signedURI + body + timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

const (
	testSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy" // the docs' placeholder form
	testURI    = "https://leadflow.example.com/v1/webhooks/hubspot"
	testBody   = `[{"objectId":1246965,"propertyName":"lifecyclestage","propertyValue":"subscriber","changeSource":"ACADEMY","eventId":3816279340,"subscriptionId":25,"portalId":33,"appId":1160452,"occurredAt":1462216307945,"subscriptionType":"contact.propertyChange","attemptNumber":0}]`
)

var testNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func TestVerify(t *testing.T) {
	ts := ms(testNow.Add(-30 * time.Second))
	good := hubspotSignature(testSecret, "POST", testURI, testBody, ts)
	cases := []struct {
		name              string
		secret            string
		method, uri, body string
		ts, sig           string
		now               time.Time
		want              error
	}{
		{"valid", testSecret, "POST", testURI, testBody, ts, good, testNow, nil},
		{"wrong secret", "another-secret", "POST", testURI, testBody, ts, good, testNow, ErrMismatch},
		{"http instead of https", testSecret, "POST", "http://leadflow.example.com/v1/webhooks/hubspot", testBody, ts, good, testNow, ErrMismatch},
		{"another path", testSecret, "POST", "https://leadflow.example.com/v1/events", testBody, ts, good, testNow, ErrMismatch},
		{"another host", testSecret, "POST", "https://evil.example.com/v1/webhooks/hubspot", testBody, ts, good, testNow, ErrMismatch},
		{"added query", testSecret, "POST", testURI + "?x=1", testBody, ts, good, testNow, ErrMismatch},
		{"another method", testSecret, "PUT", testURI, testBody, ts, good, testNow, ErrMismatch},
		{"tampered body", testSecret, "POST", testURI, testBody[:len(testBody)-2] + `1}]`, ts, good, testNow, ErrMismatch},
		{"stale: 5 min + 1 s", testSecret, "POST", testURI, testBody, ts, good, testNow.Add(-30*time.Second + 5*time.Minute + time.Second), ErrStale},
		{"exactly 5 min is still fresh", testSecret, "POST", testURI, testBody, ts, good, testNow.Add(-30*time.Second + 5*time.Minute), nil},
		// HubSpot's rule is about age only: a HubSpot clock ahead of ours
		// must not lose events (a 401 is never retried).
		{"future: 5 min + 1 s ahead is accepted", testSecret, "POST", testURI, testBody, ts, good, testNow.Add(-30*time.Second - 5*time.Minute - time.Second), nil},
		{"future: exactly MaxFutureSkew ahead", testSecret, "POST", testURI, testBody, ts, good, testNow.Add(-30*time.Second - MaxFutureSkew), nil},
		{"future: MaxFutureSkew + 1 ms ahead", testSecret, "POST", testURI, testBody, ts, good, testNow.Add(-30*time.Second - MaxFutureSkew - time.Millisecond), ErrStale},
		// Exact comparison: a decoder would skip the newline and accept these.
		{"signature with a newline inside", testSecret, "POST", testURI, testBody, ts, good[:20] + "\n" + good[20:], testNow, ErrMismatch},
		{"signature with a trailing CRLF", testSecret, "POST", testURI, testBody, ts, good + "\r\n", testNow, ErrMismatch},
		{"signature with a leading space", testSecret, "POST", testURI, testBody, ts, " " + good, testNow, ErrMismatch},
		{"signature without its padding", testSecret, "POST", testURI, testBody, ts, strings.TrimRight(good, "="), testNow, ErrMismatch},
		{"timestamp with a sign", testSecret, "POST", testURI, testBody, "+" + ts, good, testNow, ErrMalformed},
		{"timestamp with a space", testSecret, "POST", testURI, testBody, " " + ts, good, testNow, ErrMalformed},
		{"timestamp zero", testSecret, "POST", testURI, testBody, "0", good, testNow, ErrMalformed},
		{"timestamp too long", testSecret, "POST", testURI, testBody, "9999999999999999999", good, testNow, ErrMalformed},
		{"missing signature", testSecret, "POST", testURI, testBody, ts, "", testNow, ErrMissing},
		{"missing timestamp", testSecret, "POST", testURI, testBody, "", good, testNow, ErrMissing},
		{"timestamp in seconds is not ms", testSecret, "POST", testURI, testBody, "abc", good, testNow, ErrMalformed},
		{"signature not base64", testSecret, "POST", testURI, testBody, ts, "%%%", testNow, ErrMismatch},
		{"hex signature (v2 style)", testSecret, "POST", testURI, testBody, ts, "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e", testNow, ErrMismatch},
		{"no secret configured", "", "POST", testURI, testBody, ts, good, testNow, ErrNoSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify([]byte(c.secret), c.method, c.uri, []byte(c.body), c.ts, c.sig, c.now)
			if !errors.Is(err, c.want) {
				t.Errorf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// A captured request replayed later with a fresh timestamp header: the
// timestamp is signed, so the old signature no longer matches.
func TestVerifyReplayWithNewTimestamp(t *testing.T) {
	oldTS := ms(testNow.Add(-time.Hour))
	sig := hubspotSignature(testSecret, "POST", testURI, testBody, oldTS)
	if err := Verify([]byte(testSecret), "POST", testURI, []byte(testBody), oldTS, sig, testNow); !errors.Is(err, ErrStale) {
		t.Fatalf("replay as captured: %v, want ErrStale", err)
	}
	if err := Verify([]byte(testSecret), "POST", testURI, []byte(testBody), ms(testNow), sig, testNow); !errors.Is(err, ErrMismatch) {
		t.Fatalf("replay with a fresh timestamp: %v, want ErrMismatch", err)
	}
}

// HubSpot decodes the listed escapes before signing and keeps the others.
func TestVerifyDecodesListedEscapes(t *testing.T) {
	sent := testURI + "?portal=a%3Ab%40c%2Fd%2a&q=x%20y%26z%3Dw"
	signed := testURI + "?portal=a:b@c/d*&q=x%20y%26z%3Dw"
	ts := ms(testNow)
	sig := hubspotSignature(testSecret, "POST", signed, testBody, ts)
	if err := Verify([]byte(testSecret), "POST", sent, []byte(testBody), ts, sig, testNow); err != nil {
		t.Fatalf("Verify with escapes: %v", err)
	}
	// Signing the still-encoded URI is not what HubSpot does.
	bad := hubspotSignature(testSecret, "POST", sent, testBody, ts)
	if err := Verify([]byte(testSecret), "POST", sent, []byte(testBody), ts, bad, testNow); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify with the encoded URI signed: %v, want ErrMismatch", err)
	}
	for in, want := range map[string]string{
		"%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B": ":/?@!$'()*,;",
		"%3a%2f":                               ":/",
		"%20%26%3D%2B%25":                      "%20%26%3D%2B%25",
		"abc%3":                                "abc%3",
		"%":                                    "%",
	} {
		if got := SignedURI(in); got != want {
			t.Errorf("SignedURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignMatchesTheDocumentedAlgorithm(t *testing.T) {
	ts := ms(testNow)
	if got, want := Sign([]byte(testSecret), "POST", testURI, []byte(testBody), ts),
		hubspotSignature(testSecret, "POST", testURI, testBody, ts); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}
