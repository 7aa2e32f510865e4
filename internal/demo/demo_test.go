package demo_test

import (
	"errors"
	"os"
	"testing"

	"restoredesk/internal/audit"
	"restoredesk/internal/demo"
	"restoredesk/internal/identity"
	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }

var fast = identity.Config{Hash: identity.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}

func TestSeedIsIdempotentAndMarksDemo(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	svc := identity.New(pool, fast)
	ctx := t.Context()
	counts := func() (users, teams, members, events int) {
		pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM teams),
			(SELECT count(*) FROM memberships), (SELECT count(*) FROM audit_events)`).Scan(&users, &teams, &members, &events)
		return
	}
	for range 2 {
		if err := demo.Seed(ctx, pool, svc); err != nil {
			t.Fatal(err)
		}
		if u, tm, m, _ := counts(); u != 7 || tm != 2 || m != 6 {
			t.Fatalf("after seeding: %d users, %d teams, %d memberships; want 7, 2, 6", u, tm, m)
		}
	}
	if _, _, _, events := counts(); events != 7+2+6 {
		t.Errorf("audit events = %d; the second seed must add nothing", events)
	}
	if dep, _ := postgres.New(pool).Deployment(ctx); !dep.Demo {
		t.Error("database not marked as a demo database")
	}
	carol, _ := postgres.New(pool).UserByUsername(ctx, "carol")
	pu, _ := postgres.LoadUser(ctx, pool, carol.ID)
	if len(pu.Teams) != 2 || len(pu.LedTeamIDs()) != 1 {
		t.Errorf("carol: %+v, want lead of search and member of payments", pu.Teams)
	}
	if _, err := svc.SignIn(ctx, "erin", demo.Password, identity.Client{Addr: "192.0.2.1"}); err != nil {
		t.Errorf("erin cannot sign in with the demo password: %v", err)
	}
}

func TestSeedRefusesARealDatabase(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	svc := identity.New(pool, fast)
	ctx := t.Context()
	if _, err := svc.CreateTeam(ctx, identity.Actor{Actor: audit.System}, "platform"); err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, pool, svc); !errors.Is(err, demo.ErrNotDemoDatabase) {
		t.Fatalf("seed into a database with data = %v, want ErrNotDemoDatabase", err)
	}
	var users int
	pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users)
	if users != 0 {
		t.Errorf("%d demo users seeded into a real database", users)
	}
}
