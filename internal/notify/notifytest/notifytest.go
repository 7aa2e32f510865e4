// Package notifytest runs real receivers for notification tests: an HTTPS
// server standing in for the chat platforms and webhook endpoints (under
// their own host names, with a certificate the test trusts) and an SMTP
// server that requires TLS and checks AUTH.
package notifytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"restoredesk/internal/notify"
)

// Hosts the certificate covers: the platforms, a webhook host and the mail server.
var Hosts = []string{"open.feishu.cn", "open.larksuite.com", "oapi.dingtalk.com", "qyapi.weixin.qq.com",
	"hooks.example.com", "internal.example.com", "mail.example.com", "flaky.example.com", "down.example.com"}

// Cert is a self-signed certificate for Hosts and 127.0.0.1.
type Cert struct {
	TLS  tls.Certificate
	Pool *x509.CertPool
}

// NewCert makes a certificate valid for an hour.
func NewCert(t testing.TB) Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "restoredesk test receiver"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames:    Hosts,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:        true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return Cert{TLS: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, Pool: pool}
}

// Request is one request a Receiver saw.
type Request struct {
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// Reply is a scripted answer.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
}

// Receiver is an HTTPS server that records every request and answers with
// the scripted replies in turn, then with Default.
type Receiver struct {
	Server  *httptest.Server
	Default Reply

	mu      sync.Mutex
	seen    []Request
	replies []Reply
}

// NewReceiver starts a receiver using cert; it stops when the test ends.
func NewReceiver(t testing.TB, cert Cert, def Reply) *Receiver {
	r := &Receiver{Default: def}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.Server.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	r.Server.StartTLS()
	t.Cleanup(r.Server.Close)
	return r
}

// Script queues replies answered before Default.
func (r *Receiver) Script(replies ...Reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies = append(r.replies, replies...)
}

// Seen returns the requests received so far.
func (r *Receiver) Seen() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.seen...)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.seen = append(r.seen, Request{Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: body})
	reply := r.Default
	if len(r.replies) > 0 {
		reply, r.replies = r.replies[0], r.replies[1:]
	}
	r.mu.Unlock()
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(cmpOr(reply.Status, http.StatusOK))
	io.WriteString(w, reply.Body)
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Port returns the receiver's port.
func (r *Receiver) Port() string {
	_, port, _ := net.SplitHostPort(r.Server.Listener.Addr().String())
	return port
}

// Net returns a notify.Net that resolves every host to resolveTo (127.0.0.1
// when empty) and dials the receiver's port whatever the URL says, trusting
// the certificate: the platforms' real host names reach the receiver.
func (r *Receiver) Net(cert Cert, resolveTo string) notify.Net {
	if resolveTo == "" {
		resolveTo = "127.0.0.1"
	}
	a := netip.MustParseAddr(resolveTo)
	return notify.Net{
		RootCAs: cert.Pool,
		Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) { return []netip.Addr{a}, nil },
		Port:    func(string) string { return r.Port() },
	}
}

// Mail is one message the SMTP server accepted.
type Mail struct {
	From     string
	To       []string
	Data     string
	TLS      bool
	Username string
}

// SMTP is an in-process SMTP server that requires TLS (STARTTLS or
// implicit) before AUTH PLAIN, checks the one account it knows, and records
// what it accepted.
type SMTP struct {
	Addr               string
	Username, Password string

	mu    sync.Mutex
	mails []Mail
}

// NewSMTP starts a server on 127.0.0.1; implicit selects TLS from the first byte.
func NewSMTP(t testing.TB, cert Cert, implicit bool) *SMTP {
	t.Helper()
	s := &SMTP{Username: "restoredesk", Password: "mail-secret"}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, c: c}, nil }))
	srv.Domain = "mail.example.com"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	srv.AllowInsecureAuth = false // AUTH only after TLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var ln net.Listener
	var err error
	if implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Mails returns the accepted mails.
func (s *SMTP) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

type session struct {
	s    *SMTP
	c    *smtp.Conn
	user string
	m    Mail
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != se.s.Username || password != se.s.Password {
			return errors.New("invalid credentials")
		}
		se.user = username
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	_, tlsOn := se.c.TLSConnectionState()
	se.m = Mail{From: from, TLS: tlsOn, Username: se.user}
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasSuffix(to, "@refused.example.com") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	se.m.To = append(se.m.To, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	se.m.Data = string(b)
	se.s.mu.Lock()
	se.s.mails = append(se.s.mails, se.m)
	se.s.mu.Unlock()
	return nil
}

func (se *session) Reset()        { se.m = Mail{} }
func (se *session) Logout() error { return nil }
