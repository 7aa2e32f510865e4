package app_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/app"
	"restoredesk/internal/audit"
	"restoredesk/internal/jobs"
	"restoredesk/internal/logging"
	"restoredesk/internal/postgres/postgrestest"
	"restoredesk/internal/restore"
	"restoredesk/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }

// TestPeriodicJobsRunOncePerPeriod: two processes (each its own pool and
// River client) on one database; the expiry, the sweep and the audit
// checkpoint, each every second, run once per period between them, and the
// hourly session clean-up once.
func TestPeriodicJobsRunOncePerPeriod(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	var logs [2]*testkit.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	start := time.Now()
	for i := range logs {
		p, err := pgxpool.New(t.Context(), pool.Config().ConnString())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		logs[i] = &testkit.Buffer{}
		a, err := app.New(t.Context(), app.Config{
			Pool: p, Log: logging.New(logs[i], slog.LevelInfo), Identity: testkit.IdentityConfig(),
			Worker:          restore.WorkerConfig{ExpireEvery: time.Second, SweepEvery: time.Second},
			AuditCheckpoint: time.Second, Jobs: jobs.Config{Work: true, Test: true, Poll: 50 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		go func() { a.Run(ctx); done <- struct{}{} }()
	}
	// Run both until each 1 s job has run at least three times.
	count := func(kind string) (jobs, periods int) {
		err := pool.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT date_trunc('second', created_at))
			FROM river_job WHERE kind = $1 AND state = 'completed'`, kind).Scan(&jobs, &periods)
		if err != nil {
			t.Fatal(err)
		}
		return jobs, periods
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		a, _ := count(restore.KindExpire)
		b, _ := count(restore.KindSweep)
		c, _ := count(app.KindAuditCheckpoint)
		if min(a, b, c) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("periodic jobs did not run: %d expiries, %d sweeps, %d checkpoints", a, b, c)
		}
	}
	cancel()
	<-done
	<-done
	elapsed := time.Since(start)
	for _, kind := range []string{restore.KindExpire, restore.KindSweep, app.KindAuditCheckpoint} {
		n, periods := count(kind)
		// Each period's run is inserted once however many clients run, so
		// no second holds two, and there are no more than the periods the
		// test lasted (plus the one at start).
		if n != periods || n > int(elapsed/time.Second)+2 {
			t.Errorf("%s: %d runs in %d distinct seconds over %s; want one per period", kind, n, periods, elapsed.Round(time.Millisecond))
		}
	}
	if n, _ := count(app.KindSessionCleanUp); n != 1 {
		t.Errorf("%d session clean-ups in the first hour, want 1", n)
	}
	lines := 0
	for _, l := range logs {
		lines += strings.Count(l.String(), `"msg":"`+audit.CheckpointMessage+`"`)
	}
	if n, _ := count(app.KindAuditCheckpoint); lines != n {
		t.Errorf("%d checkpoint lines in the two logs for %d checkpoint jobs", lines, n)
	}
}
