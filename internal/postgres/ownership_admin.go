package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// InstanceOwner returns the team that owns the source instance in region. It
// returns ErrNotFound when no team does.
func (d *DB) InstanceOwner(ctx context.Context, region, instanceID string) (Team, error) {
	rows, err := d.db.Query(ctx, `
		SELECT t.id, t.name, t.created_at FROM team_instances ti JOIN teams t ON t.id = ti.team_id
		WHERE ti.region = $1 AND ti.instance_id = $2`, region, instanceID)
	if err != nil {
		return Team{}, fmt.Errorf("instance owner: %w", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Team])
	if errors.Is(err, pgx.ErrNoRows) {
		return Team{}, ErrNotFound
	}
	if err != nil {
		return Team{}, fmt.Errorf("instance owner: %w", err)
	}
	return t, nil
}

// RegionOwners returns, for every owned source instance in region, the name
// of the team that owns it (instance id → team name).
func (d *DB) RegionOwners(ctx context.Context, region string) (map[string]string, error) {
	rows, err := d.db.Query(ctx, `
		SELECT ti.instance_id, t.name FROM team_instances ti JOIN teams t ON t.id = ti.team_id
		WHERE ti.region = $1`, region)
	if err != nil {
		return nil, fmt.Errorf("region owners: %w", err)
	}
	out := map[string]string{}
	var id, name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		out[id] = name
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("region owners: %w", err)
	}
	return out, nil
}
