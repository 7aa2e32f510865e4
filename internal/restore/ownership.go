package restore

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/postgres"
	"restoredesk/internal/problem"
)

// Ownership changes which source instances a team owns and which VPCs it may
// restore into (docs/architecture.md, who may do what). Additions are checked against JD
// Cloud, so only what exists there can be owned; each change is one
// transaction with its admin.ownership_changed event.
type Ownership struct {
	pool  *pgxpool.Pool
	cloud *jdcloud.Client
}

// NewOwnership returns an Ownership reading JD Cloud through cloud.
func NewOwnership(pool *pgxpool.Pool, cloud *jdcloud.Client) *Ownership {
	return &Ownership{pool: pool, cloud: cloud}
}

// The kinds of things a team owns, as the audit details name them.
const (
	KindInstance = "instance"
	KindVPC      = "vpc"
)

// ErrNoChange: the team already has what was added, or does not have what
// was removed.
var ErrNoChange = errors.New("nothing to change")

// unknown refuses an instance or VPC that JD Cloud does not have.
func unknown(kind, region, id string) error {
	return problem.Errorf(problem.Invalid, "JD Cloud has no %s %s in %s.", noun(kind), id, region)
}

// owned refuses an instance that another team owns already: an instance has
// one owner.
func owned(id, team string) error {
	return problem.Errorf(problem.Conflict, "%s already belongs to team %s; an instance has one owner. Remove it from %s first.", id, team, team)
}

// noun is how the pages name a kind.
func noun(kind string) string {
	if kind == KindVPC {
		return "VPC"
	}
	return kind
}

// AddInstance gives team the source instance id in region, with the name and
// engine JD Cloud reports. It refuses (a problem.Error) an instance JD Cloud
// does not have or another team owns, or a look-up that failed, and returns
// ErrNoChange when the team owns it already.
func (o *Ownership) AddInstance(ctx context.Context, a audit.Actor, team postgres.Team, region, id string) error {
	in, err := o.cloud.DescribeInstanceAttributes(ctx, region, id)
	if jdcloud.IsNotFound(err) {
		return unknown(KindInstance, region, id)
	}
	if err != nil {
		return lookupError(err)
	}
	return o.change(ctx, a, team, true, KindInstance, region, id, in.InstanceName, func(db *postgres.DB) (bool, error) {
		added, err := db.AddTeamInstance(ctx, postgres.TeamInstance{TeamID: team.ID, Region: region, InstanceID: id,
			InstanceName: in.InstanceName, Engine: in.Engine})
		if err != nil || added {
			return added, err
		}
		owner, err := db.InstanceOwner(ctx, region, id)
		if err != nil {
			return false, err
		}
		if owner.ID != team.ID {
			return false, owned(id, owner.Name)
		}
		return false, nil
	})
}

// RemoveInstance takes the source instance from team. It returns ErrNoChange
// when the team does not own it.
func (o *Ownership) RemoveInstance(ctx context.Context, a audit.Actor, team postgres.Team, region, id string) error {
	return o.change(ctx, a, team, false, KindInstance, region, id, "", func(db *postgres.DB) (bool, error) {
		return db.RemoveTeamInstance(ctx, team.ID, region, id)
	})
}

// AddVPC lets team restore into the VPC id of region, with the name JD Cloud
// reports. It refuses (a problem.Error) a VPC JD Cloud does not have, or a
// look-up that failed, and returns ErrNoChange when the team may already.
func (o *Ownership) AddVPC(ctx context.Context, a audit.Actor, team postgres.Team, region, id string) error {
	vpcs, err := o.cloud.AllVpcs(ctx, region, jdcloud.DescribeVpcsQuery{Filters: []jdcloud.Filter{{Name: "vpcIds", Values: []string{id}}}})
	if err != nil {
		return lookupError(err)
	}
	var vpc *jdcloud.Vpc
	for i := range vpcs {
		if vpcs[i].VpcID == id {
			vpc = &vpcs[i]
		}
	}
	if vpc == nil {
		return unknown(KindVPC, region, id)
	}
	return o.change(ctx, a, team, true, KindVPC, region, id, vpc.VpcName, func(db *postgres.DB) (bool, error) {
		return db.AddTeamVPC(ctx, postgres.TeamVPC{TeamID: team.ID, Region: region, VpcID: id, VpcName: vpc.VpcName})
	})
}

// RemoveVPC stops team restoring into the VPC. It returns ErrNoChange when
// the team could not.
func (o *Ownership) RemoveVPC(ctx context.Context, a audit.Actor, team postgres.Team, region, id string) error {
	return o.change(ctx, a, team, false, KindVPC, region, id, "", func(db *postgres.DB) (bool, error) {
		return db.RemoveTeamVPC(ctx, team.ID, region, id)
	})
}

// change runs apply and records its event in one transaction; apply reports
// whether it changed anything (false: ErrNoChange, nothing recorded).
func (o *Ownership) change(ctx context.Context, a audit.Actor, team postgres.Team, add bool, kind, region, id, name string,
	apply func(*postgres.DB) (bool, error)) error {
	return postgres.New(o.pool).Tx(ctx, func(tx *postgres.DB) error {
		if !add {
			// Name the removed item in the event as the team had it.
			var err error
			if name, err = ownedName(ctx, tx, team.ID, kind, region, id); err != nil {
				return err
			}
		}
		changed, err := apply(tx)
		if err != nil {
			return err
		}
		if !changed {
			return ErrNoChange
		}
		what := "added"
		if !add {
			what = "removed"
		}
		_, err = audit.Record(ctx, tx.Conn(), audit.Event{
			Actor: a, Action: audit.AdminOwnershipChanged, TargetType: audit.TargetTeam,
			TargetID: strconv.FormatInt(team.ID, 10), TeamID: team.ID,
			Details: map[string]any{"team": team.Name, "change": what, "kind": kind, "region": region, "id": id, "name": name},
		})
		return err
	})
}

// ownedName is the stored name of what team owns ("" when it owns nothing by that id).
func ownedName(ctx context.Context, db *postgres.DB, team int64, kind, region, id string) (string, error) {
	if kind == KindInstance {
		list, err := db.TeamInstances(ctx, team)
		for _, ti := range list {
			if ti.Region == region && ti.InstanceID == id {
				return ti.InstanceName, err
			}
		}
		return "", err
	}
	list, err := db.TeamVPCs(ctx, team)
	for _, v := range list {
		if v.Region == region && v.VpcID == id {
			return v.VpcName, err
		}
	}
	return "", err
}

// lookupError words a failed JD Cloud look-up for the admin.
func lookupError(err error) error {
	return problem.Errorf(problem.Unavailable, "JD Cloud could not be asked right now (%s). Try again in a moment.", jdcloud.Describe(err))
}
