package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/identity"
	"restoredesk/internal/logging"
	"restoredesk/internal/postgres"
)

// cliActor is who command-line changes are recorded as: the system, via "cli".
var cliActor = identity.Actor{Actor: audit.System, Via: "cli"}

// cmdUser runs `web user add|disable`.
func cmdUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: web user add -username U -email E -name N [-admin] [-auditor] [-password-stdin] | web user disable -username U | web user grant-admin -username U")
	}
	switch args[0] {
	case "add":
		return cmdUserAdd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "disable":
		return cmdUserDisable(ctx, args[1:], getenv, stdout, stderr)
	case "grant-admin":
		return cmdUserGrantAdmin(ctx, args[1:], getenv, stdout, stderr)
	}
	return fmt.Errorf("web user: unknown subcommand %q (want add, disable or grant-admin)", args[0])
}

func cmdUserAdd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.String("username", "", "username (lowercase letters, digits, . _ -)")
	email := fs.String("email", "", "e-mail address")
	name := fs.String("name", "", "display name")
	admin := fs.Bool("admin", false, "grant the admin role")
	auditor := fs.Bool("auditor", false, "grant the auditor role")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (otherwise one is generated and printed once)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	password := identity.GeneratePassword()
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password from standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	n := identity.NewUser{Username: *username, Email: *email, Name: *name, Password: password, Admin: *admin, Auditor: *auditor}
	// Check the input before touching the database, so a typo costs nothing.
	if f := n.Normalize().Validate(); f != nil {
		return fieldError(f)
	}
	pool, svc, err := openIdentity(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer pool.Close()
	id, err := svc.CreateUser(ctx, cliActor, n)
	var f identity.FieldErrors
	if errors.As(err, &f) {
		return fieldError(f)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (id %d)\n", n.Normalize().Username, id)
	if !*fromStdin {
		fmt.Fprintf(stdout, "password: %s\n(shown once: give it to the person over a safe channel)\n", password)
	}
	return nil
}

func cmdUserDisable(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return onUser(ctx, "user disable", "the user to disable", args, getenv, stderr,
		func(svc *identity.Service, u postgres.User) error {
			if u.Disabled {
				return fmt.Errorf("user %s is already disabled", u.Username)
			}
			if err := svc.SetDisabled(ctx, cliActor, u.ID, true); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "disabled user %s; their sessions have ended\n", u.Username)
			return nil
		})
}

// cmdUserGrantAdmin makes an existing user an admin at once. On the web an
// admin grant waits for a second admin; an operator at the command line (who
// holds the database's credentials anyway) is the other way, e.g. to confirm
// the first single sign-on admin.
func cmdUserGrantAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return onUser(ctx, "user grant-admin", "the user to make an admin", args, getenv, stderr,
		func(svc *identity.Service, u postgres.User) error {
			if u.Admin {
				return fmt.Errorf("user %s is already an admin", u.Username)
			}
			if err := svc.GrantAdmin(ctx, cliActor, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "user %s is now an admin\n", u.Username)
			return nil
		})
}

// onUser runs a command that takes only -username: it parses the flags,
// opens the identity service and calls do with the user.
func onUser(ctx context.Context, name, usage string, args []string, getenv func(string) string, stderr io.Writer,
	do func(*identity.Service, postgres.User) error) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.String("username", "", usage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("-username is required")
	}
	pool, svc, err := openIdentity(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer pool.Close()
	u, err := lookupUser(ctx, pool, *username)
	if err != nil {
		return err
	}
	return do(svc, u)
}

// parseFlags parses args and refuses stray positional arguments, which are
// almost always a mistyped flag.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	return nil
}

// openIdentity connects to DATABASE_URL, applies pending migrations and
// returns the identity service with production settings.
func openIdentity(ctx context.Context, getenv func(string) string, stderr io.Writer) (*pgxpool.Pool, *identity.Service, error) {
	cfg, err := parseConfig(getenv, false)
	if err != nil {
		return nil, nil, err
	}
	pool, err := openDatabase(ctx, cfg, logging.New(stderr, cfg.LogLevel))
	if err != nil {
		return nil, nil, err
	}
	return pool, identity.New(pool, identity.Config{}), nil
}

func lookupUser(ctx context.Context, pool *pgxpool.Pool, username string) (postgres.User, error) {
	u, err := postgres.New(pool).UserByUsername(ctx, strings.ToLower(strings.TrimSpace(username)))
	if errors.Is(err, postgres.ErrNotFound) {
		return u, fmt.Errorf("no user called %q", username)
	}
	return u, err
}

// fieldError words FieldErrors for the terminal, one flag per line.
func fieldError(f identity.FieldErrors) error {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = "-" + k + ": " + f[k]
	}
	return errors.New(strings.Join(lines, "\n"))
}
