// Package postgrestest hands each test a migrated PostgreSQL database of its
// own. The server comes from TEST_DATABASE_URL or, when that is unset, from a
// private cluster the test binary starts itself; DATABASE_URL is never read, so
// tests cannot touch a real database.
package postgrestest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"crypto/sha256"

	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/pgcluster"
	"restoredesk/migrations"
)

var (
	mu       sync.Mutex
	cluster  *pgcluster.Cluster
	adminURL string // URL of the server's maintenance database
	template string // name of the migrated template database
)

// Main runs a package's tests and stops the private cluster afterwards, if one
// was started. Call it from TestMain: os.Exit(postgrestest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if cluster != nil {
		cluster.Destroy()
	}
	return code
}

// ServerURL returns the URL of the test server's maintenance database,
// starting the private cluster if needed.
func ServerURL(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if adminURL != "" {
		return adminURL
	}
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		adminURL = u
		return adminURL
	}
	c, err := pgcluster.Start()
	if err != nil {
		t.Fatalf("start private PostgreSQL cluster (or set TEST_DATABASE_URL): %v", err)
	}
	cluster = c
	adminURL = c.URL("postgres")
	return adminURL
}

// URL creates a fresh database cloned from the migrated template and returns
// its URL; the database is dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	admin := ServerURL(t)
	tmpl := ensureTemplate(t, admin)
	name := "t_" + randomHex(8)
	exec(t, admin, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
	return withDB(admin, name)
}

// Pool returns a pool on a fresh migrated database, closed when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("connect test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// ensureTemplate creates, once per server and migration set, a database with
// every migration applied. Its name carries a hash of the migration files, so
// a changed migration gets a new template, and an advisory lock keeps
// concurrent test binaries from building it twice.
func ensureTemplate(t testing.TB, admin string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if template != "" {
		return template
	}
	name := "rd_template_" + migrationsHash()[:16]
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		t.Fatalf("lock: %v", err)
	}
	defer conn.Exec(ctx, `SELECT pg_advisory_unlock(727274)`)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatalf("look for template: %v", err)
	}
	if !exists {
		building := name + "_building"
		conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building))
		if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
			t.Fatalf("create template: %v", err)
		}
		pool, err := pgxpool.New(ctx, withDB(admin, building))
		if err != nil {
			t.Fatalf("connect template: %v", err)
		}
		_, err = postgres.Migrate(ctx, pool)
		pool.Close()
		if err != nil {
			t.Fatalf("migrate template: %v", err)
		}
		// Renaming only when complete means a crashed build never leaves a
		// half-migrated template behind.
		if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name)); err != nil {
			t.Fatalf("rename template: %v", err)
		}
	}
	template = name
	return name
}

func migrationsHash() string {
	h := sha256.New()
	fmt.Fprintf(h, "river schema %d\n", migrations.RiverVersion) // the Go migrations' target
	names, _ := fs.Glob(migrations.FS, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(migrations.FS, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func withDB(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn + " dbname=" + db
	}
	u.Path = "/" + db
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
