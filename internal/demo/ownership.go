package demo

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/postgres"
)

// SeedOwnership gives the demo teams the simulator's instances and VPCs that
// the simulator's seed assigns them (jdcloudsim.SeedOwnership), reading names
// and engines from the simulator through cloud. A team that owns anything
// already is left alone, so an admin's changes survive restarts. Each grant
// is an admin.ownership_changed event by the system.
func SeedOwnership(ctx context.Context, pool *pgxpool.Pool, cloud *jdcloud.Client) error {
	db := postgres.New(pool)
	skip := map[int64]bool{}
	for _, o := range jdcloudsim.SeedOwnership() {
		team, err := db.TeamByName(ctx, o.Team)
		if errors.Is(err, postgres.ErrNotFound) {
			continue // not a demo team
		}
		if err != nil {
			return err
		}
		if _, seen := skip[team.ID]; !seen {
			owned, err := db.TeamInstances(ctx, team.ID)
			if err != nil {
				return err
			}
			skip[team.ID] = len(owned) > 0
		}
		if skip[team.ID] {
			continue
		}
		for _, id := range o.InstanceIDs {
			in, err := cloud.DescribeInstanceAttributes(ctx, o.Region, id)
			if err != nil {
				return fmt.Errorf("demo ownership: describe %s: %w", id, err)
			}
			err = grant(ctx, db, team.ID, "instance", func(tx *postgres.DB) (bool, error) {
				return tx.AddTeamInstance(ctx, postgres.TeamInstance{TeamID: team.ID, Region: o.Region, InstanceID: id,
					InstanceName: in.InstanceName, Engine: in.Engine})
			}, map[string]any{"region": o.Region, "instance_id": id, "instance_name": in.InstanceName})
			if err != nil {
				return err
			}
		}
		for _, id := range o.VpcIDs {
			err := grant(ctx, db, team.ID, "vpc", func(tx *postgres.DB) (bool, error) {
				return tx.AddTeamVPC(ctx, postgres.TeamVPC{TeamID: team.ID, Region: o.Region, VpcID: id})
			}, map[string]any{"region": o.Region, "vpc_id": id})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func grant(ctx context.Context, db *postgres.DB, team int64, kind string, add func(*postgres.DB) (bool, error), details map[string]any) error {
	return db.Tx(ctx, func(tx *postgres.DB) error {
		added, err := add(tx)
		if err != nil || !added {
			return err
		}
		details["change"], details["kind"], details["via"] = "added", kind, "demo seed"
		_, err = audit.Record(ctx, tx.Conn(), audit.Event{Actor: audit.System, Action: audit.AdminOwnershipChanged,
			TargetType: audit.TargetTeam, TargetID: strconv.FormatInt(team, 10), TeamID: team, Details: details})
		return err
	})
}
