package restore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/request"
	"restoredesk/internal/restore"
)

// submitByTime files a point-in-time request of source as who, to the moment
// hours ago.
func (f *fixture) submitByTime(t *testing.T, who, team, source string, ago time.Duration) int64 {
	t.Helper()
	d := f.draft(t, who, team, source)
	d.Backup, d.Kind = "", string(request.ToPointInTime)
	d.RestoreAt = time.Now().Add(-ago).In(restore.DefaultZone).Format("2006-01-02T15:04")
	u := f.user(t, who)
	ch, err := f.planner.Choices(t.Context(), u, d)
	if err != nil {
		t.Fatal(err)
	}
	n, problems := f.planner.Validate(u, ch.Suggested, ch)
	if problems != nil {
		t.Fatalf("valid point-in-time draft refused: %v", problems)
	}
	id, _, err := f.life.Submit(t.Context(), f.actor(who), n)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPointInTimeApprovalRechecksTheWindow: a point-in-time request that
// waited until its moment is more than 7 days ago cannot be approved, and
// says why; it stays pending for a reject.
func TestPointInTimeApprovalRechecksTheWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 30*24*time.Hour)
	id := f.submitByTime(t, "alice", "payments", "mysql-payorders1", 3*time.Hour)
	// As if it had waited eight days.
	if _, err := f.pool.Exec(t.Context(), `UPDATE restore_requests SET restore_time = now() - interval '8 days' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	err := f.life.Approve(t.Context(), f.actor("bob"), id, "")
	if !errors.Is(err, restore.ErrPointInTimeGone) {
		t.Fatalf("approve: %v, want ErrPointInTimeGone", err)
	}
	if r := f.request(t, id); r.Status != request.Pending {
		t.Errorf("after the refused approval the request is %s, want still pending", r.Status)
	}
}

// TestPointInTimeWorkerRechecks: the worker checks the source and the window
// again before creating; a source that no longer runs, or a moment outside
// the window, fails the request with the reason and no create.
func TestPointInTimeWorkerRechecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		spoil  func(f *fixture, id int64)
		reason string
	}{
		{"moment outside the window", func(f *fixture, id int64) {
			if _, err := f.pool.Exec(t.Context(), `UPDATE restore_requests SET restore_time = now() - interval '7 days 1 hour' WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
		}, "no longer inside the restore window"},
		{"source no longer exists", func(f *fixture, id int64) {
			if _, err := f.pool.Exec(t.Context(), `UPDATE restore_requests SET source_instance_id = 'mysql-gone00001' WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
		}, "no longer exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, time.Hour)
			id := f.submitByTime(t, "alice", "payments", "mysql-payorders1", 3*time.Hour)
			if err := f.life.Approve(t.Context(), f.actor("bob"), id, ""); err != nil {
				t.Fatal(err)
			}
			tc.spoil(f, id)
			f.runWorker(t, fastWorker())
			r := f.waitFinal(t, id)
			if r.Status != request.Failed || !strings.Contains(r.FailureReason, tc.reason) {
				t.Errorf("ended %s with %q; want failed with %q", r.Status, r.FailureReason, tc.reason)
			}
			if n := f.sim.Stats().Creates; n != 0 {
				t.Errorf("%d creates, want none", n)
			}
		})
	}
}

// TestPointInTimeWorkerCreatesByTime: an approved point-in-time request is
// created with createInstanceByTime, restoring the moment asked for.
func TestPointInTimeWorkerCreatesByTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Hour)
	id := f.submitByTime(t, "alice", "payments", "mysql-payorders1", 26*time.Hour)
	if err := f.life.Approve(t.Context(), f.actor("bob"), id, ""); err != nil {
		t.Fatal(err)
	}
	f.runWorker(t, fastWorker())
	r := f.waitFinal(t, id)
	if r.Status != request.Ready {
		t.Fatalf("ended %s: %s", r.Status, r.FailureReason)
	}
	point, ok := f.sim.RestorePoint("cn-north-1", r.InstanceID)
	if !ok || !point.Equal(*r.RestoreTime) {
		t.Errorf("restored to %s (%v), the request asked for %s", point, ok, r.RestoreTime)
	}
	if st := f.sim.Stats(); st.Calls[jdcloud.OpCreateInstanceByTime] != 1 || st.Calls[jdcloud.OpCreateInstanceFromBackup] != 0 {
		t.Errorf("calls %v, want one createInstanceByTime", st.Calls)
	}
}
