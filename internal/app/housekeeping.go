package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"restoredesk/internal/audit"
	"restoredesk/internal/identity"
	"restoredesk/internal/jobs"
)

// The housekeeping's River job kinds, as the admin pages list them.
const (
	// KindSessionCleanUp deletes expired sessions and old sign-in failures.
	KindSessionCleanUp = "session_cleanup"
	// KindAuditCheckpoint logs the audit chain's head.
	KindAuditCheckpoint = "audit_checkpoint"
)

// HousekeepingQueue is the River queue of the housekeeping jobs.
const HousekeepingQueue = "housekeeping"

// housekeeping is the periodic work no domain owns a schedule for: the
// session clean-up and the audit checkpoints. It is a jobs.Kind.
type housekeeping struct {
	pool       *pgxpool.Pool
	ids        *identity.Service
	log        *slog.Logger
	checkpoint time.Duration // AUDIT_CHECKPOINT_INTERVAL
}

// Register adds the two periodic jobs and their queue.
func (h *housekeeping) Register(r *jobs.Registry) error {
	if err := river.AddWorkerSafely(r.Workers(), &cleanUpWorker{h: h}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(r.Workers(), &checkpointWorker{h: h}); err != nil {
		return err
	}
	r.Queue(HousekeepingQueue, 1)
	// Expired sessions are refused anyway; this only keeps the tables small.
	r.Periodic(KindSessionCleanUp, time.Hour, func() river.JobArgs { return cleanUpArgs{} })
	r.Periodic(KindAuditCheckpoint, h.checkpoint, func() river.JobArgs { return checkpointArgs{} })
	return nil
}

type cleanUpArgs struct{}

func (cleanUpArgs) Kind() string { return KindSessionCleanUp }

func (cleanUpArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: HousekeepingQueue} }

type cleanUpWorker struct {
	river.WorkerDefaults[cleanUpArgs]
	h *housekeeping
}

func (w *cleanUpWorker) Work(ctx context.Context, job *river.Job[cleanUpArgs]) error {
	return w.h.ids.CleanUp(ctx)
}

type checkpointArgs struct{}

func (checkpointArgs) Kind() string { return KindAuditCheckpoint }

// InsertOpts: a failed checkpoint is not retried; the next period writes
// one anyway.
func (checkpointArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: HousekeepingQueue, MaxAttempts: 1}
}

type checkpointWorker struct {
	river.WorkerDefaults[checkpointArgs]
	h *housekeeping
}

func (w *checkpointWorker) Work(ctx context.Context, job *river.Job[checkpointArgs]) error {
	err := audit.LogCheckpoint(ctx, w.h.pool, w.h.log)
	if err != nil {
		w.h.log.WarnContext(ctx, "audit checkpoint failed", "err", err)
	}
	return err
}
