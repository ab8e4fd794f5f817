package notify

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	stdhtml "html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/notify/notifytest"
)

func emailTo(t *testing.T, s *notifytest.SMTPServer, rawURL string) *Email {
	t.Helper()
	if rawURL == "" {
		rawURL = "smtp://" + s.Addr
	}
	cfg, err := config.ParseSMTPURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	opts := []EmailOption{WithEmailTimeout(5 * time.Second)}
	if s.Certs != nil {
		opts = append(opts, WithTLSConfig(&tls.Config{RootCAs: s.Certs, MinVersion: tls.VersionTLS12}))
	}
	e, err := NewEmail(cfg, "leadflow@example.com", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The message the server receives: recipients, subject, a text part and
// an HTML part, the Message-ID from the key, over STARTTLS, authenticated.
func TestEmailDeliveredOverSTARTTLS(t *testing.T) {
	s := notifytest.StartSMTP(t, true, "leadflow", "s3cret")
	e := emailTo(t, s, "smtp://leadflow:s3cret@"+s.Addr)
	m := sample(t)
	if err := e.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := s.Received()
	if len(got) != 1 {
		t.Fatalf("received %d messages, want 1", len(got))
	}
	r := got[0]
	if !r.TLS {
		t.Error("the server offered STARTTLS but the message came in the clear")
	}
	if r.Authed != "leadflow" {
		t.Errorf("authenticated as %q, want leadflow", r.Authed)
	}
	if r.From != "leadflow@example.com" || len(r.To) != 1 || r.To[0] != "dana@example.com" {
		t.Errorf("envelope from %q to %v", r.From, r.To)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatal(err)
	}
	if subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); subj != "New lead for you: L-1001" {
		t.Errorf("subject %q", subj)
	}
	if to := msg.Header.Get("To"); !strings.Contains(to, "dana@example.com") || !strings.Contains(to, "Dana Whitfield") {
		t.Errorf("To %q", to)
	}
	if id := msg.Header.Get("Message-Id"); id != "<"+e.MessageID(m)+">" || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID %q, want <%s>", id, e.MessageID(m))
	}
	parts := mimeParts(t, msg)
	text, html := parts["text/plain"], stdhtml.UnescapeString(parts["text/html"])
	for _, want := range []string{"L-1001", "ana@acme.io", "quote_request +40", "Tue 1 Dec 10:00 EST",
		"http://127.0.0.1:8080/ui/inbox?rep=rep-1", "http://127.0.0.1:8233/namespaces/default/workflows/lead%2FL-1001"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
		if !strings.Contains(html, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, html)
		}
	}
	if !strings.Contains(html, `<a href="http://127.0.0.1:8080/ui/inbox?rep=rep-1">`) {
		t.Errorf("HTML part has no inbox link:\n%s", html)
	}
}

// The same key and recipient give the same Message-ID; another recipient
// another one.
func TestMessageIDFromKey(t *testing.T) {
	e, err := NewEmail(config.SMTP{Host: "127.0.0.1", Port: 25}, "Leadflow <leadflow@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	m := sample(t)
	other := m
	other.To.ID = "rep-2"
	again := sample(t)
	if e.MessageID(m) != e.MessageID(again) || e.MessageID(m) == e.MessageID(other) {
		t.Error("Message-ID must follow (key, recipient)")
	}
	if !strings.HasSuffix(e.MessageID(m), "@example.com") {
		t.Errorf("Message-ID %q: want the sender's domain", e.MessageID(m))
	}
	if strings.Contains(e.MessageID(m), "dana") {
		t.Error("Message-ID spells the address")
	}
}

// A server without STARTTLS still gets the mail (opportunistic TLS).
func TestEmailWithoutSTARTTLS(t *testing.T) {
	s := notifytest.StartSMTP(t, false, "", "")
	if err := emailTo(t, s, "").Send(t.Context(), sample(t)); err != nil {
		t.Fatal(err)
	}
	if got := s.Received(); len(got) != 1 || got[0].TLS {
		t.Fatalf("received %+v", got)
	}
}

func TestEmailErrors(t *testing.T) {
	t.Run("550 is a refusal", func(t *testing.T) {
		s := notifytest.StartSMTP(t, true, "", "")
		s.AnswerRcpt(func(string) error { return notifytest.ErrNoSuchUser })
		err := emailTo(t, s, "").Send(t.Context(), sample(t))
		var r *Refused
		if !errors.As(err, &r) || !strings.Contains(r.Reason, "550") {
			t.Fatalf("error %T %v; want Refused 550", err, err)
		}
		if strings.Contains(err.Error(), "dana@example.com") {
			t.Errorf("error names the recipient: %v", err)
		}
	})
	t.Run("451 is retried", func(t *testing.T) {
		s := notifytest.StartSMTP(t, true, "", "")
		s.AnswerRcpt(func(string) error {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		})
		err := emailTo(t, s, "").Send(t.Context(), sample(t))
		if !isUnavailable(err) || !strings.Contains(err.Error(), "451") {
			t.Fatalf("error %T %v; want Unavailable 451", err, err)
		}
	})
	t.Run("wrong password is a refusal", func(t *testing.T) {
		s := notifytest.StartSMTP(t, true, "leadflow", "s3cret")
		err := emailTo(t, s, "smtp://leadflow:wrong@"+s.Addr).Send(t.Context(), sample(t))
		if !isRefused(err) || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("error %T %v; want Refused without the password", err, err)
		}
	})
	t.Run("no server is retried", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		e, err := NewEmail(config.SMTP{Host: "127.0.0.1", Port: port}, "leadflow@example.com", WithEmailTimeout(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Send(t.Context(), sample(t)); !isUnavailable(err) {
			t.Fatalf("error %T %v; want Unavailable", err, err)
		}
		if err := e.Check(t.Context()); err == nil {
			t.Fatal("Check should fail with no server")
		}
	})
}

// mimeParts maps each part's media type to its decoded body.
func mimeParts(t *testing.T, msg *mail.Message) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(ct string, body io.Reader, cte string)
	walk = func(ct string, body io.Reader, cte string) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("content type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p, p.Header.Get("Content-Transfer-Encoding"))
			}
		}
		b, err := io.ReadAll(decodeCTE(body, cte))
		if err != nil {
			t.Fatal(err)
		}
		out[mt] = string(b)
	}
	walk(msg.Header.Get("Content-Type"), msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
	if len(out) < 2 {
		t.Fatalf("parts %v, want text/plain and text/html", keys(out))
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func decodeCTE(r io.Reader, cte string) io.Reader {
	switch strings.ToLower(cte) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r)
	}
	return r
}
