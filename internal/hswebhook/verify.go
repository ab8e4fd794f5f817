package hswebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

const (
	// SignatureHeader carries base64(HMAC-SHA256(client secret,
	// method + URI + body + timestamp)).
	SignatureHeader = "X-HubSpot-Signature-v3"
	// TimestampHeader is the request time in Unix milliseconds; it is part
	// of the signed string.
	TimestampHeader = "X-HubSpot-Request-Timestamp"
	// MaxAge is HubSpot's documented limit: reject a request whose timestamp
	// is older than 5 minutes. A timestamp as far in the future is refused
	// too (a skewed or forged clock).
	MaxAge = 5 * time.Minute
)

// The error kinds of Verify. The HTTP edge answers 401 to all of them; the
// message says which, and never echoes the secret or the expected value.
var (
	ErrNoSecret  = errors.New("hswebhook: no HubSpot client secret configured")
	ErrMissing   = errors.New("missing " + SignatureHeader + " or " + TimestampHeader + " header")
	ErrMalformed = errors.New(TimestampHeader + " is not a Unix time in milliseconds")
	ErrStale     = errors.New(TimestampHeader + " is more than 5 minutes from server time")
	ErrMismatch  = errors.New(SignatureHeader + " does not match the request")
)

// Verify checks a request against HubSpot's v3 signature: the timestamp
// must be within MaxAge of now, and the signature must equal
// base64(HMAC-SHA256(secret, method + uri + body + timestamp)), compared in
// constant time. uri is the full URL HubSpot called (scheme, host, path and
// query); the characters HubSpot decodes before signing are decoded here
// too (SignedURI).
func Verify(secret []byte, method, uri string, body []byte, timestampHeader, signatureHeader string, now time.Time) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	ts := strings.TrimSpace(timestampHeader)
	sig := strings.TrimSpace(signatureHeader)
	if ts == "" || sig == "" {
		return ErrMissing
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ms <= 0 {
		return ErrMalformed
	}
	if d := now.Sub(time.UnixMilli(ms)); d > MaxAge || d < -MaxAge {
		return ErrStale
	}
	want := mac(secret, method, uri, body, ts)
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return ErrMismatch
	}
	return nil
}

// Sign returns the X-HubSpot-Signature-v3 value HubSpot would send for this
// request, for a simulated sender (tests, local tools). timestamp is the
// X-HubSpot-Request-Timestamp value.
func Sign(secret []byte, method, uri string, body []byte, timestamp string) string {
	return base64.StdEncoding.EncodeToString(mac(secret, method, uri, body, timestamp))
}

func mac(secret []byte, method, uri string, body []byte, timestamp string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(method))
	m.Write([]byte(SignedURI(uri)))
	m.Write(body)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

// decoded are the percent-escapes HubSpot's request-validation guide lists:
// they are decoded in the URI before signing. Every other escape (%20, %26,
// %3D, %2B, …) stays as sent.
var decoded = map[string]byte{
	"3A": ':', "2F": '/', "3F": '?', "40": '@', "21": '!', "24": '$',
	"27": '\'', "28": '(', "29": ')', "2A": '*', "2C": ',', "3B": ';',
}

// SignedURI is uri as HubSpot signs it: the escapes listed in decoded
// (%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B, hex in either case)
// decoded, every other byte as sent.
func SignedURI(uri string) string {
	if !strings.Contains(uri, "%") {
		return uri
	}
	var b strings.Builder
	b.Grow(len(uri))
	for i := 0; i < len(uri); i++ {
		if uri[i] == '%' && i+2 < len(uri) {
			if c, ok := decoded[strings.ToUpper(uri[i+1:i+3])]; ok {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(uri[i])
	}
	return b.String()
}
