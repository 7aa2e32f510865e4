package postgres_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }

// emptyDatabase creates a database with no migrations applied.
func emptyDatabase(t *testing.T) *pgxpool.Pool {
	t.Helper()
	admin := postgrestest.ServerURL(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := "empty_" + t.Name()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Database = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Close()
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			c.Exec(context.Background(), "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	return pool
}

func TestMigrateEmptyThenNoop(t *testing.T) {
	t.Parallel()
	pool := emptyDatabase(t)
	ctx := t.Context()
	applied, err := postgres.Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 {
		t.Fatal("nothing applied to an empty database")
	}
	again, err := postgres.Migrate(ctx, pool)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run applied %v, err %v; want a no-op", again, err)
	}
	dep, err := postgres.New(pool).Deployment(ctx)
	if err != nil || len(dep.ID) != 36 || dep.Demo {
		t.Errorf("deployment = %+v, %v", dep, err)
	}
}

// TestMigrateConcurrently: replicas starting at once all succeed and the
// migrations are applied exactly once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	pool := emptyDatabase(t)
	var wg sync.WaitGroup
	results := make([][]int64, 5)
	errs := make([]error, 5)
	for i := range 5 {
		wg.Go(func() { results[i], errs[i] = postgres.Migrate(t.Context(), pool) })
	}
	wg.Wait()
	total := 0
	for i := range 5 {
		if errs[i] != nil {
			t.Errorf("migrator %d: %v", i, errs[i])
		}
		total += len(results[i])
	}
	var versions int
	pool.QueryRow(t.Context(), `SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&versions)
	if total != versions {
		t.Errorf("applied %d migrations in total across migrators, %d versions exist", total, versions)
	}
}
