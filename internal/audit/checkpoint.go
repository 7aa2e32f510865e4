package audit

import (
	"context"
	"fmt"
	"log/slog"

	"restoredesk/internal/postgres"
)

// CheckpointMessage is the msg of the log line LogCheckpoint writes; ship
// these lines somewhere the database's owner cannot edit them.
const CheckpointMessage = "audit checkpoint"

// LogCheckpoint writes the chain's head to log, as a line with msg "audit
// checkpoint" and the attributes count and head (a periodic job calls it at
// AUDIT_CHECKPOINT_INTERVAL). `web audit verify -checkpoint COUNT:HEAD` later
// proves the chain still holds that head, which catches a chain rewritten end
// to end.
func LogCheckpoint(ctx context.Context, db postgres.DBTX, log *slog.Logger) error {
	cp, err := Head(ctx, db)
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	log.InfoContext(ctx, CheckpointMessage, "count", cp.Count, "head", cp.Hash)
	return nil
}
