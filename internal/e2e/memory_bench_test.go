package e2e_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"restoredesk/internal/identity"
	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
	"restoredesk/internal/testkit"
)

// BenchmarkServeMemory measures a real `web serve` process: its resident
// memory once started and idle, and its peak while 100 people sign in at the
// same moment. Each password check takes 64 MiB (argon2id), and at most four
// run at once, so the peak should stay under idle + 4 × 64 MiB + 32 MiB.
func BenchmarkServeMemory(b *testing.B) {
	ctx := context.Background()
	bin := filepath.Join(b.TempDir(), "web")
	if out, err := exec.Command("go", "build", "-o", bin, "restoredesk/cmd/web").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	dbURL := postgrestest.URL(b)
	const people = 100
	pool, err := postgres.Open(ctx, dbURL, 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	// One hash, with the production parameters, for everyone: a hundred
	// hashes made here would only slow the set-up.
	hash, err := identity.NewHasher(identity.DefaultParams).Hash(testkit.Password)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO users (username, email, display_name, password_hash)
		SELECT 'person' || g, 'person' || g || '@example.com', 'Person ' || g, $1 FROM generate_series(1, $2) g`,
		hash, people); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + dbURL, "LISTEN_ADDR=" + addr, "METRICS_ADDR=127.0.0.1:0",
		"BASE_URL=http://" + addr, "INSECURE_HTTP=1", "TRUSTED_PROXIES=127.0.0.1/32", "SESSION_KEYS=memory-bench-session-key-0123456789abcdef",
		"JDCLOUD_ENDPOINT=http://127.0.0.1:1", "JDCLOUD_ACCESS_KEY=bench", "JDCLOUD_SECRET_KEY=bench"}
	out := &testkit.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	srv := &testkit.Server{URL: "http://" + addr}
	for deadline := time.Now().Add(20 * time.Second); !httpOK(srv.URL + "/readyz"); {
		if time.Now().After(deadline) {
			b.Fatalf("web serve did not answer:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // let start-up's garbage go
	pid := cmd.Process.Pid
	idle := procStatus(b, pid, "VmRSS")
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) // restart its peak count

	var wg sync.WaitGroup
	codes := make([]int, people)
	start := time.Now()
	for i := range people {
		wg.Go(func() {
			// Each from an address of its own, as a hundred colleagues would
			// be, so the per-address throttle does not turn them away.
			form := url.Values{"username": {"person" + strconv.Itoa(i+1)}, "password": {testkit.Password}}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", srv.URL)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.1.%d.%d", i/250, i%250+1))
			resp, _ := srv.NewClient(b).Do(b, req)
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	took := time.Since(start)
	peak := procStatus(b, pid, "VmHWM")
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	const mib = 1 << 20
	bound := idle + 4*64*mib + 32*mib
	fmt.Printf("web serve: idle RSS %.1f MiB (target under 40); %d simultaneous sign-ins in %s, answers %v; peak RSS %.1f MiB, bound idle + 4 × 64 MiB + 32 MiB = %.1f MiB\n",
		float64(idle)/mib, people, took.Round(time.Millisecond), count, float64(peak)/mib, float64(bound)/mib)
	b.ReportMetric(float64(idle)/mib, "idle_MiB")
	b.ReportMetric(float64(peak)/mib, "peak_MiB")
	if count[http.StatusSeeOther]+count[http.StatusServiceUnavailable] != people {
		b.Errorf("sign-ins answered %v: want 303, or 503 for the excess", count)
	}
}

// procStatus reads one memory figure (VmRSS, VmHWM) of process pid, in bytes.
func procStatus(b *testing.B, pid int, field string) int64 {
	b.Helper()
	n, err := memoryFigure(strconv.Itoa(pid), field)
	if err != nil {
		b.Fatal(err)
	}
	return n
}
