// Package audit records Restore Desk's audit trail: an append-only table of
// events, each chained to the previous one by SHA-256, written in the same
// transaction as the change it describes.
package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/postgres"
)

// The actions of SPEC §4. These identifiers appear in filters and exports, so
// they never change.
const (
	SignIn                 = "auth.sign_in"
	SignInFailed           = "auth.sign_in_failed"
	SignOut                = "auth.sign_out"
	SessionsRevoked        = "auth.sessions_revoked"
	RequestCreated         = "request.created"
	RequestCancelled       = "request.cancelled"
	RequestApproved        = "request.approved"
	RequestRejected        = "request.rejected"
	RequestExpired         = "request.expired"
	RequestExecutionStart  = "request.execution_started"
	JDCloudCall            = "jdcloud.call"
	RequestInstanceCreated = "request.instance_created"
	RequestInstanceAdopted = "request.instance_adopted"
	RequestReady           = "request.ready"
	RequestFailed          = "request.failed"
	AdminUserCreated       = "admin.user_created"
	AdminUserUpdated       = "admin.user_updated"
	AdminUserDisabled      = "admin.user_disabled"
	AdminPasswordReset     = "admin.password_reset"
	AdminTeamCreated       = "admin.team_created"
	AdminMembershipChanged = "admin.membership_changed"
	AdminOwnershipChanged  = "admin.ownership_changed"
	AuditExported          = "audit.exported"
)

// Actions lists every action identifier, in the order of SPEC §4.
var Actions = []string{
	SignIn, SignInFailed, SignOut, SessionsRevoked, RequestCreated, RequestCancelled, RequestApproved,
	RequestRejected, RequestExpired, RequestExecutionStart, JDCloudCall, RequestInstanceCreated,
	RequestInstanceAdopted, RequestReady, RequestFailed, AdminUserCreated, AdminUserUpdated,
	AdminUserDisabled, AdminPasswordReset, AdminTeamCreated, AdminMembershipChanged,
	AdminOwnershipChanged, AuditExported,
}

// Target types.
const (
	TargetRequest = "request"
	TargetUser    = "user"
	TargetTeam    = "team"
	TargetAudit   = "audit"
)

// SystemName is the actor name of events written by the worker.
const SystemName = "system"

// Actor is who caused an event. A zero UserID means the system.
type Actor struct {
	UserID     int64
	Name       string
	ClientAddr string
	UserAgent  string
}

// System is the actor of the background worker.
var System = Actor{Name: SystemName}

// Event is one audit event to record. Details must never hold a secret.
type Event struct {
	Actor      Actor
	Action     string
	TargetType string
	TargetID   string
	TeamID     int64 // 0 when the event concerns no team
	Details    map[string]any
}

// Recorded is an event as stored, with its place in the chain.
type Recorded struct {
	Seq        int64
	OccurredAt time.Time
	Hash       string // lowercase hex
}

// lockKey serialises writers of the chain: every Record takes this
// transaction-scoped advisory lock before reading the head, so two
// transactions can never chain to the same predecessor.
const lockKey = 0x7265737464657361 // "restdesa"

// Record appends ev to the audit trail inside db, which should be the
// transaction making the change ev describes: the event then commits with the
// change or not at all. Writers wait for each other from the moment they
// record until they commit, so record last in a transaction.
func Record(ctx context.Context, db postgres.DBTX, ev Event) (Recorded, error) {
	if ev.Action == "" || ev.TargetType == "" || ev.Actor.Name == "" {
		return Recorded{}, errors.New("record audit event: action, target type and actor name are required")
	}
	var rec Recorded
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockKey)); err != nil {
			return fmt.Errorf("lock audit chain: %w", err)
		}
		var prevSeq int64
		prev := make([]byte, 0, 32)
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&prevSeq, &prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read audit head: %w", err)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			prev = GenesisHash()
		}
		row := Row{
			Seq:        prevSeq + 1,
			OccurredAt: time.Now().UTC().Truncate(time.Microsecond),
			ActorName:  ev.Actor.Name,
			ClientAddr: ev.Actor.ClientAddr,
			UserAgent:  ev.Actor.UserAgent,
			Action:     ev.Action,
			TargetType: ev.TargetType,
			TargetID:   ev.TargetID,
			PrevHash:   prev,
		}
		if ev.Actor.UserID != 0 {
			row.ActorID = &ev.Actor.UserID
		}
		if ev.TeamID != 0 {
			row.TeamID = &ev.TeamID
		}
		details, err := CanonicalDetails(ev.Details)
		if err != nil {
			return err
		}
		row.Details = details
		if row.Hash, err = row.ComputeHash(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO audit_events (seq, occurred_at, actor_id, actor_name, client_addr, user_agent,
				action, target_type, target_id, team_id, details, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			row.Seq, row.OccurredAt, row.ActorID, row.ActorName, row.ClientAddr, row.UserAgent,
			row.Action, row.TargetType, row.TargetID, row.TeamID, string(row.Details), row.PrevHash, row.Hash)
		if err != nil {
			return fmt.Errorf("insert audit event: %w", err)
		}
		rec = Recorded{Seq: row.Seq, OccurredAt: row.OccurredAt, Hash: hex.EncodeToString(row.Hash)}
		return nil
	})
	if err != nil {
		return Recorded{}, fmt.Errorf("record %s: %w", ev.Action, err)
	}
	return rec, nil
}
