package restore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jobs"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/problem"
	"restoredesk/internal/request"
)

// Refusals of the transitions, each with the words the user reads.
var (
	// ErrForbidden: the actor may not do this to this request.
	ErrForbidden = problem.New(problem.Forbidden, "You may not do that to this request.")
	// ErrApprovalExpired: the approval window passed; the request is now expired.
	ErrApprovalExpired = problem.New(problem.Conflict, "Too late: the approval window has passed and the request has expired.")
	// ErrCommentRequired: a rejection needs a comment.
	ErrCommentRequired = problem.New(problem.Invalid, "Write a comment: the requester needs to know why.")
	// ErrCommentTooLong: a decision comment is longer than MaxCommentLength.
	ErrCommentTooLong = problem.Errorf(problem.Invalid, "The comment is longer than %d characters; shorten it.", MaxCommentLength)
	// ErrNoApprover: nobody but the requester leads the team, so nobody could decide.
	ErrNoApprover = problem.New(problem.Invalid, "Nobody but you leads this team, so nobody could approve the request; ask an admin to add another lead.")
	// ErrKeyInUse: the form's submission key belongs to another user's
	// request (a copied or forged form); the form must be sent afresh.
	ErrKeyInUse = problem.New(problem.Invalid, "This form was already used; check the values and submit it again.")
	// ErrPointInTimeGone: a point-in-time request waited until its moment
	// fell out of what JD Cloud can restore.
	ErrPointInTimeGone = problem.Errorf(problem.Conflict, "The moment to restore is now more than %d days ago, further back than "+
		"JD Cloud can restore. The requester can file it again with \"Request again\" and a later time; reject this one.", jdcloud.PointInTimeDays)
	// ErrNotOwned: the source instance or VPC does not belong to the team.
	ErrNotOwned = problem.New(problem.Invalid, "The team no longer owns this instance or may no longer use this VPC.")
)

// PointInTimeGone reports whether r restores to a point in time that is, at
// now, further back than JD Cloud can restore: approving it is refused
// (ErrPointInTimeGone), and the way forward is a new request with a later
// time.
func PointInTimeGone(r request.Request, now time.Time) bool {
	return r.Kind == request.ToPointInTime && r.RestoreTime != nil &&
		r.RestoreTime.Before(now.AddDate(0, 0, -jdcloud.PointInTimeDays))
}

// GoneComment is the rejection comment offered to a lead for a request whose
// point in time has gone (PointInTimeGone); at is the moment in words. The
// requester reads it next to "Request again".
func GoneComment(at string) string {
	return fmt.Sprintf("The moment to restore, %s, is now more than %d days ago, further back than JD Cloud can restore. "+
		"Use \"Request again\" on this page and choose a later time.", at, jdcloud.PointInTimeDays)
}

// StateError says a transition was refused because the request is no longer
// in the state it needs. It is a problem.Conflict (errors.As finds one).
type StateError struct{ Status Status }

func (e *StateError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the refusal in the user's words.
func (e *StateError) Unwrap() error {
	return problem.Errorf(problem.Conflict, "This request is %s and can no longer change that way.", strings.ToLower(e.Status.Label()))
}

// MaxCommentLength bounds decision comments.
const MaxCommentLength = 2000

// UserLoader loads a user with their current roles and memberships, inside
// the transaction db, so a decision is checked against the memberships of the
// moment it commits.
type UserLoader func(ctx context.Context, db postgres.DBTX, id int64) (*policy.User, error)

// Lifecycle performs the transitions (docs/architecture.md) that people (and the expiry
// job) cause. Each is one transaction that succeeds only from the state it
// expects, with its audit event.
type Lifecycle struct {
	pool     *pgxpool.Pool
	loadUser UserLoader
	ttl      time.Duration
	jobs     *jobs.Client // inserts the execution job when an approval commits
}

// NewLifecycle returns a Lifecycle; ttl is APPROVAL_TTL.
func NewLifecycle(pool *pgxpool.Pool, loadUser UserLoader, ttl time.Duration) *Lifecycle {
	return &Lifecycle{pool: pool, loadUser: loadUser, ttl: ttl, jobs: jobs.Inserter()}
}

// Submit stores a new pending request for actor and records request.created.
// A repeated submission (same submission key) returns the first request's id
// with created=false and records nothing. It re-checks, against the database
// of the moment, that the requester belongs to the team, that the team owns
// the source instance and may use the VPC, and that someone else could decide.
func (l *Lifecycle) Submit(ctx context.Context, actor audit.Actor, r NewRequest) (id int64, created bool, err error) {
	spec, err := json.Marshal(r.Spec)
	if err != nil {
		return 0, false, fmt.Errorf("encode spec: %w", err)
	}
	n := postgres.NewRequest{
		SubmissionKey: r.SubmissionKey, TeamID: r.TeamID, RequesterID: actor.UserID, Region: r.Region,
		SourceInstanceID: r.SourceInstanceID, SourceInstanceName: r.SourceInstanceName,
		BackupID: r.Backup.BackupID, BackupName: r.Backup.BackupName, BackupTime: r.Backup.BackupStartTime,
		BackupSizeBytes: r.Backup.BackupSizeByte, Engine: r.Engine, Spec: spec, Reason: r.Reason,
		ExpiresAt: time.Now().Add(l.ttl), Kind: cmp.Or(r.Kind, request.FromBackup), KeepDays: cmp.Or(r.KeepDays, DefaultKeepDays),
	}
	if n.Kind == request.ToPointInTime {
		n.RestoreTime = &r.RestoreTime
	}
	vpcID := r.Spec.VpcID
	err = postgres.New(l.pool).Tx(ctx, func(tx *postgres.DB) error {
		if prev, err := tx.RequestBySubmission(ctx, n.SubmissionKey); err == nil {
			if prev.RequesterID != actor.UserID {
				return ErrKeyInUse // someone else's form: reveal nothing of it
			}
			id = prev.ID
			return nil
		}
		u, err := l.loadUser(ctx, tx.Conn(), actor.UserID)
		if err != nil {
			return err
		}
		if !policy.CanCreateRequest(u, n.TeamID) {
			return ErrForbidden
		}
		owned, err := tx.TeamOwns(ctx, n.TeamID, n.Region, n.SourceInstanceID, vpcID)
		if err != nil {
			return err
		}
		if !owned {
			return ErrNotOwned
		}
		others, err := tx.OtherLeads(ctx, n.TeamID, actor.UserID)
		if err != nil {
			return err
		}
		if others == 0 {
			return ErrNoApprover
		}
		id, created, err = tx.InsertRequest(ctx, n)
		if err != nil || !created {
			return err
		}
		_, err = audit.Record(ctx, tx.Conn(), audit.Event{Actor: actor, Action: audit.RequestCreated,
			TargetType: audit.TargetRequest, TargetID: strconv.FormatInt(id, 10), TeamID: n.TeamID,
			Details: createdDetails(n)})
		return err
	})
	return id, created, err
}

// createdDetails are the details of request.created: what was asked for.
func createdDetails(n postgres.NewRequest) map[string]any {
	d := map[string]any{
		"region": n.Region, "source_instance_id": n.SourceInstanceID, "kind": n.Kind,
		"engine": n.Engine, "spec": n.Spec, "reason": n.Reason, "expires_at": n.ExpiresAt.UTC().Format(time.RFC3339),
		"keep_days": n.KeepDays,
	}
	if n.Kind == request.ToPointInTime {
		d["restore_time"] = n.RestoreTime.UTC().Format(time.RFC3339)
	} else {
		d["backup_id"] = n.BackupID
	}
	return d
}

// Approve approves request id for actor. Only a lead of the request's team who
// is not its requester may, while it is pending and its approval window is
// open; an approve arriving after the window expires the request instead.
// Approval also schedules execution: its job commits with it. The comment is
// optional; when given it is kept with the decision and in the
// request.approved event.
func (l *Lifecycle) Approve(ctx context.Context, actor audit.Actor, id int64, comment string) error {
	comment = strings.TrimSpace(comment)
	if utf8.RuneCountInString(comment) > MaxCommentLength {
		return ErrCommentTooLong
	}
	return l.decide(ctx, actor, id, Approved, comment)
}

// Reject rejects request id for actor with a comment (required).
func (l *Lifecycle) Reject(ctx context.Context, actor audit.Actor, id int64, comment string) error {
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return ErrCommentRequired
	}
	if utf8.RuneCountInString(comment) > MaxCommentLength {
		return ErrCommentTooLong
	}
	return l.decide(ctx, actor, id, Rejected, comment)
}

func (l *Lifecycle) decide(ctx context.Context, actor audit.Actor, id int64, to Status, comment string) error {
	expired := false
	err := postgres.New(l.pool).Tx(ctx, func(tx *postgres.DB) error {
		r, u, err := l.lockFor(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		pr := policy.Request{TeamID: r.TeamID, RequesterID: r.RequesterID, Pending: r.Status.Pending()}
		if !r.Status.Pending() {
			return &StateError{r.Status}
		}
		if !policy.CanDecide(u, pr) {
			return ErrForbidden
		}
		if !time.Now().Before(r.ExpiresAt) {
			expired = true
			return l.expire(ctx, tx, r)
		}
		if to == Approved && PointInTimeGone(r, time.Now()) {
			return ErrPointInTimeGone
		}
		upd := postgres.RequestUpdate{Status: &to, DecidedBy: &actor.UserID, DecisionComment: &comment}
		action := audit.RequestRejected
		if to == Approved {
			action = audit.RequestApproved // the machine schedules the work
		}
		if ok, err := tx.UpdateRequest(ctx, id, Pending, upd); err != nil {
			return err
		} else if !ok {
			return &StateError{r.Status}
		}
		details := map[string]any{"from": Pending, "to": to, "requester_id": r.RequesterID}
		if comment != "" {
			details["comment"] = comment
		}
		if _, err := audit.Record(ctx, tx.Conn(), audit.Event{Actor: actor, Action: action, TargetType: audit.TargetRequest,
			TargetID: strconv.FormatInt(id, 10), TeamID: r.TeamID, Details: details}); err != nil {
			return err
		}
		if to == Approved {
			// The job exists exactly when the approval does; River wakes a
			// worker when it commits.
			_, err := scheduleExecution(ctx, l.jobs, tx.Conn().(pgx.Tx), id)
			return err
		}
		return nil
	})
	if err == nil && expired {
		return ErrApprovalExpired
	}
	return err
}

// Cancel cancels request id: only its requester may, while it is pending.
func (l *Lifecycle) Cancel(ctx context.Context, actor audit.Actor, id int64) error {
	return postgres.New(l.pool).Tx(ctx, func(tx *postgres.DB) error {
		r, u, err := l.lockFor(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if !r.Status.Pending() {
			return &StateError{r.Status}
		}
		if !policy.CanCancel(u, policy.Request{TeamID: r.TeamID, RequesterID: r.RequesterID, Pending: true}) {
			return ErrForbidden
		}
		if ok, err := tx.UpdateRequest(ctx, id, Pending, postgres.RequestUpdate{Status: ptr(Cancelled)}); err != nil {
			return err
		} else if !ok {
			return &StateError{r.Status}
		}
		_, err = audit.Record(ctx, tx.Conn(), audit.Event{Actor: actor, Action: audit.RequestCancelled,
			TargetType: audit.TargetRequest, TargetID: strconv.FormatInt(id, 10), TeamID: r.TeamID,
			Details: map[string]any{"from": Pending, "to": Cancelled}})
		return err
	})
}

// lockFor locks request id and loads actor as a user. Someone who may not
// even see the request gets ErrNotFound, so ids reveal nothing.
func (l *Lifecycle) lockFor(ctx context.Context, tx *postgres.DB, actor audit.Actor, id int64) (request.Request, *policy.User, error) {
	r, err := tx.RequestForUpdate(ctx, id)
	if err != nil {
		return r, nil, err
	}
	u, err := l.loadUser(ctx, tx.Conn(), actor.UserID)
	if err != nil {
		return r, nil, err
	}
	if !policy.CanViewRequest(u, policy.Request{TeamID: r.TeamID, RequesterID: r.RequesterID}) {
		return r, nil, postgres.ErrNotFound
	}
	return r, u, nil
}

// ExpireDue expires every pending request whose approval window has passed,
// each in its own transaction with its request.expired event, and returns
// how many it expired.
func (l *Lifecycle) ExpireDue(ctx context.Context) (int, error) {
	db := postgres.New(l.pool)
	ids, err := db.StalePending(ctx, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := db.Tx(ctx, func(tx *postgres.DB) error {
			r, err := tx.RequestForUpdate(ctx, id)
			if err != nil || !r.Status.Pending() || time.Now().Before(r.ExpiresAt) {
				return err
			}
			n++
			return l.expire(ctx, tx, r)
		})
		if err != nil {
			return n, fmt.Errorf("expire request %d: %w", id, err)
		}
	}
	return n, nil
}

func (l *Lifecycle) expire(ctx context.Context, tx *postgres.DB, r request.Request) error {
	if ok, err := tx.UpdateRequest(ctx, r.ID, Pending, postgres.RequestUpdate{Status: ptr(Expired)}); err != nil || !ok {
		return err
	}
	_, err := audit.Record(ctx, tx.Conn(), audit.Event{Actor: audit.System, Action: audit.RequestExpired,
		TargetType: audit.TargetRequest, TargetID: strconv.FormatInt(r.ID, 10), TeamID: r.TeamID,
		Details: map[string]any{"from": Pending, "to": Expired, "expires_at": r.ExpiresAt.UTC().Format(time.RFC3339),
			"approval_ttl": l.ttl.String()}})
	return err
}
