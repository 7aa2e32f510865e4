package restore_test

import (
	"strings"
	"testing"
	"time"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/restore"
)

// approve files and approves a request for mysql-payorders1.
func (f *fixture) approved(t *testing.T) int64 {
	t.Helper()
	id := f.submit(t, "alice", "payments", "mysql-payorders1")
	if err := f.life.Approve(t.Context(), f.actor("bob"), id, ""); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) tagged(t *testing.T, id int64) []jdcloud.Instance {
	t.Helper()
	return f.sim.InstancesByTag("cn-north-1", restore.TagKey, f.depID+"/"+itoa(id))
}

func TestWorkerRestoresToReady(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	id := f.approved(t)
	f.runWorker(t, fastWorker())
	r := f.waitFinal(t, id)
	if r.Status != restore.Ready || r.InstanceID == "" || r.InternalDomainName == "" || r.InstancePort != "3306" {
		t.Fatalf("request ended %s (%s), instance %q at %s:%s", r.Status, r.FailureReason, r.InstanceID, r.InternalDomainName, r.InstancePort)
	}
	inst := f.tagged(t, id)
	if len(inst) != 1 || inst[0].InstanceID != r.InstanceID || inst[0].InstanceName != "restore-"+itoa(id) {
		t.Errorf("tagged instances %+v", inst)
	}
	if got := f.sim.Stats().Creates; got != 1 {
		t.Errorf("%d creates at the simulator", got)
	}
	ev := f.events(t, id)
	for _, want := range []string{audit.RequestExecutionStart, audit.RequestInstanceCreated, audit.RequestReady, audit.JDCloudCall} {
		if count(ev, want) == 0 {
			t.Errorf("no %s event in %v", want, ev)
		}
	}
}

// TestWorkerFaults drives the worker through JD Cloud's failure modes.
func TestWorkerFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fault       jdcloudsim.Fault
		op          string
		cfg         func(*restore.WorkerConfig)
		wantStatus  restore.Status
		wantReason  string // in the failure reason
		wantCreates int
		wantEvent   string
	}{
		{name: "throttled creates are retried", op: jdcloud.OpCreateInstanceFromBackup,
			fault: jdcloudsim.Fault{ThrottleNext: 3}, wantStatus: restore.Ready, wantCreates: 1, wantEvent: audit.RequestInstanceCreated},
		{name: "5xx burst without the create performed", op: jdcloud.OpCreateInstanceFromBackup,
			fault: jdcloudsim.Fault{FailNext: 2, FailStatus: 503}, wantStatus: restore.Ready, wantCreates: 1, wantEvent: audit.RequestInstanceCreated},
		{name: "5xx after the create was performed is adopted", op: jdcloud.OpCreateInstanceFromBackup,
			fault: jdcloudsim.Fault{FailNext: 1, FailStatus: 500, FailAfterPerform: true}, wantStatus: restore.Ready, wantCreates: 1,
			wantEvent: audit.RequestInstanceAdopted},
		{name: "dropped connection after create, visible late, is adopted", op: jdcloud.OpCreateInstanceFromBackup,
			fault: jdcloudsim.Fault{DropNext: 1, VisibilityDelay: 700 * time.Millisecond}, wantStatus: restore.Ready, wantCreates: 1,
			wantEvent: audit.RequestInstanceAdopted},
		{name: "throttled status polls are ridden out", op: jdcloud.OpDescribeInstanceAttributes,
			fault: jdcloudsim.Fault{ThrottleNext: 4}, wantStatus: restore.Ready, wantCreates: 1},
		{name: "build error fails the request", op: jdcloud.OpCreateInstanceFromBackup,
			fault: jdcloudsim.Fault{BuildErrorNext: 1}, wantStatus: restore.Failed, wantReason: "BUILD_ERROR", wantCreates: 1},
		{name: "build timeout fails the request and keeps the instance id", op: jdcloud.OpCreateInstanceFromBackup,
			fault: jdcloudsim.Fault{}, cfg: func(c *restore.WorkerConfig) { c.BuildTimeout = 100 * time.Millisecond },
			wantStatus: restore.Failed, wantReason: "build timeout", wantCreates: 1},
		{name: "endless throttling gives up when the retry budget is spent", op: jdcloud.OpCreateInstanceFromBackup,
			fault: jdcloudsim.Fault{ThrottleRate: 1}, cfg: func(c *restore.WorkerConfig) { c.RetryBudget = time.Second },
			wantStatus: restore.Failed, wantReason: "JD Cloud did not take the create for 1s", wantCreates: 0},
		{name: "more throttled creates than the attempt limit are retried", op: jdcloud.OpCreateInstanceFromBackup,
			fault: jdcloudsim.Fault{ThrottleNext: 12}, wantStatus: restore.Ready, wantCreates: 1, wantEvent: audit.RequestInstanceCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, time.Hour)
			if tt.name == "build timeout fails the request and keeps the instance id" {
				f.sim.SetBuildTime(time.Hour)
			}
			id := f.approved(t)
			f.sim.SetFault(tt.op, tt.fault)
			cfg := fastWorker()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			f.runWorker(t, cfg)
			r := f.waitFinal(t, id)
			if r.Status != tt.wantStatus || !strings.Contains(r.FailureReason, tt.wantReason) {
				t.Errorf("ended %s with %q; want %s with %q", r.Status, r.FailureReason, tt.wantStatus, tt.wantReason)
			}
			if got := f.sim.Stats().Creates; got != tt.wantCreates {
				t.Errorf("%d creates at the simulator, want %d", got, tt.wantCreates)
			}
			if n := len(f.tagged(t, id)); n != tt.wantCreates {
				t.Errorf("%d tagged instances, want %d", n, tt.wantCreates)
			}
			if tt.wantCreates == 1 && r.InstanceID == "" {
				t.Error("instance id not kept")
			}
			if tt.wantEvent != "" && count(f.events(t, id), tt.wantEvent) != 1 {
				t.Errorf("events %v lack one %s", f.events(t, id), tt.wantEvent)
			}
		})
	}
}

// TestWorkerRefusalFailsWithJDCloudsMessage: a 400 from JD Cloud fails the
// request at once with its status, message and request id.
func TestWorkerRefusalFailsWithJDCloudsMessage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	id := f.approved(t)
	// A class that passed the form but that JD Cloud refuses (as if the
	// class table were out of date).
	if _, err := f.pool.Exec(t.Context(), `UPDATE restore_requests SET spec = jsonb_set(spec, '{instanceClass}', '"db.mysql.s9.huge"') WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	f.runWorker(t, fastWorker())
	r := f.waitFinal(t, id)
	if r.Status != restore.Failed || !strings.Contains(r.FailureReason, "HTTP 400") ||
		!strings.Contains(r.FailureReason, "INVALID_ARGUMENT") || !strings.Contains(r.FailureReason, "request id") {
		t.Errorf("ended %s: %q", r.Status, r.FailureReason)
	}
	if f.sim.Stats().Creates != 0 {
		t.Error("an instance was created")
	}
}

// TestReplicasCreateOnce: three workers on one database, one create.
func TestReplicasCreateOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	f.sim.SetFault(jdcloud.OpCreateInstanceFromBackup, jdcloudsim.Fault{Latency: 200 * time.Millisecond})
	ids := []int64{f.approved(t), f.approved(t), f.approved(t)}
	for range 3 {
		f.runWorker(t, fastWorker())
	}
	f.wantEachReadyOnce(t, ids...)
}

// wantEachReadyOnce asserts that each request ends ready with one instance,
// and that the simulator created one per request.
func (f *fixture) wantEachReadyOnce(t *testing.T, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		if r := f.waitFinal(t, id); r.Status != restore.Ready {
			t.Errorf("request %d ended %s: %s", id, r.Status, r.FailureReason)
		}
		if n := len(f.tagged(t, id)); n != 1 {
			t.Errorf("request %d has %d instances", id, n)
		}
	}
	if got := f.sim.Stats().Creates; got != len(ids) {
		t.Errorf("%d creates for %d requests", got, len(ids))
	}
}

func itoa(id int64) string { return formatInt(id) }

// TestWorkerGivesUpCheckingTheBackup: a JD Cloud that keeps failing the
// pre-check fails the request with the reason instead of leaving it stuck.
func TestWorkerGivesUpCheckingTheBackup(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	id := f.approved(t)
	f.sim.SetFault(jdcloud.OpDescribeBackups, jdcloudsim.Fault{FailRate: 1, FailStatus: 503})
	f.runWorker(t, fastWorker())
	r := f.waitFinal(t, id)
	if r.Status != restore.Failed || !strings.Contains(r.FailureReason, "could not be checked") || f.sim.Stats().Creates != 0 {
		t.Errorf("ended %s: %q, %d creates", r.Status, r.FailureReason, f.sim.Stats().Creates)
	}
}

// TestSweepSchedulesRequestsWithoutAJob: a request approved before the
// execution ran on River (no job of its own) is picked up by the periodic
// sweep and restored once, as is the one that has its job.
func TestSweepSchedulesRequestsWithoutAJob(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	orphan, scheduled := f.approved(t), f.approved(t)
	// As an upgraded database has it: approved, due, and no job.
	if _, err := f.pool.Exec(t.Context(), `DELETE FROM river_job WHERE kind = $1 AND (args->>'request_id')::bigint = $2`,
		restore.KindExecute, orphan); err != nil {
		t.Fatal(err)
	}
	cfg := fastWorker()
	cfg.SweepEvery = time.Second
	f.runWorker(t, cfg)
	f.wantEachReadyOnce(t, orphan, scheduled)
}
