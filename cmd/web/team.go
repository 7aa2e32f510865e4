package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"restoredesk/internal/identity"
	"restoredesk/internal/postgres"
)

// cmdTeam runs `web team add` and `web team member add`.
func cmdTeam(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) >= 1 && args[0] == "add":
		return cmdTeamAdd(ctx, args[1:], getenv, stdout, stderr)
	case len(args) >= 2 && args[0] == "member" && args[1] == "add":
		return cmdTeamMemberAdd(ctx, args[2:], getenv, stdout, stderr)
	}
	return errors.New("usage: web team add -name T | web team member add -team T -username U [-lead]")
}

func cmdTeamAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("team add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "team name (lowercase letters, digits, dashes)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if msg := identity.ValidateTeamName(strings.ToLower(strings.TrimSpace(*name))); msg != "" {
		return fmt.Errorf("-name: %s", msg)
	}
	pool, svc, err := openIdentity(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer pool.Close()
	id, err := svc.CreateTeam(ctx, cliActor, *name)
	var f identity.FieldErrors
	if errors.As(err, &f) {
		return fieldError(f)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created team %s (id %d)\n", strings.ToLower(strings.TrimSpace(*name)), id)
	return nil
}

func cmdTeamMemberAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("team member add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	team := fs.String("team", "", "team name")
	username := fs.String("username", "", "the user to add")
	lead := fs.Bool("lead", false, "add as a lead (may approve the team's requests)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *team == "" || *username == "" {
		return errors.New("-team and -username are required")
	}
	pool, svc, err := openIdentity(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer pool.Close()
	t, err := postgres.New(pool).TeamByName(ctx, strings.ToLower(strings.TrimSpace(*team)))
	if errors.Is(err, postgres.ErrNotFound) {
		return fmt.Errorf("no team called %q (create it with: web team add -name %s)", *team, *team)
	}
	if err != nil {
		return err
	}
	u, err := lookupUser(ctx, pool, *username)
	if err != nil {
		return err
	}
	changed, err := svc.SetMembership(ctx, cliActor, u.ID, t.ID, *lead)
	if err != nil {
		return err
	}
	role := "member"
	if *lead {
		role = "lead"
	}
	if !changed {
		return fmt.Errorf("%s is already a %s of %s", u.Username, role, t.Name)
	}
	fmt.Fprintf(stdout, "%s is now a %s of %s\n", u.Username, role, t.Name)
	return nil
}
