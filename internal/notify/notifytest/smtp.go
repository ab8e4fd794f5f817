// Package notifytest has the real parts notification tests run against: an
// SMTP server (emersion/go-smtp) on 127.0.0.1 in the test process, with
// STARTTLS on a test certificate and optional AUTH PLAIN, and a Slack
// receiver written to Slack's documented behaviour that checks each
// payload against the Block Kit shape.
package notifytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1 in the
// test process. With a TLS config it offers STARTTLS; with a user it
// requires AUTH PLAIN (only over TLS, as go-smtp enforces).
type SMTPServer struct {
	Addr  string
	Certs *x509.CertPool // trusts the server's certificate
	user  string
	pass  string
	rcpt  func(to string) error // nil: accept

	mu   sync.Mutex
	mail []Mail
}

// Mail is one accepted message.
type Mail struct {
	From   string
	To     []string
	Data   []byte
	TLS    bool
	Authed string // the user that authenticated
}

// StartSMTP starts a server; withTLS offers STARTTLS, a user requires AUTH.
func StartSMTP(t *testing.T, withTLS bool, user, pass string) *SMTPServer {
	t.Helper()
	s := &SMTPServer{user: user, pass: pass}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "127.0.0.1"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	if withTLS {
		cfg, pool := TestCert(t)
		srv.TLSConfig, s.Certs = cfg, pool
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// AnswerRcpt makes fn answer each RCPT TO from now on (a nil error
// accepts the recipient).
func (s *SMTPServer) AnswerRcpt(fn func(to string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcpt = fn
}

// Received is every message accepted so far.
func (s *SMTPServer) Received() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

type session struct {
	srv    *SMTPServer
	conn   *smtp.Conn
	cur    Mail
	authed string
}

func (x *session) AuthMechanisms() []string {
	if x.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.srv.user || pass != x.srv.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		x.authed = user
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.srv.user != "" && x.authed == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	x.cur = Mail{From: from}
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.srv.mu.Lock()
	fn := x.srv.rcpt
	x.srv.mu.Unlock()
	if fn != nil {
		if err := fn(to); err != nil {
			return err
		}
	}
	x.cur.To = append(x.cur.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := x.conn.TLSConnectionState()
	x.cur.Data, x.cur.TLS, x.cur.Authed = b, isTLS, x.authed
	x.srv.mu.Lock()
	x.srv.mail = append(x.srv.mail, x.cur)
	x.srv.mu.Unlock()
	return nil
}

func (x *session) Reset()        { x.cur = Mail{} }
func (x *session) Logout() error { return nil }

var _ smtp.AuthSession = (*session)(nil)

// TestCert is a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func TestCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "leadflow test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}

// ErrNoSuchUser is a permanent refusal of a recipient (550 5.1.1).
var ErrNoSuchUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}

// URL is the server's LEADFLOW_SMTP_URL (no credentials).
func (s *SMTPServer) URL() string { return "smtp://" + s.Addr }

// ClientTLS is a client configuration that trusts the server's
// certificate; nil without TLS.
func (s *SMTPServer) ClientTLS() *tls.Config {
	if s.Certs == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.Certs, MinVersion: tls.VersionTLS12}
}
