package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres/postgrestest"
	"restoredesk/internal/testkit"
)

// chain gives a test a database of its own holding n events whose fields
// exercise the canonical form: non-ASCII, astral characters, U+2028, control
// characters, quotes, HTML, negative numbers, nesting, empty details.
func chain(t *testing.T, n int) (string, *pgxpool.Pool) {
	t.Helper()
	url := postgrestest.URL(t)
	pool, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for i := 1; i <= n; i++ {
		ev := audit.Event{
			Actor:  audit.Actor{UserID: int64(i), Name: fmt.Sprintf("user%d-é", i), ClientAddr: "2001:db8::1", UserAgent: "Mozilla/5.0 \"quoted\" <b>&"},
			Action: audit.RequestCreated, TargetType: audit.TargetRequest, TargetID: fmt.Sprint(i), TeamID: int64(i%3 + 1),
			Details: map[string]any{
				"reason":   fmt.Sprintf("恢复 %d: 😀 line\u2028sep\ttab\x01ctl\x7fdel \\ / </script>", i),
				"storage":  -40 * i,
				"az_ids":   []string{"cn-north-1a", "cn-north-1b"},
				"nested":   map[string]any{"z": true, "a": nil, "é": []any{1, "x"}},
				"Zupper":   "sorted before lowercase",
				"empty":    map[string]any{},
				"no_value": "",
			},
		}
		if i%4 == 0 {
			ev.Actor, ev.TeamID, ev.Details = audit.System, 0, nil
		}
		err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
			_, err := audit.Record(t.Context(), tx, ev)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return url, pool
}

// verify runs `web audit verify args...` against url.
func verify(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), append([]string{"audit", "verify"}, args...), env(map[string]string{"DATABASE_URL": url}), nil, &out, io.Discard)
	return out.String(), err
}

// tamper runs sqls with the append-only triggers disabled, as the database's
// owner could.
func tamper(t *testing.T, pool *pgxpool.Pool, sqls ...string) {
	t.Helper()
	sqls = append(append([]string{`ALTER TABLE audit_events DISABLE TRIGGER USER`}, sqls...), `ALTER TABLE audit_events ENABLE TRIGGER USER`)
	for _, sql := range sqls {
		if _, err := pool.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

var okLine = regexp.MustCompile(`^ok (\d+) events, head ([0-9a-f]{64})\n$`)

// TestAuditVerifyNamesTamperedEvent: each way of editing the table is caught
// and the first affected event named.
func TestAuditVerifyNamesTamperedEvent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		sqls   []string
		rehash int64  // > 0: then recompute this event's hash from its new content
		want   string // what web audit verify names
		python string // what scripts/verify-audit.py says
	}{
		{"details changed", []string{`UPDATE audit_events SET details = jsonb_set(details, '{storage}', '-4000') WHERE seq = 3`}, 0,
			"event 3: content changed", "event 3: content changed"},
		{"actor changed", []string{`UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 6`}, 0,
			"event 6: content changed", "event 6: content changed"},
		{"row deleted", []string{`DELETE FROM audit_events WHERE seq = 5`}, 0,
			"event 5: missing sequence number", "event 5: missing sequence number"},
		{"two rows swapped", []string{
			`UPDATE audit_events SET seq = 1000 WHERE seq = 2`,
			`UPDATE audit_events SET seq = 2 WHERE seq = 7`,
			`UPDATE audit_events SET seq = 7 WHERE seq = 1000`}, 0,
			"event 2: content changed", "event 2: content changed"},
		{"row changed and rehashed", []string{`UPDATE audit_events SET target_id = '999' WHERE seq = 4`}, 4,
			"event 5: link broken", "event 5: link broken"},
		{"time moved back", []string{`UPDATE audit_events SET occurred_at = occurred_at - interval '1 day' WHERE seq = 4`}, 0,
			"event 4: content changed", "event 4: content changed"},
		{"time moved back and rehashed", []string{`UPDATE audit_events SET occurred_at = occurred_at - interval '1 day' WHERE seq = 8`}, 8,
			"event 8: time out of order", "ok 8 events"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, pool := chain(t, 8)
			if out, err := verify(t, url); err != nil || !okLine.MatchString(out) {
				t.Fatalf("before tampering: %q, %v", out, err)
			}
			tamper(t, pool, tc.sqls...)
			if tc.rehash > 0 {
				rehash(t, pool, tc.rehash, tc.rehash)
			}
			out, err := verify(t, url)
			if err == nil || !strings.Contains(err.Error(), tc.want) || out != "" {
				t.Errorf("verify after tampering: out %q, err %v; want an error naming %q", out, err, tc.want)
			}
			if py := python(t, pool); !strings.Contains(py, tc.python) {
				t.Errorf("verify-audit.py after tampering: %q, want %q", py, tc.python)
			}
		})
	}
}

// TestAuditVerifyCheckpoint: a chain rewritten end to end (every hash
// recomputed) verifies by itself, but not against a checkpoint taken before.
func TestAuditVerifyCheckpoint(t *testing.T) {
	t.Parallel()
	url, pool := chain(t, 10)
	out, err := verify(t, url)
	m := okLine.FindStringSubmatch(out)
	if err != nil || m == nil || m[1] != "10" {
		t.Fatalf("verify: %q, %v", out, err)
	}
	checkpoint := m[1] + ":" + m[2]
	if out, err := verify(t, url, "-checkpoint", checkpoint); err != nil || out != m[0] {
		t.Fatalf("verify -checkpoint %s on the intact chain: %q, %v", checkpoint, out, err)
	}
	cp, err := audit.Head(t.Context(), pool)
	if err != nil || cp.String() != checkpoint {
		t.Fatalf("audit.Head = %v, %v; want %s", cp, err, checkpoint)
	}
	// An earlier checkpoint too: event 6's hash as it was.
	var h6 []byte
	pool.QueryRow(t.Context(), `SELECT hash FROM audit_events WHERE seq = 6`).Scan(&h6)
	six := fmt.Sprintf("6:%x", h6)

	tamper(t, pool, `UPDATE audit_events SET details = details || '{"reason": "nothing to see"}' WHERE seq = 3`)
	rehash(t, pool, 3, 10)
	out, err = verify(t, url)
	if err != nil || !okLine.MatchString(out) || strings.Contains(out, m[2]) {
		t.Fatalf("the rewritten chain should verify by itself with a new head: %q, %v", out, err)
	}
	for _, cp := range []string{checkpoint, six} {
		out, err = verify(t, url, "-checkpoint", cp)
		if err == nil || !strings.Contains(err.Error(), "checkpoint "+cp+" no longer matches") || out != "" {
			t.Errorf("verify -checkpoint %s: out %q, err %v; want it to name the checkpoint", cp, out, err)
		}
	}
	// A checkpoint beyond the end: events were removed from the end.
	tamper(t, pool, `DELETE FROM audit_events WHERE seq > 8`)
	if _, err = verify(t, url, "-checkpoint", "9:"+strings.Repeat("ab", 32)); err == nil || !strings.Contains(err.Error(), "only 8 events") {
		t.Errorf("verify with a checkpoint past the end: %v", err)
	}
}

// rehash recomputes the hashes of events from…to from their stored content,
// as someone rewriting history would: each chained to the one before, or,
// when from == to, keeping the event's own link.
func rehash(t *testing.T, pool *pgxpool.Pool, from, to int64) {
	t.Helper()
	prev := audit.GenesisHash()
	pool.QueryRow(t.Context(), `SELECT hash FROM audit_events WHERE seq = $1`, from-1).Scan(&prev)
	var sqls []string
	for seq := from; seq <= to; seq++ {
		var r audit.Row
		var details []byte
		err := pool.QueryRow(t.Context(), `SELECT seq, occurred_at, actor_id, actor_name, client_addr, user_agent, action,
			target_type, target_id, team_id, details, prev_hash FROM audit_events WHERE seq = $1`, seq).Scan(
			&r.Seq, &r.OccurredAt, &r.ActorID, &r.ActorName, &r.ClientAddr, &r.UserAgent, &r.Action,
			&r.TargetType, &r.TargetID, &r.TeamID, &details, &r.PrevHash)
		if err != nil {
			t.Fatal(err)
		}
		r.Details = details
		if from != to {
			r.PrevHash = prev
		}
		h, err := r.ComputeHash()
		if err != nil {
			t.Fatal(err)
		}
		sqls = append(sqls, fmt.Sprintf(`UPDATE audit_events SET prev_hash = '\x%x', hash = '\x%x' WHERE seq = %d`, r.PrevHash, h, seq))
		prev = h
	}
	tamper(t, pool, sqls...)
}

// python runs the README's recipe — psql with scripts/audit-events.sql into
// scripts/verify-audit.py — on pool's database and returns what it printed.
func python(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	for _, tool := range []string{"python3", "psql"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the independent recipe cannot be run here", tool)
		}
	}
	cfg := pool.Config().ConnConfig
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dump := exec.CommandContext(ctx, "psql", url, "-At", "-v", "ON_ERROR_STOP=1", "-f", "../../scripts/audit-events.sql")
	jsonl, err := dump.Output()
	if err != nil {
		t.Fatalf("psql: %v", err)
	}
	py := exec.CommandContext(ctx, "python3", "../../scripts/verify-audit.py")
	py.Stdin = bytes.NewReader(jsonl)
	out, _ := py.CombinedOutput()
	return string(out)
}

// TestIndependentRecipe: the README's Python recipe, run on a real chain,
// reaches the same head as `web audit verify`, from psql's output and from
// the JSON Lines export alike; and the README shows the recipe verbatim.
func TestIndependentRecipe(t *testing.T) {
	t.Parallel()
	url, pool := chain(t, 12)
	want, err := verify(t, url)
	if err != nil {
		t.Fatal(err)
	}
	if got := python(t, pool); got != want {
		t.Errorf("verify-audit.py on psql's output: %q\nweb audit verify: %q", got, want)
	}
	var export bytes.Buffer
	if _, err := audit.Export(t.Context(), pool, &export, audit.FormatJSONL, audit.Filter{}, policy.AuditScope{All: true}, 0); err != nil {
		t.Fatal(err)
	}
	py := exec.Command("python3", "../../scripts/verify-audit.py")
	py.Stdin = &export
	if got, err := py.CombinedOutput(); string(got) != want || err != nil {
		t.Errorf("verify-audit.py on the JSON Lines export: %q (%v)\nweb audit verify: %q", got, err, want)
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"../../scripts/verify-audit.py", "../../scripts/audit-events.sql"} {
		script, _ := os.ReadFile(f)
		if !bytes.Contains(readme, script) {
			t.Errorf("README.md does not show %s verbatim", f)
		}
	}
}

// TestAuditVerifyBadInput: usage mistakes get a clear error.
func TestAuditVerifyBadInput(t *testing.T) {
	t.Parallel()
	url := postgrestest.URL(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit"}, "missing subcommand"},
		{[]string{"audit", "check"}, `unknown subcommand "check"`},
		{[]string{"audit", "verify", "-checkpoint", "12"}, "want COUNT:HASH"},
		{[]string{"audit", "verify", "-checkpoint", "12:abc"}, "64 hex digits"},
		{[]string{"audit", "verify", "extra"}, "unexpected argument"},
	} {
		err := run(t.Context(), tc.args, env(map[string]string{"DATABASE_URL": url}), nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"audit", "verify"}, env(map[string]string{"DATABASE_URL": url}), nil, &out, io.Discard); err != nil ||
		out.String() != "ok 0 events, head "+strings.Repeat("0", 64)+"\n" {
		t.Errorf("empty chain: %q, %v", out.String(), err)
	}
}

// TestServeWritesCheckpoints: `web serve` logs "audit checkpoint" lines at
// AUDIT_CHECKPOINT_INTERVAL, and such a line verifies as a checkpoint.
func TestServeWritesCheckpoints(t *testing.T) {
	t.Parallel()
	url, _ := chain(t, 3)
	vars := map[string]string{
		"DATABASE_URL": url, "DEMO": "1", "LISTEN_ADDR": freeAddr(t), "METRICS_ADDR": freeAddr(t),
		"DATA_DIR": t.TempDir(), "AUDIT_CHECKPOINT_INTERVAL": "50ms",
	}
	ctx, cancel := context.WithCancel(t.Context())
	var stderr testkit.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), nil, io.Discard, &stderr) }()
	var lines []map[string]any
	for deadline := time.Now().Add(20 * time.Second); len(lines) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		lines = nil
		for _, l := range strings.Split(stderr.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == audit.CheckpointMessage {
				lines = append(lines, m)
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(lines) < 2 {
		t.Fatalf("want at least two checkpoint lines at a 50ms interval; log:\n%s", stderr.String())
	}
	// The demo seed records events of its own: at least our 3.
	if n, _ := lines[0]["count"].(float64); n < 3 {
		t.Errorf("checkpoint count %v, want at least 3", lines[0]["count"])
	}
	cp := fmt.Sprintf("%v:%v", lines[0]["count"], lines[0]["head"])
	if out, err := verify(t, url, "-checkpoint", cp); err != nil || !okLine.MatchString(out) {
		t.Errorf("verify -checkpoint %s: %q, %v", cp, out, err)
	}
}
