package restore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jobs"
	"restoredesk/internal/postgres"
)

// The restore's River job kinds, as the admin pages list them.
const (
	// KindExecute is one request's execution: one job per request, from
	// its approval until nothing is left to do.
	KindExecute = "restore_execute"
	// KindSweep is the periodic check that every active request has its
	// execution job.
	KindSweep = "restore_sweep"
	// KindExpire is the periodic expiry of pending requests past their
	// approval window.
	KindExpire = "restore_expire"
)

// Queue is the River queue of the restore's jobs.
const Queue = "restore"

// busySnooze is how long a run that finds its request held by another
// worker waits before it looks again.
const busySnooze = 3 * time.Second

// notFinalized are the job states in which an execution job is still alive;
// a second insert for the same request while one exists is skipped.
var notFinalized = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// ExecuteArgs is the job of one request's execution. Each run is one Step
// (one JD Cloud call or one search), then the job snoozes until the request's
// next step is due; it completes when the request needs nothing more.
type ExecuteArgs struct {
	RequestID int64 `json:"request_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (ExecuteArgs) Kind() string { return KindExecute }

// InsertOpts: one job per request at a time, across every state but the
// finished ones. A snooze does not count as an attempt (River gives it back),
// so a two-hour build never runs out of them; only database errors and
// rescues of a dead worker's run count, and the sweep inserts the job afresh
// if they ever did run out.
func (ExecuteArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 100,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: notFinalized}}
}

// SweepArgs is the periodic job that inserts the execution job of every
// active request lacking one.
type SweepArgs struct{}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return KindSweep }

// InsertOpts puts it on the restore queue.
func (SweepArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// ExpireArgs is the periodic job that expires stale pending requests.
type ExpireArgs struct{}

// Kind implements river.JobArgs.
func (ExpireArgs) Kind() string { return KindExpire }

// InsertOpts puts it on the restore queue.
func (ExpireArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// JobTimeout is how long one run of a restore job may last, from the JD
// Cloud client's timeout: a step is one call (or one search) plus a few
// writes, so twice the call's timeout bounds it with room to spare. A read
// retried past it is cut short and simply runs again; the create is never
// retried within a step.
func JobTimeout(clientTimeout time.Duration) time.Duration {
	if clientTimeout <= 0 {
		clientTimeout = jdcloud.DefaultTimeout
	}
	return 2 * clientTimeout
}

// Register adds the execution, the sweep and the expiry to the job engine:
// the restore is a jobs.Kind.
func (w *Worker) Register(r *jobs.Registry) error {
	if err := river.AddWorkerSafely(r.Workers(), &executeWorker{w: w}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(r.Workers(), &sweepWorker{w: w}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(r.Workers(), &expireWorker{w: w}); err != nil {
		return err
	}
	// The sweep and the expiry take a worker each now and then; the rest
	// are the requests in hand.
	r.Queue(Queue, w.cfg.Concurrency+1)
	r.Periodic(KindSweep, w.cfg.SweepEvery, func() river.JobArgs { return SweepArgs{} })
	r.Periodic(KindExpire, w.cfg.ExpireEvery, func() river.JobArgs { return ExpireArgs{} })
	return nil
}

// scheduleExecution inserts request id's execution job in tx; when one is
// already alive, River skips the insert.
func scheduleExecution(ctx context.Context, client *jobs.Client, tx pgx.Tx, id int64) (inserted bool, err error) {
	res, err := client.InsertTx(ctx, tx, ExecuteArgs{RequestID: id}, nil)
	if err != nil {
		return false, fmt.Errorf("schedule the execution of request %d: %w", id, err)
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

type executeWorker struct {
	river.WorkerDefaults[ExecuteArgs]
	w *Worker
}

// Work runs one step of the request and snoozes until the next is due. The
// at-most-once protocol lives in Step; a rescued or duplicated run meets the
// request's advisory lock or a row that already moved on, so it cannot act
// twice.
func (e *executeWorker) Work(ctx context.Context, job *river.Job[ExecuteArgs]) error {
	next, err := e.w.Step(ctx, job.Args.RequestID)
	switch {
	case errors.Is(err, postgres.ErrNotFound):
		e.w.cfg.Log.WarnContext(ctx, "execution job for a request that does not exist", "request", job.Args.RequestID)
		return nil
	case err != nil:
		return err // database trouble: River retries with backoff
	case next.Busy:
		// A run River rescued from a worker that is slow rather than dead,
		// or a duplicate: the holder finishes its step first.
		e.w.cfg.Log.InfoContext(ctx, "request held by another worker; looking again shortly", "request", job.Args.RequestID,
			"job", job.ID, "attempt", job.Attempt)
		return river.JobSnooze(busySnooze)
	case next.Done:
		return nil
	}
	return river.JobSnooze(next.After)
}

// Timeout is the step's bound, from the JD Cloud client's timeout.
func (e *executeWorker) Timeout(*river.Job[ExecuteArgs]) time.Duration {
	return JobTimeout(e.w.cfg.ClientTimeout)
}

// NextRetry keeps retries after a database error short (River's default
// grows to hours): the request is in flight, and each retry is one cheap
// step.
func (e *executeWorker) NextRetry(job *river.Job[ExecuteArgs]) time.Time {
	return time.Now().Add(min(time.Minute, time.Second<<min(job.Attempt, 6)))
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	w *Worker
}

// Work inserts the execution job of every request that still has work (or
// a last tag search) ahead, in one transaction; River skips those that have
// one. It catches requests approved before the execution ran on River, and a
// job that ran out of attempts.
func (s *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	return pgx.BeginFunc(ctx, s.w.pool, func(tx pgx.Tx) error {
		ids, err := postgres.New(tx).ExecutableRequests(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			inserted, err := scheduleExecution(ctx, client, tx, id)
			if err != nil {
				return err
			}
			if inserted {
				s.w.cfg.Log.InfoContext(ctx, "scheduled the execution of a request that had no job", "request", id)
			}
		}
		return nil
	})
}

type expireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	w *Worker
}

// Work expires every pending request whose approval window has passed.
func (x *expireWorker) Work(ctx context.Context, job *river.Job[ExpireArgs]) error {
	n, err := x.w.life.ExpireDue(ctx)
	if n > 0 {
		x.w.cfg.Log.InfoContext(ctx, "expired pending requests", "count", n)
	}
	return err
}
