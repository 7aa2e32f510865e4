package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/identity"
	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
)

// TestUserAndTeamCommands drives web user/team as an operator would: each
// success prints what it did; each mistake is a clear error (non-zero exit).
func TestUserAndTeamCommands(t *testing.T) {
	t.Parallel()
	url := postgrestest.URL(t)
	cli := func(stdin string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(t.Context(), args, env(map[string]string{"DATABASE_URL": url}), strings.NewReader(stdin), &out, &errOut)
		return out.String(), err
	}
	out, err := cli("", "user", "add", "-username", "Ann", "-email", "ann@example.com", "-name", "Ann Admin", "-admin")
	if err != nil {
		t.Fatalf("user add: %v", err)
	}
	m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(out)
	if !strings.Contains(out, "created user ann") || m == nil {
		t.Fatalf("user add printed %q, want the user and a generated password", out)
	}
	steps := []struct {
		stdin   string
		args    []string
		wantOut string
		wantErr string
	}{
		{"short\n", []string{"user", "add", "-username", "bo", "-email", "bo@example.com", "-name", "Bo", "-password-stdin"}, "", "-password: Use at least 12 characters."},
		{"", []string{"user", "add", "-username", "bad name", "-email", "x", "-name", "X"}, "", "-email: Enter an e-mail address"},
		{"", []string{"user", "add", "-username", "bo", "-email", "bo@example.com", "-name", "Bo", "extra"}, "", "unexpected argument"},
		{"", []string{"team", "add", "-name", "payments"}, "created team payments", ""},
		{"", []string{"team", "add", "-name", "payments"}, "", "A team with that name exists."},
		{"", []string{"team", "add", "-name", "admin"}, "", "reserved"},
		{"", []string{"team", "member", "add", "-team", "payments", "-username", "ann", "-lead"}, "ann is now a lead of payments", ""},
		{"", []string{"team", "member", "add", "-team", "payments", "-username", "ann", "-lead"}, "", "already a lead of payments"},
		{"", []string{"team", "member", "add", "-team", "nope", "-username", "ann"}, "", `no team called "nope"`},
		{"", []string{"team", "member", "add", "-team", "payments", "-username", "nobody"}, "", `no user called "nobody"`},
		{"rain on a tin roof at dawn\n", []string{"user", "add", "-username", "cy", "-email", "cy@example.com", "-name", "Cy", "-password-stdin"}, "created user cy", ""},
		{"", []string{"user", "grant-admin", "-username", "cy"}, "cy is now an admin", ""},
		{"", []string{"user", "grant-admin", "-username", "cy"}, "", "already an admin"},
		{"", []string{"user", "grant-admin", "-username", "nobody"}, "", `no user called "nobody"`},
		{"", []string{"user", "disable", "-username", "nobody"}, "", `no user called "nobody"`},
		{"", []string{"user", "disable", "-username", "ann"}, "disabled user ann", ""},
		{"", []string{"user", "disable", "-username", "ann"}, "", "already disabled"},
		{"", []string{"user", "frobnicate"}, "", "unknown subcommand"},
	}
	for _, st := range steps {
		out, err := cli(st.stdin, st.args...)
		switch {
		case st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)):
			t.Errorf("web %s: err = %v, want %q", strings.Join(st.args, " "), err, st.wantErr)
		case st.wantErr == "" && (err != nil || !strings.Contains(out, st.wantOut)):
			t.Errorf("web %s: %q, %v; want %q", strings.Join(st.args, " "), out, err, st.wantOut)
		}
	}

	// The account exists as asked, with a production-strength hash of the
	// printed password, and every change is an audit event by the system via cli.
	ctx := t.Context()
	p, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	u, err := postgres.New(p).UserByUsername(ctx, "ann")
	if err != nil || !u.Admin || !u.Disabled || u.DisplayName != "Ann Admin" {
		t.Fatalf("ann = %+v, %v", u, err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Errorf("hash %q: not made with the production parameters", u.PasswordHash)
	}
	if ok, _ := identity.NewHasher(identity.DefaultParams).Verify(u.PasswordHash, m[1]); !ok {
		t.Error("the printed password does not match the stored hash")
	}
	var actions string
	p.QueryRow(ctx, `SELECT string_agg(action, ' ' ORDER BY seq) FROM audit_events WHERE actor_name = 'system' AND details->>'via' = 'cli'`).Scan(&actions)
	if actions != "admin.user_created admin.team_created admin.membership_changed admin.user_created admin.admin_confirmed admin.user_disabled" {
		t.Errorf("cli audit events = %q", actions)
	}
}
