package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// How a River job stands on the admin jobs page. A notification delivery
// retries by snoozing its job and counts its attempts in its own row, so for
// those the delivery's status decides: a snoozed job whose delivery is
// retrying is retrying, and a completed job whose delivery failed is failed.
const (
	JobQueued   = "queued"   // waiting to run: available, scheduled or pending
	JobRunning  = "running"  // a worker has it now
	JobRetrying = "retrying" // an attempt failed and another is planned
	JobFailed   = "failed"   // River gave up (discarded) or it was cancelled, or its delivery failed
)

// JobGroups lists the groups in the order the page offers them.
var JobGroups = []string{JobQueued, JobRunning, JobRetrying, JobFailed}

// jobGroup is the SQL of a job's group; completed jobs (other than failed
// deliveries) are "completed" and not listed.
const jobGroup = `CASE
		WHEN j.state = 'running' THEN 'running'
		WHEN j.state = 'retryable' THEN 'retrying'
		WHEN j.state IN ('available', 'scheduled', 'pending') THEN
			CASE WHEN d.status = 'retrying' THEN 'retrying' ELSE 'queued' END
		WHEN j.state IN ('discarded', 'cancelled') THEN 'failed'
		WHEN d.status = 'failed' THEN 'failed'
		ELSE 'completed'
	END`

// jobFrom joins each notification delivery job to its delivery.
const jobFrom = `
	FROM river_job j
	LEFT JOIN notify_deliveries d ON j.kind = 'notify_deliver' AND d.id = (j.args->>'delivery_id')::bigint`

// Job is one River job as the admin jobs page shows it.
type Job struct {
	ID          int64      `db:"id"`
	Kind        string     `db:"kind"`
	Queue       string     `db:"queue"`
	State       string     `db:"state"` // River's own state
	Group       string     `db:"grp"`   // one of JobGroups
	Attempt     int        `db:"attempt"`
	MaxAttempts int        `db:"max_attempts"`
	Args        string     `db:"args"`
	CreatedAt   time.Time  `db:"created_at"`
	ScheduledAt time.Time  `db:"scheduled_at"`
	AttemptedAt *time.Time `db:"attempted_at"`
	FinalizedAt *time.Time `db:"finalized_at"`
	LastError   string     `db:"last_error"` // River's last recorded error
	// A notification delivery's own record, when the job is one.
	DeliveryID       *int64  `db:"delivery_id"`
	DeliveryStatus   *string `db:"delivery_status"`
	DeliveryAttempts *int    `db:"delivery_attempts"`
	DeliveryError    *string `db:"delivery_error"`
	DeliveryType     *string `db:"delivery_type"`
}

const jobSelect = `
	SELECT j.id, j.kind, j.queue, j.state::text AS state, ` + jobGroup + ` AS grp, j.attempt, j.max_attempts,
		left(j.args::text, 300) AS args, j.created_at, j.scheduled_at, j.attempted_at, j.finalized_at,
		coalesce(j.errors[array_upper(j.errors, 1)]->>'error', '') AS last_error,
		d.id AS delivery_id, d.status AS delivery_status, d.attempts AS delivery_attempts, d.error AS delivery_error,
		d.type AS delivery_type` + jobFrom

// JobFilter selects jobs: a group (required), a kind ("" for every kind),
// and Before, the keyset cursor (the last id of the previous page; 0: the
// newest first).
type JobFilter struct {
	Group  string
	Kind   string
	Before int64
}

// Jobs returns up to limit jobs of f, newest first.
func (d *DB) Jobs(ctx context.Context, f JobFilter, limit int) ([]Job, error) {
	rows, err := d.db.Query(ctx, `SELECT * FROM (`+jobSelect+`) x
		WHERE grp = $1 AND ($2 = '' OR kind = $2) AND ($3 = 0 OR id < $3)
		ORDER BY id DESC LIMIT $4`, f.Group, f.Kind, f.Before, limit)
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	js, err := pgx.CollectRows(rows, pgx.RowToStructByName[Job])
	if err != nil {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	return js, nil
}

// Job returns job id.
func (d *DB) Job(ctx context.Context, id int64) (Job, error) {
	rows, err := d.db.Query(ctx, jobSelect+` WHERE j.id = $1`, id)
	if err != nil {
		return Job{}, fmt.Errorf("query job: %w", err)
	}
	j, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Job])
	if errors.Is(err, pgx.ErrNoRows) {
		return j, ErrNotFound
	}
	if err != nil {
		return j, fmt.Errorf("read job: %w", err)
	}
	return j, nil
}

// JobCount is how many jobs of a kind are in a group.
type JobCount struct {
	Kind  string `db:"kind"`
	Group string `db:"grp"`
	Count int    `db:"n"`
}

// JobCounts counts the listed jobs per kind and group, by kind.
func (d *DB) JobCounts(ctx context.Context) ([]JobCount, error) {
	rows, err := d.db.Query(ctx, `SELECT kind, grp, count(*) AS n FROM (SELECT j.kind, `+jobGroup+` AS grp`+jobFrom+`) x
		WHERE grp <> 'completed' GROUP BY kind, grp ORDER BY kind, grp`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByName[JobCount])
	if err != nil {
		return nil, fmt.Errorf("read job counts: %w", err)
	}
	return cs, nil
}
