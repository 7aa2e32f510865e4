package handlers_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/pgcluster"
	"restoredesk/internal/testkit"
)

func TestHealthAndSignInPage(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{Demo: true})
	for _, path := range []string{"/healthz", "/readyz", "/signin"} {
		resp, body := s.Get(t, path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200; body %q", path, resp.StatusCode, body)
		}
	}
	_, body := s.Get(t, "/signin")
	d := testkit.Doc(t, body)
	for _, want := range []string{"Username", "Password"} {
		if d.Find("label:contains('"+want+"')").Length() != 1 {
			t.Errorf("sign-in page has no %q label", want)
		}
	}
	if got := strings.TrimSpace(d.Find("button[type=submit]").Text()); got != "Sign in" {
		t.Errorf("submit button = %q, want Sign in", got)
	}
	if d.Find("[data-testid=demo-marker]").Text() != "Demo" {
		t.Error("demo mode page lacks the Demo marker")
	}
	resp, _ := s.Get(t, "/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Errorf("GET / signed out = %d → %q, want 303 → /signin", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestNoDemoMarkerOutsideDemo(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	_, body := s.Get(t, "/signin")
	if testkit.Doc(t, body).Find("[data-testid=demo-marker]").Length() != 0 {
		t.Error("Demo marker shown outside demo mode")
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	for _, path := range []string{"/signin", "/no-such-page", "/healthz"} {
		resp, _ := s.Get(t, path)
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy = %q", path, csp)
		}
		for h, want := range map[string]string{
			"X-Frame-Options":        "DENY",
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "same-origin",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", path, h, got, want)
			}
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", path)
		}
	}
	// No page may carry inline script: every <script> has a src.
	_, body := s.Get(t, "/signin")
	testkit.Doc(t, body).Find("script").Each(func(_ int, sc *goquery.Selection) {
		if _, ok := sc.Attr("src"); !ok || strings.TrimSpace(sc.Text()) != "" {
			t.Error("inline script on /signin")
		}
	})
}

func TestCrossOriginPostRefused(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.Echo.POST("/test-post", func(c echo.Context) error { return c.String(http.StatusOK, "done") })
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"same origin fetch metadata", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusOK},
		{"cross site fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same site but other origin", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"foreign Origin header", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"our own Origin header", map[string]string{"Origin": s.URL}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/test-post", strings.NewReader("a=1"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, body := s.Do(t, req)
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusForbidden && !strings.Contains(body, "another site") {
				t.Errorf("refusal page does not explain itself: %q", body)
			}
		})
	}
}

func TestForwardedAddressOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		trusted []netip.Prefix
		xff     string
		want    string
	}{
		{"no proxies trusted: header ignored", nil, "203.0.113.9", "127.0.0.1"},
		{"peer is a trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "203.0.113.9", "203.0.113.9"},
		{"trusted proxy chain takes the first untrusted hop", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")},
			"203.0.113.9, 10.1.2.3", "203.0.113.9"},
		{"peer not in the trusted range", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "203.0.113.9", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testkit.Start(t, testkit.Options{TrustedProxies: tt.trusted})
			s.Echo.GET("/test-ip", func(c echo.Context) error { return c.String(http.StatusOK, c.RealIP()) })
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/test-ip", nil)
			req.Header.Set("X-Forwarded-For", tt.xff)
			_, body := s.Do(t, req)
			if body != tt.want {
				t.Errorf("client address = %q, want %q", body, tt.want)
			}
		})
	}
}

func TestErrorPages(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.Echo.GET("/test-panic", func(c echo.Context) error { panic("secret internal detail 42") })
	s.Echo.GET("/test-error", func(c echo.Context) error {
		return context.Canceled // an internal error whose text must not leak
	})

	resp, body := s.Get(t, "/no-such-page")
	if resp.StatusCode != http.StatusNotFound || testkit.Doc(t, body).Find("[data-testid=error-page]").Length() != 1 {
		t.Errorf("unknown page = %d, want 404 with the error page", resp.StatusCode)
	}
	for _, path := range []string{"/test-panic", "/test-error"} {
		resp, body = s.Get(t, path)
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s = %d, want 500", path, resp.StatusCode)
		}
		d := testkit.Doc(t, body)
		if d.Find("[data-testid=error-page]").Length() != 1 || !strings.Contains(d.Find("h1").Text(), "Something went wrong") {
			t.Errorf("%s: not the 500 page: %s", path, body)
		}
		if strings.Contains(body, "secret internal detail") || strings.Contains(body, "context canceled") {
			t.Errorf("%s: internal error text leaked into the page", path)
		}
	}
	if !strings.Contains(s.Logs.String(), "secret internal detail 42") {
		t.Error("the panic was not logged")
	}
	// The server keeps serving after the panic.
	if resp, _ := s.Get(t, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("after panic /healthz = %d", resp.StatusCode)
	}
}

func TestLogLinesCarryRequestID(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.Echo.GET("/test-log", func(c echo.Context) error {
		return echo.NewHTTPError(http.StatusTeapot, "short and stout")
	})
	resp, _ := s.Get(t, "/signin")
	id := resp.Header.Get("X-Request-Id")
	var found bool
	for _, line := range strings.Split(s.Logs.String(), "\n") {
		if strings.Contains(line, `"path":"/signin"`) {
			found = true
			if !strings.Contains(line, `"request_id":"`+id+`"`) {
				t.Errorf("request log line lacks request_id %s: %s", id, line)
			}
		}
	}
	if !found {
		t.Error("no request log line for /signin")
	}
}

func TestStaticFilesCached(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	_, body := s.Get(t, "/signin")
	href, _ := testkit.Doc(t, body).Find("link[rel=stylesheet]").Attr("href")
	resp, css := s.Get(t, href)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		!strings.Contains(css, ".badge") {
		t.Errorf("GET %s = %d, Cache-Control %q", href, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if resp, _ := s.Get(t, "/static/nope.css"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing static file = %d", resp.StatusCode)
	}
}

// TestReadyzFollowsTheDatabase stops the database under a running app and
// starts it again, on a cluster of its own so no other test is disturbed.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	c, err := pgcluster.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Destroy() })
	ctx := t.Context()
	pool, err := postgres.Open(ctx, c.URL("postgres"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s := testkit.Start(t, testkit.Options{Pool: pool})
	wantReady := func(want int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			resp, _ := s.Get(t, "/readyz")
			if resp.StatusCode == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz = %d, want %d", resp.StatusCode, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	wantReady(http.StatusOK)
	if err := c.StopServer(); err != nil {
		t.Fatal(err)
	}
	wantReady(http.StatusServiceUnavailable)
	if resp, _ := s.Get(t, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz with the database down = %d, want 200", resp.StatusCode)
	}
	if err := c.StartServer(); err != nil {
		t.Fatal(err)
	}
	wantReady(http.StatusOK)
}
