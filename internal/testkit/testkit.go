// Package testkit runs Restore Desk in tests, wired by app.New exactly as
// `web serve` wires it, on a fresh database over real HTTP, with a JD Cloud
// simulator, and gives tests what they need around it: users, teams,
// browser-like clients, restore requests, workers, a log buffer. The handler
// tests and the end-to-end tests share it; a test package using Start must
// call postgrestest.Main from its TestMain.
package testkit

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"restoredesk/internal/app"
	"restoredesk/internal/audit"
	"restoredesk/internal/handlers"
	"restoredesk/internal/identity"
	"restoredesk/internal/logging"
	"restoredesk/internal/notify"
	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
)

// Password is the password CreateUser gives every user.
const Password = "correct horse battery staple"

// FastHash are argon2id parameters cheap enough for tests. Production's are
// identity.DefaultParams (asserted by identity's tests).
var FastHash = identity.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// IdentityConfig is the identity configuration tests run with: cheap hashes,
// and a throttle with short delays (three free failures per account and
// address, then 300 ms doubling to 1 s).
func IdentityConfig() identity.Config {
	return identity.Config{
		Hash:     FastHash,
		Throttle: identity.Throttle{AccountFree: 3, AddrFree: 30, Base: 300 * time.Millisecond, Max: time.Second, Forget: time.Hour},
	}
}

// Options configure Start.
type Options struct {
	Pool           *pgxpool.Pool // nil: a fresh migrated database
	Demo           bool          // demo mode, seeded as `web serve` seeds it
	Identity       identity.Config
	TrustedProxies []netip.Prefix
	// SSO, when set, turns single sign-on on; it is given the server's URL
	// (for the callback address).
	SSO func(baseURL string) handlers.SSOConfig
	// Notify, when set, gives the admin pages their notification service
	// (built on the server's pool).
	Notify func(pool *pgxpool.Pool) *notify.Service
	// DefaultZone is DEFAULT_TIME_ZONE (nil: the product's default,
	// Asia/Shanghai).
	DefaultZone *time.Location
}

// Server is a running Restore Desk.
type Server struct {
	URL      string
	Echo     *echo.Echo
	Pool     *pgxpool.Pool
	Identity *identity.Service
	Logs     *Buffer
	Metrics  *prometheus.Registry // what /metrics serves
	Restore  *Restore             // the restore workflow: simulator, lifecycle

	config app.Config // what Start gave app.New; RunWorker builds replicas from it
}

// Start runs the web server as `web serve` wires it, until the test ends.
// A zero Options.Identity means IdentityConfig().
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Pool == nil {
		o.Pool = postgrestest.Pool(t)
	}
	if o.Identity == (identity.Config{}) {
		o.Identity = IdentityConfig()
	}
	logs := &Buffer{}
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()
	sim := startSimulator(t)
	cfg := app.Config{
		Pool: o.Pool, Log: logging.New(logs, slog.LevelDebug), Demo: o.Demo,
		SessionKeyPairs: [][]byte{[]byte("e2e-signing-key-0123456789abcdef"), []byte("e2e-encrypt-key-0123456789abcdef")},
		TrustedProxies:  o.TrustedProxies, Identity: o.Identity, Cloud: sim.cloud, DefaultZone: o.DefaultZone,
	}
	if o.SSO != nil {
		cfg.SSO = o.SSO(base)
	}
	if o.Notify != nil {
		cfg.Notify = o.Notify(o.Pool)
	}
	a, err := app.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	if o.Demo {
		if err := a.SeedDemo(t.Context()); err != nil {
			t.Fatalf("demo seed: %v", err)
		}
	}
	hs.Config.Handler = a.Web
	hs.Start()
	t.Cleanup(hs.Close)
	return &Server{URL: hs.URL, Echo: a.Web, Pool: o.Pool, Identity: a.Identity, Logs: logs, Metrics: a.Metrics, config: cfg,
		Restore: &Restore{Sim: sim.sim, Cloud: a.Cloud, Lifecycle: a.Lifecycle, DeploymentID: a.DeploymentID}}
}

// Get fetches path as an anonymous visitor, without following redirects.
func (s *Server) Get(t testing.TB, path string) (*http.Response, string) {
	t.Helper()
	return s.NewClient(t).Get(t, path)
}

// Do sends req as an anonymous visitor, without following redirects.
func (s *Server) Do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	return s.NewClient(t).Do(t, req)
}

// Doc parses an HTML page for goquery.
func Doc(t testing.TB, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return d
}

// User describes a user for CreateUser.
type User struct {
	Username string
	Admin    bool
	Auditor  bool
	Teams    map[string]bool // team name → lead; missing teams are created
	Disabled bool
}

// CreateUser creates u with Password (and its teams, when missing) and
// returns its id.
func (s *Server) CreateUser(t testing.TB, u User) int64 {
	t.Helper()
	ctx := t.Context()
	sys := identity.Actor{Actor: audit.System, Via: "test"}
	id, err := s.Identity.CreateUser(ctx, sys, identity.NewUser{
		Username: u.Username, Email: u.Username + "@example.com", Name: strings.ToUpper(u.Username[:1]) + u.Username[1:],
		Password: Password, Admin: u.Admin, Auditor: u.Auditor,
	})
	if err != nil {
		t.Fatalf("create user %s: %v", u.Username, err)
	}
	for team, lead := range u.Teams {
		if _, err := s.SetMembership(t, id, team, lead); err != nil {
			t.Fatalf("add %s to %s: %v", u.Username, team, err)
		}
	}
	if u.Disabled {
		if err := s.Identity.SetDisabled(ctx, sys, id, true); err != nil {
			t.Fatalf("disable %s: %v", u.Username, err)
		}
	}
	return id
}

// Team returns the id of the team called name, creating it when missing.
func (s *Server) Team(t testing.TB, name string) int64 {
	t.Helper()
	tm, err := postgres.New(s.Pool).TeamByName(t.Context(), name)
	if err == nil {
		return tm.ID
	}
	id, err := s.Identity.CreateTeam(t.Context(), identity.Actor{Actor: audit.System, Via: "test"}, name)
	if err != nil {
		t.Fatalf("create team %s: %v", name, err)
	}
	return id
}

// SetMembership puts user in team (created when missing) as lead or member.
func (s *Server) SetMembership(t testing.TB, user int64, team string, lead bool) (int64, error) {
	t.Helper()
	id := s.Team(t, team)
	_, err := s.Identity.SetMembership(t.Context(), identity.Actor{Actor: audit.System, Via: "test"}, user, id, lead)
	return id, err
}

// Client is a browser-like HTTP client of the server: it keeps cookies and
// does not follow redirects, so tests see each answer.
type Client struct {
	s    *Server
	http *http.Client
}

// NewClient returns a client with no cookies (an anonymous visitor).
func (s *Server) NewClient(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{s: s, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// SignIn signs username in through the sign-in form with password and
// returns the client holding the session; the test fails if sign-in fails.
func (s *Server) SignIn(t testing.TB, username, password string) *Client {
	t.Helper()
	c := s.NewClient(t)
	resp, body := c.PostForm(t, "/signin", url.Values{"username": {username}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: status %d: %s", username, resp.StatusCode, body)
	}
	return c
}

// SignInAs signs in a user created by CreateUser.
func (s *Server) SignInAs(t testing.TB, username string) *Client {
	t.Helper()
	return s.SignIn(t, username, Password)
}

// Get fetches path.
func (c *Client) Get(t testing.TB, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, c.s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(t, req)
}

// PostForm posts form to path as a same-origin browser form would.
func (c *Client) PostForm(t testing.TB, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.s.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.Do(t, req)
}

// Do sends req with the client's cookies and returns the response and its body.
func (c *Client) Do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// Cookies returns the client's cookies for the server, to replay them elsewhere.
func (c *Client) Cookies() []*http.Cookie {
	u, _ := url.Parse(c.s.URL)
	return c.http.Jar.Cookies(u)
}

// SetCookies replaces the client's cookies with cookies.
func (c *Client) SetCookies(cookies []*http.Cookie) {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(c.s.URL)
	jar.SetCookies(u, cookies)
	c.http.Jar = jar
}

// Buffer is a bytes.Buffer safe for concurrent writes: a log sink, a
// process's output.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
