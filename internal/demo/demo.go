// Package demo seeds the demo mode's teams and users (DEMO=1). It seeds only
// an empty database or one already marked as a demo database, and seeding
// again adds only what is missing, so restarts keep whatever people did.
package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/identity"
	"restoredesk/internal/postgres"
)

// Password is every demo account's password. The demo seed is the only place
// a password shorter than identity.MinPasswordLength exists.
const Password = "demo"

// Teams are the demo teams.
var Teams = []string{"payments", "search"}

// User is one demo account.
type User struct {
	Username string
	Name     string
	Role     string          // how the sign-in page describes them
	Teams    map[string]bool // team → lead
	Admin    bool
	Auditor  bool
}

// Users are the demo accounts, one for each kind of person the permission
// rules tell apart.
var Users = []User{
	{Username: "alice", Name: "Alice Engineer", Role: "engineer, payments", Teams: map[string]bool{"payments": false}},
	{Username: "bob", Name: "Bob Lead", Role: "lead, payments", Teams: map[string]bool{"payments": true}},
	{Username: "carol", Name: "Carol Lead", Role: "lead, search; member of payments", Teams: map[string]bool{"search": true, "payments": false}},
	{Username: "dave", Name: "Dave Auditor", Role: "auditor", Auditor: true},
	{Username: "erin", Name: "Erin Admin", Role: "admin", Admin: true},
	{Username: "frank", Name: "Frank Engineer", Role: "engineer, search", Teams: map[string]bool{"search": false}},
	{Username: "grace", Name: "Grace Lead", Role: "lead, payments", Teams: map[string]bool{"payments": true}},
}

// Descriptions lists the demo accounts for the sign-in page.
func Descriptions() []string {
	out := make([]string, len(Users))
	for i, u := range Users {
		out[i] = u.Username + " — " + u.Role
	}
	return out
}

// ErrNotDemoDatabase: the database already holds users or teams and is not
// marked as a demo database, so demo data must not be mixed into it.
var ErrNotDemoDatabase = errors.New("DEMO=1 but the database holds users or teams and is not a demo database; " +
	"use an empty database for the demo (or unset DEMO)")

// seedLock serialises replicas seeding the same database at once.
const seedLock = 0x64656d6f73656564 // "demoseed"

// Seed creates the demo teams and users that are missing, recording each
// creation as the system via "demo seed". It marks the database as a demo
// database first, and refuses (ErrNotDemoDatabase) a database that holds
// data and is not one.
func Seed(ctx context.Context, pool *pgxpool.Pool, svc *identity.Service) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	defer conn.Release()
	held := postgres.New(conn)
	if err := held.AdvisoryLock(ctx, seedLock); err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	defer held.AdvisoryUnlock(context.WithoutCancel(ctx), seedLock)

	db := postgres.New(pool)
	dep, err := db.Deployment(ctx)
	if err != nil {
		return err
	}
	if !dep.Demo {
		used, err := db.HoldsUsersOrTeams(ctx)
		if err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
		if used {
			return ErrNotDemoDatabase
		}
		if err := db.MarkDemo(ctx); err != nil {
			return err
		}
	}

	actor := identity.Actor{Actor: audit.System, Via: "demo seed"}
	teamIDs := map[string]int64{}
	for _, name := range Teams {
		t, err := db.TeamByName(ctx, name)
		switch {
		case err == nil:
			teamIDs[name] = t.ID
		case errors.Is(err, postgres.ErrNotFound):
			if teamIDs[name], err = svc.CreateTeam(ctx, actor, name); err != nil {
				return fmt.Errorf("demo team %s: %w", name, err)
			}
		default:
			return err
		}
	}
	for _, du := range Users {
		var id int64
		u, err := db.UserByUsername(ctx, du.Username)
		switch {
		case err == nil:
			id = u.ID
		case errors.Is(err, postgres.ErrNotFound):
			id, err = svc.CreateDemoUser(ctx, actor, identity.NewUser{
				Username: du.Username, Email: du.Username + "@demo.restoredesk.example", Name: du.Name,
				Password: Password, Admin: du.Admin, Auditor: du.Auditor,
			})
			if err != nil {
				return fmt.Errorf("demo user %s: %w", du.Username, err)
			}
		default:
			return err
		}
		current, err := postgres.LoadUser(ctx, pool, id)
		if err != nil {
			return err
		}
		for team, lead := range du.Teams {
			if current.MemberOf(teamIDs[team]) {
				continue // keep whatever role someone gave them since
			}
			if _, err := svc.SetMembership(ctx, actor, id, teamIDs[team], lead); err != nil {
				return fmt.Errorf("demo membership %s in %s: %w", du.Username, team, err)
			}
		}
	}
	return nil
}
