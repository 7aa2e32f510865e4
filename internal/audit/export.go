package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
)

// Export formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// CSVColumns is the header row of a CSV export, in order. Times are RFC 3339
// in UTC with microseconds; actor_id and team_id are empty when absent;
// details is one JSON object; hashes are lowercase hex. A cell starting with
// = + - @ ' or a tab or carriage return gets a ' prepended, so a spreadsheet
// shows it as text instead of running it as a formula: drop one leading ' to
// get the stored value back.
var CSVColumns = []string{
	"seq", "occurred_at", "actor_id", "actor_name", "client_addr", "user_agent", "action",
	"target_type", "target_id", "team_id", "details", "prev_hash", "hash",
}

// Line is one line of a JSON Lines export: the event with every field of
// CSVColumns, under the same names. With all events exported it is exactly
// the input of the README's independent verification recipe.
type Line struct {
	Seq        int64           `json:"seq"`
	OccurredAt string          `json:"occurred_at"`
	ActorID    *int64          `json:"actor_id"`
	ActorName  string          `json:"actor_name"`
	ClientAddr string          `json:"client_addr"`
	UserAgent  string          `json:"user_agent"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	TeamID     *int64          `json:"team_id"`
	Details    json.RawMessage `json:"details"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// RecordExport records, in its own transaction, that actor exports the events
// matching filters (the filter form's values) as format, and returns the
// record. Recording first means even an aborted download is on record; Export
// with upTo = the record's Seq then holds exactly the events up to it.
func RecordExport(ctx context.Context, db postgres.DBTX, actor Actor, format string, filters map[string]any) (Recorded, error) {
	var rec Recorded
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		rec, err = Record(ctx, tx, Event{
			Actor: actor, Action: AuditExported, TargetType: TargetAudit,
			Details: map[string]any{"format": format, "filters": filters},
		})
		return err
	})
	return rec, err
}

// flushEvery is how many rows an export writes between flushes to the client.
const flushEvery = 1000

// Export writes the events that Each selects (f, scope, upTo) to w as format,
// row by row: memory stays constant whatever the size. Every flushEvery rows
// it flushes, calling w.Flush() when w has one (an HTTP response does), so
// the download progresses. It returns how many events it wrote.
func Export(ctx context.Context, db postgres.DBTX, w io.Writer, format string, f Filter, scope policy.AuditScope, upTo int64) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		if fl, ok := w.(interface{ Flush() }); ok {
			fl.Flush()
		}
		return nil
	}
	var write func(*Row) error
	var end func() error
	switch format {
	case FormatCSV:
		cw := csv.NewWriter(bw)
		if err := cw.Write(CSVColumns); err != nil {
			return 0, err
		}
		record := make([]string, len(CSVColumns))
		write = func(r *Row) error { return cw.Write(r.csvRecord(record)) }
		end = func() error { cw.Flush(); return cw.Error() }
	case FormatJSONL:
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		write = func(r *Row) error { return enc.Encode(r.Line()) }
		end = func() error { return nil }
	default:
		return 0, fmt.Errorf("export format %q: want csv or jsonl", format)
	}
	var n int64
	err := Each(ctx, db, f, scope, upTo, func(r *Row) error {
		if err := write(r); err != nil {
			return err
		}
		n++
		if n%flushEvery == 0 {
			if err := end(); err != nil {
				return err
			}
			return flush()
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if err := end(); err != nil {
		return n, err
	}
	return n, flush()
}

// Line returns r as a line of a JSON Lines export.
func (r *Row) Line() Line {
	return Line{
		Seq: r.Seq, OccurredAt: r.OccurredAt.UTC().Format(TimeFormat), ActorID: r.ActorID,
		ActorName: r.ActorName, ClientAddr: r.ClientAddr, UserAgent: r.UserAgent, Action: r.Action,
		TargetType: r.TargetType, TargetID: r.TargetID, TeamID: r.TeamID, Details: r.compactDetails(),
		PrevHash: hex.EncodeToString(r.PrevHash), Hash: hex.EncodeToString(r.Hash),
	}
}

// compactDetails returns the details JSON without the spaces PostgreSQL's
// jsonb output puts after , and :.
func (r *Row) compactDetails() json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, r.Details); err != nil || buf.Len() == 0 {
		return json.RawMessage("{}")
	}
	return buf.Bytes()
}

// csvRecord fills record (len(CSVColumns)) with r's cells.
func (r *Row) csvRecord(record []string) []string {
	optional := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	cells := [...]string{
		strconv.FormatInt(r.Seq, 10), r.OccurredAt.UTC().Format(TimeFormat), optional(r.ActorID), r.ActorName,
		r.ClientAddr, r.UserAgent, r.Action, r.TargetType, r.TargetID, optional(r.TeamID),
		string(r.compactDetails()), hex.EncodeToString(r.PrevHash), hex.EncodeToString(r.Hash),
	}
	for i, c := range cells {
		record[i] = neutralise(c)
	}
	return record
}

// neutralise prepends ' to a cell a spreadsheet would run as a formula (and to
// one that already starts with ', so the rule can always be undone).
func neutralise(cell string) string {
	if cell != "" && strings.IndexByte("=+-@\t\r'", cell[0]) >= 0 {
		return "'" + cell
	}
	return cell
}
