package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/leadflow/leadflow/internal/directory"
)

// Notification channels (internal/notify): Slack and email over SMTP.
const (
	EnvSlackWebhookURL = "LEADFLOW_SLACK_WEBHOOK_URL"
	EnvSlackBotToken   = "LEADFLOW_SLACK_BOT_TOKEN"
	EnvSMTPURL         = "LEADFLOW_SMTP_URL"
	EnvEmailFrom       = "LEADFLOW_EMAIL_FROM"
	// EnvTemporalUIURL is the Temporal Web UI a notification links a
	// lead's workflow page to.
	EnvTemporalUIURL = "LEADFLOW_TEMPORAL_UI_URL"

	DefaultTemporalUIURL = "http://127.0.0.1:8233"
	// DefaultSMTPPort is the submission port, used when the URL has none.
	DefaultSMTPPort = 587
)

// Notify is how people are told.
type Notify struct {
	SlackWebhookURL string // a secret: whoever has it can post
	SlackBotToken   string
	SMTPURL         string // smtp://user:pass@host:port; may hold a password
	EmailFrom       string
	TemporalUIURL   string // no trailing slash
}

// Channels names the configured channels ("slack", "email").
func (n Notify) Channels() []string {
	var out []string
	if n.SlackWebhookURL != "" || n.SlackBotToken != "" {
		out = append(out, "slack")
	}
	if n.SMTPURL != "" {
		out = append(out, "email")
	}
	return out
}

func notifyFromLookup(get func(name, def string) string, secret func(string) string) Notify {
	return Notify{
		SlackWebhookURL: secret(EnvSlackWebhookURL),
		SlackBotToken:   secret(EnvSlackBotToken),
		SMTPURL:         secret(EnvSMTPURL),
		EmailFrom:       get(EnvEmailFrom, ""),
		TemporalUIURL:   strings.TrimRight(get(EnvTemporalUIURL, DefaultTemporalUIURL), "/"),
	}
}

// check returns what makes the channels unusable: a start error, since
// no retry can fix it. (A server that does not answer is not checked
// here: the worker warns and deliveries retry.)
func (n Notify) check() []error {
	var errs []error
	if n.SlackWebhookURL != "" && n.SlackBotToken != "" {
		errs = append(errs, fmt.Errorf("%s and %s are both set: use one (a webhook posts to one channel, a bot token to each person)", EnvSlackWebhookURL, EnvSlackBotToken))
	}
	if n.SlackWebhookURL != "" {
		if err := httpURL(n.SlackWebhookURL); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvSlackWebhookURL, err)) // a secret: not echoed
		}
	}
	if n.SlackBotToken != "" && strings.ContainsAny(strings.TrimSpace(n.SlackBotToken), " \t\r\n") {
		errs = append(errs, fmt.Errorf("%s: must be one token (xoxb-…) without spaces", EnvSlackBotToken))
	}
	if n.SMTPURL != "" {
		if _, err := ParseSMTPURL(n.SMTPURL); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvSMTPURL, err))
		}
		if n.EmailFrom == "" {
			errs = append(errs, fmt.Errorf("%s is required when %s is set: it is the sender of every email", EnvEmailFrom, EnvSMTPURL))
		}
	}
	if n.EmailFrom != "" && !ValidSender(n.EmailFrom) {
		errs = append(errs, fmt.Errorf("%s=%q: must be an email address, or \"Name <address>\"", EnvEmailFrom, n.EmailFrom))
	}
	if err := httpURL(n.TemporalUIURL); err != nil {
		errs = append(errs, fmt.Errorf("%s=%q: %w", EnvTemporalUIURL, n.TemporalUIURL, err))
	}
	return errs
}

// ValidSender accepts a bare address or "Name <address>".
func ValidSender(s string) bool {
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		s = s[i+1 : len(s)-1]
	}
	return directory.ValidEmail(strings.TrimSpace(s))
}

// SMTP is a parsed LEADFLOW_SMTP_URL.
type SMTP struct {
	Host       string
	Port       int
	User, Pass string
}

// Addr is host:port.
func (s SMTP) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// ParseSMTPURL parses smtp://[user[:pass]@]host[:port] (port 587 when
// omitted). Errors never echo the URL: it may hold a password.
func ParseSMTPURL(raw string) (SMTP, error) {
	const want = "must be smtp://user:pass@host:port"
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return SMTP{}, errors.New(want + " (it does not parse)")
	case u.Scheme != "smtp":
		return SMTP{}, fmt.Errorf("%s (scheme is %q)", want, u.Scheme)
	case u.Hostname() == "":
		return SMTP{}, errors.New(want + " (no host)")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "":
		return SMTP{}, errors.New(want + " (no path or query)")
	}
	s := SMTP{Host: u.Hostname(), Port: DefaultSMTPPort}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTP{}, fmt.Errorf("%s (port %q)", want, p)
		}
		s.Port = n
	}
	if u.User != nil {
		s.User = u.User.Username()
		s.Pass, _ = u.User.Password()
	}
	return s, nil
}

// redactedSMTP is the URL without its password, for the start log.
func redactedSMTP(raw string) string {
	if raw == "" {
		return `""`
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "***"
	}
	return u.Redacted()
}

func (n Notify) String() string {
	mask := func(s string) string {
		if s == "" {
			return `""`
		}
		return "***"
	}
	return fmt.Sprintf("slackWebhookURL=%s slackBotToken=%s smtp=%s emailFrom=%s temporalUI=%s",
		mask(n.SlackWebhookURL), mask(n.SlackBotToken), redactedSMTP(n.SMTPURL), n.EmailFrom, n.TemporalUIURL)
}
