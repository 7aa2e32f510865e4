package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseNotifyConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := parseNotifyConfig(env())
	if err != nil || c.RemindAfter != 4*time.Hour || c.EscalateAfter != 24*time.Hour || c.Mail != nil || c.SecretKey != "" {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	c, err = parseNotifyConfig(env("SMTP_HOST", "smtp.example.com", "SMTP_TLS", "TLS", "SMTP_USERNAME", "rd", "SMTP_PASSWORD", "pw",
		"MAIL_FROM", "restoredesk@example.com", "REMIND_AFTER", "2h", "NOTIFY_SECRET_KEY", strings.Repeat("k", 40)))
	if err != nil || c.Mail == nil || c.Mail.TLS != "tls" || c.Mail.Port != 0 || c.RemindAfter != 2*time.Hour {
		t.Errorf("full: %+v, %v", c, err)
	}
	for _, bad := range []struct {
		env  func(string) string
		want string
	}{
		{env("REMIND_AFTER", "soon"), "REMIND_AFTER"},
		{env("REMIND_AFTER", "30h"), "ESCALATE_AFTER"},
		{env("NOTIFY_SECRET_KEY", "short"), "NOTIFY_SECRET_KEY"},
		{env("MAIL_FROM", "a@b"), "SMTP_HOST"},
		{env("SMTP_HOST", "h", "MAIL_FROM", "a@b", "SMTP_PORT", "x"), "SMTP_PORT"},
		{env("SMTP_HOST", "h", "MAIL_FROM", "a@b", "SMTP_TLS", "none"), "SMTP_TLS"},
		{env("SMTP_HOST", "h"), "MAIL_FROM"},
		{env("SMTP_HOST", "h", "MAIL_FROM", "a@b", "SMTP_USERNAME", "u"), "SMTP_PASSWORD"},
	} {
		if _, err := parseNotifyConfig(bad.env); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("want an error naming %s, got %v", bad.want, err)
		}
	}
}
