package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// prod returns the minimal valid production environment plus overrides.
func prod(over map[string]string) map[string]string {
	m := map[string]string{
		"DATABASE_URL":       "postgres://u@127.0.0.1:5432/db",
		"JDCLOUD_ACCESS_KEY": "AK",
		"JDCLOUD_SECRET_KEY": "SK",
		"SESSION_KEYS":       strings.Repeat("k", 32),
		"BASE_URL":           "https://restore.example.com",
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(env(prod(nil)), true)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"LISTEN_ADDR", c.ListenAddr, "127.0.0.1:8080"},
		{"METRICS_ADDR", c.MetricsAddr, "127.0.0.1:9090"},
		{"APPROVAL_TTL", c.ApprovalTTL, 72 * time.Hour},
		{"BUILD_TIMEOUT", c.BuildTimeout, 2 * time.Hour},
		{"JDCLOUD_VISIBILITY_WINDOW", c.VisibilityWindow, 2 * time.Minute},
		{"AUDIT_CHECKPOINT_INTERVAL", c.AuditCheckpoint, time.Hour},
		{"DATABASE_CONNECT_TIMEOUT", c.DBConnectTimeout, 10 * time.Second},
		{"OIDC_GROUPS_CLAIM", c.OIDCGroupsClaim, "groups"},
		{"DEMO", c.Demo, false},
		{"LOG_LEVEL", c.LogLevel.String(), "INFO"},
		{"SESSION_IDLE_TIMEOUT", c.SessionIdleTimeout, 30 * time.Minute},
		{"SESSION_MAX_AGE", c.SessionMaxAge, 12 * time.Hour},
		{"SESSION_PERSISTENT", c.SessionPersistent, false},
		{"INSECURE_HTTP", c.InsecureHTTP, false},
		{"DEFAULT_TIME_ZONE", c.DefaultZone.String(), "Asia/Shanghai"},
		{"job timeout (twice JDCLOUD_TIMEOUT)", c.JobTimeout, time.Minute},
		{"JOB_RESCUE_AFTER", c.JobRescueAfter, 75 * time.Second},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s default = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestParseConfigValues(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(env(prod(map[string]string{
		"LISTEN_ADDR": ":8080", "APPROVAL_TTL": "90s", "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7",
		"SESSION_KEYS": strings.Repeat("a", 40) + "," + strings.Repeat("b", 32), "BASE_URL": "https://restore.example.com",
		"JDCLOUD_ENDPOINT": "http://127.0.0.1:8081/", "LOG_LEVEL": "debug", "DEMO": "0",
	})), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != ":8080" || c.ApprovalTTL != 90*time.Second || len(c.SessionKeys) != 2 ||
		c.BaseURL.Host != "restore.example.com" || c.JDCloudEndpoint != "http://127.0.0.1:8081" || c.LogLevel.String() != "DEBUG" {
		t.Errorf("unexpected config %+v", c)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32")}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[0] != want[0] || c.TrustedProxies[1] != want[1] {
		t.Errorf("TrustedProxies = %v, want %v", c.TrustedProxies, want)
	}
	if string(c.SessionKeys[0]) != strings.Repeat("a", 40) {
		t.Error("session keys not kept newest first")
	}
}

// TestParseConfigErrors: every bad value stops start-up with one line naming
// the variable.
func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		needCloud bool
		wantVar   string // the variable the message must name
		wantText  string
	}{
		{"no database", map[string]string{"DEMO": "1"}, true, "DATABASE_URL", "not set"},
		{"unparsable duration", prod(map[string]string{"APPROVAL_TTL": "3 days"}), true, "APPROVAL_TTL", "Go syntax"},
		{"unknown zone", prod(map[string]string{"DEFAULT_TIME_ZONE": "Mars/Olympus"}), true, "DEFAULT_TIME_ZONE", "zone name"},
		{"negative duration", prod(map[string]string{"BUILD_TIMEOUT": "-1h"}), true, "BUILD_TIMEOUT", "positive"},
		{"bad visibility window", prod(map[string]string{"JDCLOUD_VISIBILITY_WINDOW": "soon"}), true, "JDCLOUD_VISIBILITY_WINDOW", "duration"},
		{"bad checkpoint interval", prod(map[string]string{"AUDIT_CHECKPOINT_INTERVAL": "1"}), true, "AUDIT_CHECKPOINT_INTERVAL", "duration"},
		{"bad connect timeout", prod(map[string]string{"DATABASE_CONNECT_TIMEOUT": "x"}), true, "DATABASE_CONNECT_TIMEOUT", "duration"},
		{"short session key", prod(map[string]string{"SESSION_KEYS": "short"}), true, "SESSION_KEYS", "at least 32"},
		{"second session key short", prod(map[string]string{"SESSION_KEYS": strings.Repeat("k", 32) + ",tiny"}), true, "SESSION_KEYS", "key 2"},
		{"bad log level", prod(map[string]string{"LOG_LEVEL": "loud"}), true, "LOG_LEVEL", "debug, info"},
		{"bad DEMO", prod(map[string]string{"DEMO": "maybe"}), true, "DEMO", "1 or 0"},
		{"bad listen address", prod(map[string]string{"LISTEN_ADDR": "8080"}), true, "LISTEN_ADDR", "host:port"},
		{"bad metrics address", prod(map[string]string{"METRICS_ADDR": "metrics"}), true, "METRICS_ADDR", "host:port"},
		{"relative BASE_URL", prod(map[string]string{"BASE_URL": "restore.example.com"}), true, "BASE_URL", "absolute"},
		{"missing price table", prod(map[string]string{"PRICE_TABLE": "/nonexistent/prices.json"}), true, "PRICE_TABLE", "no such file"},
		{"bad price table", prod(map[string]string{"PRICE_TABLE": "/etc/hostname"}), true, "PRICE_TABLE", "not a price table"},
		{"bad retry budget", prod(map[string]string{"JDCLOUD_RETRY_BUDGET": "long"}), true, "JDCLOUD_RETRY_BUDGET", "duration"},
		{"bad client timeout", prod(map[string]string{"JDCLOUD_TIMEOUT": "0s"}), true, "JDCLOUD_TIMEOUT", "positive"},
		{"rescue before the job timeout", prod(map[string]string{"JDCLOUD_TIMEOUT": "40s", "JOB_RESCUE_AFTER": "75s"}), true,
			"JOB_RESCUE_AFTER", "longer than a job's timeout, 1m20s"},
		{"bad JOB_RESCUE_AFTER", prod(map[string]string{"JOB_RESCUE_AFTER": "soon"}), true, "JOB_RESCUE_AFTER", "duration"},
		{"bad trusted proxy", prod(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}), true, "TRUSTED_PROXIES", "CIDR"},
		{"endpoint with path", prod(map[string]string{"JDCLOUD_ENDPOINT": "https://h/v1"}), true, "JDCLOUD_ENDPOINT", "scheme, host"},
		{"endpoint without scheme", prod(map[string]string{"JDCLOUD_ENDPOINT": "127.0.0.1:8081"}), true, "JDCLOUD_ENDPOINT", "scheme"},
		{"no JD Cloud keys outside demo", prod(map[string]string{"JDCLOUD_ACCESS_KEY": "", "JDCLOUD_SECRET_KEY": ""}), true, "JDCLOUD_ACCESS_KEY, JDCLOUD_SECRET_KEY", "DEMO=1"},
		{"no session keys outside demo", prod(map[string]string{"SESSION_KEYS": ""}), true, "SESSION_KEYS", "not set"},
		{"partial OIDC", prod(map[string]string{"OIDC_ISSUER": "https://id.example.com"}), true, "OIDC_CLIENT_ID", "all three"},
		{"OIDC without BASE_URL", prod(map[string]string{"BASE_URL": "", "OIDC_ISSUER": "https://id", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s"}), true, "BASE_URL", "callback"},
		{"no BASE_URL outside demo", prod(map[string]string{"BASE_URL": ""}), true, "BASE_URL", "not set"},
		{"http BASE_URL outside demo", prod(map[string]string{"BASE_URL": "http://restore.example.com"}), true, "BASE_URL", "INSECURE_HTTP=1"},
		{"idle longer than max age", prod(map[string]string{"SESSION_IDLE_TIMEOUT": "13h"}), true, "SESSION_IDLE_TIMEOUT", "longer than SESSION_MAX_AGE"},
		{"bad SESSION_MAX_AGE", prod(map[string]string{"SESSION_MAX_AGE": "forever"}), true, "SESSION_MAX_AGE", "duration"},
		{"bad SESSION_PERSISTENT", prod(map[string]string{"SESSION_PERSISTENT": "sometimes"}), true, "SESSION_PERSISTENT", "1 or 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfig(env(tt.env), tt.needCloud)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantVar) || !strings.Contains(msg, tt.wantText) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %s and saying %q", msg, tt.wantVar, tt.wantText)
			}
		})
	}
}

// TestConfigInsecureHTTP: an http:// BASE_URL outside demo mode starts only
// with INSECURE_HTTP=1 (and serve then warns), and the session settings are
// read.
func TestConfigInsecureHTTP(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(env(prod(map[string]string{"BASE_URL": "http://10.0.0.5:8080", "INSECURE_HTTP": "1",
		"SESSION_IDLE_TIMEOUT": "15m", "SESSION_MAX_AGE": "8h", "SESSION_PERSISTENT": "1"})), true)
	if err != nil {
		t.Fatal(err)
	}
	if !c.InsecureHTTP || c.SessionIdleTimeout != 15*time.Minute || c.SessionMaxAge != 8*time.Hour || !c.SessionPersistent {
		t.Errorf("unexpected config %+v", c)
	}
}

// TestConfigDemoNeedsNoKeys: demo mode runs without JD Cloud or session keys,
// and commands that do not call JD Cloud never ask for them.
func TestConfigDemoNeedsNoKeys(t *testing.T) {
	t.Parallel()
	if _, err := parseConfig(env(map[string]string{"DATABASE_URL": "postgres://x/y", "DEMO": "1"}), true); err != nil {
		t.Errorf("demo: %v", err)
	}
	if _, err := parseConfig(env(map[string]string{"DATABASE_URL": "postgres://x/y"}), false); err != nil {
		t.Errorf("migrate without keys: %v", err)
	}
}
