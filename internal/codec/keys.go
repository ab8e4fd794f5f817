package codec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// KeySize is the AES-256 key length in bytes.
const KeySize = 32

// Key is one named AES-256 key. The ID is written beside every payload it
// encrypts, so it must be stable and must never be reused for other bytes.
type Key struct {
	ID     string
	Secret []byte
}

// keyID keeps IDs short and printable: they travel in payload metadata and
// in error messages.
var keyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ParseKeys reads "id:base64key,id:base64key,…" (commas or newlines; blank
// entries and lines starting with # are ignored). The first key encrypts;
// all of them decrypt. source names where the text came from, for errors.
func ParseKeys(source, spec string) ([]Key, error) {
	var keys []Key
	seen := map[string]bool{}
	fields := strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	for i, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" || strings.HasPrefix(f, "#") {
			continue
		}
		id, b64, ok := strings.Cut(f, ":")
		id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
		if !ok || id == "" || b64 == "" {
			return nil, fmt.Errorf("%s: entry %d: want id:base64key", source, i+1)
		}
		if !keyID.MatchString(id) {
			return nil, fmt.Errorf("%s: key %q: the ID must be 1-64 of A-Z a-z 0-9 . _ -", source, id)
		}
		if seen[id] {
			return nil, fmt.Errorf("%s: key ID %q appears twice", source, id)
		}
		seen[id] = true
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("%s: key %q: not standard base64: %w", source, id, err)
		}
		if len(secret) != KeySize {
			return nil, fmt.Errorf("%s: key %q: %d bytes after base64 decoding, AES-256 needs %d (openssl rand -base64 32)", source, id, len(secret), KeySize)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no key given", source)
	}
	return keys, nil
}

// LoadKeys parses the keys of envKeys (the value of LEADFLOW_CODEC_KEYS)
// or, when it is empty, of the file at path (LEADFLOW_CODEC_KEYS_FILE).
// Giving both is refused: which one wins would be a guess.
func LoadKeys(envName, envKeys, fileEnvName, path string) ([]Key, error) {
	switch {
	case envKeys != "" && path != "":
		return nil, fmt.Errorf("both %s and %s are set; give one", envName, fileEnvName)
	case envKeys != "":
		return ParseKeys(envName, envKeys)
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: read key file: %w", fileEnvName, err)
		}
		return ParseKeys(fileEnvName+" "+path, string(b))
	default:
		return nil, errors.New("no codec keys given")
	}
}
