package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/leadflow/leadflow/internal/config"
)

// ChannelEmail is the email channel's name in delivery records.
const ChannelEmail = "email"

// Email sends a plain-text message with an HTML alternative over SMTP,
// upgrading to TLS with STARTTLS whenever the server offers it.
type Email struct {
	srv     config.SMTP
	from    string
	tls     *tls.Config
	timeout time.Duration
}

// EmailOption configures an Email channel.
type EmailOption func(*Email)

// WithTLSConfig sets the STARTTLS configuration (tests trust their own
// CA); its ServerName defaults to the SMTP host.
func WithTLSConfig(c *tls.Config) EmailOption { return func(e *Email) { e.tls = c.Clone() } }

// WithEmailTimeout bounds the dial and each SMTP command.
func WithEmailTimeout(d time.Duration) EmailOption { return func(e *Email) { e.timeout = d } }

// NewEmail sends through srv from the address from.
func NewEmail(srv config.SMTP, from string, opts ...EmailOption) (*Email, error) {
	if !config.ValidSender(from) {
		return nil, errors.New("email sender: want an email address such as leadflow@example.com")
	}
	e := &Email{srv: srv, from: from, timeout: 15 * time.Second}
	for _, o := range opts {
		o(e)
	}
	if e.tls == nil {
		e.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if e.tls.ServerName == "" {
		e.tls.ServerName = srv.Host
	}
	return e, nil
}

// NewEmailURL sends through the server of a LEADFLOW_SMTP_URL.
func NewEmailURL(rawURL, from string, opts ...EmailOption) (*Email, error) {
	srv, err := config.ParseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	return NewEmail(srv, from, opts...)
}

// Name is the channel's name.
func (e *Email) Name() string { return ChannelEmail }

// Reaches: anyone with an email address.
func (e *Email) Reaches(p Person) bool { return p.Email != "" }

// MessageID is the Message-ID of m's email: derived from the notification
// key and the recipient, so a resend after a lost acknowledgement carries
// the same ID and mail clients show it once.
func (e *Email) MessageID(m Message) string {
	sum := sha256.Sum256([]byte(m.Key + "\x00" + m.To.ID))
	domain := "leadflow.invalid"
	if i := strings.LastIndexByte(e.from, '@'); i >= 0 {
		domain = strings.TrimSuffix(e.from[i+1:], ">")
	}
	return hex.EncodeToString(sum[:16]) + "@" + domain
}

func (e *Email) client() (*mail.Client, error) {
	opts := []mail.Option{
		mail.WithPort(e.srv.Port),
		mail.WithTLSPolicy(mail.TLSOpportunistic),
		mail.WithTLSConfig(e.tls),
		mail.WithTimeout(e.timeout),
	}
	if e.srv.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(e.srv.User), mail.WithPassword(e.srv.Pass))
	}
	c, err := mail.NewClient(e.srv.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client for %s: %w", e.srv.Addr(), err)
	}
	return c, nil
}

// Send mails m to m.To.Email.
func (e *Email) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(e.from); err != nil {
		return &Refused{Channel: ChannelEmail, Reason: "bad sender address"}
	}
	if err := msg.AddToFormat(m.To.Name, m.To.Email); err != nil {
		return &Refused{Channel: ChannelEmail, Reason: "bad recipient address of " + m.To.ID}
	}
	msg.Subject(m.Title)
	msg.SetDate()
	msg.SetMessageIDWithValue(e.MessageID(m))
	if m.Urgent {
		msg.SetImportance(mail.ImportanceHigh)
	}
	html, err := HTML(m)
	if err != nil {
		return err
	}
	msg.SetBodyString(mail.TypeTextPlain, Text(m))
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	c, err := e.client()
	if err != nil {
		return &Unavailable{Channel: ChannelEmail, Reason: "client setup failed"}
	}
	return smtpError(c.DialAndSendWithContext(ctx, msg), e.srv.Addr())
}

// Check dials the server and says hello, so the worker can warn at start
// that mail cannot go out yet.
func (e *Email) Check(ctx context.Context) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("smtp %s: %w", e.srv.Addr(), smtpError(err, e.srv.Addr()))
	}
	return c.Close()
}

// smtpError sorts go-mail's errors: a permanent (5xx) reply is Refused; a
// 4xx reply, a dropped connection or a timeout is Unavailable. go-mail's
// texts name the recipients; only codes are kept.
func smtpError(err error, addr string) error {
	if err == nil {
		return nil
	}
	se, ok := errors.AsType[*mail.SendError](err)
	code, reason := 0, ""
	if ok {
		code, reason = se.ErrorCode(), smtpReason(se, se.ErrorCode())
	}
	// A reply to the greeting, STARTTLS or AUTH (dial time) is a plain
	// textproto error.
	if te, isTE := errors.AsType[*textproto.Error](err); isTE && code == 0 {
		code, reason = te.Code, fmt.Sprintf("SMTP %d at dial", te.Code)
	}
	switch {
	case code >= 500 && code < 600:
		return &Refused{Channel: ChannelEmail, Reason: reason}
	case code >= 400:
		return &Unavailable{Channel: ChannelEmail, Reason: reason}
	case ok:
		return &Unavailable{Channel: ChannelEmail, Reason: fmt.Sprintf("%s at %s", se.Reason, addr)}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &Unavailable{Channel: ChannelEmail, Reason: "timeout at " + addr}
	}
	return &Unavailable{Channel: ChannelEmail, Reason: "cannot talk to " + addr}
}

func smtpReason(se *mail.SendError, code int) string {
	r := fmt.Sprintf("SMTP %d", code)
	if esc := se.EnhancedStatusCode(); esc != "" {
		r += " " + esc
	}
	return r + " (" + se.Reason.String() + ")"
}
