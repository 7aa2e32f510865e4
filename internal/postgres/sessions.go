package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NewSession is a session to store. IDHash is the SHA-256 of the id the
// cookie carries; the id itself is never stored.
type NewSession struct {
	IDHash     []byte
	UserID     int64
	ExpiresAt  time.Time // absolute expiry
	ClientAddr string
	UserAgent  string
	Method     string // "password" or "oidc"
}

// InsertSession stores a new session.
func (d *DB) InsertSession(ctx context.Context, s NewSession) error {
	_, err := d.db.Exec(ctx, `
		INSERT INTO sessions (id_hash, user_id, expires_at, client_addr, user_agent, method)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		s.IDHash, s.UserID, s.ExpiresAt, s.ClientAddr, s.UserAgent, s.Method)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// TouchSession records that the session was used now, which restarts its idle timer.
func (d *DB) TouchSession(ctx context.Context, idHash []byte) error {
	if _, err := d.db.Exec(ctx, `UPDATE sessions SET last_seen_at = now() WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session and returns its user. It returns ErrNotFound
// when the session does not exist (already ended).
func (d *DB) DeleteSession(ctx context.Context, idHash []byte) (userID int64, err error) {
	err = d.db.QueryRow(ctx, `DELETE FROM sessions WHERE id_hash = $1 RETURNING user_id`, idHash).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("delete session: %w", err)
	}
	return userID, nil
}

// DeleteUserSessions ends every session of user and returns how many there were.
func (d *DB) DeleteUserSessions(ctx context.Context, user int64) (int64, error) {
	tag, err := d.db.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, user)
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// CountActiveSessions returns how many unexpired sessions user has.
func (d *DB) CountActiveSessions(ctx context.Context, user int64, idle time.Duration) (int, error) {
	var n int
	err := d.db.QueryRow(ctx, `
		SELECT count(*) FROM sessions
		WHERE user_id = $1 AND expires_at > now() AND last_seen_at > now() - $2 * interval '1 microsecond'`,
		user, idle.Microseconds()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}

// DeleteExpiredSessions removes sessions past their absolute expiry or idle
// for longer than idle. They are already refused; this only keeps the table small.
func (d *DB) DeleteExpiredSessions(ctx context.Context, idle time.Duration) error {
	_, err := d.db.Exec(ctx, `
		DELETE FROM sessions WHERE expires_at <= now() OR last_seen_at <= now() - $1 * interval '1 microsecond'`,
		idle.Microseconds())
	if err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}
