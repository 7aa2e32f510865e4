package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// TLS modes of the SMTP connection.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded with STARTTLS, which is required (port 587)
	SMTPTLS      = "tls"      // implicit TLS from the first byte (port 465)
)

// MailConfig is the SMTP server Restore Desk sends mail through.
type MailConfig struct {
	Host     string
	Port     int    // default 587 for starttls, 465 for tls
	TLS      string // SMTPStartTLS (default) or SMTPTLS; there is no plaintext mode
	Username string // empty: no AUTH
	Password string
	From     string // the From address
	RootCAs  *x509.CertPool
	Timeout  time.Duration // default 15s
}

// Mailer sends personal and list mail over SMTP with go-mail.
type Mailer struct{ cfg MailConfig }

// NewMailer checks cfg and returns a Mailer.
func NewMailer(cfg MailConfig) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("SMTP_HOST is not set")
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = SMTPStartTLS
	case SMTPStartTLS, SMTPTLS:
	default:
		return nil, fmt.Errorf("SMTP_TLS %q: want starttls or tls", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == SMTPTLS {
			cfg.Port = 465
		}
	}
	if cfg.From == "" || !strings.Contains(cfg.From, "@") {
		return nil, fmt.Errorf("MAIL_FROM %q: want the address mail comes from, such as restoredesk@example.com", cfg.From)
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return nil, errors.New("SMTP_USERNAME and SMTP_PASSWORD: set both for SMTP AUTH, or neither")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	return &Mailer{cfg: cfg}, nil
}

// Send mails m to address. TLS is mandatory either way: STARTTLS refused by
// the server is an error, never a plaintext fallback.
func (mr *Mailer) Send(ctx context.Context, address string, m Message) (Answer, error) {
	c := mr.cfg
	tlsConfig := &tls.Config{ServerName: c.Host, RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12}
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTimeout(c.Timeout), mail.WithTLSConfig(tlsConfig)}
	if c.TLS == SMTPTLS {
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	client, err := mail.NewClient(c.Host, opts...)
	if err != nil {
		return Answer{}, &Error{Err: fmt.Errorf("smtp: %w", err)}
	}
	msg := mail.NewMsg()
	if err := msg.From(c.From); err != nil {
		return Answer{}, &Error{Err: fmt.Errorf("MAIL_FROM: %w", err)}
	}
	if err := msg.To(address); err != nil {
		return Answer{}, &Error{Err: fmt.Errorf("recipient %q: %w", address, err)}
	}
	msg.Subject("[Restore Desk] " + m.Title)
	msg.SetMessageIDWithValue(strings.ReplaceAll(m.ID, "_", ".") + "@restoredesk")
	msg.SetBodyString(mail.TypeTextPlain, m.Text())
	var html strings.Builder
	if err := mailHTML.Execute(&html, m); err != nil {
		return Answer{}, &Error{Err: err}
	}
	msg.AddAlternativeString(mail.TypeTextHTML, html.String())
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		a := Answer{Body: truncate(err.Error(), MaxAnswer)}
		var se *mail.SendError
		retry := true
		if errors.As(err, &se) {
			if code := se.ErrorCode(); code > 0 {
				a.Status = code
				retry = code < 500 // 5xx: the server refuses for good
			}
		}
		return a, &Error{Answer: a, Err: fmt.Errorf("smtp: %w", err), Retry: retry}
	}
	return Answer{Status: 250, Body: "accepted by " + c.Host}, nil
}

var mailHTML = template.Must(template.New("mail").Parse(`<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.4">
<h2 style="margin: 0 0 .5em">{{.Title}}</h2>
<p>{{.Summary}}</p>
<table style="border-collapse: collapse">{{range .Fields}}
<tr><th style="text-align: left; padding: 2px 12px 2px 0; vertical-align: top">{{.Name}}</th><td style="padding: 2px 0">{{.Value}}</td></tr>{{end}}
</table>
{{if .Action}}<p><strong>{{.Action}}</strong></p>{{end}}
{{if .URL}}<p><a href="{{.URL}}" style="display: inline-block; padding: 8px 16px; background: #1f5fbf; color: #fff; text-decoration: none; border-radius: 4px">Open the request</a></p>{{end}}
</body></html>
`))
