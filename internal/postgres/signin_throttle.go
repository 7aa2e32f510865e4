package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// SignInKey is a sign-in throttle row as LockSignInKeys found it.
type SignInKey struct {
	Key          string
	Failures     int
	BlockedUntil time.Time
	Refused      int        // attempts turned away since RefusedSince
	RefusedSince *time.Time // nil when Refused is 0
}

// Blocked reports whether the key is blocked at now.
func (k SignInKey) Blocked(now time.Time) bool { return k.BlockedUntil.After(now) }

// LockSignInKeys locks the throttle rows of keys (creating them), in key
// order, until the transaction ends, and returns them in that order with the
// database's time now. Every writer of these rows locks them through here
// first, in the same order, so two sign-ins never deadlock.
func (d *DB) LockSignInKeys(ctx context.Context, keys []string) ([]SignInKey, time.Time, error) {
	sorted := slices.Compact(slices.Sorted(slices.Values(keys)))
	if _, err := d.db.Exec(ctx, `
		INSERT INTO sign_in_failures (key, failures, last_failed_at, blocked_until)
		SELECT k, 0, now(), now() - interval '1 second' FROM unnest($1::text[]) AS k
		ON CONFLICT (key) DO NOTHING`, sorted); err != nil {
		return nil, time.Time{}, fmt.Errorf("create sign-in throttle rows: %w", err)
	}
	rows, err := d.db.Query(ctx, `
		SELECT key, failures, blocked_until, refused, refused_since, now()
		FROM sign_in_failures WHERE key = ANY($1) ORDER BY key FOR UPDATE`, sorted)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("lock sign-in throttle rows: %w", err)
	}
	defer rows.Close()
	var (
		out []SignInKey
		now time.Time
	)
	for rows.Next() {
		var k SignInKey
		if err := rows.Scan(&k.Key, &k.Failures, &k.BlockedUntil, &k.Refused, &k.RefusedSince, &now); err != nil {
			return nil, time.Time{}, fmt.Errorf("lock sign-in throttle rows: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("lock sign-in throttle rows: %w", err)
	}
	return out, now, nil
}

// CountRefusedSignIn counts one refused attempt under each of keys.
func (d *DB) CountRefusedSignIn(ctx context.Context, keys []string) error {
	_, err := d.db.Exec(ctx, `
		UPDATE sign_in_failures SET refused = refused + 1, refused_since = coalesce(refused_since, now())
		WHERE key = ANY($1)`, keys)
	if err != nil {
		return fmt.Errorf("count refused sign-in: %w", err)
	}
	return nil
}

// ResetRefusedSignIn sets key's refused count back to zero (after the count
// went into the audit trail).
func (d *DB) ResetRefusedSignIn(ctx context.Context, key string) error {
	if _, err := d.db.Exec(ctx, `UPDATE sign_in_failures SET refused = 0, refused_since = NULL WHERE key = $1`, key); err != nil {
		return fmt.Errorf("reset refused sign-in: %w", err)
	}
	return nil
}

// EndedRefusals locks and returns the keys whose block is over with refused
// attempts not yet reported, skipping rows a sign-in holds.
func (d *DB) EndedRefusals(ctx context.Context) ([]SignInKey, error) {
	rows, err := d.db.Query(ctx, `
		SELECT key, failures, blocked_until, refused, refused_since
		FROM sign_in_failures WHERE refused > 0 AND blocked_until <= now()
		ORDER BY key FOR UPDATE SKIP LOCKED`)
	if err != nil {
		return nil, fmt.Errorf("read refused sign-ins: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SignInKey, error) {
		var k SignInKey
		err := r.Scan(&k.Key, &k.Failures, &k.BlockedUntil, &k.Refused, &k.RefusedSince)
		return k, err
	})
}

// UncountSignInFailure takes back one failure counted under key (an attempt
// counted when admitted that turned out to succeed). The row must be locked.
func (d *DB) UncountSignInFailure(ctx context.Context, key string) error {
	if _, err := d.db.Exec(ctx, `UPDATE sign_in_failures SET failures = greatest(failures - 1, 0) WHERE key = $1`, key); err != nil {
		return fmt.Errorf("uncount sign-in failure: %w", err)
	}
	return nil
}

// RecordSignInFailure counts one more failure under key and returns the new
// count. A count whose last failure is older than forget starts again at one.
func (d *DB) RecordSignInFailure(ctx context.Context, key string, forget time.Duration) (int, error) {
	var n int
	err := d.db.QueryRow(ctx, `
		INSERT INTO sign_in_failures AS f (key, failures) VALUES ($1, 1)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN f.last_failed_at < now() - $2 * interval '1 microsecond' THEN 1 ELSE f.failures + 1 END,
			last_failed_at = now()
		RETURNING failures`, key, forget.Microseconds()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("record sign-in failure: %w", err)
	}
	return n, nil
}

// BlockSignIn blocks key for delay from now (never shortening a longer block)
// and returns until when.
func (d *DB) BlockSignIn(ctx context.Context, key string, delay time.Duration) (time.Time, error) {
	var until time.Time
	err := d.db.QueryRow(ctx, `
		UPDATE sign_in_failures SET blocked_until = greatest(blocked_until, now() + $2 * interval '1 microsecond')
		WHERE key = $1 RETURNING blocked_until`, key, delay.Microseconds()).Scan(&until)
	if err != nil {
		return time.Time{}, fmt.Errorf("block sign-in: %w", err)
	}
	return until, nil
}

// ClearSignInFailures forgets the failures counted under key.
func (d *DB) ClearSignInFailures(ctx context.Context, key string) error {
	if _, err := d.db.Exec(ctx, `UPDATE sign_in_failures SET failures = 0 WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}

// DeleteOldSignInFailures forgets keys last failed longer ago than forget,
// once they are neither blocked nor holding unreported refusals.
func (d *DB) DeleteOldSignInFailures(ctx context.Context, forget time.Duration) error {
	_, err := d.db.Exec(ctx, `
		DELETE FROM sign_in_failures
		WHERE last_failed_at < now() - $1 * interval '1 microsecond' AND blocked_until < now() AND refused = 0`,
		forget.Microseconds())
	if err != nil {
		return fmt.Errorf("delete old sign-in failures: %w", err)
	}
	return nil
}

// IdentityKey returns the deployment's secret called name, storing candidate
// as that secret when there is none yet (the first caller wins).
func (d *DB) IdentityKey(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	var key []byte
	err := d.db.QueryRow(ctx, `
		WITH ins AS (INSERT INTO identity_keys (name, key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING key)
		SELECT key FROM ins UNION ALL SELECT key FROM identity_keys WHERE name = $1 LIMIT 1`, name, candidate).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("identity key %s: not stored", name)
	}
	if err != nil {
		return nil, fmt.Errorf("identity key %s: %w", name, err)
	}
	return key, nil
}
