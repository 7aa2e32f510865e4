package main

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/jobs"
	"restoredesk/internal/notify"
)

// notifyConfig is the notification settings, read beside config.
type notifyConfig struct {
	RemindAfter   time.Duration
	EscalateAfter time.Duration
	SecretKey     string             // NOTIFY_SECRET_KEY: seals channel secrets
	Mail          *notify.MailConfig // nil: SMTP_HOST not set, no e-mail
}

// parseNotifyConfig reads REMIND_AFTER, ESCALATE_AFTER, NOTIFY_SECRET_KEY
// and the SMTP_* and MAIL_FROM variables; the error names the variable.
func parseNotifyConfig(getenv func(string) string) (notifyConfig, error) {
	var c notifyConfig
	var err error
	if c.RemindAfter, err = parseDuration("REMIND_AFTER", getenv("REMIND_AFTER"), 4*time.Hour); err != nil {
		return c, err
	}
	if c.EscalateAfter, err = parseDuration("ESCALATE_AFTER", getenv("ESCALATE_AFTER"), 24*time.Hour); err != nil {
		return c, err
	}
	if c.EscalateAfter <= c.RemindAfter {
		return c, fmt.Errorf("ESCALATE_AFTER %s: must be longer than REMIND_AFTER (%s)", c.EscalateAfter, c.RemindAfter)
	}
	c.SecretKey = strings.TrimSpace(getenv("NOTIFY_SECRET_KEY"))
	if c.SecretKey != "" {
		if _, err := notify.NewBox(c.SecretKey); err != nil {
			return c, err
		}
	}
	host := strings.TrimSpace(getenv("SMTP_HOST"))
	if host == "" {
		for _, v := range []string{"SMTP_PORT", "SMTP_TLS", "SMTP_USERNAME", "SMTP_PASSWORD", "MAIL_FROM"} {
			if strings.TrimSpace(getenv(v)) != "" {
				return c, fmt.Errorf("%s is set but SMTP_HOST is not: set SMTP_HOST to send e-mail", v)
			}
		}
		return c, nil
	}
	m := notify.MailConfig{Host: host, TLS: strings.ToLower(strings.TrimSpace(getenv("SMTP_TLS"))),
		Username: strings.TrimSpace(getenv("SMTP_USERNAME")), Password: getenv("SMTP_PASSWORD"), From: strings.TrimSpace(getenv("MAIL_FROM"))}
	if p := strings.TrimSpace(getenv("SMTP_PORT")); p != "" {
		if m.Port, err = strconv.Atoi(p); err != nil || m.Port < 1 || m.Port > 65535 {
			return c, fmt.Errorf("SMTP_PORT %q: want a port number such as 587", p)
		}
	}
	if _, err := notify.NewMailer(m); err != nil {
		return c, err
	}
	c.Mail = &m
	return c, nil
}

// background is every kind of background work Restore Desk has beside the
// application's own (the restore execution, expiry, session clean-up and
// audit checkpoints, which app.New adds) — the one list to extend — and the
// notification service the admin pages use. app.New builds the one River
// client from them.
func background(cfg config, getenv func(string) string, pool *pgxpool.Pool, log *slog.Logger) ([]jobs.Kind, *notify.Service, error) {
	nc, err := parseNotifyConfig(getenv)
	if err != nil {
		return nil, nil, err
	}
	ncfg := notify.Config{BaseURL: cfg.BaseURL, Outbox: cfg.Demo, RemindAfter: nc.RemindAfter, EscalateAfter: nc.EscalateAfter, Log: log,
		Sender: &notify.Sender{}}
	key := nc.SecretKey
	if key == "" && cfg.Demo && len(cfg.SessionKeys) > 0 {
		// The demo derives its channel key from its generated session key.
		sum := sha256.Sum256(append([]byte("restoredesk demo channel key\x00"), cfg.SessionKeys[0]...))
		key = base64.StdEncoding.EncodeToString(sum[:])
	}
	if key != "" {
		if ncfg.Box, err = notify.NewBox(key); err != nil {
			return nil, nil, err
		}
	}
	if nc.Mail != nil {
		if ncfg.Sender.Mail, err = notify.NewMailer(*nc.Mail); err != nil {
			return nil, nil, err
		}
	}
	if cfg.Demo {
		log.Warn("DEMO mode: notifications go to the built-in outbox (/outbox); nothing is sent")
	} else if ncfg.Box == nil {
		log.Warn("NOTIFY_SECRET_KEY not set: chat and webhook channels cannot be configured or used")
	}
	if !cfg.Demo && nc.Mail == nil {
		log.Warn("SMTP_HOST not set: personal notifications by e-mail are not sent")
	}
	n := notify.New(pool, ncfg)
	// The admin pages' resends and test messages only insert jobs, in their
	// own transactions; any process's workers deliver them.
	inserter, err := jobs.New(pool, jobs.Config{Log: log}, n)
	if err != nil {
		return nil, nil, errors.Join(errors.New("background work"), err)
	}
	return []jobs.Kind{n}, notify.NewService(n, inserter), nil
}
