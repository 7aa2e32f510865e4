package notify_test

import (
	"context"
	"errors"
	"io"
	"mime/quotedprintable"
	"net"
	"strconv"
	"strings"
	"testing"

	"restoredesk/internal/notify"
	"restoredesk/internal/notify/notifytest"
)

func mailer(t *testing.T, cert notifytest.Cert, s *notifytest.SMTP, mode, password string) *notify.Mailer {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.Addr)
	p, _ := strconv.Atoi(port)
	m, err := notify.NewMailer(notify.MailConfig{Host: host, Port: p, TLS: mode, Username: s.Username, Password: password,
		From: "restoredesk@example.com", RootCAs: cert.Pool})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMailOverSTARTTLSAndImplicitTLS(t *testing.T) {
	cert := notifytest.NewCert(t)
	for _, c := range []struct {
		mode     string
		implicit bool
	}{{notify.SMTPStartTLS, false}, {notify.SMTPTLS, true}} {
		srv := notifytest.NewSMTP(t, cert, c.implicit)
		a, err := mailer(t, cert, srv, c.mode, srv.Password).Send(context.Background(), "bob@example.com", sample)
		if err != nil {
			t.Fatalf("%s: %v", c.mode, err)
		}
		got := srv.Mails()
		if a.Status != 250 || len(got) != 1 || !got[0].TLS || got[0].Username != "restoredesk" || got[0].To[0] != "bob@example.com" {
			t.Fatalf("%s: answer %+v, mails %+v", c.mode, a, got)
		}
		decoded, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(got[0].Data)))
		for _, want := range []string{"Subject: [Restore Desk] Restore request #7 needs approval", "text/plain", "text/html",
			"Waiting for bob or grace to approve.", "https://restore.example.com/requests/7", "&lt;b&gt;now&lt;/b&gt;"} {
			if !strings.Contains(string(decoded), want) {
				t.Errorf("%s: the mail lacks %q:\n%s", c.mode, want, decoded)
			}
		}
	}
}

func TestMailRefusals(t *testing.T) {
	cert := notifytest.NewCert(t)
	srv := notifytest.NewSMTP(t, cert, false)
	var ne *notify.Error
	_, err := mailer(t, cert, srv, notify.SMTPStartTLS, "wrong").Send(context.Background(), "bob@example.com", sample)
	if err == nil || len(srv.Mails()) != 0 {
		t.Errorf("a wrong password: %v", err)
	}
	_, err = mailer(t, cert, srv, notify.SMTPStartTLS, srv.Password).Send(context.Background(), "nobody@refused.example.com", sample)
	if !errors.As(err, &ne) || ne.Retry || ne.Status != 550 {
		t.Errorf("a refused mailbox: %v (%+v)", err, ne)
	}
	// Implicit TLS against a plaintext server fails instead of falling back.
	if _, err := mailer(t, cert, srv, notify.SMTPTLS, srv.Password).Send(context.Background(), "bob@example.com", sample); err == nil {
		t.Error("implicit TLS to a plaintext server succeeded")
	}
	if _, err := notify.NewMailer(notify.MailConfig{Host: "h", TLS: "none", From: "a@b"}); err == nil {
		t.Error("SMTP_TLS=none accepted")
	}
}
