package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/postgres"
	"restoredesk/internal/restore"
)

// SeedOwnership gives the demo teams the simulator's instances and VPCs that
// the simulator's seed assigns them (jdcloudsim.SeedOwnership), through the
// same restore.Ownership the admin pages use, so each grant is checked
// against the simulator and recorded as an admin.ownership_changed event by
// the system. A team that owns anything already is left alone, so an
// admin's changes survive restarts.
func SeedOwnership(ctx context.Context, pool *pgxpool.Pool, cloud *jdcloud.Client) error {
	db := postgres.New(pool)
	own := restore.NewOwnership(pool, cloud)
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
			if err := own.AddInstance(ctx, audit.System, team, o.Region, id); err != nil && !errors.Is(err, restore.ErrNoChange) {
				return fmt.Errorf("demo ownership of %s: %w", id, err)
			}
		}
		for _, id := range o.VpcIDs {
			if err := own.AddVPC(ctx, audit.System, team, o.Region, id); err != nil && !errors.Is(err, restore.ErrNoChange) {
				return fmt.Errorf("demo ownership of %s: %w", id, err)
			}
		}
	}
	return nil
}
