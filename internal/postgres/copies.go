package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The states of a copy, as the copies table stores them.
const (
	CopyRunning      = "running"
	CopyDeleting     = "deleting"
	CopyDeleted      = "deleted"
	CopyDeleteFailed = "delete_failed"
	CopyGoneOutside  = "gone_outside"
	CopyOverdue      = "overdue"
)

// Copy is a row of the copies table with what the pages and the deletion
// job need of its request and team.
type Copy struct {
	ID             int64           `db:"id"`
	RequestID      int64           `db:"request_id"`
	Region         string          `db:"region"`
	InstanceID     string          `db:"instance_id"`
	Duplicate      bool            `db:"duplicate"`
	Prepaid        bool            `db:"prepaid"`
	State          string          `db:"state"`
	DeleteAt       *time.Time      `db:"delete_at"`
	DeleteSentAt   *time.Time      `db:"delete_sent_at"`
	DeleteAskedAt  *time.Time      `db:"delete_requested_at"`
	DeleteAttempts int             `db:"delete_attempts"`
	Failure        json.RawMessage `db:"failure"`
	CreatedAt      time.Time       `db:"created_at"`
	UpdatedAt      time.Time       `db:"updated_at"`
	FinishedAt     *time.Time      `db:"finished_at"`
	// Of the request: its team, requester, status, when it was ready (or
	// failed), how long it was to be kept, and its spec for the estimate.
	TeamID        int64           `db:"team_id"`
	TeamName      string          `db:"team_name"`
	RequesterID   int64           `db:"requester_id"`
	RequesterName string          `db:"requester_name"`
	RequestStatus string          `db:"request_status"`
	ReadyAt       *time.Time      `db:"ready_at"`
	KeepDays      *int            `db:"keep_days"`
	Spec          json.RawMessage `db:"spec"`
	RemindOnly    bool            `db:"remind_only"`
	MaxKeepDays   int             `db:"max_keep_days"`
}

const copySelect = `
	SELECT c.id, c.request_id, c.region, c.instance_id, c.duplicate, c.prepaid, c.state, c.delete_at,
		c.delete_sent_at, c.delete_requested_at, c.delete_attempts, c.failure, c.created_at, c.updated_at, c.finished_at,
		r.team_id, t.name AS team_name, r.requester_id, u.display_name AS requester_name,
		r.status AS request_status, r.finished_at AS ready_at, r.keep_days, r.spec, t.remind_only, t.max_keep_days
	FROM copies c
	JOIN restore_requests r ON r.id = c.request_id
	JOIN teams t ON t.id = r.team_id
	JOIN users u ON u.id = r.requester_id`

// AddMissingCopies records the copies of the instances requests created
// that have none yet, and returns how many it added: a ready request's
// instance, to be deleted keep_days after Ready (a prepaid one is due at
// once, so the deletion job reads its period's end); a failed request's
// instance and every duplicate, 24 hours after they are found. Requests
// filed before copies had a lifetime (keep_days NULL) are left to the
// migration, which gave theirs no deletion time.
func (d *DB) AddMissingCopies(ctx context.Context) (int64, error) {
	tag, err := d.db.Exec(ctx, `
		INSERT INTO copies (request_id, region, instance_id, duplicate, prepaid, delete_at)
		SELECT r.id, r.region, r.instance_id, false,
			r.spec->'chargeSpec'->>'chargeMode' = 'prepaid_by_duration',
			CASE WHEN r.spec->'chargeSpec'->>'chargeMode' = 'prepaid_by_duration' THEN now()
			     WHEN r.status = 'ready' THEN r.finished_at + make_interval(days => r.keep_days)
			     ELSE now() + interval '24 hours' END
		FROM restore_requests r
		WHERE r.status IN ('ready', 'failed') AND r.instance_id <> '' AND r.keep_days IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM copies c WHERE c.region = r.region AND c.instance_id = r.instance_id)
		UNION ALL
		SELECT x.request_id, x.region, x.instance_id, true, false, now() + interval '24 hours'
		FROM duplicate_instances x
		JOIN restore_requests r ON r.id = x.request_id
		WHERE r.keep_days IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM copies c WHERE c.region = x.region AND c.instance_id = x.instance_id)
		ON CONFLICT (region, instance_id) DO NOTHING`)
	if err != nil {
		return 0, fmt.Errorf("add missing copies: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DueCopies returns the ids of the copies whose deletion time has passed
// and that are not finished: the deletion job's work.
func (d *DB) DueCopies(ctx context.Context) ([]int64, error) {
	rows, err := d.db.Query(ctx, `
		SELECT id FROM copies
		WHERE state IN ('running', 'deleting') AND delete_at <= now()
		ORDER BY delete_at, id`)
	if err != nil {
		return nil, fmt.Errorf("query due copies: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("read due copies: %w", err)
	}
	return ids, nil
}

// Copy returns copy id. It returns ErrNotFound when there is none.
func (d *DB) Copy(ctx context.Context, id int64) (Copy, error) {
	return d.copyWhere(ctx, `WHERE c.id = $1`, id)
}

// CopyForUpdate returns copy id locked until the transaction ends.
func (d *DB) CopyForUpdate(ctx context.Context, id int64) (Copy, error) {
	return d.copyWhere(ctx, `WHERE c.id = $1 FOR UPDATE OF c`, id)
}

func (d *DB) copyWhere(ctx context.Context, where string, args ...any) (Copy, error) {
	rows, err := d.db.Query(ctx, copySelect+" "+where, args...)
	if err != nil {
		return Copy{}, fmt.Errorf("query copy: %w", err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Copy])
	if errors.Is(err, pgx.ErrNoRows) {
		return Copy{}, ErrNotFound
	}
	if err != nil {
		return Copy{}, fmt.Errorf("read copy: %w", err)
	}
	return c, nil
}

// RequestCopies returns the copies of request id, its own instance first.
func (d *DB) RequestCopies(ctx context.Context, id int64) ([]Copy, error) {
	rows, err := d.db.Query(ctx, copySelect+` WHERE c.request_id = $1 ORDER BY c.duplicate, c.id`, id)
	if err != nil {
		return nil, fmt.Errorf("query request copies: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[Copy])
}

// LiveCopies returns the copies that still exist or may (running,
// deleting, delete failed, overdue), of teams (every team when all),
// oldest first.
func (d *DB) LiveCopies(ctx context.Context, teams []int64, all bool) ([]Copy, error) {
	rows, err := d.db.Query(ctx, copySelect+`
		WHERE c.state IN ('running', 'deleting', 'delete_failed', 'overdue')
			AND ($2 OR r.team_id = ANY($1))
		ORDER BY c.created_at, c.id`, teams, all)
	if err != nil {
		return nil, fmt.Errorf("query live copies: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[Copy])
}

// CopyUpdate changes a copy; nil fields stay.
type CopyUpdate struct {
	State       *string
	DeleteAt    *time.Time
	Prepaid     *bool
	DeleteSent  bool // set delete_sent_at to now and count the attempt
	DeleteAsked bool // set delete_requested_at to now: a person asked for the delete
	Failure     json.RawMessage
	Finished    bool // set finished_at to now
	ExpectState string
}

// UpdateCopy applies u to copy id if it is still in u.ExpectState, and
// reports whether it did.
func (d *DB) UpdateCopy(ctx context.Context, id int64, u CopyUpdate) (bool, error) {
	var failure any
	if u.Failure != nil {
		failure = string(u.Failure)
	}
	tag, err := d.db.Exec(ctx, `
		UPDATE copies SET
			state = COALESCE($3, state),
			delete_at = COALESCE($4, delete_at),
			delete_sent_at = CASE WHEN $5 THEN now() ELSE delete_sent_at END,
			delete_attempts = delete_attempts + CASE WHEN $5 THEN 1 ELSE 0 END,
			failure = COALESCE($6::jsonb, failure),
			finished_at = CASE WHEN $7 THEN now() ELSE finished_at END,
			prepaid = COALESCE($8, prepaid),
			delete_requested_at = CASE WHEN $9 THEN now() ELSE delete_requested_at END,
			updated_at = now()
		WHERE id = $1 AND state = $2`,
		id, u.ExpectState, u.State, u.DeleteAt, u.DeleteSent, failure, u.Finished, u.Prepaid, u.DeleteAsked)
	if err != nil {
		return false, fmt.Errorf("update copy %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}
