package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// TeamInstance is a source instance a team owns.
type TeamInstance struct {
	TeamID       int64  `db:"team_id"`
	Region       string `db:"region"`
	InstanceID   string `db:"instance_id"`
	InstanceName string `db:"instance_name"`
	Engine       string `db:"engine"`
}

// TeamVPC is a VPC a team may restore into.
type TeamVPC struct {
	TeamID  int64  `db:"team_id"`
	Region  string `db:"region"`
	VpcID   string `db:"vpc_id"`
	VpcName string `db:"vpc_name"`
}

// TeamInstances returns the source instances team owns, in region order.
func (d *DB) TeamInstances(ctx context.Context, team int64) ([]TeamInstance, error) {
	rows, err := d.db.Query(ctx, `
		SELECT team_id, region, instance_id, instance_name, engine FROM team_instances
		WHERE team_id = $1 ORDER BY region, instance_name, instance_id`, team)
	if err != nil {
		return nil, fmt.Errorf("team instances: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[TeamInstance])
}

// TeamVPCs returns the VPCs team may restore into, in region order.
func (d *DB) TeamVPCs(ctx context.Context, team int64) ([]TeamVPC, error) {
	rows, err := d.db.Query(ctx, `
		SELECT team_id, region, vpc_id, vpc_name FROM team_vpcs
		WHERE team_id = $1 ORDER BY region, vpc_name, vpc_id`, team)
	if err != nil {
		return nil, fmt.Errorf("team VPCs: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[TeamVPC])
}

// AddTeamInstance gives team the source instance. It reports false when the
// instance already belongs to a team (each instance has one owner).
func (d *DB) AddTeamInstance(ctx context.Context, ti TeamInstance) (bool, error) {
	tag, err := d.db.Exec(ctx, `
		INSERT INTO team_instances (team_id, region, instance_id, instance_name, engine)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (region, instance_id) DO NOTHING`,
		ti.TeamID, ti.Region, ti.InstanceID, ti.InstanceName, ti.Engine)
	if err != nil {
		return false, fmt.Errorf("add team instance: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RemoveTeamInstance takes the source instance from team; it reports whether it had it.
func (d *DB) RemoveTeamInstance(ctx context.Context, team int64, region, instanceID string) (bool, error) {
	tag, err := d.db.Exec(ctx, `DELETE FROM team_instances WHERE team_id = $1 AND region = $2 AND instance_id = $3`,
		team, region, instanceID)
	if err != nil {
		return false, fmt.Errorf("remove team instance: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// AddTeamVPC lets team restore into the VPC; it reports false when it already could.
func (d *DB) AddTeamVPC(ctx context.Context, v TeamVPC) (bool, error) {
	tag, err := d.db.Exec(ctx, `
		INSERT INTO team_vpcs (team_id, region, vpc_id, vpc_name) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, v.TeamID, v.Region, v.VpcID, v.VpcName)
	if err != nil {
		return false, fmt.Errorf("add team VPC: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RemoveTeamVPC stops team restoring into the VPC; it reports whether it could.
func (d *DB) RemoveTeamVPC(ctx context.Context, team int64, region, vpcID string) (bool, error) {
	tag, err := d.db.Exec(ctx, `DELETE FROM team_vpcs WHERE team_id = $1 AND region = $2 AND vpc_id = $3`,
		team, region, vpcID)
	if err != nil {
		return false, fmt.Errorf("remove team VPC: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
