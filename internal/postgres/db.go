// Package postgres is Restore Desk's storage: a connection pool, the embedded
// goose migrations and the SQL for each table, written by hand and kept next to
// the method that runs it.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a row asked for does not exist.
var ErrNotFound = errors.New("not found")

// DBTX is what queries need: satisfied by *pgxpool.Pool and pgx.Tx alike, so the
// same method runs on its own or inside a caller's transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// DB runs Restore Desk's queries against a pool or a transaction.
type DB struct {
	db DBTX
}

// New returns a DB running its queries on db.
func New(db DBTX) *DB { return &DB{db: db} }

// Tx runs fn in a transaction (a savepoint when d already runs in one) and
// commits when fn returns nil.
func (d *DB) Tx(ctx context.Context, fn func(tx *DB) error) error {
	return pgx.BeginFunc(ctx, d.db, func(tx pgx.Tx) error { return fn(New(tx)) })
}

// Conn exposes the underlying pool or transaction to packages that record in the
// caller's transaction (such as audit).
func (d *DB) Conn() DBTX { return d.db }

// Open connects a pool to url and checks the database answers within timeout.
// The error says whether the URL is malformed or the server unreachable.
func Open(ctx context.Context, url string, timeout time.Duration) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("not a valid PostgreSQL URL: %w", err)
	}
	cfg.ConnConfig.ConnectTimeout = timeout
	// pgxpool's default (4 on a small machine) is too few for the web server
	// and the worker sharing a process; a pool_max_conns in the URL still wins.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 20
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	if err := waitForDatabase(ctx, pool, timeout); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database within %s: %w", timeout, err)
	}
	return pool, nil
}

// waitForDatabase pings until the database answers or timeout passes. A
// refused connection is answered at once, and a database that starts
// beside the app (a compose file, a restart) refuses for its first
// seconds, so one ping would give up long before timeout.
func waitForDatabase(ctx context.Context, pool *pgxpool.Pool, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pause := 100 * time.Millisecond
	for {
		err := pool.Ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// Deployment describes this database: its generated id and whether it holds demo data.
type Deployment struct {
	ID   string
	Demo bool
}

// Deployment returns the deployment row written by the first migration.
func (d *DB) Deployment(ctx context.Context) (Deployment, error) {
	var dep Deployment
	err := d.db.QueryRow(ctx, `SELECT id::text, demo FROM deployment`).Scan(&dep.ID, &dep.Demo)
	if err != nil {
		return dep, fmt.Errorf("read deployment: %w", err)
	}
	return dep, nil
}

// MarkDemo marks the database as a demo database.
func (d *DB) MarkDemo(ctx context.Context) error {
	if _, err := d.db.Exec(ctx, `UPDATE deployment SET demo = true`); err != nil {
		return fmt.Errorf("mark demo: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation, and
// of which constraint, so callers can turn it back into a field error.
func IsUniqueViolation(err error) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	return "", false
}
