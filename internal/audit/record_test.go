package audit_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/audit"
	"restoredesk/internal/postgres/postgrestest"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }

// TestRecordChains: each event links to the previous one's hash and its own
// hash is SHA-256 of its canonical form as read back from the database.
func TestRecordChains(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	ctx := t.Context()
	var hashes []string
	for i, ev := range []audit.Event{
		{Actor: audit.Actor{UserID: 7, Name: "alice", ClientAddr: "127.0.0.1", UserAgent: "test"}, Action: audit.SignIn,
			TargetType: audit.TargetUser, TargetID: "7"},
		{Actor: audit.System, Action: audit.JDCloudCall, TargetType: audit.TargetRequest, TargetID: "12", TeamID: 3,
			Details: map[string]any{"operation": "createInstanceFromBackup", "http_status": 200, "note": "<é, \"q\">"}},
	} {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			rec, err := audit.Record(ctx, tx, ev)
			if rec.Seq != int64(i+1) {
				t.Errorf("seq = %d, want %d", rec.Seq, i+1)
			}
			hashes = append(hashes, rec.Hash)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := pool.Query(ctx, `SELECT seq, occurred_at, actor_id, actor_name, client_addr, user_agent, action,
		target_type, target_id, team_id, details, prev_hash, hash FROM audit_events ORDER BY seq`)
	prev := audit.GenesisHash()
	for rows.Next() {
		var r audit.Row
		var details []byte
		if err := rows.Scan(&r.Seq, &r.OccurredAt, &r.ActorID, &r.ActorName, &r.ClientAddr, &r.UserAgent, &r.Action,
			&r.TargetType, &r.TargetID, &r.TeamID, &details, &r.PrevHash, &r.Hash); err != nil {
			t.Fatal(err)
		}
		r.Details = details
		if !bytes.Equal(r.PrevHash, prev) {
			t.Errorf("event %d: prev_hash does not link to the previous event", r.Seq)
		}
		got, err := r.ComputeHash()
		if err != nil || !bytes.Equal(got, r.Hash) || hex.EncodeToString(got) != hashes[r.Seq-1] {
			c, _ := r.Canonical()
			t.Errorf("event %d: recomputed hash differs; canonical %s", r.Seq, c)
		}
		prev = r.Hash
	}
	if _, err := pool.Exec(ctx, `UPDATE audit_events SET actor_name = 'mallory'`); err == nil {
		t.Error("UPDATE of audit_events allowed")
	}
}
