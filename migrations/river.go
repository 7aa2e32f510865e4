package migrations

import (
	"context"
	"database/sql"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

// RiverVersion is the version of River's own schema (its migration line
// "main") that the migrations bring the database to. An upgrade of River
// that brings a schema change adds a Go migration with a higher target
// rather than changing these, so a migration means the same thing forever.
const RiverVersion = 8

// Go returns the migrations written in Go. They run with the SQL files, in
// one version order, in goose's transactions on the connection that holds
// goose's lock, so several processes starting at once migrate River's tables
// once (rivermigrate itself takes no lock). River records its own versions
// in river_migration.
func Go() []*goose.Migration {
	return []*goose.Migration{
		// 00020: River's tables (river_job, river_leader, river_queue, …) up
		// to River's version 5. River's version 4 adds an enum value that
		// version 6 uses, which PostgreSQL allows only once the value is
		// committed: hence two migrations.
		river(20, 5, 0),
		// 00021: River's versions 6 to 8.
		river(21, RiverVersion, 5),
	}
}

func river(version int64, up, down int) *goose.Migration {
	return goose.NewGoMigration(version,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return migrateRiver(ctx, tx, rivermigrate.DirectionUp, up)
		}},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			if down == 0 {
				down = -1 // everything
			}
			return migrateRiver(ctx, tx, rivermigrate.DirectionDown, down)
		}})
}

func migrateRiver(ctx context.Context, tx *sql.Tx, dir rivermigrate.Direction, target int) error {
	// The driver only runs statements on tx, so it needs no pool.
	m, err := rivermigrate.New(riverdatabasesql.New(nil), nil)
	if err != nil {
		return err
	}
	// MigrateTx is deprecated because some River migrations cannot share one
	// transaction. Goose runs each of our Go migrations in its own and hands
	// us that transaction; the versions each one runs are tested together,
	// and running them on it keeps our step all-or-nothing.
	//lint:ignore SA1019 goose owns the transaction (see above)
	_, err = m.MigrateTx(ctx, tx, dir, &rivermigrate.MigrateOpts{TargetVersion: target})
	return err
}
