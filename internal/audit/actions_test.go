package audit_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres/postgrestest"
)

// record records ev in a transaction of its own, as a handler would with its change.
func record(t testing.TB, pool *pgxpool.Pool, ev audit.Event) audit.Recorded {
	t.Helper()
	var rec audit.Recorded
	err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		var err error
		rec, err = audit.Record(t.Context(), tx, ev)
		return err
	})
	if err != nil {
		t.Fatalf("record %s: %v", ev.Action, err)
	}
	return rec
}

// verifyOK fails the test unless the whole chain verifies with count events.
func verifyOK(t testing.TB, pool *pgxpool.Pool, count int64) audit.Verification {
	t.Helper()
	v, err := audit.Verify(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	if v.Problem != nil || v.Count != count {
		t.Fatalf("verify: %d events, problem %v; want %d events and no problem", v.Count, v.Problem, count)
	}
	return v
}

var (
	alice   = audit.Actor{UserID: 11, Name: "alice", ClientAddr: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
	bob     = audit.Actor{UserID: 12, Name: "bob", ClientAddr: "198.51.100.2", UserAgent: "Mozilla/5.0 (Macintosh) Safari/605.1.15"}
	root    = audit.Actor{UserID: 1, Name: "root", ClientAddr: "10.0.0.5", UserAgent: "curl/8.5.0"}
	auditor = audit.Actor{UserID: 3, Name: "ada", ClientAddr: "10.0.0.9", UserAgent: "Mozilla/5.0 Chrome/127.0"}
)

// everyAction performs each action of audit.Actions with the details its doc
// comment promises.
var everyAction = []audit.Event{
	{Actor: alice, Action: audit.SignIn, TargetType: audit.TargetUser, TargetID: "11",
		Details: map[string]any{"method": "password"}},
	{Actor: audit.Actor{Name: "anonymous", ClientAddr: "192.0.2.66", UserAgent: "python-requests/2.31"},
		Action: audit.SignInFailed, TargetType: audit.TargetUser, TargetID: "",
		Details: map[string]any{"username_hash": "3f2a9c1d0b7e4a5f8c6d2e1b0a9f8e7d", "username_length": 7, "reason": "unknown_user"}},
	{Actor: audit.Actor{Name: "anonymous", ClientAddr: "192.0.2.66", UserAgent: "python-requests/2.31"},
		Action: audit.SignInBlocked, TargetType: audit.TargetUser, TargetID: "11",
		Details: map[string]any{"scope": "account", "key": "user:9b1e0c2d3f4a5b6c7d8e9f0a1b2c3d4e", "failures": 11,
			"until": "2026-03-01T02:00:02Z", "username": "alice"}},
	{Actor: audit.System, Action: audit.SignInRefused, TargetType: audit.TargetUser, TargetID: "",
		Details: map[string]any{"scope": "address", "key": "addr:2001:db8:1:2::/64", "refused": 982, "since": "2026-03-01T02:00:02Z"}},
	{Actor: alice, Action: audit.SignOut, TargetType: audit.TargetUser, TargetID: "11",
		Details: map[string]any{"scope": "this session"}},
	{Actor: alice, Action: audit.SessionsRevoked, TargetType: audit.TargetUser, TargetID: "11",
		Details: map[string]any{"username": "alice", "sessions_ended": 3, "by": "self"}},
	{Actor: alice, Action: audit.RequestCreated, TargetType: audit.TargetRequest, TargetID: "42", TeamID: 5,
		Details: map[string]any{
			"region": "cn-north-1", "source_instance_id": "mysql-8x2k1l", "backup_id": "bk-20260301-0200", "engine": "MySQL",
			"spec": map[string]any{"instanceClass": "db.mysql.s1.micro", "instanceStorageGB": 40,
				"azId": []string{"cn-north-1a", "cn-north-1b"}, "vpcId": "vpc-abc123", "subnetId": "subnet-def456",
				"chargeSpec": map[string]any{"chargeMode": "postpaid_by_duration"}, "instanceName": "restore-42", "instancePort": 3306},
			"reason": "客户投诉: order 7731 disappeared after the 02:00 migration", "expires_at": "2026-03-04T02:10:00Z"}},
	{Actor: alice, Action: audit.RequestCancelled, TargetType: audit.TargetRequest, TargetID: "43", TeamID: 5,
		Details: map[string]any{"from": "pending_approval", "to": "cancelled"}},
	{Actor: bob, Action: audit.RequestApproved, TargetType: audit.TargetRequest, TargetID: "42", TeamID: 5,
		Details: map[string]any{"from": "pending_approval", "to": "approved", "requester_id": 11}},
	{Actor: bob, Action: audit.RequestRejected, TargetType: audit.TargetRequest, TargetID: "44", TeamID: 5,
		Details: map[string]any{"from": "pending_approval", "to": "rejected", "requester_id": 11, "comment": "Use last night's backup, not this one."}},
	{Actor: audit.System, Action: audit.RequestExpired, TargetType: audit.TargetRequest, TargetID: "45", TeamID: 5,
		Details: map[string]any{"from": "pending_approval", "to": "expired", "expires_at": "2026-02-26T09:00:00Z", "approval_ttl": "72h0m0s"}},
	{Actor: audit.System, Action: audit.RequestExecutionStart, TargetType: audit.TargetRequest, TargetID: "42", TeamID: 5,
		Details: map[string]any{"from": "approved", "to": "provisioning", "backup_id": "bk-20260301-0200", "backup_status": "COMPLETED"}},
	{Actor: audit.System, Action: audit.JDCloudCall, TargetType: audit.TargetRequest, TargetID: "42", TeamID: 5,
		Details: map[string]any{"operation": "createInstanceFromBackup", "region": "cn-north-1", "http_status": 200,
			"jdcloud_request_id": "c4ga0f5bq8e2a1b6t0kj3p7d9w", "duration_ms": 412, "attempt": 1}},
	{Actor: audit.System, Action: audit.RequestInstanceCreated, TargetType: audit.TargetRequest, TargetID: "42", TeamID: 5,
		Details: map[string]any{"from": "provisioning", "to": "creating", "instance_id": "mysql-r3st0r3d", "tag": "restoredesk=7f1c2e0a/42", "attempt": 1}},
	{Actor: audit.System, Action: audit.RequestInstanceAdopted, TargetType: audit.TargetRequest, TargetID: "46", TeamID: 5,
		Details: map[string]any{"from": "provisioning", "to": "creating", "instance_id": "mysql-ad0pt3d", "tag": "restoredesk=7f1c2e0a/46", "attempt": 2}},
	{Actor: audit.System, Action: audit.RequestDuplicate, TargetType: audit.TargetRequest, TargetID: "46", TeamID: 5,
		Details: map[string]any{"instance_ids": []string{"mysql-ad0pt3d", "mysql-l4t3"}, "adopted": "mysql-ad0pt3d",
			"duplicates": []string{"mysql-l4t3"}, "tag": "restoredesk=7f1c2e0a/46", "search": "recheck"}},
	{Actor: audit.System, Action: audit.RequestReady, TargetType: audit.TargetRequest, TargetID: "42", TeamID: 5,
		Details: map[string]any{"from": "creating", "to": "ready", "instance_id": "mysql-r3st0r3d", "internal_domain_name": "mysql-r3st0r3d.rds.jdcloud.com", "instance_port": 3306}},
	{Actor: audit.System, Action: audit.RequestFailed, TargetType: audit.TargetRequest, TargetID: "47", TeamID: 5,
		Details: map[string]any{"from": "provisioning", "to": "failed", "reason": "JD Cloud refused the create",
			"jdcloud": map[string]any{"http_status": 400, "code": "InvalidParameter", "status": "INVALID_ARGUMENT",
				"message": "instanceStorageGB must be at least 60", "request_id": "c4gb11xyz"}}},
	{Actor: root, Action: audit.AdminUserCreated, TargetType: audit.TargetUser, TargetID: "11",
		Details: map[string]any{"username": "alice", "name": "Alice Ng", "email": "alice@example.com", "admin": false, "auditor": false, "sign_in": "password"}},
	{Actor: root, Action: audit.AdminUserUpdated, TargetType: audit.TargetUser, TargetID: "11",
		Details: map[string]any{"username": "alice", "changes": map[string]any{"auditor": map[string]any{"from": false, "to": true}}}},
	{Actor: root, Action: audit.AdminUserDisabled, TargetType: audit.TargetUser, TargetID: "13",
		Details: map[string]any{"username": "carol", "sessions_ended": 2}},
	{Actor: root, Action: audit.AdminPasswordReset, TargetType: audit.TargetUser, TargetID: "12",
		Details: map[string]any{"username": "bob", "by": "admin", "sessions_ended": 1}},
	{Actor: bob, Action: audit.AdminAdminConfirmed, TargetType: audit.TargetUser, TargetID: "14",
		Details: map[string]any{"username": "dan", "requested_by": 1}},
	{Actor: root, Action: audit.AdminTeamCreated, TargetType: audit.TargetTeam, TargetID: "5", TeamID: 5,
		Details: map[string]any{"name": "payments"}},
	{Actor: root, Action: audit.AdminMembershipChanged, TargetType: audit.TargetTeam, TargetID: "5", TeamID: 5,
		Details: map[string]any{"team": "payments", "user_id": 12, "username": "bob", "from": "member", "to": "lead"}},
	{Actor: root, Action: audit.AdminOwnershipChanged, TargetType: audit.TargetTeam, TargetID: "5", TeamID: 5,
		Details: map[string]any{"kind": "instance", "region": "cn-north-1", "added": []string{"mysql-8x2k1l"}, "removed": []string{}}},
	{Actor: root, Action: audit.AdminChannelChanged, TargetType: audit.TargetChannel, TargetID: "3", TeamID: 5,
		Details: map[string]any{"change": "updated", "channel": "payments robot", "kind": "feishu", "team": "payments", "changed": []string{"url", "enabled"}}},
	{Actor: root, Action: audit.AdminChannelTested, TargetType: audit.TargetChannel, TargetID: "3", TeamID: 5,
		Details: map[string]any{"channel": "payments robot", "kind": "feishu", "team": "payments", "outcome": "failed", "answer_status": 200,
			"error": "the platform refused the message: code 19021 sign match fail"}},
	{Actor: root, Action: audit.AdminTeamPolicyChanged, TargetType: audit.TargetTeam, TargetID: "5", TeamID: 5,
		Details: map[string]any{"team": "payments", "changes": map[string]any{"max_keep_days": map[string]any{"from": 14, "to": 7},
			"second_lead_above": map[string]any{"from": nil, "to": 500}}}},
	{Actor: alice, Action: audit.CopyDeleteRequested, TargetType: audit.TargetRequest, TargetID: "42", TeamID: 5,
		Details: map[string]any{"copy_id": 9, "instance_id": "mysql-r3st0r3d", "region": "cn-north-1", "delete_at": "2026-03-02T09:00:00Z"}},
	{Actor: bob, Action: audit.CopyExtended, TargetType: audit.TargetRequest, TargetID: "42", TeamID: 5,
		Details: map[string]any{"copy_id": 9, "instance_id": "mysql-r3st0r3d", "from": "2026-03-04T09:00:00Z", "to": "2026-03-06T09:00:00Z", "keep_days": 5}},
	{Actor: audit.System, Action: audit.CopyDeleted, TargetType: audit.TargetRequest, TargetID: "42", TeamID: 5,
		Details: map[string]any{"copy_id": 9, "instance_id": "mysql-r3st0r3d", "region": "cn-north-1", "delete_sent_at": "2026-03-04T09:00:01Z", "how": "deleted"}},
	{Actor: audit.System, Action: audit.CopyDeleteFailed, TargetType: audit.TargetRequest, TargetID: "42", TeamID: 5,
		Details: map[string]any{"copy_id": 9, "instance_id": "mysql-r3st0r3d", "region": "cn-north-1",
			"reason":  "JD Cloud refused the delete: it needs an operator in the JD Cloud console (operation protection)",
			"jdcloud": map[string]any{"http_status": 403, "code": "Forbidden", "message": "MFA required", "request_id": "c4gb11xyz"}}},
	{Actor: auditor, Action: audit.AuditExported, TargetType: audit.TargetAudit, TargetID: "",
		Details: map[string]any{"format": "csv", "filters": map[string]any{"action": "request.approved", "team": "5"}}},
}

// TestEveryAction records each action of audit.Actions through Record and reads it
// back: actor, target, team and details as given, in a chain that verifies.
func TestEveryAction(t *testing.T) {
	t.Parallel()
	var covered []string
	for _, ev := range everyAction {
		covered = append(covered, ev.Action)
	}
	if !slices.Equal(covered, audit.Actions) || len(audit.Actions) != 34 {
		t.Fatalf("the table covers %v;\naudit.Actions has %v", covered, audit.Actions)
	}
	pool := postgrestest.Pool(t)
	start := time.Now()
	for i, ev := range everyAction {
		rec := record(t, pool, ev)
		if rec.Seq != int64(i+1) {
			t.Fatalf("%s: seq %d, want %d", ev.Action, rec.Seq, i+1)
		}
	}
	all := policy.AuditScope{All: true}
	for i, ev := range everyAction {
		t.Run(ev.Action, func(t *testing.T) {
			page, err := audit.Query(t.Context(), pool, audit.Filter{Action: ev.Action}, all, audit.Cursor{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != 1 {
				t.Fatalf("%d events with action %s, want 1", len(page.Events), ev.Action)
			}
			got := page.Events[0]
			if got.Seq != int64(i+1) || got.Action != ev.Action {
				t.Errorf("seq %d action %s, want %d %s", got.Seq, got.Action, i+1, ev.Action)
			}
			if got.OccurredAt.Before(start.Add(-time.Minute)) || got.OccurredAt.After(time.Now()) {
				t.Errorf("occurred_at %v", got.OccurredAt)
			}
			wantID := (*int64)(nil)
			if ev.Actor.UserID != 0 {
				wantID = &ev.Actor.UserID
			}
			if !reflect.DeepEqual(got.ActorID, wantID) || got.ActorName != ev.Actor.Name ||
				got.ClientAddr != ev.Actor.ClientAddr || got.UserAgent != ev.Actor.UserAgent {
				t.Errorf("actor %v %q %q %q, want %+v", got.ActorID, got.ActorName, got.ClientAddr, got.UserAgent, ev.Actor)
			}
			if got.TargetType != ev.TargetType || got.TargetID != ev.TargetID {
				t.Errorf("target %s %q, want %s %q", got.TargetType, got.TargetID, ev.TargetType, ev.TargetID)
			}
			if (got.TeamID == nil) != (ev.TeamID == 0) || got.TeamID != nil && *got.TeamID != ev.TeamID {
				t.Errorf("team %v, want %d", got.TeamID, ev.TeamID)
			}
			var gotDetails, wantDetails any
			if err := json.Unmarshal(got.Details, &gotDetails); err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(ev.Details)
			json.Unmarshal(raw, &wantDetails)
			if !reflect.DeepEqual(wantDetails, gotDetails) {
				t.Errorf("details %v, want %v", gotDetails, wantDetails)
			}
		})
	}
	verifyOK(t, pool, int64(len(everyAction)))
}

// TestRecordRefusesUnfaithfulDetails: details that could not be hashed the
// same way after a round trip through jsonb are refused, not stored.
func TestRecordRefusesUnfaithfulDetails(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	for _, d := range []map[string]any{
		{"ratio": 0.5},
		{"big": int64(1) << 60},
		{"nul": "a\x00b"},
	} {
		err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
			_, err := audit.Record(t.Context(), tx, audit.Event{Actor: audit.System, Action: audit.JDCloudCall,
				TargetType: audit.TargetRequest, TargetID: "1", Details: d})
			return err
		})
		if err == nil {
			t.Errorf("details %v recorded", d)
		}
	}
	verifyOK(t, pool, 0)
}

// TestConcurrentRecord: 50 writers at once, each in its own transaction,
// leave one unbroken chain 1…50.
func TestConcurrentRecord(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	const n = 50
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
				_, err := audit.Record(t.Context(), tx, audit.Event{Actor: audit.System, Action: audit.JDCloudCall,
					TargetType: audit.TargetRequest, TargetID: strconv.Itoa(i), Details: map[string]any{"writer": i}})
				return err
			})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	verifyOK(t, pool, n)
	var distinct int
	if err := pool.QueryRow(t.Context(), `SELECT count(DISTINCT details->>'writer') FROM audit_events`).Scan(&distinct); err != nil || distinct != n {
		t.Errorf("%d distinct writers recorded (%v), want %d", distinct, err, n)
	}
}

// TestRecordJDCloudCall records a call in a transaction of its own, with the
// documented details and nothing else.
func TestRecordJDCloudCall(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	rec, err := audit.RecordJDCloudCall(t.Context(), pool, 42, 5, audit.JDCloudCallInfo{
		Operation: "createInstanceFromBackup", Region: "cn-north-1", HTTPStatus: 503, RequestID: "c4gz",
		Duration: 1500 * time.Millisecond, Attempt: 2, ErrorClass: "server_error", Error: "ServiceUnavailable: try again later",
	})
	if err != nil {
		t.Fatal(err)
	}
	events, err := audit.Timeline(t.Context(), pool, audit.TargetRequest, "42", policy.AuditScope{TeamIDs: []int64{5}})
	if err != nil || len(events) != 1 {
		t.Fatalf("timeline: %v, %d events", err, len(events))
	}
	e := events[0]
	if e.Seq != rec.Seq || e.Action != audit.JDCloudCall || e.ActorName != audit.SystemName || e.ActorID != nil || *e.TeamID != 5 {
		t.Errorf("event %+v", e)
	}
	var d map[string]any
	json.Unmarshal(e.Details, &d)
	want := map[string]any{"operation": "createInstanceFromBackup", "region": "cn-north-1", "http_status": 503.0,
		"jdcloud_request_id": "c4gz", "duration_ms": 1500.0, "attempt": 2.0, "error_class": "server_error",
		"error": "ServiceUnavailable: try again later"}
	if !reflect.DeepEqual(want, d) {
		t.Errorf("details %v, want %v", d, want)
	}
}

// TestTriggersRefuseChanges: UPDATE, DELETE and TRUNCATE fail, even for the
// superuser the tests connect as.
func TestTriggersRefuseChanges(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	record(t, pool, everyAction[0])
	for _, sql := range []string{
		`UPDATE audit_events SET actor_name = 'mallory'`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
	} {
		if _, err := pool.Exec(t.Context(), sql); err == nil {
			t.Errorf("%s: allowed", sql)
		}
	}
	verifyOK(t, pool, 1)
}

func ExampleParseCheckpoint() {
	cp, err := audit.ParseCheckpoint("1200:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08")
	fmt.Println(cp, err)
	// Output: 1200:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 <nil>
}
