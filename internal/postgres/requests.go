package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/request"
)

// The states queries name, written into the SQL as literals (from the
// machine, not repeated by hand) so they match the partial indexes of
// migration 00006: 'approved', 'provisioning', 'creating' and 'pending_approval'.
var (
	workerStatuses = sqlStatuses(request.Requests.WorkerStatuses()...)
	pending        = sqlStatuses(request.Pending)
)

// sqlStatuses renders statuses as a list of SQL string literals. They are
// the machine's constants, never user input.
func sqlStatuses(ss ...request.Status) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + strings.ReplaceAll(string(s), "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}

// requestSelect reads requests with the names of their team, requester and decider.
const requestSelect = `
	SELECT r.id, r.submission_key, r.team_id, t.name AS team_name, r.requester_id,
		ru.display_name AS requester_name, r.status, r.region, r.source_instance_id, r.source_instance_name,
		r.backup_id, r.backup_name, r.backup_time, r.backup_size_bytes, r.engine, r.spec, r.reason,
		r.created_at, r.updated_at, r.expires_at, r.decided_by, du.display_name AS decider_name, r.decided_at,
		r.decision_comment, r.next_check_at, r.create_attempts, r.create_sent_at, r.instance_id,
		r.instance_status, r.instance_created_at, r.internal_domain_name, r.instance_port, r.poll_count,
		r.failure_reason, r.failure, r.finished_at, r.create_ended_at, r.retry_since, r.recheck_tag,
		r.tag_check_at, r.tag_check_tries, r.kind, r.restore_time, r.keep_days
	FROM restore_requests r
	JOIN teams t ON t.id = r.team_id
	JOIN users ru ON ru.id = r.requester_id
	LEFT JOIN users du ON du.id = r.decided_by`

// Request returns request id. It returns ErrNotFound when there is none.
func (d *DB) Request(ctx context.Context, id int64) (request.Request, error) {
	return d.requestWhere(ctx, `WHERE r.id = $1`, id)
}

// RequestForUpdate returns request id locked until the transaction ends, so a
// transition reads the state it changes. It returns ErrNotFound when there is none.
func (d *DB) RequestForUpdate(ctx context.Context, id int64) (request.Request, error) {
	return d.requestWhere(ctx, `WHERE r.id = $1 FOR UPDATE OF r`, id)
}

// RequestBySubmission returns the request created from a form's submission key.
// It returns ErrNotFound when there is none.
func (d *DB) RequestBySubmission(ctx context.Context, key string) (request.Request, error) {
	return d.requestWhere(ctx, `WHERE r.submission_key = $1`, key)
}

func (d *DB) requestWhere(ctx context.Context, where string, args ...any) (request.Request, error) {
	rows, err := d.db.Query(ctx, requestSelect+" "+where, args...)
	if err != nil {
		return request.Request{}, fmt.Errorf("query request: %w", err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[request.Request])
	if errors.Is(err, pgx.ErrNoRows) {
		return request.Request{}, ErrNotFound
	}
	if err != nil {
		return request.Request{}, fmt.Errorf("read request: %w", err)
	}
	return r, nil
}

// NewRequest is what a submitted form stores.
type NewRequest struct {
	SubmissionKey      string
	TeamID             int64
	RequesterID        int64
	Region             string
	SourceInstanceID   string
	SourceInstanceName string
	BackupID           string
	BackupName         string
	BackupTime         string
	BackupSizeBytes    int64
	Engine             string
	Spec               json.RawMessage
	Reason             string
	ExpiresAt          time.Time
	Kind               request.Kind // empty means request.FromBackup
	RestoreTime        *time.Time   // the point in time, for request.ToPointInTime
	KeepDays           int          // how long the copy is kept, in days from Ready; 0: not set (stored as NULL)
}

// InsertRequest stores a new pending request and returns its id. A second
// insert with the same submission key returns the first request's id and
// created=false, so a double submission creates one request.
func (d *DB) InsertRequest(ctx context.Context, n NewRequest) (id int64, created bool, err error) {
	err = d.db.QueryRow(ctx, `
		INSERT INTO restore_requests (submission_key, team_id, requester_id, region, source_instance_id,
			source_instance_name, backup_id, backup_name, backup_time, backup_size_bytes, engine, spec, reason, expires_at,
			kind, restore_time, keep_days)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (submission_key) DO NOTHING
		RETURNING id`,
		n.SubmissionKey, n.TeamID, n.RequesterID, n.Region, n.SourceInstanceID, n.SourceInstanceName,
		n.BackupID, n.BackupName, n.BackupTime, n.BackupSizeBytes, n.Engine, string(n.Spec), n.Reason, n.ExpiresAt,
		cmp.Or(n.Kind, request.FromBackup), n.RestoreTime, keepDays(n.KeepDays),
	).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = d.db.QueryRow(ctx, `SELECT id FROM restore_requests WHERE submission_key = $1`, n.SubmissionKey).Scan(&id)
		return id, false, err
	}
	if err != nil {
		return 0, false, fmt.Errorf("insert request: %w", err)
	}
	return id, true, nil
}

// RequestUpdate is a set of columns to change on a request; nil fields stay.
// A new Status must be a transition of request.Requests from the state the
// update expects; its effects (decided_at, finished_at, next_check_at) come
// from that table.
type RequestUpdate struct {
	Status             *request.Status
	DecidedBy          *int64
	DecisionComment    *string
	NextCheckAt        *time.Time
	ClearNextCheck     bool
	CreateAttempts     *int
	CreateSentAt       *time.Time
	ClearCreateSent    bool
	InstanceID         *string
	InstanceStatus     *string
	InstanceCreatedAt  *time.Time
	InternalDomainName *string
	InstancePort       *string
	PollCount          *int
	FailureReason      *string
	Failure            json.RawMessage
	CreateEndedAt      *time.Time
	ClearCreateEnded   bool
	RetrySince         *time.Time
	ClearRetrySince    bool
	RecheckTag         *bool
	TagCheckAt         *time.Time
	ClearTagCheck      bool
	TagCheckTries      *int
}

// UpdateRequest changes request id, only if it is still in state from, and
// reports whether it did. Callers hold the row lock (RequestForUpdate) or rely
// on the state condition to make a racing second transition a no-op. A
// status change the machine does not list is refused before anything is sent.
func (d *DB) UpdateRequest(ctx context.Context, id int64, from request.Status, u RequestUpdate) (bool, error) {
	sets := []string{"updated_at = now()"}
	args := []any{id, from}
	add := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	if u.Status != nil {
		t, err := request.Requests.Transition(from, *u.Status)
		if err != nil {
			return false, fmt.Errorf("update request %d: %w", id, err)
		}
		add("status", t.To)
		if t.Has(request.Decides) {
			sets = append(sets, "decided_at = now()")
		}
		if t.Has(request.Schedules) && u.NextCheckAt == nil {
			sets = append(sets, "next_check_at = now()")
		}
		if t.Has(request.Finishes) {
			sets = append(sets, "finished_at = now()", "next_check_at = NULL")
		}
	}
	if u.DecidedBy != nil {
		add("decided_by", *u.DecidedBy)
	}
	if u.DecisionComment != nil {
		add("decision_comment", *u.DecisionComment)
	}
	if u.NextCheckAt != nil {
		add("next_check_at", *u.NextCheckAt)
	}
	if u.ClearNextCheck {
		sets = append(sets, "next_check_at = NULL")
	}
	if u.CreateAttempts != nil {
		add("create_attempts", *u.CreateAttempts)
	}
	if u.CreateSentAt != nil {
		add("create_sent_at", *u.CreateSentAt)
	}
	if u.ClearCreateSent {
		sets = append(sets, "create_sent_at = NULL")
	}
	if u.InstanceID != nil {
		add("instance_id", *u.InstanceID)
	}
	if u.InstanceStatus != nil {
		add("instance_status", *u.InstanceStatus)
	}
	if u.InstanceCreatedAt != nil {
		add("instance_created_at", *u.InstanceCreatedAt)
	}
	if u.InternalDomainName != nil {
		add("internal_domain_name", *u.InternalDomainName)
	}
	if u.InstancePort != nil {
		add("instance_port", *u.InstancePort)
	}
	if u.PollCount != nil {
		add("poll_count", *u.PollCount)
	}
	if u.FailureReason != nil {
		add("failure_reason", *u.FailureReason)
	}
	if u.Failure != nil {
		add("failure", string(u.Failure))
	}
	if u.CreateEndedAt != nil {
		add("create_ended_at", *u.CreateEndedAt)
	}
	if u.ClearCreateEnded {
		sets = append(sets, "create_ended_at = NULL")
	}
	if u.RetrySince != nil {
		add("retry_since", *u.RetrySince)
	}
	if u.ClearRetrySince {
		sets = append(sets, "retry_since = NULL")
	}
	if u.RecheckTag != nil {
		add("recheck_tag", *u.RecheckTag)
	}
	if u.TagCheckAt != nil {
		add("tag_check_at", *u.TagCheckAt)
	}
	if u.ClearTagCheck {
		sets = append(sets, "tag_check_at = NULL")
	}
	if u.TagCheckTries != nil {
		add("tag_check_tries", *u.TagCheckTries)
	}
	tag, err := d.db.Exec(ctx, `UPDATE restore_requests SET `+strings.Join(sets, ", ")+
		` WHERE id = $1 AND status = $2`, args...)
	if err != nil {
		return false, fmt.Errorf("update request %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ExecutableRequests returns the ids of the requests the worker still has
// work on: those in a worker state with a next step scheduled, and those
// (in any state) with a last tag search ahead.
func (d *DB) ExecutableRequests(ctx context.Context) ([]int64, error) {
	rows, err := d.db.Query(ctx, `
		SELECT id FROM restore_requests
		WHERE (status IN (`+workerStatuses+`) AND next_check_at IS NOT NULL) OR tag_check_at IS NOT NULL
		ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("executable requests: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// Now reads the database's clock. Every replica takes the times the
// at-most-once protocol compares from here, so a replica whose own clock is
// off cannot shorten the visibility window.
func (d *DB) Now(ctx context.Context) (time.Time, error) {
	var t time.Time
	if err := d.db.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read the database clock: %w", err)
	}
	return t, nil
}

// StalePending returns the ids of pending requests whose approval window has passed.
func (d *DB) StalePending(ctx context.Context, limit int) ([]int64, error) {
	rows, err := d.db.Query(ctx, `
		SELECT id FROM restore_requests WHERE status = `+pending+` AND expires_at <= now()
		ORDER BY expires_at LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("stale requests: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// TeamOwns reports whether team owns the source instance in region and may
// restore into vpcID there.
func (d *DB) TeamOwns(ctx context.Context, team int64, region, instanceID, vpcID string) (bool, error) {
	var ok bool
	err := d.db.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM team_instances WHERE team_id = $1 AND region = $2 AND instance_id = $3)
		   AND EXISTS (SELECT 1 FROM team_vpcs WHERE team_id = $1 AND region = $2 AND vpc_id = $4)`,
		team, region, instanceID, vpcID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check team ownership: %w", err)
	}
	return ok, nil
}

// OtherLeads counts the active leads of team other than user: the people who
// could decide user's request.
func (d *DB) OtherLeads(ctx context.Context, team, user int64) (int, error) {
	var n int
	err := d.db.QueryRow(ctx, `
		SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.team_id = $1 AND m.lead AND m.user_id <> $2 AND NOT u.disabled`, team, user).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count team leads: %w", err)
	}
	return n, nil
}

// RequestCounts returns how many requests are in each status (statuses
// without any are absent).
func (d *DB) RequestCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := d.db.Query(ctx, `SELECT status, count(*) FROM restore_requests GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count requests: %w", err)
	}
	counts := map[string]int64{}
	var status string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error { counts[status] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("count requests: %w", err)
	}
	return counts, nil
}

// keepDays is a lifetime as the column stores it: NULL for not set.
func keepDays(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}
