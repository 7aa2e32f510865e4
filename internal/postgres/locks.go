package postgres

import (
	"context"
	"fmt"
)

// Session-level advisory locks. A session lock belongs to
// the connection, so these run on a DB made from one held connection
// (New(conn) with a *pgxpool.Conn): the lock lasts until it is released or
// the connection closes, which is what makes a crashed holder's lock vanish.

// AdvisoryLock waits for the session advisory lock key.
func (d *DB) AdvisoryLock(ctx context.Context, key int64) error {
	if _, err := d.db.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	return nil
}

// TryAdvisoryLock takes the session advisory lock key if no other session
// holds it, and reports whether it did.
func (d *DB) TryAdvisoryLock(ctx context.Context, key int64) (bool, error) {
	var locked bool
	if err := d.db.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&locked); err != nil {
		return false, fmt.Errorf("advisory lock: %w", err)
	}
	return locked, nil
}

// AdvisoryUnlock releases the session advisory lock key.
func (d *DB) AdvisoryUnlock(ctx context.Context, key int64) error {
	if _, err := d.db.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
		return fmt.Errorf("advisory unlock: %w", err)
	}
	return nil
}
