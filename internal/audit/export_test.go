package audit_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"restoredesk/internal/audit"
	"restoredesk/internal/policy"
)

// awkward holds values that CSV must quote and spreadsheets must not run.
var awkward = []audit.Event{
	{Actor: audit.Actor{UserID: 5, Name: "=HYPERLINK(\"http://evil\",\"x\")", ClientAddr: "+1 555", UserAgent: "-2+3"},
		Action: audit.SignInFailed, TargetType: audit.TargetUser, TargetID: "@SUM(A1)",
		Details: map[string]any{"username": "=cmd|' /C calc'!A0", "reason": "unknown_user"}},
	{Actor: audit.Actor{UserID: 6, Name: "tab", ClientAddr: "\tleading tab", UserAgent: "\rleading CR"},
		Action: audit.RequestCreated, TargetType: audit.TargetRequest, TargetID: "'quoted", TeamID: 1,
		Details: map[string]any{"reason": "commas, \"quotes\",\nnewlines\r\nand 中文 — ü 😀"}},
	{Actor: audit.System, Action: audit.JDCloudCall, TargetType: audit.TargetRequest, TargetID: "7", TeamID: 1,
		Details: map[string]any{"operation": "describeInstance", "http_status": 200}},
}

// TestExportCSV: one header row in the documented order, one row per event;
// commas, quotes, newlines and non-ASCII survive a CSV reader; cells a
// spreadsheet would run are prefixed with '.
func TestExportCSV(t *testing.T) {
	t.Parallel()
	pool := seed(t, awkward)
	var buf bytes.Buffer
	n, err := audit.Export(t.Context(), pool, &buf, audit.FormatCSV, audit.Filter{}, policy.AuditScope{All: true}, 0)
	if err != nil || n != 3 {
		t.Fatalf("export: %d rows, %v", n, err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, buf.String())
	}
	if len(records) != 4 || !reflect.DeepEqual(records[0], audit.CSVColumns) {
		t.Fatalf("header %v, %d records", records[0], len(records))
	}
	col := map[string]int{}
	for i, c := range records[0] {
		col[c] = i
	}
	first, second, third := records[1], records[2], records[3]
	for _, c := range []struct{ got, want string }{
		{first[col["actor_name"]], `'=HYPERLINK("http://evil","x")`},
		{first[col["client_addr"]], "'+1 555"},
		{first[col["user_agent"]], "'-2+3"},
		{first[col["target_id"]], "'@SUM(A1)"},
		{second[col["client_addr"]], "'\tleading tab"},
		{second[col["user_agent"]], "'\rleading CR"},
		{second[col["target_id"]], "''quoted"},
		{first[col["actor_id"]], "5"},
		{first[col["team_id"]], ""},
		{third[col["actor_name"]], "system"},
		{third[col["actor_id"]], ""},
		{third[col["details"]], `{"operation":"describeInstance","http_status":200}`},
	} {
		if c.got != c.want {
			t.Errorf("cell %q, want %q", c.got, c.want)
		}
	}
	var details map[string]string
	if err := json.Unmarshal([]byte(second[col["details"]]), &details); err != nil ||
		details["reason"] != "commas, \"quotes\",\nnewlines\r\nand 中文 — ü 😀" {
		t.Errorf("details %q (%v)", second[col["details"]], err)
	}
	if !strings.HasSuffix(first[col["occurred_at"]], "Z") || len(first[col["occurred_at"]]) != len("2026-01-02T03:04:05.000000Z") {
		t.Errorf("occurred_at %q is not RFC 3339 UTC with microseconds", first[col["occurred_at"]])
	}
	// Every row's hash is the stored one: the export is the chain.
	v := verifyOK(t, pool, 3)
	if third[col["hash"]] != v.Head {
		t.Errorf("last hash %s, head %s", third[col["hash"]], v.Head)
	}
}

// TestExportJSONLines: each line decodes back to the same event as stored.
func TestExportJSONLines(t *testing.T) {
	t.Parallel()
	pool := seed(t, awkward)
	var buf bytes.Buffer
	if _, err := audit.Export(t.Context(), pool, &buf, audit.FormatJSONL, audit.Filter{}, policy.AuditScope{All: true}, 0); err != nil {
		t.Fatal(err)
	}
	var stored []audit.Row
	audit.Each(t.Context(), pool, audit.Filter{}, policy.AuditScope{All: true}, 0, func(r *audit.Row) error {
		stored = append(stored, *r)
		return nil
	})
	sc := bufio.NewScanner(&buf)
	i := 0
	for ; sc.Scan(); i++ {
		var l audit.Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, sc.Bytes())
		}
		r := stored[i]
		prev, _ := hex.DecodeString(l.PrevHash)
		hash, _ := hex.DecodeString(l.Hash)
		back := audit.Row{Seq: l.Seq, ActorID: l.ActorID, ActorName: l.ActorName, ClientAddr: l.ClientAddr,
			UserAgent: l.UserAgent, Action: l.Action, TargetType: l.TargetType, TargetID: l.TargetID, TeamID: l.TeamID,
			Details: l.Details, PrevHash: prev, Hash: hash}
		if l.OccurredAt != r.OccurredAt.UTC().Format(audit.TimeFormat) {
			t.Errorf("line %d: occurred_at %s, stored %s", i+1, l.OccurredAt, r.OccurredAt)
		}
		back.OccurredAt = r.OccurredAt
		// The line carries everything the hash covers: recomputing it from
		// the line alone gives the stored hash.
		if h, err := back.ComputeHash(); err != nil || !bytes.Equal(h, r.Hash) {
			t.Errorf("line %d: hash from the line %x, stored %x (%v)", i+1, h, r.Hash, err)
		}
		var a, b any
		json.Unmarshal(back.Details, &a)
		json.Unmarshal(r.Details, &b)
		back.Details, r.Details = nil, nil
		if !reflect.DeepEqual(back, r) || !reflect.DeepEqual(a, b) {
			t.Errorf("line %d decodes to\n%+v\nstored\n%+v", i+1, back, r)
		}
	}
	if i != len(stored) {
		t.Errorf("%d lines for %d events", i, len(stored))
	}
}

// TestExportUpTo: an export ends at the event given (its own audit.exported
// record), even when more events arrive while it runs.
func TestExportUpTo(t *testing.T) {
	t.Parallel()
	pool := seed(t, awkward)
	var buf bytes.Buffer
	n, err := audit.Export(t.Context(), pool, &buf, audit.FormatJSONL, audit.Filter{}, policy.AuditScope{All: true}, 2)
	if err != nil || n != 2 || strings.Count(buf.String(), "\n") != 2 {
		t.Errorf("export up to 2: %d rows, %v\n%s", n, err, buf.String())
	}
	if _, err := audit.Export(t.Context(), pool, &buf, "xml", audit.Filter{}, policy.AuditScope{All: true}, 0); err == nil {
		t.Error("format xml accepted")
	}
}
