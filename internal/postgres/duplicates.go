package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DuplicateInstance is an instance carrying a request's tag that is not the
// request's own: it bills until someone deletes it (table duplicate_instances).
type DuplicateInstance struct {
	InstanceID   string    `db:"instance_id"`
	RequestID    int64     `db:"request_id"`
	TeamID       int64     `db:"team_id"`
	TeamName     string    `db:"team_name"`
	Region       string    `db:"region"`
	InstanceName string    `db:"instance_name"`
	JDCreatedAt  string    `db:"jd_created_at"`
	FoundAt      time.Time `db:"found_at"`
}

// AddDuplicateInstances records the duplicates of request id and returns the
// ids of those not recorded before, so each is reported once.
func (d *DB) AddDuplicateInstances(ctx context.Context, id int64, dups []DuplicateInstance) ([]string, error) {
	var added []string
	for _, in := range dups {
		tag, err := d.db.Exec(ctx, `
			INSERT INTO duplicate_instances (instance_id, request_id, region, instance_name, jd_created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (instance_id) DO NOTHING`,
			in.InstanceID, id, in.Region, in.InstanceName, in.JDCreatedAt)
		if err != nil {
			return nil, fmt.Errorf("record duplicate instance %s: %w", in.InstanceID, err)
		}
		if tag.RowsAffected() == 1 {
			added = append(added, in.InstanceID)
		}
	}
	return added, nil
}

const duplicateSelect = `
	SELECT d.instance_id, d.request_id, r.team_id, t.name AS team_name, d.region, d.instance_name,
		d.jd_created_at, d.found_at
	FROM duplicate_instances d
	JOIN restore_requests r ON r.id = d.request_id
	JOIN teams t ON t.id = r.team_id`

// RequestDuplicates returns the duplicates found for request id, oldest first.
func (d *DB) RequestDuplicates(ctx context.Context, id int64) ([]DuplicateInstance, error) {
	rows, err := d.db.Query(ctx, duplicateSelect+` WHERE d.request_id = $1 ORDER BY d.found_at, d.instance_id`, id)
	if err != nil {
		return nil, fmt.Errorf("query duplicate instances: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[DuplicateInstance])
}

// DuplicateInstances returns every recorded duplicate, newest first, at most limit.
func (d *DB) DuplicateInstances(ctx context.Context, limit int) ([]DuplicateInstance, error) {
	rows, err := d.db.Query(ctx, duplicateSelect+` ORDER BY d.found_at DESC, d.instance_id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("query duplicate instances: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[DuplicateInstance])
}

// CountDuplicateInstances counts every recorded duplicate.
func (d *DB) CountDuplicateInstances(ctx context.Context) (int, error) {
	var n int
	if err := d.db.QueryRow(ctx, `SELECT count(*) FROM duplicate_instances`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count duplicate instances: %w", err)
	}
	return n, nil
}
