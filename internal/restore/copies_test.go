package restore_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/jobs"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
	"restoredesk/internal/restore"
	"restoredesk/migrations"
)

// fastCopies makes the copies' checks and waits take milliseconds.
func fastCopies() restore.CopiesConfig {
	return restore.CopiesConfig{CheckEvery: 100 * time.Millisecond, Wait: 50 * time.Millisecond,
		RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, MaxDeleteAttempts: 3}
}

// runAll runs a process's background work until the test ends: the
// execution and the copies' deletion on one River client, as web serve has.
func (f *fixture) runAll(t *testing.T) {
	t.Helper()
	cfg := fastWorker()
	cfg.Cloud, cfg.DeploymentID = f.cloud, f.depID
	w := restore.NewWorker(f.pool, f.life, cfg)
	c := restore.NewCopies(f.pool, w, fastCopies())
	client, err := jobs.New(f.pool, jobs.Config{Work: true, Test: true, Poll: 30 * time.Millisecond,
		JobTimeout: restore.JobTimeout(0), RescueAfter: restore.JobTimeout(0) + time.Second}, w, c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { jobs.Run(ctx, client, slog.New(slog.DiscardHandler)); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// ready files and approves a request of payments and waits until it is ready.
func (f *fixture) ready(t *testing.T) request.Request {
	t.Helper()
	id := f.submit(t, "alice", "payments", "mysql-payorders1")
	if err := f.life.Approve(t.Context(), f.actor("bob"), id, ""); err != nil {
		t.Fatal(err)
	}
	r := f.waitFinal(t, id)
	if r.Status != request.Ready {
		t.Fatalf("request %d is %s (%s), want ready", id, r.Status, r.FailureReason)
	}
	return r
}

// waitCopy waits until request id has a copy in one of states and returns it.
func (f *fixture) waitCopy(t *testing.T, id int64, states ...string) postgres.Copy {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cs, err := postgres.New(f.pool).RequestCopies(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			for _, s := range states {
				if c.State == s {
					return c
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %d: copies %+v, want one in %v", id, cs, states)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checksRun waits until the copies' periodic check has completed n more times.
func (f *fixture) checksRun(t *testing.T, n int) {
	t.Helper()
	count := func() int {
		var c int
		if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`,
			restore.KindCopyCheck).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	want := count() + n
	deadline := time.Now().Add(30 * time.Second)
	for count() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the copies' check did not run %d more times", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deleteUnder makes a ready request's copy due with fault on the simulator's
// deletes and returns the copy as its deletion left it (deleted or failed).
func deleteUnder(t *testing.T, fault jdcloudsim.Fault) (*fixture, request.Request, postgres.Copy) {
	t.Helper()
	f := newFixture(t, time.Hour)
	f.runAll(t)
	r := f.ready(t)
	c := f.waitCopy(t, r.ID, postgres.CopyRunning)
	f.sim.SetFault(jdcloud.OpDeleteInstance, fault)
	f.dueNow(t, c.ID)
	return f, r, f.waitCopy(t, r.ID, postgres.CopyDeleted, postgres.CopyDeleteFailed)
}

// dueNow brings copy id's deletion time to now, as if its days had passed.
func (f *fixture) dueNow(t *testing.T, id int64) {
	t.Helper()
	if _, err := f.pool.Exec(t.Context(), `UPDATE copies SET delete_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
}

// TestCopyDeletedAtItsTimeOnce: a ready request's copy is recorded with its
// deletion time keep_days after Ready, is not deleted before it, and at it
// is deleted exactly once although two processes run the deletion.
func TestCopyDeletedAtItsTimeOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	f.runAll(t)
	f.runAll(t)
	r := f.ready(t)
	c := f.waitCopy(t, r.ID, postgres.CopyRunning)
	if r.KeepDays == nil || *r.KeepDays != restore.DefaultKeepDays {
		t.Fatalf("keep_days %v, want the default %d", r.KeepDays, restore.DefaultKeepDays)
	}
	if want := r.FinishedAt.Add(time.Duration(restore.DefaultKeepDays) * 24 * time.Hour); c.DeleteAt == nil || !c.DeleteAt.Equal(want) {
		t.Fatalf("delete_at %v, want Ready + %d days = %v", c.DeleteAt, restore.DefaultKeepDays, want)
	}
	if c.InstanceID != r.InstanceID || c.Duplicate {
		t.Fatalf("copy %+v is not the request's instance %s", c, r.InstanceID)
	}
	f.checksRun(t, 3)
	if got := f.sim.Stats().Deletes; got != 0 {
		t.Fatalf("%d deletes before the deletion time", got)
	}
	f.dueNow(t, c.ID)
	c = f.waitCopy(t, r.ID, postgres.CopyDeleted, postgres.CopyDeleteFailed)
	if c.State != postgres.CopyDeleted || c.DeleteSentAt == nil {
		t.Fatalf("copy ended %s (%s)", c.State, c.Failure)
	}
	f.checksRun(t, 3)
	if got := f.sim.Stats().Deletes; got != 1 {
		t.Errorf("the simulator counted %d deletes, want 1", got)
	}
	if _, ok := f.sim.Instance("cn-north-1", r.InstanceID); ok {
		t.Error("the instance still exists")
	}
	if n := count(f.events(t, r.ID), "copy.deleted"); n != 1 {
		t.Errorf("%d copy.deleted events, want 1", n)
	}
}

// TestCopyDeleteDroppedEndsDeleted: a delete JD Cloud performed but whose
// answer was lost ends Deleted, with one delete.
func TestCopyDeleteDroppedEndsDeleted(t *testing.T) {
	t.Parallel()
	f, _, c := deleteUnder(t, jdcloudsim.Fault{DropNext: 1})
	if c.State != postgres.CopyDeleted {
		t.Fatalf("copy ended %s (%s), want deleted", c.State, c.Failure)
	}
	if st := f.sim.Stats(); st.Deletes != 1 || st.Injected["drop"] != 1 {
		t.Errorf("deletes %d, drops %d; want 1 and 1", st.Deletes, st.Injected["drop"])
	}
}

// TestCopyDeleteRetriedAfter5xx: a delete refused with a 5xx before it was
// performed is sent again after the backoff and the copy ends Deleted.
func TestCopyDeleteRetriedAfter5xx(t *testing.T) {
	t.Parallel()
	_, _, c := deleteUnder(t, jdcloudsim.Fault{FailNext: 1, FailStatus: 503})
	if c.State != postgres.CopyDeleted || c.DeleteAttempts != 2 {
		t.Fatalf("copy ended %s after %d deletes (%s), want deleted after 2", c.State, c.DeleteAttempts, c.Failure)
	}
}

// TestCopyRemindOnlyNeverDeleted: a remind-only team's copy past its time
// turns overdue and is never deleted.
func TestCopyRemindOnlyNeverDeleted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	f.runAll(t)
	if _, err := f.pool.Exec(t.Context(), `UPDATE teams SET remind_only = true WHERE id = $1`, f.teams["payments"]); err != nil {
		t.Fatal(err)
	}
	r := f.ready(t)
	c := f.waitCopy(t, r.ID, postgres.CopyRunning)
	f.dueNow(t, c.ID)
	f.waitCopy(t, r.ID, postgres.CopyOverdue)
	f.checksRun(t, 3)
	if got := f.sim.Stats().Deletes; got != 0 {
		t.Errorf("%d deletes of a remind-only team's copy", got)
	}
	if in, ok := f.sim.Instance("cn-north-1", r.InstanceID); !ok || in.InstanceStatus != jdcloud.StatusRunning {
		t.Errorf("the copy is %v %s, want still running", ok, in.InstanceStatus)
	}
}

// TestCopyUntaggedNeverDeleted: a copy whose instance does not carry the
// request's tag (here: the production source itself) is never deleted; it
// ends Delete failed saying why.
func TestCopyUntaggedNeverDeleted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	f.runAll(t)
	r := f.ready(t)
	c := f.waitCopy(t, r.ID, postgres.CopyRunning)
	if _, err := f.pool.Exec(t.Context(), `UPDATE copies SET instance_id = 'mysql-payorders1', delete_at = now() WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	c = f.waitCopy(t, r.ID, postgres.CopyDeleteFailed, postgres.CopyDeleted)
	if c.State != postgres.CopyDeleteFailed || !strings.Contains(string(c.Failure), "tag") {
		t.Fatalf("copy ended %s (%s), want delete failed for the tag", c.State, c.Failure)
	}
	if got := f.sim.Stats().Deletes; got != 0 {
		t.Errorf("%d deletes of an untagged instance", got)
	}
	if in, ok := f.sim.Instance("cn-north-1", "mysql-payorders1"); !ok || in.InstanceStatus != jdcloud.StatusRunning {
		t.Error("the source instance was touched")
	}
}

// TestCopyOperationProtection: a delete refused for operation protection
// ends Delete failed naming the console, with JD Cloud's request id.
func TestCopyOperationProtection(t *testing.T) {
	t.Parallel()
	f, r, c := deleteUnder(t, jdcloudsim.Fault{Protected: true})
	if c.State != postgres.CopyDeleteFailed || !strings.Contains(string(c.Failure), "needs an operator in the JD Cloud console") ||
		!strings.Contains(string(c.Failure), "request_id") {
		t.Fatalf("copy ended %s (%s)", c.State, c.Failure)
	}
	if n := count(f.events(t, r.ID), "copy.delete_failed"); n != 1 {
		t.Errorf("%d copy.delete_failed events, want 1", n)
	}
	if in, ok := f.sim.Instance("cn-north-1", r.InstanceID); !ok || in.InstanceStatus != jdcloud.StatusRunning {
		t.Error("a refused delete removed the copy")
	}
}

// TestUpgradeKeepsOldCopies: a database with ready requests of the version
// before copies had a lifetime is migrated; their copies have no deletion
// time and are never deleted.
func TestUpgradeKeepsOldCopies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	ctx := t.Context()
	db := stdlib.OpenDBFromPool(f.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithGoMigrations(migrations.Go()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 39); err != nil {
		t.Fatal(err)
	}
	// A ready request as the version before wrote it, with its instance
	// running in the simulator under its tag.
	var id int64
	if err := f.pool.QueryRow(ctx, `INSERT INTO restore_requests (submission_key, team_id, requester_id, status, region,
			source_instance_id, backup_id, engine, spec, reason, expires_at, instance_id, finished_at)
		VALUES ('old-request-key-0001', $1, $2, 'ready', 'cn-north-1', 'mysql-payorders1', 'bk', 'MySQL', '{}', 'old', now(),
			'mysql-pending', now() - interval '30 days') RETURNING id`, f.teams["payments"], f.users["alice"]).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	f.runAll(t)
	f.checksRun(t, 3)
	cs, err := postgres.New(f.pool).RequestCopies(ctx, id)
	if err != nil || len(cs) != 1 {
		t.Fatalf("copies %+v, %v; want one", cs, err)
	}
	if cs[0].DeleteAt != nil || cs[0].State != postgres.CopyRunning {
		t.Errorf("old copy %+v: want running with no deletion time", cs[0])
	}
	if got := f.sim.Stats().Deletes; got != 0 {
		t.Errorf("%d deletes after the upgrade", got)
	}
}

// TestPrepaidCopyNeverDeleted: a prepaid copy's deletion time becomes the
// end of its period (chargeExpiredTime) and no delete is ever sent.
func TestPrepaidCopyNeverDeleted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	ctx := t.Context()
	if _, err := f.pool.Exec(ctx, `UPDATE teams SET prepaid_allowed = true WHERE id = $1`, f.teams["payments"]); err != nil {
		t.Fatal(err)
	}
	f.runAll(t)
	u := f.user(t, "alice")
	d := f.draft(t, "alice", "payments", "mysql-payorders1")
	d.ChargeMode, d.Period, d.PeriodUnit = jdcloud.ChargePrepaidByDuration, "1", jdcloud.ChargeUnitMonth
	ch, err := f.planner.Choices(ctx, u, d)
	if err != nil {
		t.Fatal(err)
	}
	n, problems := f.planner.Validate(u, d, ch)
	if problems != nil {
		t.Fatalf("refused: %v", problems)
	}
	id, _, err := f.life.Submit(ctx, f.actor("alice"), n)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.life.Approve(ctx, f.actor("bob"), id, ""); err != nil {
		t.Fatal(err)
	}
	r := f.waitFinal(t, id)
	if r.Status != request.Ready {
		t.Fatalf("request is %s (%s)", r.Status, r.FailureReason)
	}
	in, _ := f.sim.Instance("cn-north-1", r.InstanceID)
	end, err := time.Parse(time.RFC3339, in.Charge.ChargeExpiredTime)
	if err != nil {
		t.Fatalf("the simulator's chargeExpiredTime %q: %v", in.Charge.ChargeExpiredTime, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c := f.waitCopy(t, r.ID, postgres.CopyRunning)
		if c.Prepaid && c.DeleteAt != nil && c.DeleteAt.Equal(end) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("prepaid copy %+v, want its deletion time at %v", c, end)
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.checksRun(t, 3)
	if got := f.sim.Stats().Deletes; got != 0 {
		t.Errorf("%d deletes of a prepaid copy", got)
	}
}

// TestFailedRequestsInstanceIsACopy: the instance of a failed request
// (here its build ended in BUILD_ERROR) is a copy, marked as not the
// request's own ready instance, due 24 hours after it is found.
func TestFailedRequestsInstanceIsACopy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	f.sim.SetFault(jdcloud.OpCreateInstanceFromBackup, jdcloudsim.Fault{BuildErrorNext: 1})
	f.runAll(t)
	id := f.submit(t, "alice", "payments", "mysql-payorders1")
	if err := f.life.Approve(t.Context(), f.actor("bob"), id, ""); err != nil {
		t.Fatal(err)
	}
	r := f.waitFinal(t, id)
	if r.Status != request.Failed || r.InstanceID == "" {
		t.Fatalf("request %s with instance %q, want failed with one", r.Status, r.InstanceID)
	}
	c := f.waitCopy(t, id, postgres.CopyRunning)
	if c.InstanceID != r.InstanceID || c.RequestStatus != string(request.Failed) || c.DeleteAt == nil {
		t.Fatalf("copy %+v", c)
	}
	if ahead := time.Until(*c.DeleteAt); ahead < 23*time.Hour || ahead > 25*time.Hour {
		t.Errorf("due in %v, want about 24 hours", ahead)
	}
}

// TestCopyDeleteGivesUp: deletes JD Cloud keeps refusing end, after the
// configured attempts, in Delete failed with JD Cloud's last answer.
func TestCopyDeleteGivesUp(t *testing.T) {
	t.Parallel()
	f, r, c := deleteUnder(t, jdcloudsim.Fault{FailNext: 100, FailStatus: 500})
	if c.State != postgres.CopyDeleteFailed || c.DeleteAttempts != fastCopies().MaxDeleteAttempts ||
		!strings.Contains(string(c.Failure), "Gave up") || !strings.Contains(string(c.Failure), "request_id") {
		t.Fatalf("copy ended %s after %d deletes: %s", c.State, c.DeleteAttempts, c.Failure)
	}
	if in, ok := f.sim.Instance("cn-north-1", r.InstanceID); !ok || in.InstanceStatus != jdcloud.StatusRunning {
		t.Error("the copy is gone although every delete was refused")
	}
}
