package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"restoredesk/internal/audit"
	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
	"restoredesk/internal/testkit"
)

// BenchmarkYear measures every signed-in page the way a platform team lives
// with Restore Desk after a year: 1,000,000 restore requests and 10,000,000
// audit events (a valid chain) in the database, 64 clients at once over
// loopback. Beside each page it measures, in the same run, a floor: one
// indexed 50-row SELECT through the same pool and middleware, rendered with
// templ. The machine is shared and noisy, so the figures that mean something
// are the ratios to that floor.
//
// BENCH_SCALE shrinks the data for quick runs (0.01: 10,000 requests and
// 100,000 events); BENCH_SECONDS is how long each page is driven (default 4).
// It prints one table; make bench runs it.
func BenchmarkYear(b *testing.B) {
	scale := 1.0
	if v, err := strconv.ParseFloat(os.Getenv("BENCH_SCALE"), 64); err == nil && v > 0 {
		scale = v
	}
	secs := 4.0
	if v, err := strconv.ParseFloat(os.Getenv("BENCH_SECONDS"), 64); err == nil && v > 0 {
		secs = v
	}
	nRequests, nEvents := int(1_000_000*scale), int(10_000_000*scale)
	ctx := context.Background()
	// The production pool settings, not the test default of four connections.
	pool, err := postgres.Open(ctx, postgrestest.URL(b), 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)

	// The events come first: their times span the past year, and every
	// event the set-up below records must come after them in the chain.
	start := time.Now()
	loadYearChain(b, pool, nEvents, nRequests)
	fmt.Printf("loaded %d audit events in %s (a valid chain: hashes in Go, COPY)\n", nEvents, time.Since(start).Round(time.Second))

	s := testkit.Start(b, testkit.Options{Pool: pool})
	s.GrantSeedOwnership(b, "payments")
	s.CreateUser(b, testkit.User{Username: "eng", Teams: map[string]bool{"payments": false}})
	s.CreateUser(b, testkit.User{Username: "lead", Teams: map[string]bool{"payments": true}})
	s.CreateUser(b, testkit.User{Username: "lead2", Teams: map[string]bool{"payments": true}})
	s.CreateUser(b, testkit.User{Username: "ada", Auditor: true})
	template := s.SubmitRequest(b, "eng", "payments", "mysql-payorders1")
	start = time.Now()
	payments := loadYearRequests(b, pool, template, nRequests)
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("loaded %d restore requests in %s\n", nRequests, time.Since(start).Round(time.Second))

	s.Echo.GET("/bench-floor", func(c echo.Context) error {
		rows, err := pool.Query(c.Request().Context(), `
			SELECT id, status, reason, created_at FROM restore_requests
			WHERE team_id = $1 ORDER BY id DESC LIMIT 50`, payments)
		if err != nil {
			return err
		}
		type row struct {
			id             int64
			status, reason string
			created        time.Time
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.status, &x.reason, &x.created)
		})
		if err != nil {
			return err
		}
		page := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			io.WriteString(w, "<!doctype html><html><body><table>")
			for _, x := range list {
				fmt.Fprintf(w, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>", x.id,
					templ.EscapeString(x.status), templ.EscapeString(x.reason), x.created.Format(time.RFC3339))
			}
			_, err := io.WriteString(w, "</table></body></html>")
			return err
		})
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		return page.Render(c.Request().Context(), c.Response())
	})
	lead, auditor, eng := s.SignInAs(b, "lead").Cookies(), s.SignInAs(b, "ada").Cookies(), s.SignInAs(b, "eng").Cookies()

	req := "/requests/" + strconv.FormatInt(template, 10)
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	deepRequest := strconv.Itoa(nRequests / 10)
	deepEvent := strconv.Itoa(nEvents / 10)
	pages := []struct {
		name, path string
		as         []*http.Cookie
	}{
		{"history: status+region", "/requests?" + q("status", "failed", "region", "cn-east-2"), auditor},
		{"history: first page", "/requests", auditor},
		{"history: deep page", "/requests?after=" + deepRequest, auditor},
		{"history: team+kind+dates", "/requests?" + q("team", strconv.FormatInt(payments, 10), "kind", "backup",
			"from", time.Now().AddDate(0, -3, 0).Format(time.DateOnly), "to", time.Now().Format(time.DateOnly)), auditor},
		{"history: engineer's own", "/requests", eng},
		{"lead's dashboard", "/", lead},
		{"approvals queue", "/approvals", lead},
		{"audit: first page", "/audit", auditor},
		{"audit: deep page", "/audit?before=" + deepEvent, auditor},
		{"audit: action filter", "/audit?" + q("action", audit.RequestFailed), auditor},
		{"audit: lead's scope", "/audit", lead},
		{"request page", req, lead},
		{"status fragment", req + "/status", lead},
		{"account", "/account", lead},
	}
	var results []benchResult
	measure := func(name, path string, as []*http.Cookie) benchResult {
		floor := drive(b, s.URL+"/bench-floor", lead, secs/2)
		r := benchResult{name: name, load: drive(b, s.URL+path, as, secs), floor: floor}
		results = append(results, r)
		return r
	}
	for _, p := range pages {
		measure(p.name, p.path, p.as)
	}
	// A team that stopped deciding: 80,000 pending requests instead of 40.
	dash40, queue40 := results[5], results[6]
	if _, err := pool.Exec(ctx, `
		INSERT INTO restore_requests (`+yearColumns(b, pool)+`)
		SELECT `+yearSelect(pool, b, "backlog")+`
		FROM restore_requests t, generate_series(1, $3) g WHERE t.id = $4`,
		[]int64{payments}, []int64{mustUser(b, pool, "eng")}, 80_000, template); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE restore_requests`); err != nil {
		b.Fatal(err)
	}
	dash80k := measure("lead's dashboard, 80,000 pending", "/", lead)
	queue80k := measure("approvals queue, 80,000 pending", "/approvals", lead)

	fmt.Printf("\n%d requests, %d audit events, 64 clients, %.0f s per page; floor: an indexed 50-row SELECT rendered with templ\n\n", nRequests, nEvents, secs)
	fmt.Println("| page | req/s | p50 | p99 | floor req/s | share of the floor | p99 / floor's p99 |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range results {
		fmt.Printf("| %s | %.0f | %s | %s | %.0f | %.2f | %.1f |\n", r.name, r.rps, ms(r.p50), ms(r.p99), r.floor.rps,
			r.rps/r.floor.rps, float64(r.p99)/float64(r.floor.p99))
	}
	fmt.Printf("\nbacklog: dashboard %.2f and queue %.2f of their figures with 40 pending (shares of the floor %.2f→%.2f, %.2f→%.2f)\n",
		(dash80k.rps/dash80k.floor.rps)/(dash40.rps/dash40.floor.rps), (queue80k.rps/queue80k.floor.rps)/(queue40.rps/queue40.floor.rps),
		dash40.rps/dash40.floor.rps, dash80k.rps/dash80k.floor.rps, queue40.rps/queue40.floor.rps, queue80k.rps/queue80k.floor.rps)

	exportBench(b, pool, s.URL, auditor, nEvents)
}

// load is what driving one path measured.
type load struct {
	rps      float64
	p50, p99 time.Duration
}

// benchResult is a page's load beside the floor's, measured just before it.
type benchResult struct {
	name string
	load
	floor load
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// drive sends GET path with 64 clients at once for secs seconds and returns
// the throughput and latencies. An answer other than 200 fails the benchmark.
func drive(b *testing.B, path string, cookies []*http.Cookie, secs float64) load {
	b.Helper()
	const clients = 64
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(time.Duration(secs * float64(time.Second)))
	var mu sync.Mutex
	var lat []time.Duration
	var failed atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) && failed.Load() == 0 {
				req, _ := http.NewRequest(http.MethodGet, path, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					b.Errorf("GET %s: %d", path, resp.StatusCode)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	took := time.Since(begin)
	if len(lat) == 0 {
		b.Fatalf("GET %s: no answer", path)
	}
	slices.Sort(lat)
	return load{rps: float64(len(lat)) / took.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100]}
}

// yearTeams is how many teams the year's data spreads over; the first is
// payments, which the benchmark's lead leads.
const yearTeams = 50

// loadYearChain appends n events to the (empty) audit trail of db, spread
// over the past year, about requests 1..requests of teams 1..yearTeams, each
// hashed onto the one before as audit.Record would.
func loadYearChain(b *testing.B, pool *pgxpool.Pool, n, requests int) {
	b.Helper()
	var count int64
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events`).Scan(&count); err != nil || count != 0 {
		b.Fatalf("the audit trail must start empty: %d events (%v)", count, err)
	}
	from := time.Now().Add(-365 * 24 * time.Hour)
	step := 365 * 24 * time.Hour / time.Duration(max(n, 1)+1)
	prev := audit.GenesisHash()
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		r := yearEvent(i, from.Add(time.Duration(i)*step), max(requests, 1))
		r.PrevHash = prev
		h, err := r.ComputeHash()
		if err != nil {
			return nil, err
		}
		r.Hash, prev = h, h
		return []any{r.Seq, r.OccurredAt, r.ActorID, r.ActorName, r.ClientAddr, r.UserAgent, r.Action,
			r.TargetType, r.TargetID, r.TeamID, string(r.Details), r.PrevHash, r.Hash}, nil
	})
	cols := []string{"seq", "occurred_at", "actor_id", "actor_name", "client_addr", "user_agent", "action",
		"target_type", "target_id", "team_id", "details", "prev_hash", "hash"}
	if _, err := pool.CopyFrom(context.Background(), pgx.Identifier{"audit_events"}, cols, src); err != nil {
		b.Fatal(err)
	}
}

// yearEvent is event i of the year: per request, a creation, a decision, the
// execution's JD Cloud calls and its end, and the people's sign-ins between.
func yearEvent(i int, at time.Time, requests int) audit.Row {
	r := audit.Row{Seq: int64(i), OccurredAt: at}
	user := int64(i*7919%500 + 1)
	req := int64(i/10%requests + 1)
	team := (req-1)%yearTeams + 1
	sys := func() { r.ActorID, r.ActorName, r.ClientAddr, r.UserAgent = nil, audit.SystemName, "", "" }
	r.ActorID, r.ActorName = &user, "user"+strconv.FormatInt(user, 10)
	r.ClientAddr, r.UserAgent = fmt.Sprintf("10.%d.%d.%d", user%250, i%250, i%13), "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
	r.TargetType, r.TargetID, r.TeamID = audit.TargetRequest, strconv.FormatInt(req, 10), &team
	details := map[string]any{}
	switch k := i % 10; {
	case k == 0:
		r.Action, details["reason"] = audit.RequestCreated, "restore for debugging, ticket "+strconv.Itoa(i)
	case k == 1:
		r.Action, details["from_state"] = audit.RequestApproved, "pending_approval"
	case k == 2:
		sys()
		r.Action = audit.RequestExecutionStart
	case k < 6:
		sys()
		r.Action = audit.JDCloudCall
		details["operation"], details["http_status"], details["duration_ms"] = "createInstanceFromBackup", 200, i%900
	case k == 6 && i%100 == 6:
		sys()
		r.Action, details["reason"] = audit.RequestFailed, "instance build error"
	case k == 6:
		sys()
		r.Action = audit.RequestReady
	default:
		r.Action, r.TargetType, r.TargetID, r.TeamID = audit.SignIn, audit.TargetUser, strconv.FormatInt(user, 10), nil
	}
	r.Details, _ = audit.CanonicalDetails(details)
	return r
}

// loadYearRequests copies request template n times over the past year,
// spread over yearTeams teams and 500 people, in the mix of states a year
// leaves (most ready, some rejected, expired, failed or cancelled) plus 40
// pending ones for payments. It returns payments' team id.
func loadYearRequests(b *testing.B, pool *pgxpool.Pool, template int64, n int) int64 {
	b.Helper()
	ctx := context.Background()
	var payments int64
	if err := pool.QueryRow(ctx, `SELECT team_id FROM restore_requests WHERE id = $1`, template).Scan(&payments); err != nil {
		b.Fatal(err)
	}
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO teams (name) SELECT 'team-' || g FROM generate_series(1, $1) g`, []any{yearTeams - 1}},
		{`INSERT INTO users (username, email, display_name)
			SELECT 'user' || g, 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 500) g`, nil},
		{`INSERT INTO memberships (user_id, team_id, lead)
			SELECT u.id, t.id, false FROM users u
			JOIN LATERAL (SELECT id FROM teams ORDER BY id OFFSET (u.id % $1) LIMIT 1) t ON true
			WHERE u.username ~ '^user[0-9]+$'`, []any{yearTeams}},
	} {
		if _, err := pool.Exec(ctx, stmt.sql, stmt.args...); err != nil {
			b.Fatal(err)
		}
	}
	var teams, people []int64
	if err := pool.QueryRow(ctx, `SELECT array_agg(id ORDER BY id) FROM teams`).Scan(&teams); err != nil {
		b.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT array_agg(id ORDER BY id) FROM users`).Scan(&people); err != nil {
		b.Fatal(err)
	}
	cols := yearColumns(b, pool)
	if _, err := pool.Exec(ctx, `
		INSERT INTO restore_requests (`+cols+`)
		SELECT `+yearSelect(pool, b, "year")+`
		FROM restore_requests t, generate_series(1, $3) g WHERE t.id = $4`, teams, people, n, template); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO restore_requests (`+cols+`)
		SELECT `+yearSelect(pool, b, "pending")+`
		FROM restore_requests t, generate_series(1, $3) g WHERE t.id = $4`,
		[]int64{payments}, []int64{mustUser(b, pool, "eng")}, 40, template); err != nil {
		b.Fatal(err)
	}
	return payments
}

func mustUser(b *testing.B, pool *pgxpool.Pool, name string) int64 {
	b.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `SELECT id FROM users WHERE username = $1`, name).Scan(&id); err != nil {
		b.Fatal(err)
	}
	return id
}

// yearColumns lists restore_requests' columns but its id, in table order.
func yearColumns(b *testing.B, pool *pgxpool.Pool) string {
	b.Helper()
	var cols []string
	if err := pool.QueryRow(context.Background(), `
		SELECT array_agg(column_name::text ORDER BY ordinal_position) FROM information_schema.columns
		WHERE table_name = 'restore_requests' AND column_name <> 'id'`).Scan(&cols); err != nil {
		b.Fatal(err)
	}
	return strings.Join(cols, ", ")
}

// yearSelect is the select list that copies template t as request g of a
// generate_series: $1 the teams and $2 the people to spread over. "year"
// spreads creation over the past year in the states a year leaves; any
// other mix makes requests waiting for a decision, filed in the last hour.
func yearSelect(pool *pgxpool.Pool, b *testing.B, mix string) string {
	b.Helper()
	over := map[string]string{
		"submission_key": `'bench-` + mix + `-' || lpad(g::text, 10, '0')`,
		"team_id":        `($1::bigint[])[1 + g % cardinality($1::bigint[])]`,
		"requester_id":   `($2::bigint[])[1 + (g::bigint * 7919) % cardinality($2::bigint[])]`,
		"region":         `(ARRAY['cn-north-1', 'cn-east-2', 'cn-south-1', 'cn-east-1'])[1 + g % 4]`,
		"reason":         `'restore to check the ' || g || 'th order batch after a bad migration'`,
	}
	if mix != "year" {
		over["status"] = `'pending_approval'`
		over["created_at"] = `now() - interval '1 hour' + g * interval '1 millisecond'`
		over["updated_at"] = over["created_at"]
		over["expires_at"] = `now() + interval '71 hours'`
	} else {
		created := `(now() - interval '366 days' + g * (interval '365 days' / $3::int))`
		over["status"] = `CASE WHEN g % 100 < 70 THEN 'ready' WHEN g % 100 < 80 THEN 'rejected'
			WHEN g % 100 < 88 THEN 'expired' WHEN g % 100 < 95 THEN 'failed' ELSE 'cancelled' END`
		over["created_at"] = created
		over["updated_at"] = created + ` + interval '2 hours'`
		over["expires_at"] = created + ` + interval '72 hours'`
		over["decided_at"] = `CASE WHEN g % 100 BETWEEN 80 AND 87 THEN NULL ELSE ` + created + ` + interval '1 hour' END`
		over["decision_comment"] = `CASE WHEN g % 100 BETWEEN 70 AND 79 THEN 'not needed any more' ELSE '' END`
		over["instance_id"] = `CASE WHEN g % 100 < 70 OR g % 100 BETWEEN 88 AND 94 THEN 'mysql-y' || g ELSE '' END`
		over["instance_status"] = `CASE WHEN g % 100 < 70 THEN 'RUNNING' WHEN g % 100 BETWEEN 88 AND 94 THEN 'BUILD_ERROR' ELSE '' END`
		over["failure_reason"] = `CASE WHEN g % 100 BETWEEN 88 AND 94 THEN 'JD Cloud reported BUILD_ERROR' ELSE '' END`
		over["finished_at"] = created + ` + interval '2 hours'`
		over["next_check_at"] = `NULL`
	}
	var sel []string
	for c := range strings.SplitSeq(yearColumns(b, pool), ", ") {
		if e, ok := over[c]; ok {
			sel = append(sel, e)
		} else {
			sel = append(sel, "t."+c)
		}
	}
	return strings.Join(sel, ", ")
}

// exportBench streams the whole audit trail as CSV and JSON Lines through
// the export page, next to the same rows through COPY … TO STDOUT, and
// reports the growth of this process's peak memory while exporting (the
// server runs in it).
func exportBench(b *testing.B, pool *pgxpool.Pool, base string, auditor []*http.Cookie, n int) {
	b.Helper()
	ctx := context.Background()
	copyFloor := func(format string) float64 {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Release()
		sql := `COPY (SELECT seq, occurred_at, actor_id, actor_name, client_addr, user_agent, action, target_type,
			target_id, team_id, details, prev_hash, hash FROM audit_events ORDER BY seq) TO STDOUT WITH (FORMAT csv)`
		if format == "jsonl" {
			sql = `COPY (SELECT row_to_json(e) FROM (SELECT seq, occurred_at, actor_id, actor_name, client_addr, user_agent,
				action, target_type, target_id, team_id, details FROM audit_events ORDER BY seq) e) TO STDOUT`
		}
		t0 := time.Now()
		tag, err := conn.Conn().PgConn().CopyTo(ctx, io.Discard, sql)
		if err != nil {
			b.Fatal(err)
		}
		return float64(tag.RowsAffected()) / time.Since(t0).Seconds()
	}
	fmt.Println()
	for _, format := range []string{"csv", "jsonl"} {
		floor := copyFloor(format)
		resetPeakRSS()
		before := peakRSS()
		req, _ := http.NewRequest(http.MethodGet, base+"/audit/export?format="+format, nil)
		for _, c := range auditor {
			req.AddCookie(c)
		}
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		lines, err := countLines(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || lines < n {
			b.Fatalf("export %s: %d, %d lines (%v)", format, resp.StatusCode, lines, err)
		}
		rate := float64(lines) / time.Since(t0).Seconds()
		fmt.Printf("export %s: %d rows at %.0f rows/s, %.2f of COPY's %.0f rows/s; peak RSS grew %.1f MB\n",
			format, lines, rate, rate/floor, floor, float64(peakRSS()-before)/1e6)
	}
}

func countLines(r io.Reader) (int, error) {
	buf := make([]byte, 256<<10)
	n := 0
	for {
		k, err := r.Read(buf)
		for _, c := range buf[:k] {
			if c == '\n' {
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// resetPeakRSS restarts the kernel's count of this process's peak resident
// memory (Linux: 5 to clear_refs), so peakRSS measures from now.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is this process's peak resident memory in bytes (VmHWM), or 0
// where /proc does not say.
func peakRSS() int64 {
	n, _ := memoryFigure("self", "VmHWM")
	return n
}

// memoryFigure reads one memory figure (VmRSS, VmHWM) of process pid
// ("self" for this one) from /proc, in bytes.
func memoryFigure(pid, field string) (int64, error) {
	raw, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%s/status", field, pid)
}
