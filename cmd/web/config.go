package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"restoredesk/internal/app"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/logging"
	"restoredesk/internal/pricing"
	"restoredesk/internal/restore"
	"restoredesk/internal/timezone"
)

// config is every setting of the README's configuration table, read once from the environment.
type config struct {
	DatabaseURL      string
	DBConnectTimeout time.Duration
	ListenAddr       string
	MetricsAddr      string
	BaseURL          *url.URL
	SessionKeys      [][]byte // newest first; empty in demo mode until generated
	TrustedProxies   []netip.Prefix
	JDCloudAccessKey string
	JDCloudSecretKey string
	JDCloudEndpoint  string
	VisibilityWindow time.Duration
	JDCloudTimeout   time.Duration
	RetryBudget      time.Duration
	ApprovalTTL      time.Duration
	BuildTimeout     time.Duration
	AuditCheckpoint  time.Duration
	// JobTimeout bounds one run of a background job, from JDCLOUD_TIMEOUT;
	// JobRescueAfter (JOB_RESCUE_AFTER) is when River takes a job still
	// running for one whose worker died, and runs it again.
	JobTimeout       time.Duration
	JobRescueAfter   time.Duration
	LogLevel         slog.Level
	Demo             bool
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCGroupsClaim  string
	DataDir          string
	// Sessions end after SessionIdleTimeout without activity and
	// SessionMaxAge after sign-in; the cookie outlives the browser only
	// with SessionPersistent.
	SessionIdleTimeout time.Duration
	SessionMaxAge      time.Duration
	SessionPersistent  bool
	// InsecureHTTP accepts an http:// BASE_URL outside demo mode (cookies
	// without Secure, no HSTS): for a test rig without TLS, never production.
	InsecureHTTP bool
	Prices       *pricing.Table // PRICE_TABLE, or the shipped table
	DefaultZone  *time.Location // DEFAULT_TIME_ZONE
}

// minSessionKeyLen is the shortest SESSION_KEYS entry accepted: 32 bytes of
// randomness is what gorilla/securecookie asks of an authentication key.
const minSessionKeyLen = 32

// parseConfig reads the environment through getenv. The first problem found is
// returned as one line naming the variable. needCloud is false for commands that
// never call JD Cloud or sign anyone in (migrate, audit verify, user add…).
func parseConfig(getenv func(string) string, needCloud bool) (config, error) {
	c := config{
		DatabaseURL:      strings.TrimSpace(getenv("DATABASE_URL")),
		ListenAddr:       orDefault(getenv("LISTEN_ADDR"), "127.0.0.1:8080"),
		MetricsAddr:      orDefault(getenv("METRICS_ADDR"), "127.0.0.1:9090"),
		JDCloudAccessKey: strings.TrimSpace(getenv("JDCLOUD_ACCESS_KEY")),
		JDCloudSecretKey: strings.TrimSpace(getenv("JDCLOUD_SECRET_KEY")),
		OIDCIssuer:       strings.TrimSpace(getenv("OIDC_ISSUER")),
		OIDCClientID:     strings.TrimSpace(getenv("OIDC_CLIENT_ID")),
		OIDCClientSecret: strings.TrimSpace(getenv("OIDC_CLIENT_SECRET")),
		OIDCGroupsClaim:  orDefault(getenv("OIDC_GROUPS_CLAIM"), "groups"),
		DataDir:          orDefault(getenv("DATA_DIR"), ".data"),
	}
	var err error
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"DEMO", &c.Demo}, {"SESSION_PERSISTENT", &c.SessionPersistent}, {"INSECURE_HTTP", &c.InsecureHTTP}} {
		if *b.dst, err = parseBool(b.name, getenv(b.name)); err != nil {
			return c, err
		}
	}
	if c.DatabaseURL == "" {
		return c, errors.New("DATABASE_URL is not set: give the PostgreSQL URL (make run starts a private cluster and sets it)")
	}
	durations := []struct {
		name string
		def  time.Duration
		dst  *time.Duration
	}{
		{"DATABASE_CONNECT_TIMEOUT", 10 * time.Second, &c.DBConnectTimeout},
		{"JDCLOUD_VISIBILITY_WINDOW", 2 * time.Minute, &c.VisibilityWindow},
		{"JDCLOUD_TIMEOUT", jdcloud.DefaultTimeout, &c.JDCloudTimeout},
		{"JDCLOUD_RETRY_BUDGET", 10 * time.Minute, &c.RetryBudget},
		{"APPROVAL_TTL", 72 * time.Hour, &c.ApprovalTTL},
		{"BUILD_TIMEOUT", 2 * time.Hour, &c.BuildTimeout},
		{"AUDIT_CHECKPOINT_INTERVAL", time.Hour, &c.AuditCheckpoint},
		// OWASP ASVS 4.0 level 2 (3.3.2): 30 minutes idle, 12 hours at most.
		{"SESSION_IDLE_TIMEOUT", 30 * time.Minute, &c.SessionIdleTimeout},
		{"SESSION_MAX_AGE", 12 * time.Hour, &c.SessionMaxAge},
	}
	for _, d := range durations {
		if *d.dst, err = parseDuration(d.name, getenv(d.name), d.def); err != nil {
			return c, err
		}
	}
	c.JobTimeout = restore.JobTimeout(c.JDCloudTimeout)
	if c.JobRescueAfter, err = parseDuration("JOB_RESCUE_AFTER", getenv("JOB_RESCUE_AFTER"), c.JobTimeout+app.RescueMargin); err != nil {
		return c, err
	}
	if c.JobRescueAfter <= c.JobTimeout {
		return c, fmt.Errorf("JOB_RESCUE_AFTER %s: must be longer than a job's timeout, %s (twice JDCLOUD_TIMEOUT), "+
			"or a slow job would be run twice at once", c.JobRescueAfter, c.JobTimeout)
	}
	if c.SessionIdleTimeout > c.SessionMaxAge {
		return c, fmt.Errorf("SESSION_IDLE_TIMEOUT %s is longer than SESSION_MAX_AGE %s: a session cannot idle longer than it lives",
			c.SessionIdleTimeout, c.SessionMaxAge)
	}
	if c.Prices, err = pricing.Load(strings.TrimSpace(getenv("PRICE_TABLE"))); err != nil {
		return c, fmt.Errorf("PRICE_TABLE %q: %w", getenv("PRICE_TABLE"), err)
	}
	if c.LogLevel, err = logging.ParseLevel(orDefault(getenv("LOG_LEVEL"), "info")); err != nil {
		return c, fmt.Errorf("LOG_LEVEL %q: %w", getenv("LOG_LEVEL"), err)
	}
	for _, a := range []struct{ name, val string }{{"LISTEN_ADDR", c.ListenAddr}, {"METRICS_ADDR", c.MetricsAddr}} {
		if !strings.Contains(a.val, ":") {
			return c, fmt.Errorf("%s %q: want host:port, such as 127.0.0.1:8080 or :8080", a.name, a.val)
		}
	}
	if raw := strings.TrimSpace(getenv("BASE_URL")); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("BASE_URL %q: want an absolute http or https URL, such as https://restore.example.com", raw)
		}
		c.BaseURL = u
	}
	zone := orDefault(getenv("DEFAULT_TIME_ZONE"), timezone.Default)
	if c.DefaultZone, err = timezone.Load(zone); err != nil {
		return c, fmt.Errorf("DEFAULT_TIME_ZONE %q: want UTC or a zone name such as Asia/Shanghai", zone)
	}
	if c.TrustedProxies, err = parseCIDRs(getenv("TRUSTED_PROXIES")); err != nil {
		return c, err
	}
	if c.SessionKeys, err = parseSessionKeys(getenv("SESSION_KEYS")); err != nil {
		return c, err
	}
	if ep := strings.TrimSpace(getenv("JDCLOUD_ENDPOINT")); ep != "" {
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return c, fmt.Errorf("JDCLOUD_ENDPOINT %q: want scheme, host and optional port only, such as https://rds.example.com:8443", ep)
		}
		c.JDCloudEndpoint = strings.TrimSuffix(ep, "/")
	}
	if (c.OIDCIssuer != "" || c.OIDCClientID != "" || c.OIDCClientSecret != "") &&
		(c.OIDCIssuer == "" || c.OIDCClientID == "" || c.OIDCClientSecret == "") {
		return c, errors.New("OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET: set all three for single sign-on, or none")
	}
	if c.OIDCIssuer != "" && c.BaseURL == nil {
		return c, errors.New("BASE_URL is not set: single sign-on needs it to build the callback address")
	}
	if needCloud && !c.Demo {
		// Outside demo mode nothing falls back to the simulator or a generated key.
		var missing []string
		for _, v := range []struct{ name, val string }{
			{"JDCLOUD_ACCESS_KEY", c.JDCloudAccessKey}, {"JDCLOUD_SECRET_KEY", c.JDCloudSecretKey},
		} {
			if v.val == "" {
				missing = append(missing, v.name)
			}
		}
		if len(c.SessionKeys) == 0 {
			missing = append(missing, "SESSION_KEYS")
		}
		if len(missing) > 0 {
			return c, fmt.Errorf("%s not set: production needs JD Cloud keys and session keys (or set DEMO=1 to run the demo)",
				strings.Join(missing, ", "))
		}
		// Secure cookies and HSTS follow BASE_URL's scheme, so production
		// must say where it is served, and over https.
		switch {
		case c.BaseURL == nil:
			return c, errors.New("BASE_URL is not set: give the https address people use, such as https://restore.example.com " +
				"(cookies are marked Secure and HSTS is sent from it)")
		case c.BaseURL.Scheme != "https" && !c.InsecureHTTP:
			return c, fmt.Errorf("BASE_URL %q is not https: session cookies would travel unprotected; use https, "+
				"or set INSECURE_HTTP=1 for a test rig without TLS", c.BaseURL.String())
		}
	}
	return c, nil
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("%s %q: want 1 or 0", name, v)
}

func parseDuration(name, v string, def time.Duration) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s %q: not a duration; use Go syntax such as 90s, 15m or 72h", name, v)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s %q: must be positive", name, v)
	}
	return d, nil
}

func parseCIDRs(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			// A bare address means that one host.
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES %q: not a CIDR such as 10.0.0.0/8 or an IP address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func parseSessionKeys(v string) ([][]byte, error) {
	var keys [][]byte
	for i, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if len(f) < minSessionKeyLen {
			return nil, fmt.Errorf("SESSION_KEYS: key %d is %d characters; each key needs at least %d (generate one with: openssl rand -base64 48)",
				i+1, len(f), minSessionKeyLen)
		}
		keys = append(keys, []byte(f))
	}
	return keys, nil
}

// cookieKeyPairs derives gorilla/securecookie's (hash key, block key) pairs from
// the session keys, newest first, so a cookie signed with an older key still
// decodes while keys rotate.
func cookieKeyPairs(keys [][]byte) [][]byte {
	var pairs [][]byte
	for _, k := range keys {
		hash := sha256.Sum256(append([]byte("restoredesk cookie signing\x00"), k...))
		block := sha256.Sum256(append([]byte("restoredesk cookie encryption\x00"), k...))
		pairs = append(pairs, hash[:], block[:])
	}
	return pairs
}
