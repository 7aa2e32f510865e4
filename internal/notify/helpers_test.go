package notify_test

import (
	"testing"

	"restoredesk/internal/notify/notifytest"

	"log/slog"
	"os"

	"restoredesk/internal/jobs"
	"restoredesk/internal/notify"
)

// jobsInsertOnly returns a client that inserts notification jobs without working them.
func jobsInsertOnly(f *fixture) (*jobs.Client, error) {
	c, err := jobs.New(f.pool, jobs.Config{Test: true}, notify.New(f.pool, notify.Config{}))
	if err != nil {
		f.t.Fatal(err)
	}
	return c, nil
}

var testLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

func testMailer(t *testing.T, cert notifytest.Cert, s *notifytest.SMTP) *notify.Mailer {
	return mailer(t, cert, s, notify.SMTPStartTLS, s.Password)
}
