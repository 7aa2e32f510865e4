package audit

import (
	"context"
	"log/slog"
	"time"

	"restoredesk/internal/postgres"
)

// CheckpointMessage is the msg of the log line RunCheckpoints writes; ship
// these lines somewhere the database's owner cannot edit them.
const CheckpointMessage = "audit checkpoint"

// RunCheckpoints writes the chain's head to log at once and then every
// interval, as a line with msg "audit checkpoint" and the attributes count and
// head, until ctx ends. `web audit verify -checkpoint COUNT:HEAD` later proves
// the chain still holds that head, which catches a chain rewritten end to end.
// A failed read is logged as a warning and retried at the next tick; it
// returns nil when ctx ends, so it can run in an errgroup beside the servers.
func RunCheckpoints(ctx context.Context, db postgres.DBTX, interval time.Duration, log *slog.Logger) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if cp, err := Head(ctx, db); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.WarnContext(ctx, "audit checkpoint failed", "err", err)
		} else {
			log.InfoContext(ctx, CheckpointMessage, "count", cp.Count, "head", cp.Hash)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
