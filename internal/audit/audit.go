// Package audit records Restore Desk's audit trail: an append-only table of
// events, each chained to the previous one by SHA-256, written in the same
// transaction as the change it describes.
//
// Unlike every other package but postgres, audit holds its own SQL: the
// chain's protocol (the lock that orders appends, the insert that links each
// event to the previous one, the queries that page, export and verify the
// chain) is one piece with the hashing it protects, so it is kept here rather
// than split across two packages.
package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/clip"
	"restoredesk/internal/postgres"
)

// The actions of the audit trail (docs/architecture.md). These identifiers
// appear in filters and exports, so
// they never change. Each event's target and details let a reader reconstruct
// what happened. The details keys each action carries, as the identity and
// restore code record them (⁺ = only when applicable; "via" = "cli", "sso",
// "demo", "test"… is added by identity when the change did not come from the
// web pages; request transitions carry from and to, the state names):
//
//	action                     actor        target        team  details
//	auth.sign_in               the user     user <id>     —     method ("password" or "oidc"), password_rehashed⁺,
//	                                                              device⁺ ("known": the browser's known-device cookie)
//	auth.sign_in_failed        "anonymous"  user <id> or  —     reason; for an existing account username, for an
//	                                        user ""             unknown one only username_hash (keyed, 32 hex) and
//	                                                              username_length (runes typed); device⁺; issuer⁺,
//	                                                              subject⁺ (single sign-on, where username is the
//	                                                              provider's)
//	auth.sign_in_blocked       "anonymous"  user <id> or  —     scope ("address", "account_address", "account" or
//	                                        user ""             "device"), key (the throttle key: address, keyed
//	                                                              username hash), until (RFC 3339), failures⁺, and
//	                                                              the attempt's username or username_hash/length⁺;
//	                                                              recorded once when a key starts refusing
//	auth.sign_in_refused       system       user ""       —     scope, key, refused (attempts turned away in the
//	                                                              window), since (RFC 3339): one count per key and
//	                                                              window instead of one event per refused attempt
//	auth.sign_out              the user     user <id>     —     scope ("this session", or "one session": another of
//	                                                              their sessions, from the account page), session_started⁺
//	auth.sessions_revoked      user/admin   user <id>     —     username, sessions_ended, by ("self" or "admin")
//	request.created            requester    request <id>  team  region, source_instance_id, kind ("backup" or "time"),
//	                                                              backup_id⁺ (a backup), restore_time⁺ (a point in time,
//	                                                              RFC 3339 UTC), engine, spec (the instanceSpec as sent to
//	                                                              JD Cloud), reason, expires_at
//	request.cancelled          requester    request <id>  team  from, to
//	request.approved           lead         request <id>  team  from, to, requester_id
//	request.rejected           lead         request <id>  team  from, to, requester_id, comment
//	request.expired            system       request <id>  team  from, to, expires_at (RFC 3339), approval_ttl (Go duration)
//	request.execution_started  system       request <id>  team  from, to, backup_id and backup_status (a backup), or kind,
//	                                                              restore_time and source_status (a point in time)
//	jdcloud.call               system       request <id>  team  operation, region, attempt, http_status (0: no answer),
//	                                                              jdcloud_request_id, duration_ms, error_class⁺, error⁺
//	                                                              (see RecordJDCloudCall)
//	request.instance_created   system       request <id>  team  from, to, instance_id, tag ("restoredesk=<dep>/<req>"), attempt
//	request.instance_adopted   system       request <id>  team  from, to, instance_id, tag, attempt (found by its tag after
//	                                                              an ambiguous create)
//	request.duplicate_instance system       request <id>  team  instance_ids (every instance found with the request's tag),
//	                                                              adopted (the request's own instance, "" when it has none),
//	                                                              duplicates (the others: to delete), tag, search ("create"
//	                                                              or "recheck": the search after the window passed again)
//	request.ready              system       request <id>  team  from, to, instance_id, internal_domain_name, instance_port
//	request.failed             system       request <id>  team  from, to, reason (plain words), instance_id⁺, jdcloud⁺
//	                                                              ({http_status, code, status, message, request_id})
//	admin.user_created         admin/system user <id>     —     username, email, name, admin, auditor, sign_in ("password"
//	                                                              or "sso"); issuer⁺, subject⁺; admin_pending⁺ (an
//	                                                              admin asked for the admin role: it waits for a
//	                                                              second admin, admin.admin_confirmed)
//	admin.user_updated         admin/system/ user <id>    —     username, changes ({field: {"from": old, "to": new}};
//	                           "sso"/user                         admin_pending when the admin role is asked for or
//	                                                              withdrawn); actor "sso" for changes the identity
//	                                                              provider's claims drive; by⁺ ("self": the user's
//	                                                              own account page, such as time_zone)
//	admin.user_disabled        admin/system user <id>     —     username, sessions_ended
//	admin.password_reset       admin/user   user <id>     —     username, by ("admin" or "self"), sessions_ended⁺;
//	                                                              never the password
//	admin.admin_confirmed      admin/system user <id>     —     username, requested_by (the admin's id who asked, "sso"
//	                                                              for an identity provider's claim, "system" for the
//	                                                              command line): a second admin granted the admin role
//	admin.team_created         admin/system team <id>     team  name
//	admin.membership_changed   admin/system team <id>     team  team (name), user_id, username, from, to ("none",
//	                                                              "member" or "lead")
//	admin.ownership_changed    admin/system team <id>     team  team (name), change ("added" or "removed"), kind
//	                                                              ("instance" or "vpc"), region, id, name
//	admin.channel_changed      admin        channel <id>  team⁺ change ("created", "updated" or "deleted"), channel (name),
//	                                                              kind, team (name, or "global default"), changed⁺ (the
//	                                                              field names; a secret appears as "url" or "secret",
//	                                                              never its value)
//	admin.channel_tested       admin        channel <id>  team⁺ channel (name), kind, team, outcome ("sent" or "failed"),
//	                                                              answer_status (0: no answer), error⁺
//	admin.team_policy_changed  admin        team <id>     team  team (name), changes ({field: {"from": old, "to": new}} for
//	                                                              max_keep_days, prepaid_allowed, remind_only,
//	                                                              second_lead_above (CNY per month, null: never))
//	copy.delete_requested      requester/   request <id>  team  copy_id, instance_id, region, delete_at (RFC 3339): "Delete
//	                           lead                               now"; the deletion job deletes it next
//	copy.extended              requester/   request <id>  team  copy_id, instance_id, from, to (the deletion times, RFC 3339),
//	                           lead                               keep_days (counted from Ready)
//	copy.deleted               system       request <id>  team  copy_id, instance_id, region, delete_sent_at⁺ (RFC 3339), how
//	                                                              ("deleted", or "gone" for a prepaid copy JD Cloud removed)
//	copy.delete_failed         system       request <id>  team  copy_id, instance_id, region, reason (plain words), jdcloud⁺
//	                                                              ({http_status, code, message, request_id})
//	audit.exported             auditor/     audit ""      —     format ("csv" or "jsonl"), filters (the non-empty filters
//	                           admin                              as typed: from, to, actor, team, action, target_type,
//	                                                              target_id); recorded before the export, which ends
//	                                                              with this event
//
// Leads see only events whose target is a request of their team, so request
// events must carry the request's team.
const (
	SignIn                 = "auth.sign_in"
	SignInFailed           = "auth.sign_in_failed"
	SignInBlocked          = "auth.sign_in_blocked"
	SignInRefused          = "auth.sign_in_refused"
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
	RequestDuplicate       = "request.duplicate_instance"
	RequestReady           = "request.ready"
	RequestFailed          = "request.failed"
	AdminUserCreated       = "admin.user_created"
	AdminUserUpdated       = "admin.user_updated"
	AdminUserDisabled      = "admin.user_disabled"
	AdminPasswordReset     = "admin.password_reset"
	AdminAdminConfirmed    = "admin.admin_confirmed"
	AdminTeamCreated       = "admin.team_created"
	AdminMembershipChanged = "admin.membership_changed"
	AdminOwnershipChanged  = "admin.ownership_changed"
	AdminChannelChanged    = "admin.channel_changed"
	AdminChannelTested     = "admin.channel_tested"
	AdminTeamPolicyChanged = "admin.team_policy_changed"
	CopyDeleteRequested    = "copy.delete_requested"
	CopyExtended           = "copy.extended"
	CopyDeleted            = "copy.deleted"
	CopyDeleteFailed       = "copy.delete_failed"
	AuditExported          = "audit.exported"
)

// Actions lists every action identifier, in the order the product lists them.
var Actions = []string{
	SignIn, SignInFailed, SignInBlocked, SignInRefused, SignOut, SessionsRevoked, RequestCreated, RequestCancelled, RequestApproved,
	RequestRejected, RequestExpired, RequestExecutionStart, JDCloudCall, RequestInstanceCreated,
	RequestInstanceAdopted, RequestDuplicate, RequestReady, RequestFailed, AdminUserCreated, AdminUserUpdated,
	AdminUserDisabled, AdminPasswordReset, AdminAdminConfirmed, AdminTeamCreated, AdminMembershipChanged,
	AdminOwnershipChanged, AdminChannelChanged, AdminChannelTested, AdminTeamPolicyChanged, CopyDeleteRequested, CopyExtended, CopyDeleted,
	CopyDeleteFailed, AuditExported,
}

// Target types.
const (
	TargetRequest = "request"
	TargetUser    = "user"
	TargetTeam    = "team"
	TargetAudit   = "audit"
	TargetChannel = "channel"
)

// SystemName is the actor name of events written by the worker.
const SystemName = "system"

// Actor is who caused an event. A zero UserID means the system. Name is the
// user's username (what the audit page's actor filter matches), or SystemName.
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
// record until they commit, so record last in a transaction. The transaction
// must be READ COMMITTED (PostgreSQL's default): a REPEATABLE READ snapshot
// taken before the lock would miss the newest event, and the insert would
// then fail on the duplicate seq rather than fork the chain.
func Record(ctx context.Context, db postgres.DBTX, ev Event) (Recorded, error) {
	if ev.Action == "" || ev.TargetType == "" || ev.Actor.Name == "" {
		return Recorded{}, errors.New("record audit event: action, target type and actor name are required")
	}
	var rec Recorded
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockKey)); err != nil {
			return fmt.Errorf("lock audit chain: %w", err)
		}
		// The head and the time are read after taking the lock, from the
		// database's clock, and the time never goes below the head's: so
		// occurred_at never decreases along seq, even across app servers with
		// skewed clocks, and a time range is a seq range (see Query).
		var (
			prevSeq *int64
			prev    []byte
			now     time.Time
		)
		err := tx.QueryRow(ctx, `
			SELECT h.seq, h.hash, greatest(clock_timestamp(), h.occurred_at)
			FROM (SELECT) AS one
			LEFT JOIN LATERAL (SELECT seq, hash, occurred_at FROM audit_events ORDER BY seq DESC LIMIT 1) AS h ON true`,
		).Scan(&prevSeq, &prev, &now)
		if err != nil {
			return fmt.Errorf("read audit head: %w", err)
		}
		next := int64(1)
		if prevSeq == nil {
			prev = GenesisHash()
		} else {
			next = *prevSeq + 1
		}
		row := Row{
			Seq:        next,
			OccurredAt: now.UTC().Truncate(time.Microsecond),
			ActorName:  clip.String(ev.Actor.Name, clip.Username),
			ClientAddr: clip.String(ev.Actor.ClientAddr, clip.Addr),
			UserAgent:  clip.String(ev.Actor.UserAgent, clip.UserAgent),
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
