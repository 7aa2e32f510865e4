// Package jobs is Restore Desk's one engine for background work: a River
// client on the application's PostgreSQL pool. Each part of the product that
// has background work (notifications today, the restore execution next)
// registers its workers, queues and periodic jobs through a Kind, and main
// builds the client from the list of kinds in one place.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// Client is the River client every part shares; InsertTx puts a job in the
// caller's transaction, so it exists exactly when the change that caused it
// commits.
type Client = river.Client[pgx.Tx]

// Kind is one part's background work.
type Kind interface {
	// Register adds the part's workers, queues and periodic jobs.
	Register(r *Registry) error
}

// Registry collects what the kinds register.
type Registry struct {
	workers  *river.Workers
	queues   map[string]river.QueueConfig
	periodic []*river.PeriodicJob
}

// Workers is where a kind adds its workers: river.AddWorker(r.Workers(), w).
func (r *Registry) Workers() *river.Workers { return r.workers }

// Queue declares a queue worked with up to maxWorkers jobs at once per process.
func (r *Registry) Queue(name string, maxWorkers int) {
	r.queues[name] = river.QueueConfig{MaxWorkers: maxWorkers}
}

// Periodic runs args every period, once per period across every process:
// River's elected leader inserts it, and the insert is unique by period, so
// a change of leader within a period cannot insert it twice. (River refuses
// unique periods under a second; tests run shorter periods without that
// guard, which the jobs' own idempotence makes harmless.)
func (r *Registry) Periodic(id string, every time.Duration, args func() river.JobArgs) {
	r.periodic = append(r.periodic, river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) {
			if every < time.Second {
				return args(), nil
			}
			return args(), &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: every}}
		},
		&river.PeriodicJobOpts{ID: id, RunOnStart: true}))
}

// Config tunes the client.
type Config struct {
	// Work: the client works jobs (web worker, and web serve's in-process
	// worker). Without it the client only inserts.
	Work bool
	// JobTimeout bounds one run of a job (default 1m): its context ends
	// then. River's leader rescues a job still marked running RescueAfter
	// (default 5m, and it must be longer) after it started — a worker that
	// died mid-job — and runs it again; its rescuer looks every 30s.
	JobTimeout, RescueAfter time.Duration
	// Poll is how often queues are polled besides LISTEN/NOTIFY (default 1s).
	Poll time.Duration
	// Test shortens River's start-up for tests.
	Test bool
	Log  *slog.Logger
}

// New builds the client for kinds on pool.
func New(pool *pgxpool.Pool, cfg Config, kinds ...Kind) (*Client, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{workers: river.NewWorkers(), queues: map[string]river.QueueConfig{}}
	for _, k := range kinds {
		if err := k.Register(r); err != nil {
			return nil, fmt.Errorf("register background work: %w", err)
		}
	}
	rc := &river.Config{
		Workers:              r.workers,
		JobTimeout:           or(cfg.JobTimeout, time.Minute),
		RescueStuckJobsAfter: or(cfg.RescueAfter, 5*time.Minute),
		FetchPollInterval:    or(cfg.Poll, time.Second),
		FetchCooldown:        min(river.FetchCooldownDefault, or(cfg.Poll, time.Second)),
		// Keep finished jobs a day for the admins; deliveries keep their own history.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		Logger:                      cfg.Log.With("component", "river"),
		TestOnly:                    cfg.Test,
	}
	if rc.RescueStuckJobsAfter <= rc.JobTimeout {
		return nil, errors.New("jobs: the rescue delay must be longer than the job timeout")
	}
	if cfg.Work {
		rc.Queues = r.queues
		if len(rc.Queues) == 0 {
			rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}}
		}
		rc.PeriodicJobs = r.periodic
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return client, nil
}

// Inserter returns a client that only inserts jobs, in the caller's
// transactions (InsertTx): a part that schedules work when its change
// commits needs no worker of its own, whichever process it runs in.
func Inserter() *Client {
	// Without a pool and workers River builds no services and checks no
	// kinds; the error is only ever about the configuration, fixed here.
	c, err := river.NewClient(riverpgxv5.New(nil), &river.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic("jobs: insert-only client: " + err.Error())
	}
	return c
}

// Run works jobs until ctx ends, then stops within a grace period: jobs still
// running are cancelled and River runs them again later.
func Run(ctx context.Context, c *Client, log *slog.Logger) error {
	// Started without ctx: its end means stop gracefully (below), not abandon.
	if err := c.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start background work: %w", err)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(sctx); err != nil {
		log.Warn("background work did not stop cleanly", "err", err)
		return c.StopAndCancel(context.Background())
	}
	return nil
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
