package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Team is a row of the teams table.
type Team struct {
	ID        int64     `db:"id"`
	Name      string    `db:"name"`
	CreatedAt time.Time `db:"created_at"`
}

// InsertTeam stores a new team and returns its id. A duplicate name fails with
// a unique violation (constraint teams_name_key).
func (d *DB) InsertTeam(ctx context.Context, name string) (int64, error) {
	var id int64
	if err := d.db.QueryRow(ctx, `INSERT INTO teams (name) VALUES ($1) RETURNING id`, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert team: %w", err)
	}
	return id, nil
}

// TeamByID returns team id. It returns ErrNotFound when there is none.
func (d *DB) TeamByID(ctx context.Context, id int64) (Team, error) {
	return d.teamWhere(ctx, `id = $1`, id)
}

// TeamNamesByID returns the names of the teams among ids that exist, by id:
// one statement for a page that names many teams.
func (d *DB) TeamNamesByID(ctx context.Context, ids []int64) (map[int64]string, error) {
	rows, err := d.db.Query(ctx, `SELECT id, name FROM teams WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("team names: %w", err)
	}
	names := map[int64]string{}
	var id int64
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error { names[id] = name; return nil })
	if err != nil {
		return nil, fmt.Errorf("team names: %w", err)
	}
	return names, nil
}

// TeamByName returns the team called name. It returns ErrNotFound when there is none.
func (d *DB) TeamByName(ctx context.Context, name string) (Team, error) {
	return d.teamWhere(ctx, `name = $1`, name)
}

func (d *DB) teamWhere(ctx context.Context, where string, args ...any) (Team, error) {
	rows, err := d.db.Query(ctx, `SELECT id, name, created_at FROM teams WHERE `+where, args...)
	if err != nil {
		return Team{}, fmt.Errorf("query team: %w", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Team])
	if errors.Is(err, pgx.ErrNoRows) {
		return Team{}, ErrNotFound
	}
	if err != nil {
		return Team{}, fmt.Errorf("read team: %w", err)
	}
	return t, nil
}

// TeamListItem is a row of the administration's team list.
type TeamListItem struct {
	ID      int64    `db:"id"`
	Name    string   `db:"name"`
	Members int      `db:"members"`
	Leads   []string `db:"leads"` // usernames
}

// ListTeams returns up to limit teams ordered by name, starting after the name
// after ("" for the first page).
func (d *DB) ListTeams(ctx context.Context, after string, limit int) ([]TeamListItem, error) {
	rows, err := d.db.Query(ctx, `
		SELECT t.id, t.name, count(m.user_id)::int AS members,
			COALESCE(array_agg(u.username ORDER BY u.username) FILTER (WHERE m.lead), '{}') AS leads
		FROM teams t
		LEFT JOIN memberships m ON m.team_id = t.id
		LEFT JOIN users u ON u.id = m.user_id
		WHERE t.name > $1
		GROUP BY t.id
		ORDER BY t.name
		LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	teams, err := pgx.CollectRows(rows, pgx.RowToStructByName[TeamListItem])
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return teams, nil
}

// TeamMember is one member of a team.
type TeamMember struct {
	UserID      int64  `db:"user_id"`
	Username    string `db:"username"`
	DisplayName string `db:"display_name"`
	Lead        bool   `db:"lead"`
	Disabled    bool   `db:"disabled"`
}

// TeamMembers returns the members of team, leads first.
func (d *DB) TeamMembers(ctx context.Context, team int64) ([]TeamMember, error) {
	rows, err := d.db.Query(ctx, `
		SELECT m.user_id, u.username, u.display_name, m.lead, u.disabled
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.team_id = $1
		ORDER BY m.lead DESC, u.username`, team)
	if err != nil {
		return nil, fmt.Errorf("list team members: %w", err)
	}
	members, err := pgx.CollectRows(rows, pgx.RowToStructByName[TeamMember])
	if err != nil {
		return nil, fmt.Errorf("list team members: %w", err)
	}
	return members, nil
}

// Membership returns whether user belongs to team and, if so, whether as lead.
// It returns ErrNotFound when user is not in team. The row is locked until the
// transaction ends, so a change reads the state it replaces.
func (d *DB) Membership(ctx context.Context, user, team int64) (lead bool, err error) {
	err = d.db.QueryRow(ctx, `SELECT lead FROM memberships WHERE user_id = $1 AND team_id = $2 FOR UPDATE`, user, team).Scan(&lead)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("read membership: %w", err)
	}
	return lead, nil
}

// SetMembership puts user in team, as lead or member, adding or updating the membership.
func (d *DB) SetMembership(ctx context.Context, user, team int64, lead bool) error {
	_, err := d.db.Exec(ctx, `
		INSERT INTO memberships (user_id, team_id, lead) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, team_id) DO UPDATE SET lead = EXCLUDED.lead`, user, team, lead)
	if err != nil {
		return fmt.Errorf("set membership: %w", err)
	}
	return nil
}

// DeleteMembership takes user out of team. It returns ErrNotFound when user
// was not in team.
func (d *DB) DeleteMembership(ctx context.Context, user, team int64) error {
	tag, err := d.db.Exec(ctx, `DELETE FROM memberships WHERE user_id = $1 AND team_id = $2`, user, team)
	if err != nil {
		return fmt.Errorf("delete membership: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// TeamsByName returns the teams with the given names that exist, keyed by name.
func (d *DB) TeamsByName(ctx context.Context, names []string) (map[string]Team, error) {
	rows, err := d.db.Query(ctx, `SELECT id, name, created_at FROM teams WHERE name = ANY($1)`, names)
	if err != nil {
		return nil, fmt.Errorf("query teams: %w", err)
	}
	teams, err := pgx.CollectRows(rows, pgx.RowToStructByName[Team])
	if err != nil {
		return nil, fmt.Errorf("read teams: %w", err)
	}
	out := make(map[string]Team, len(teams))
	for _, t := range teams {
		out[t.Name] = t
	}
	return out, nil
}

// TeamPolicy is a team's rules for its restores and their copies.
type TeamPolicy struct {
	MaxKeepDays     int      `db:"max_keep_days"`     // the longest "Keep for", in days from Ready
	PrepaidAllowed  bool     `db:"prepaid_allowed"`   // prepaid copies may be requested
	RemindOnly      bool     `db:"remind_only"`       // a copy past its time turns overdue instead of being deleted
	SecondLeadAbove *float64 `db:"second_lead_above"` // monthly estimate (CNY) above which two leads approve; nil: never
}

// TeamPolicy returns team's policy. It returns ErrNotFound when there is no such team.
func (d *DB) TeamPolicy(ctx context.Context, team int64) (TeamPolicy, error) {
	rows, err := d.db.Query(ctx, `
		SELECT max_keep_days, prepaid_allowed, remind_only, second_lead_above::float8 AS second_lead_above
		FROM teams WHERE id = $1`, team)
	if err != nil {
		return TeamPolicy{}, fmt.Errorf("query team policy: %w", err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[TeamPolicy])
	if errors.Is(err, pgx.ErrNoRows) {
		return TeamPolicy{}, ErrNotFound
	}
	if err != nil {
		return TeamPolicy{}, fmt.Errorf("read team policy: %w", err)
	}
	return p, nil
}

// LockTeamPolicy is TeamPolicy with the team's row locked until the
// transaction ends, so a change reads the policy it replaces.
func (d *DB) LockTeamPolicy(ctx context.Context, team int64) (TeamPolicy, error) {
	var p TeamPolicy
	err := d.db.QueryRow(ctx, `
		SELECT max_keep_days, prepaid_allowed, remind_only, second_lead_above::float8
		FROM teams WHERE id = $1 FOR UPDATE`, team).Scan(&p.MaxKeepDays, &p.PrepaidAllowed, &p.RemindOnly, &p.SecondLeadAbove)
	if errors.Is(err, pgx.ErrNoRows) {
		return TeamPolicy{}, ErrNotFound
	}
	if err != nil {
		return TeamPolicy{}, fmt.Errorf("lock team policy: %w", err)
	}
	return p, nil
}

// SetTeamPolicy stores team's policy.
func (d *DB) SetTeamPolicy(ctx context.Context, team int64, p TeamPolicy) error {
	tag, err := d.db.Exec(ctx, `
		UPDATE teams SET max_keep_days = $2, prepaid_allowed = $3, remind_only = $4, second_lead_above = $5
		WHERE id = $1`, team, p.MaxKeepDays, p.PrepaidAllowed, p.RemindOnly, p.SecondLeadAbove)
	if err != nil {
		return fmt.Errorf("set team policy: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
