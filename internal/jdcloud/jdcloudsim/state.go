package jdcloudsim

import (
	"slices"
	"time"

	"restoredesk/internal/jdcloud"
)

// stateVersion changes when the JSON shape of state does; a saved state of another version is
// refused rather than misread.
const stateVersion = 1

// state is everything the simulator knows, serialised as JSON by the Persister.
type state struct {
	Version  int                     `json:"version"`
	SeededAt time.Time               `json:"seededAt"`
	Counter  uint64                  `json:"counter"` // ids generated so far (deterministic ids)
	Regions  map[string]*regionState `json:"regions"`
}

// regionState is one region's resources.
type regionState struct {
	AZs       []string         `json:"azs"`
	Instances []*instance      `json:"instances"` // in creation order
	Backups   []jdcloud.Backup `json:"backups"`
	Vpcs      []jdcloud.Vpc    `json:"vpcs"` // without their subnets; those are in Subnets
	Subnets   []jdcloud.Subnet `json:"subnets"`
}

// instance is an instance with the simulator's bookkeeping of its life cycle.
type instance struct {
	Inst jdcloud.Instance `json:"instance"`
	// ReadyAt is when a BUILDING instance finishes building (zero for seeded ones).
	ReadyAt time.Time `json:"readyAt,omitzero"`
	// BuildFails makes the build end in BUILD_ERROR.
	BuildFails bool `json:"buildFails,omitempty"`
	// VisibleAt is when a new instance starts to appear in describe calls.
	VisibleAt time.Time `json:"visibleAt,omitzero"`
	// GoneAt is when a DELETING instance disappears.
	GoneAt time.Time `json:"goneAt,omitzero"`
	// RestorePoint is, for an instance made by createInstanceByTime, the moment of the
	// source's data it holds, as the simulator understood restoreTime.
	RestorePoint time.Time `json:"restorePoint,omitzero"`
}

// visible reports whether describe calls show the instance at now.
func (in *instance) visible(now time.Time) bool { return !now.Before(in.VisibleAt) }

// advance moves time-driven statuses forward to now: BUILDING → RUNNING or BUILD_ERROR, and
// DELETING instances whose time is up disappear. It reports whether anything changed.
func (st *state) advance(now time.Time) bool {
	changed := false
	for _, rs := range st.Regions {
		kept := rs.Instances[:0]
		for _, in := range rs.Instances {
			switch {
			case in.Inst.InstanceStatus == jdcloud.StatusBuilding && !in.ReadyAt.IsZero() && !now.Before(in.ReadyAt):
				in.Inst.InstanceStatus = jdcloud.StatusRunning
				if in.BuildFails {
					in.Inst.InstanceStatus = jdcloud.StatusBuildError
				}
				changed = true
			case in.Inst.InstanceStatus == jdcloud.StatusDeleting && !in.GoneAt.IsZero() && !now.Before(in.GoneAt):
				changed = true
				continue // gone
			}
			kept = append(kept, in)
		}
		clear(rs.Instances[len(kept):])
		rs.Instances = kept
	}
	return changed
}

// findInstance returns the instance with id, visible or not.
func (rs *regionState) findInstance(id string) *instance {
	for _, in := range rs.Instances {
		if in.Inst.InstanceID == id {
			return in
		}
	}
	return nil
}

// findBackup returns the backup with id.
func (rs *regionState) findBackup(id string) *jdcloud.Backup {
	i := slices.IndexFunc(rs.Backups, func(b jdcloud.Backup) bool { return b.BackupID == id })
	if i < 0 {
		return nil
	}
	b := rs.Backups[i]
	return &b
}

// findSubnet returns the subnet with id.
func (rs *regionState) findSubnet(id string) *jdcloud.Subnet {
	i := slices.IndexFunc(rs.Subnets, func(s jdcloud.Subnet) bool { return s.SubnetID == id })
	if i < 0 {
		return nil
	}
	s := rs.Subnets[i]
	return &s
}
