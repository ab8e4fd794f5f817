package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A rep token is "lft_<id>_<secret>": id is 8 random bytes in hex (shown
// by `starter rep token list`, named by `revoke`), secret 32 random bytes
// in hex, of which only SHA-256 is stored. The rep is not in the token:
// it is the stored row's, so there is no rep ID to swap.
const (
	tokenPrefix    = "lft_"
	tokenIDBytes   = 8
	tokenSecretLen = 32
	legacyPrefix   = "rep:" // the HMAC tokens before migration 00010
)

// Token TTLs (`starter rep token REP --ttl`).
const (
	DefaultTokenTTL = 30 * 24 * time.Hour
	MaxTokenTTL     = 366 * 24 * time.Hour
)

// LooksLikeRepToken reports whether s has a rep token's shape (either
// format), so the API can say that rep tokens are for the web UI only.
func LooksLikeRepToken(s string) bool {
	return strings.HasPrefix(s, tokenPrefix) || strings.HasPrefix(s, legacyPrefix)
}

func newToken() (id, secret string, err error) {
	b := make([]byte, tokenIDBytes+tokenSecretLen)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("random token: %w", err)
	}
	return hex.EncodeToString(b[:tokenIDBytes]), hex.EncodeToString(b[tokenIDBytes:]), nil
}

func formatToken(id, secret string) string { return tokenPrefix + id + "_" + secret }

// parseToken splits a token into its ID and secret; ok is false for
// anything not exactly of the format.
func parseToken(tok string) (id, secret string, ok bool) {
	rest, found := strings.CutPrefix(tok, tokenPrefix)
	if !found {
		return "", "", false
	}
	id, secret, found = strings.Cut(rest, "_")
	if !found || !isHex(id, 2*tokenIDBytes) || !isHex(secret, 2*tokenSecretLen) {
		return "", "", false
	}
	return id, secret, true
}

// ValidTokenID reports whether id is a token ID (16 lower-case hex digits).
func ValidTokenID(id string) bool { return isHex(id, 2*tokenIDBytes) }

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func secretHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// ParseTTL reads a token lifetime: a Go duration ("36h", "90m") or whole
// days ("30d"), more than zero and at most MaxTokenTTL.
func ParseTTL(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("ttl %q: want a duration such as 30d, 36h or 90m", s)
		}
		// Bounded before multiplying, so a huge count cannot wrap around.
		d = time.Duration(min(max(n, 0), 1+int(MaxTokenTTL/(24*time.Hour)))) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("ttl %q: want a duration such as 30d, 36h or 90m", s)
		}
	}
	if d <= 0 || d > MaxTokenTTL {
		return 0, fmt.Errorf("ttl %q: must be more than 0 and at most %dd", s, MaxTokenTTL/(24*time.Hour))
	}
	return d, nil
}
