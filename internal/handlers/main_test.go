package handlers_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"restoredesk/internal/handlers"
	"restoredesk/internal/logging"
	"restoredesk/internal/postgres/postgrestest"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }

// server is the real router over real HTTP, with its log captured.
type server struct {
	*httptest.Server
	echo    *echo.Echo
	logs    *syncBuffer
	metrics *handlers.Metrics
}

type serverOpts struct {
	pool           *pgxpool.Pool
	trustedProxies []netip.Prefix
	demo           bool
}

func newServer(t *testing.T, o serverOpts) *server {
	t.Helper()
	if o.pool == nil {
		o.pool = postgrestest.Pool(t)
	}
	logs := &syncBuffer{}
	log := logging.New(logs, slog.LevelDebug)
	store := sessions.NewCookieStore([]byte("0123456789abcdef0123456789abcdef"))
	metrics := handlers.NewMetrics()
	d := handlers.Deps{
		Pool: o.pool, Log: log, Sessions: store, Metrics: metrics,
		TrustedProxies: o.trustedProxies, Demo: o.demo,
	}
	e := echo.New()
	handlers.Routes(e, handlers.New(d), d)
	s := httptest.NewServer(e)
	t.Cleanup(s.Close)
	return &server{Server: s, echo: e, logs: logs, metrics: metrics}
}

// get fetches path without following redirects.
func (s *server) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (s *server) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	return s.do(t, req)
}

func doc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return d
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
