package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/policy"
	"restoredesk/internal/postgres/postgrestest"
)

// BenchmarkAuditLog loads a valid chain of 1,000,000 events (AUDIT_BENCH_EVENTS
// overrides) and measures the audit page's first and deep pages with each
// filter, the export's throughput and memory, and the verifier. Run it with
// make bench.
func BenchmarkAuditLog(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("AUDIT_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	pool := postgrestest.Pool(b)
	ctx := context.Background()
	start := time.Now()
	loadChain(b, pool, n)
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE audit_events`); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	fmt.Printf("loaded %d events in %s (%.0f events/s, hashes computed in Go, COPY)\n", n, took.Round(time.Millisecond), float64(n)/took.Seconds())

	start = time.Now()
	v, err := Verify(ctx, pool)
	if err != nil || v.Problem != nil || v.Count != int64(n) {
		b.Fatalf("verify: %v %v %d", err, v.Problem, v.Count)
	}
	took = time.Since(start)
	fmt.Printf("web audit verify: ok %d events in %s (%.0f events/s)\n", v.Count, took.Round(time.Millisecond), float64(n)/took.Seconds())

	// A month in the middle of the two years the events span.
	mid := benchStart.Add(time.Duration(n/2) * benchStep)
	deep := int64(n / 10) // a page 90% of the way down
	all := policy.AuditScope{All: true}
	lead1 := policy.AuditScope{TeamIDs: []int64{3}}
	lead3 := policy.AuditScope{TeamIDs: []int64{3, 7, 11}}
	// A user who acts (system events aside), and a request, from the middle.
	actor := benchRow(n/2+1, nil)
	for i := n / 2; actor.ActorID == nil; i++ {
		actor = benchRow(i, nil)
	}
	request := benchRow(n/2, nil).TargetID
	cases := []struct {
		name  string
		f     Filter
		scope policy.AuditScope
	}{
		{"none", Filter{}, all},
		{"action-common", Filter{Action: JDCloudCall}, all},
		{"action-rare", Filter{Action: AdminUserCreated}, all},
		{"actor-name", Filter{Actor: actor.ActorName}, all},
		{"actor-id", Filter{Actor: strconv.FormatInt(*actor.ActorID, 10)}, all},
		{"system", Filter{Actor: SystemName}, all},
		{"team", Filter{TeamID: 3}, all},
		{"target", Filter{TargetType: TargetRequest, TargetID: request}, all},
		{"time-month", Filter{From: mid, To: mid.Add(30 * 24 * time.Hour)}, all},
		{"team+action", Filter{TeamID: 3, Action: RequestApproved}, all},
		{"actor+time", Filter{Actor: actor.ActorName, From: mid, To: mid.Add(90 * 24 * time.Hour)}, all},
		{"action+time", Filter{Action: RequestFailed, From: mid, To: mid.Add(30 * 24 * time.Hour)}, all},
		{"lead-1-team", Filter{}, lead1},
		{"lead-3-teams", Filter{}, lead3},
		{"lead-3-teams+action", Filter{Action: RequestCreated}, lead3},
	}
	for _, tc := range cases {
		for _, page := range []struct {
			name string
			cur  Cursor
		}{{"first", Cursor{}}, {"deep", Cursor{Before: deep}}} {
			b.Run("page/"+tc.name+"/"+page.name, func(b *testing.B) {
				var got int
				for b.Loop() {
					p, err := Query(ctx, pool, tc.f, tc.scope, page.cur, 50)
					if err != nil {
						b.Fatal(err)
					}
					got = len(p.Events)
				}
				b.ReportMetric(float64(got), "events/page")
				if page.name == "first" {
					fmt.Printf("plan %-22s %s\n", tc.name+":", explain(b, pool, tc.f, tc.scope, page.cur))
				}
			})
		}
	}

	for _, format := range []string{FormatCSV, FormatJSONL} {
		b.Run("export/"+format, func(b *testing.B) {
			var rows int64
			var peakHeap, peakRSS atomic.Uint64
			for b.Loop() {
				runtime.GC()
				stop := sampleMemory(&peakHeap, &peakRSS)
				start := time.Now()
				var err error
				rows, err = Export(ctx, pool, io.Discard, format, Filter{}, all, 0)
				took := time.Since(start)
				stop()
				if err != nil || rows != int64(n) {
					b.Fatalf("export: %d rows, %v", rows, err)
				}
				b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
			}
			b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(peakRSS.Load())/(1<<20), "peak-RSS-MB")
		})
	}
}

// The bench chain spans two years, one event every benchStep.
var (
	benchStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	benchStep  = 2 * 365 * 24 * time.Hour / 1_000_000
)

// loadChain COPYs n events with a correct hash chain, generated row by row
// (memory stays flat): 200 users and the system, 20 teams, requests of about
// 20 events each, a realistic mix of actions.
func loadChain(b *testing.B, pool *pgxpool.Pool, n int) {
	b.Helper()
	prev := GenesisHash()
	i := 0
	var row Row
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		row = benchRow(i, prev)
		h, err := row.ComputeHash()
		if err != nil {
			return nil, err
		}
		row.Hash, prev = h, h
		return []any{row.Seq, row.OccurredAt, row.ActorID, row.ActorName, row.ClientAddr, row.UserAgent, row.Action,
			row.TargetType, row.TargetID, row.TeamID, string(row.Details), row.PrevHash, row.Hash}, nil
	})
	cols := strings.Split(strings.Join(strings.Fields(rowColumns), ""), ",")
	if _, err := pool.CopyFrom(context.Background(), pgx.Identifier{"audit_events"}, cols, src); err != nil {
		b.Fatal(err)
	}
}

func benchRow(i int, prev []byte) Row {
	r := Row{Seq: int64(i), OccurredAt: benchStart.Add(time.Duration(i) * benchStep), PrevHash: prev}
	user := int64(i*7919%200 + 1)
	req := int64(i / 20)
	team := req%20 + 1
	r.ActorID, r.ActorName = &user, "user"+strconv.FormatInt(user, 10)
	r.ClientAddr, r.UserAgent = fmt.Sprintf("10.%d.%d.%d", user%250, i%250, i%13), "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
	r.TargetType, r.TargetID, r.TeamID = TargetRequest, strconv.FormatInt(req, 10), &team
	details := map[string]any{}
	switch k := i % 20; {
	case k == 0:
		r.Action, details["reason"] = RequestCreated, "restore for debugging, ticket "+strconv.Itoa(i)
	case k == 1:
		r.Action, details["from_state"] = RequestApproved, "pending_approval"
	case k == 2:
		r.ActorID, r.ActorName, r.ClientAddr, r.UserAgent = nil, SystemName, "", ""
		r.Action = RequestExecutionStart
	case k < 10:
		r.ActorID, r.ActorName, r.ClientAddr, r.UserAgent = nil, SystemName, "", ""
		r.Action = JDCloudCall
		details["operation"], details["http_status"], details["duration_ms"] = "describeInstanceAttributes", 200, i%900
	case k == 10:
		r.ActorID, r.ActorName, r.ClientAddr, r.UserAgent = nil, SystemName, "", ""
		r.Action = RequestReady
	case k == 11 && i%1000 == 11:
		r.ActorID, r.ActorName, r.ClientAddr, r.UserAgent = nil, SystemName, "", ""
		r.Action, details["reason"] = RequestFailed, "instance build error"
	case k == 12 && i%1000 == 12:
		r.Action, r.TargetType, r.TargetID, r.TeamID = AdminUserCreated, TargetUser, strconv.Itoa(i), nil
	default:
		r.Action, r.TargetType, r.TargetID, r.TeamID = SignIn, TargetUser, strconv.FormatInt(user, 10), nil
	}
	r.Details, _ = CanonicalDetails(details)
	return r
}

// explain returns the plan of the page query, one line: its nodes and time.
func explain(b *testing.B, pool *pgxpool.Pool, f Filter, scope policy.AuditScope, cur Cursor) string {
	sql, args, err := pageSQL(context.Background(), pool, f, scope, cur, 51)
	if err != nil || sql == "" {
		return fmt.Sprint("no query: ", err)
	}
	rows, err := pool.Query(context.Background(), "EXPLAIN (ANALYZE, COSTS OFF) "+sql, args...)
	if err != nil {
		b.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	var parts []string
	for _, l := range lines {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "->"))
		if i := strings.Index(l, " (actual"); i > 0 {
			l = l[:i]
		}
		if strings.HasPrefix(l, "Index") || strings.HasPrefix(l, "Seq Scan") || strings.HasPrefix(l, "Bitmap") ||
			strings.HasPrefix(l, "Sort") || strings.HasPrefix(l, "Merge") || strings.HasPrefix(l, "Execution Time") ||
			strings.HasPrefix(l, "Rows Removed") {
			parts = append(parts, strings.TrimSpace(l))
		}
	}
	return strings.Join(parts, " | ")
}

// sampleMemory records the peak Go heap in use and process RSS every 5 ms
// until the returned stop is called.
func sampleMemory(heap, rss *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	peak := func(p *atomic.Uint64, v uint64) {
		for old := p.Load(); v > old && !p.CompareAndSwap(old, v); old = p.Load() {
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak(heap, ms.HeapInuse)
			peak(rss, currentRSS())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func currentRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
