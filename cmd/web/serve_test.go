package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/postgres/postgrestest"
	"restoredesk/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeDemo runs `web serve` in demo mode as make run does, checks the
// sign-in page, health, readiness and metrics, then shuts it down cleanly.
func TestServeDemo(t *testing.T) {
	t.Parallel()
	listen, metrics := freeAddr(t), freeAddr(t)
	vars := map[string]string{
		"DATABASE_URL": postgrestest.URL(t), "DEMO": "1", "LISTEN_ADDR": listen, "METRICS_ADDR": metrics,
		"DATA_DIR": t.TempDir(),
	}
	ctx, cancel := context.WithCancel(t.Context())
	var stderr testkit.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), nil, io.Discard, &stderr) }()

	get := func(url string) (int, string) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Get(url)
			if err == nil {
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v\nlog:\n%s", url, err, stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, path := range []string{"/signin", "/healthz", "/readyz"} {
		if code, body := get("http://" + listen + path); code != http.StatusOK {
			t.Errorf("GET %s = %d: %s", path, code, body)
		}
	}
	// The session cookie ends with the browser (no SESSION_PERSISTENT).
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm("http://"+listen+"/signin", url.Values{"username": {"alice"}, "password": {"demo"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session string
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "restoredesk=") {
			session = h
		}
	}
	if session == "" || strings.Contains(session, "Max-Age") || strings.Contains(session, "Expires") {
		t.Errorf("session cookie %q: want one without Max-Age or Expires", session)
	}
	code, body := get("http://" + metrics + "/metrics")
	if code != http.StatusOK || !strings.Contains(body, "go_goroutines") ||
		!strings.Contains(body, `restoredesk_http_requests_total{method="GET",route="/signin",status="200"}`) ||
		!strings.Contains(body, "restoredesk_http_request_duration_seconds_bucket") ||
		!strings.Contains(body, `restoredesk_requests{status="pending_approval"} 0`) ||
		// The demo seed asked the simulator about each instance it grants.
		!strings.Contains(body, `restoredesk_jdcloud_calls_total{operation="describeInstanceAttributes",outcome="ok"}`) {
		t.Errorf("metrics = %d:\n%s", code, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("no clean shutdown in the log:\n%s", stderr.String())
	}
	if _, err := os.Stat(vars["DATA_DIR"] + "/session.key"); err != nil {
		t.Errorf("demo session key not kept: %v", err)
	}
	// The demo teams own the simulator's instances and VPCs, each grant on record.
	pool, err := pgxpool.New(t.Context(), vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var instances, vpcs, events int
	pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM team_instances), (SELECT count(*) FROM team_vpcs),
		(SELECT count(*) FROM audit_events WHERE action = 'admin.ownership_changed')`).Scan(&instances, &vpcs, &events)
	if instances == 0 || vpcs == 0 || events != instances+vpcs {
		t.Errorf("demo ownership: %d instances, %d VPCs, %d events", instances, vpcs, events)
	}
}

func TestServeRefusesWithoutKeysOutsideDemo(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), []string{"serve"}, env(map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x"}), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "JDCLOUD_ACCESS_KEY") || !strings.Contains(err.Error(), "SESSION_KEYS") ||
		!strings.Contains(err.Error(), "DEMO=1") {
		t.Errorf("serve without keys: %v", err)
	}
}

func TestServeUnreachableDatabase(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t) // nothing listens here
	err := run(t.Context(), []string{"serve"}, env(map[string]string{
		"DATABASE_URL": "postgres://postgres@" + addr + "/x?sslmode=disable", "DEMO": "1", "DATABASE_CONNECT_TIMEOUT": "2s",
		"LISTEN_ADDR": freeAddr(t), "METRICS_ADDR": freeAddr(t), "DATA_DIR": t.TempDir(),
	}), nil, io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "DATABASE_URL: cannot reach the database within 2s") {
		t.Errorf("unreachable database: %v", err)
	}
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	url := postgrestest.URL(t) // already migrated: a second run is a no-op
	var out bytes.Buffer
	if err := run(t.Context(), []string{"migrate"}, env(map[string]string{"DATABASE_URL": url}), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "up to date") {
		t.Errorf("migrate output %q", out.String())
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"frobnicate"}, env(nil), nil, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "frobnicate") || !strings.Contains(stderr.String(), "usage") {
		t.Errorf("unknown command: %v / %s", err, stderr.String())
	}
}
