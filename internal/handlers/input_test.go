package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/handlers"
	"restoredesk/internal/testkit"
)

// hostile are the values the input gate must refuse wherever they appear.
var hostile = []struct {
	name  string
	value string
}{
	{"NUL byte", "abc\x00def"},
	{"invalid UTF-8", "abc\xff\xfedef"},
	{"lone continuation byte", "caf\xa9"},
	{"multibyte cut short", "\xe4\xb8"}, // the first two bytes of 中
}

// callerFor picks, for a matrix entry, a role that gets past authorisation
// (so the handler itself would run), preferring the most powerful.
func callerFor(a access) role {
	for _, r := range []role{admin, lead, requesterLead, engineer, auditor, anonymous} {
		if st, ok := a.want[r]; ok && st < 400 {
			return r
		}
	}
	return anonymous
}

// TestHostileInputOnEveryRoute sends every route of the product (the
// permission matrix's table, which fails when a route is missing) NUL bytes
// and invalid UTF-8 in its query, its form fields and a header, over-long
// query strings and bodies, and very long but well-formed field values
// (which reach the handler: it answers them, never with a 500).
// Every answer is a 4xx with a page that says what was wrong, never a 500,
// and the refused requests write nothing to the audit trail.
func TestHostileInputOnEveryRoute(t *testing.T) {
	t.Parallel()
	f, _ := newFixture(t)
	s := f.s
	entries, routes := matrixEntries(t, s)
	events := func() int {
		var n int
		if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, k := range routes {
		a, ok := entries[k]
		if !ok {
			continue
		}
		t.Run(k, func(t *testing.T) {
			r := callerFor(a)
			path, form := a.route, url.Values(nil)
			if a.setup != nil {
				path, form = a.setup(t, f, r)
			}
			client := func() *testkit.Client {
				if r == anonymous {
					return s.NewClient(t)
				}
				return s.SignInAs(t, roleUser[r])
			}
			send := func(c *testkit.Client, p string, form url.Values, header http.Header) (*http.Response, string) {
				var req *http.Request
				if a.method == http.MethodGet {
					req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+p, nil)
				} else {
					req, _ = http.NewRequestWithContext(t.Context(), a.method, s.URL+p, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Origin", s.URL)
					req.Header.Set("Sec-Fetch-Site", "same-origin")
				}
				for k, v := range header {
					req.Header[k] = v
				}
				return c.Do(t, req)
			}
			withQuery := func(extra string) string {
				if strings.Contains(path, "?") {
					return path + "&" + extra
				}
				return path + "?" + extra
			}
			refused := func(what string, resp *http.Response, body string, want int) {
				t.Helper()
				if resp.StatusCode != want {
					t.Errorf("%s as %s, %s: status %d, want %d", k, r, what, resp.StatusCode, want)
				}
				if !strings.Contains(body, "Restore Desk") && resp.StatusCode >= 400 {
					t.Errorf("%s, %s: answer is not our page: %.200q", k, what, body)
				}
			}

			c := client()
			before := events()
			for _, h := range hostile {
				// In the query, as a value and as a key.
				resp, body := send(c, withQuery("q="+url.QueryEscape(h.value)), form, nil)
				refused("query value with "+h.name, resp, body, http.StatusBadRequest)
				resp, body = send(c, withQuery(url.QueryEscape(h.value)+"=1"), form, nil)
				refused("query key with "+h.name, resp, body, http.StatusBadRequest)
				// In a header (net/http itself refuses NUL there, with its own 400).
				if !strings.Contains(h.value, "\x00") {
					resp, body = send(c, path, form, http.Header{"User-Agent": {h.value}})
					refused("User-Agent with "+h.name, resp, body, http.StatusBadRequest)
				}
				// In every field the route reads, one at a time.
				if a.method != http.MethodGet {
					fields := []string{"extra"}
					for name := range form {
						fields = append(fields, name)
					}
					for _, name := range fields {
						bad := url.Values{}
						for k, v := range form {
							bad[k] = v
						}
						bad.Set(name, "x"+h.value)
						resp, body = send(c, path, bad, nil)
						refused(fmt.Sprintf("field %s with %s", name, h.name), resp, body, http.StatusBadRequest)
					}
				}
			}
			// Over-long query and body.
			resp, body := send(c, withQuery("q="+strings.Repeat("a", handlers.MaxQueryBytes)), form, nil)
			refused("over-long query", resp, body, http.StatusRequestURITooLong)
			if a.method != http.MethodGet {
				big := url.Values{}
				for k, v := range form {
					big[k] = v
				}
				big.Set("extra", strings.Repeat("a", handlers.MaxBodyBytes))
				resp, body = send(c, path, big, nil)
				refused("over-long body", resp, body, http.StatusRequestEntityTooLarge)
			}
			if got := events(); got != before {
				t.Errorf("%s: refused requests wrote %d audit events", k, got-before)
			}

			// Very long well-formed values within the limits: the handler
			// answers them (often 422 at the field), never with a 500.
			if a.method != http.MethodGet {
				for name := range form {
					long := url.Values{}
					for k, v := range form {
						long[k] = v
					}
					// 16 KB of two-byte runes (48 KB encoded, within the body
					// limit): a cut anywhere but at an even byte splits a rune.
					long.Set(name, strings.Repeat("é", 8_000))
					resp, body := send(client(), path, long, nil)
					if resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestEntityTooLarge {
						t.Errorf("%s: 16 KB %s: status %d: %.300s", k, name, resp.StatusCode, body)
					}
				}
			}
		})
	}
	if strings.Contains(s.Logs.String(), `"level":"ERROR"`) {
		t.Errorf("hostile input logged errors:\n%s", errorLines(s.Logs.String()))
	}
}

func errorLines(logs string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"level":"ERROR"`) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMultipartUploadLeavesNoFile: a 40 MB multipart form, to the sign-in
// page and to the request form, is refused before anything is parsed, so no
// temp file is written (net/http would spill it to $TMPDIR).
func TestMultipartUploadLeavesNoFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "eng", Teams: map[string]bool{"payments": false}})
	for _, c := range []*testkit.Client{s.NewClient(t), s.SignInAs(t, "eng")} {
		for _, path := range []string{"/signin", "/requests"} {
			for _, chunked := range []bool{false, true} {
				const size = 40 << 20
				pr, pw := io.Pipe()
				go func() {
					fmt.Fprint(pw, "--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.bin\"\r\n\r\n")
					pw.CloseWithError(writeZeros(pw, size))
				}()
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+path, pr)
				req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
				req.Header.Set("Origin", s.URL)
				if !chunked {
					req.ContentLength = size + 80
				}
				resp, _ := c.Do(t, req)
				if resp.StatusCode != http.StatusUnsupportedMediaType && resp.StatusCode != http.StatusRequestEntityTooLarge {
					t.Errorf("40 MB multipart to %s (chunked %v): status %d, want 415 or 413", path, chunked, resp.StatusCode)
				}
			}
		}
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "*"))
	if len(left) > 0 {
		t.Errorf("files left in the temp dir: %v", left)
	}
}

// writeZeros writes n zero bytes to w.
func writeZeros(w io.Writer, n int) error {
	buf := make([]byte, 64<<10)
	for n > 0 {
		m := min(n, len(buf))
		if _, err := w.Write(buf[:m]); err != nil {
			return err
		}
		n -= m
	}
	return nil
}

// TestClientDisconnectIsNotAnError: a client that goes away while its request
// is being served (the handler sees its context cancelled, as a database
// query would) is logged as 499 at info level, not as a failed request.
func TestClientDisconnectIsNotAnError(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	started, finished := make(chan struct{}), make(chan struct{})
	s.Echo.GET("/test-slow", func(c echo.Context) error {
		defer close(finished)
		close(started)
		<-c.Request().Context().Done()
		return fmt.Errorf("query: %w", c.Request().Context().Err())
	})
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/test-slow", nil)
	go func() { <-started; cancel() }()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("request completed; want it cancelled")
	}
	<-finished
	// The request line is logged after the handler returns.
	for range 100 {
		if strings.Contains(s.Logs.String(), `"path":"/test-slow"`) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	logs := s.Logs.String()
	if strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("a client disconnect logged an error:\n%s", errorLines(logs))
	}
	if !strings.Contains(logs, `"status":499`) {
		t.Errorf("request not logged with status 499:\n%s", logs)
	}
}

// TestRequestIDOnlyFromTrustedProxies: a client cannot choose the id its
// requests are logged under; a trusted proxy can, with a short, plain id.
func TestRequestIDOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	direct := testkit.Start(t, testkit.Options{})
	proxied := testkit.Start(t, testkit.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	tests := []struct {
		name string
		s    *testkit.Server
		id   string
		kept bool
	}{
		{"client's own id", direct, "chosen-by-client", false},
		{"trusted proxy's id", proxied, "lb-4f2a.17:9", true},
		{"trusted proxy, over-long id", proxied, strings.Repeat("a", 65), false},
		{"trusted proxy, id with spaces", proxied, "a b", false},
		{"trusted proxy, id with quotes", proxied, `a"b`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tt.s.URL+"/healthz", nil)
			req.Header.Set("X-Request-Id", tt.id)
			resp, _ := tt.s.Do(t, req)
			got := resp.Header.Get("X-Request-Id")
			if (got == tt.id) != tt.kept || got == "" {
				t.Errorf("X-Request-Id %q answered with %q; kept want %v", tt.id, got, tt.kept)
			}
		})
	}
}
