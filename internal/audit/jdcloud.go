package audit

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/postgres"
)

// JDCloudCallInfo describes one call the worker made to JD Cloud. It has no
// place for credentials, signatures or request bodies on purpose.
type JDCloudCallInfo struct {
	Operation  string        // API operation, such as "createInstanceFromBackup"
	Region     string        // JD Cloud region id, such as "cn-north-1"
	HTTPStatus int           // 0 when no answer arrived (timeout, connection refused or dropped)
	RequestID  string        // JD Cloud's request id, when it answered
	Duration   time.Duration // from sending to the end of the answer (or the failure)
	Attempt    int           // 1 for the first try
	ErrorClass string        // "" on success; else a short class such as "timeout", "throttled", "server_error", "refused", "connection"
	Error      string        // on failure: JD Cloud's code and message, or the transport error (never a secret)
}

// maxErrorLen bounds the error text kept in an event.
const maxErrorLen = 2000

// RecordJDCloudCall records a jdcloud.call event for request requestID of team
// teamID in a transaction of its own on db (a pool, or the worker's
// connection — not a transaction in progress), committed at once: call it right after
// the call returns, before acting on the answer, so the call is on record even
// if the worker dies next. The actor is the system.
func RecordJDCloudCall(ctx context.Context, db postgres.DBTX, requestID, teamID int64, info JDCloudCallInfo) (Recorded, error) {
	d := map[string]any{
		"operation":   info.Operation,
		"region":      info.Region,
		"http_status": info.HTTPStatus,
		"duration_ms": info.Duration.Milliseconds(),
		"attempt":     info.Attempt,
		// "" when JD Cloud did not answer
		"jdcloud_request_id": info.RequestID,
	}
	if info.ErrorClass != "" {
		d["error_class"] = info.ErrorClass
	}
	if info.Error != "" {
		d["error"] = truncate(info.Error, maxErrorLen)
	}
	var rec Recorded
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		rec, err = Record(ctx, tx, Event{
			Actor: System, Action: JDCloudCall, TargetType: TargetRequest,
			TargetID: strconv.FormatInt(requestID, 10), TeamID: teamID, Details: d,
		})
		return err
	})
	if err != nil {
		return Recorded{}, fmt.Errorf("record JD Cloud call %s: %w", info.Operation, err)
	}
	return rec, nil
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
