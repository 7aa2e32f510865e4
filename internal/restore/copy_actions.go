package restore

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/audit"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/problem"
)

// Refusals of the copy actions, in the user's words.
var (
	// ErrCopyFinished: the copy is deleted, gone or failed; nothing to do.
	ErrCopyFinished = problem.New(problem.Conflict, "This copy is no longer running, so it cannot be extended or deleted here.")
	// ErrCopyPrepaid: a prepaid copy lives until its period ends.
	ErrCopyPrepaid = problem.New(problem.Conflict, "This copy is prepaid: it cannot be deleted before its period ends, and its deletion time is that end.")
	// ErrCopyNotSet: a copy from before lifetimes has no Ready time to count from.
	ErrCopyNotSet = problem.New(problem.Conflict, "This copy was made before copies had a lifetime; delete it with Delete now.")
)

// ExtendCopy moves copy id's deletion time to keepDays days after Ready,
// up to the team's limit, and records copy.extended. Its requester (while a
// member) or a lead of the team may. The problem for a bad number is a
// problem.Invalid in the user's words.
func (l *Lifecycle) ExtendCopy(ctx context.Context, actor audit.Actor, id int64, keepDays int) error {
	return postgres.New(l.pool).Tx(ctx, func(tx *postgres.DB) error {
		cp, err := l.manageableCopy(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if cp.ReadyAt == nil || cp.Duplicate {
			return ErrCopyNotSet
		}
		if keepDays < MinKeepDays || keepDays > cp.MaxKeepDays {
			return problem.Errorf(problem.Invalid, "Keep it from 1 to %d days after Ready: the team's limit.", cp.MaxKeepDays)
		}
		to := cp.ReadyAt.Add(time.Duration(keepDays) * 24 * time.Hour)
		if cp.DeleteAt != nil && !to.After(*cp.DeleteAt) {
			return problem.Errorf(problem.Invalid, "Choose more days than now: the copy is already kept until %s UTC.", cp.DeleteAt.UTC().Format("2006-01-02 15:04"))
		}
		if _, err := tx.UpdateCopy(ctx, id, postgres.CopyUpdate{ExpectState: cp.State, State: ptr(postgres.CopyRunning), DeleteAt: &to}); err != nil {
			return err
		}
		details := map[string]any{"copy_id": cp.ID, "instance_id": cp.InstanceID, "to": to.UTC().Format(time.RFC3339), "keep_days": keepDays}
		if cp.DeleteAt != nil {
			details["from"] = cp.DeleteAt.UTC().Format(time.RFC3339)
		}
		_, err = audit.Record(ctx, tx.Conn(), audit.Event{Actor: actor, Action: audit.CopyExtended, TargetType: audit.TargetRequest,
			TargetID: strconv.FormatInt(cp.RequestID, 10), TeamID: cp.TeamID, Details: details})
		return err
	})
}

// DeleteCopyNow makes copy id due now, records copy.delete_requested and
// inserts its deletion job, in one transaction. Its requester (while a
// member) or a lead of the team may.
func (l *Lifecycle) DeleteCopyNow(ctx context.Context, actor audit.Actor, id int64) error {
	return postgres.New(l.pool).Tx(ctx, func(tx *postgres.DB) error {
		cp, err := l.manageableCopy(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		now, err := tx.Now(ctx)
		if err != nil {
			return err
		}
		// An overdue copy runs again until the deletion job deletes it.
		if _, err := tx.UpdateCopy(ctx, id, postgres.CopyUpdate{ExpectState: cp.State, State: ptr(postgres.CopyRunning),
			DeleteAt: &now, DeleteAsked: true}); err != nil {
			return err
		}
		if _, err := audit.Record(ctx, tx.Conn(), audit.Event{Actor: actor, Action: audit.CopyDeleteRequested, TargetType: audit.TargetRequest,
			TargetID: strconv.FormatInt(cp.RequestID, 10), TeamID: cp.TeamID,
			Details: map[string]any{"copy_id": cp.ID, "instance_id": cp.InstanceID, "region": cp.Region, "delete_at": now.UTC().Format(time.RFC3339)}}); err != nil {
			return err
		}
		return ScheduleDeletion(ctx, l.jobs, tx.Conn().(pgx.Tx), id)
	})
}

// manageableCopy locks copy id and checks that actor may change it and
// that it still runs.
func (l *Lifecycle) manageableCopy(ctx context.Context, tx *postgres.DB, actor audit.Actor, id int64) (postgres.Copy, error) {
	cp, err := tx.CopyForUpdate(ctx, id)
	if err != nil {
		return cp, err
	}
	u, err := l.loadUser(ctx, tx.Conn(), actor.UserID)
	if err != nil {
		return cp, err
	}
	if !policy.CanManageCopy(u, policy.Request{TeamID: cp.TeamID, RequesterID: cp.RequesterID}) {
		return cp, ErrForbidden
	}
	switch {
	case cp.State != postgres.CopyRunning && cp.State != postgres.CopyOverdue:
		return cp, ErrCopyFinished
	case cp.Prepaid:
		return cp, ErrCopyPrepaid
	}
	return cp, nil
}
