package hswebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
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
	// MaxAge is HubSpot's documented limit: reject a request whose
	// timestamp is older than 5 minutes.
	MaxAge = 5 * time.Minute
	// MaxFutureSkew is how far ahead of our clock a timestamp may be.
	// HubSpot's documented rule and its reference library look only at
	// age, so a HubSpot clock ahead of ours must not cost events: HubSpot
	// never retries a 401, so a refused notification is lost for good. A
	// replay inside the window changes nothing (each event carries its
	// HubSpot IDs and the workflow ignores a repeated ID); the bound only
	// stops a timestamp from keeping a captured request fresh for days.
	MaxFutureSkew = time.Hour
)

// The error kinds of Verify. The HTTP edge answers 401 to all of them; the
// message says which, and never echoes the secret or the expected value.
// HubSpot does not retry a 401: the notifications of a refused request are
// lost, which is why only a wrong signature or a stale request is refused.
var (
	ErrNoSecret  = errors.New("hswebhook: no HubSpot client secret configured")
	ErrMissing   = errors.New("missing " + SignatureHeader + " or " + TimestampHeader + " header")
	ErrMalformed = errors.New(TimestampHeader + " is not a Unix time in milliseconds")
	ErrStale     = errors.New(TimestampHeader + " is more than 5 minutes old (or more than an hour ahead of server time)")
	ErrMismatch  = errors.New(SignatureHeader + " does not match the request")
)

// CheckHeaders is the part of Verify that needs no body: both headers
// present, the timestamp a Unix time in milliseconds, not older than
// MaxAge and not more than MaxFutureSkew ahead of now. The HTTP edge runs
// it before reading the body, so an unsigned sender costs no body read.
func CheckHeaders(timestampHeader, signatureHeader string, now time.Time) error {
	if timestampHeader == "" || signatureHeader == "" {
		return ErrMissing
	}
	ms, ok := parseUnixMillis(timestampHeader)
	if !ok {
		return ErrMalformed
	}
	if age := now.Sub(time.UnixMilli(ms)); age > MaxAge || age < -MaxFutureSkew {
		return ErrStale
	}
	return nil
}

// parseUnixMillis accepts only what HubSpot sends: decimal digits.
func parseUnixMillis(s string) (int64, bool) {
	if len(s) > 18 { // 18 digits is past the year 33000 in ms; no overflow below it
		return 0, false
	}
	var ms int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		ms = ms*10 + int64(c-'0')
	}
	return ms, ms > 0
}

// Verify checks a request against HubSpot's v3 signature: CheckHeaders,
// then the signature header must be exactly base64(HMAC-SHA256(secret,
// method + uri + body + timestamp)) in standard padded base64, as HubSpot
// sends it, compared in constant time as a string. No lenient decoding:
// base64 decoders skip newlines and may accept other spellings of the
// same bytes, and a check should accept one spelling only. uri is the
// full URL HubSpot called (scheme, host, path and query); the characters
// HubSpot decodes before signing are decoded here too (SignedURI).
func Verify(secret []byte, method, uri string, body []byte, timestampHeader, signatureHeader string, now time.Time) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	if err := CheckHeaders(timestampHeader, signatureHeader, now); err != nil {
		return err
	}
	want := Sign(secret, method, uri, body, timestampHeader)
	if subtle.ConstantTimeCompare([]byte(signatureHeader), []byte(want)) != 1 {
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
