package config

import "fmt"

// MinSecretBytes is the shortest HMAC key or token serve and the worker
// accept: as long as an HMAC-SHA256 output, so the key is not the weak
// part. A short or well-known secret makes signatures and tokens guessable.
const MinSecretBytes = 32

type namedSecret struct{ name, value string }

// short lists the secrets that are set but shorter than MinSecretBytes:
// the two HMAC keys, the API token and the HubSpot client secret.
func (c Config) short() []namedSecret {
	var out []namedSecret
	for _, s := range []namedSecret{
		{EnvWebhookSecret, c.WebhookSecret},
		{EnvIDKey, c.IDKey},
		{EnvAPIToken, c.APIToken},
		{EnvHubSpotClientSecret, c.HubSpotClientSecret},
	} {
		if s.value != "" && len(s.value) < MinSecretBytes {
			out = append(out, s)
		}
	}
	return out
}

// ShortSecrets names the secrets that are set but shorter than
// MinSecretBytes, whatever InsecureDemo says.
func (c Config) ShortSecrets() []string {
	var names []string
	for _, s := range c.short() {
		names = append(names, s.name)
	}
	return names
}

// shortSecrets is one error per short secret, unless InsecureDemo allows them.
func (c Config) shortSecrets() []error {
	if c.InsecureDemo {
		return nil
	}
	var errs []error
	for _, s := range c.short() {
		errs = append(errs, fmt.Errorf("%s is %d bytes: secrets must be at least %d bytes (e.g. openssl rand -hex 32); %s=1 accepts short ones, for a local demo only",
			s.name, len(s.value), MinSecretBytes, EnvInsecureDemo))
	}
	return errs
}

// InsecureDemoWarning is what serve and the worker log at start when
// InsecureDemo is set ("" otherwise).
func (c Config) InsecureDemoWarning() string {
	if !c.InsecureDemo {
		return ""
	}
	msg := EnvInsecureDemo + " is set: secrets shorter than 32 bytes are accepted; never use this outside a local demo"
	if names := c.ShortSecrets(); len(names) > 0 {
		msg += fmt.Sprintf(" (short now: %v)", names)
	}
	return msg
}
