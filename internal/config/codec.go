package config

import (
	"fmt"
	"strings"

	"github.com/leadflow/leadflow/internal/codec"
)

// Payload encryption (internal/codec). The keys are secrets; the file is a
// path the process reads when it loads them.
const (
	EnvCodec            = "LEADFLOW_CODEC" // "off" runs without encryption
	EnvCodecKeys        = "LEADFLOW_CODEC_KEYS"
	EnvCodecKeysFile    = "LEADFLOW_CODEC_KEYS_FILE"
	EnvCodecAddr        = "LEADFLOW_CODEC_ADDR"
	EnvCodecCORSOrigins = "LEADFLOW_CODEC_CORS_ORIGINS"

	DefaultCodecAddr = "127.0.0.1:8081"
	CodecOff         = "off"
)

// Codec is the payload-encryption part of Config.
type Codec struct {
	// Off: LEADFLOW_CODEC=off, payloads travel and rest in clear.
	Off      bool
	Keys     string // LEADFLOW_CODEC_KEYS, "id:base64key,…"
	KeysFile string // LEADFLOW_CODEC_KEYS_FILE
	Addr     string // starter codec-server's listener
	// CORSOrigins: LEADFLOW_CODEC_CORS_ORIGINS as given (a string keeps
	// Config comparable); Origins splits it.
	CORSOrigins string
}

// Origins are the browser origins the codec server allows: the configured
// ones, else the dev server UI's.
func (c Codec) Origins() []string {
	var out []string
	for _, o := range strings.Split(c.CORSOrigins, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return codec.DefaultCORSOrigins
	}
	return out
}

// codecFromLookup reads the codec settings; errors name their variable.
func codecFromLookup(get func(name, def string) string, secret func(name string) string) (Codec, []error) {
	var errs []error
	c := Codec{
		Keys:     secret(EnvCodecKeys),
		KeysFile: get(EnvCodecKeysFile, ""),
		Addr:     get(EnvCodecAddr, DefaultCodecAddr),
	}
	switch v := strings.ToLower(get(EnvCodec, "")); v {
	case "", "on":
	case CodecOff:
		c.Off = true
	default:
		errs = append(errs, fmt.Errorf("%s=%q: must be off (or unset, to encrypt)", EnvCodec, v))
	}
	if err := hostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("%s=%q: %s", EnvCodecAddr, c.Addr, err))
	}
	c.CORSOrigins = get(EnvCodecCORSOrigins, "")
	for _, o := range c.Origins() {
		if err := httpURL(o); err != nil {
			errs = append(errs, fmt.Errorf("%s: origin %q: %s", EnvCodecCORSOrigins, o, err))
		}
	}
	return c, errs
}

// errNoCodecKeys says what to set, for every process that talks to Temporal.
func errNoCodecKeys(who string) error {
	return fmt.Errorf("%s or %s is required by %s: payloads sent to Temporal are encrypted with it "+
		"(generate one: echo \"k1:$(openssl rand -base64 32)\"); set %s=%s to run without encryption (development only)",
		EnvCodecKeys, EnvCodecKeysFile, who, EnvCodec, CodecOff)
}

// checkCodec: keys given, or encryption explicitly off. The keys' syntax is
// checked by CodecKeys, which reads the file.
func (c Config) checkCodec(who string) error {
	if c.Codec.Off || c.Codec.Keys != "" || c.Codec.KeysFile != "" {
		return nil
	}
	return errNoCodecKeys(who)
}

// CodecKeys parses the configured keys; nil, nil when encryption is off.
func (c Config) CodecKeys() ([]codec.Key, error) {
	if c.Codec.Off {
		return nil, nil
	}
	if c.Codec.Keys == "" && c.Codec.KeysFile == "" {
		return nil, errNoCodecKeys("every process that talks to Temporal")
	}
	return codec.LoadKeys(EnvCodecKeys, c.Codec.Keys, EnvCodecKeysFile, c.Codec.KeysFile)
}
