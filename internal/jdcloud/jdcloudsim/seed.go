package jdcloudsim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"restoredesk/internal/jdcloud"
)

// The seed: deterministic, realistic data in the four regions docs/jdcloud.md lists. Ids are fixed
// (so the product's demo seed can name them; see SeedOwnership); times are relative to the
// moment of the first seed and saved with the state, so they stay put across restarts.
//
// Teams "payments" and "search" (the demo's teams) each own instances of mixed engines and
// two VPCs in cn-north-1, and an instance or two and one VPC in every other region. Teams
// "crm" and "analytics" own a little more, for admin pages that list what nobody in the demo
// owns. vpc-sharedsvc1 belongs to no team.

// Demo team names used by the seed.
const (
	TeamPayments = "payments"
	TeamSearch   = "search"
)

// RetainedInstanceID is a deleted instance whose backups the seed keeps (status RETAINED):
// describeBackups with instanceId=mysql-payoldord1 in cn-north-1 lists them.
const RetainedInstanceID = "mysql-payoldord1"

// seedInstance is one source instance of the seed.
type seedInstance struct {
	id, name, team, region, engine, version, class string
	standalone                                     bool // SQL Server standalone (one AZ)
	storageGB                                      int
	dataGB                                         float64 // size of its full backups
	vpc                                            string
	prepaid                                        bool
}

var seedInstances = []seedInstance{
	// cn-north-1, payments
	{id: "mysql-payorders1", name: "payments-orders", team: TeamPayments, region: "cn-north-1", engine: jdcloud.EngineMySQL, version: "5.7", class: "db.mysql.s1.large", storageGB: 500, dataGB: 180.4, vpc: "vpc-payprod001"},
	{id: "pg-payledger1", name: "payments-ledger", team: TeamPayments, region: "cn-north-1", engine: jdcloud.EnginePostgreSQL, version: "12.2", class: "db.pg.s1.medium", storageGB: 300, dataGB: 96.7, vpc: "vpc-payprod001"},
	{id: "sqlserver-payrecon01", name: "payments-reconciliation", team: TeamPayments, region: "cn-north-1", engine: jdcloud.EngineSQLServer, version: "2016 EE", class: "db.sqlsvr.s1.xlarge", storageGB: 800, dataGB: 312.5, vpc: "vpc-payprod001"},
	{id: "percona-paysessn01", name: "payments-sessions", team: TeamPayments, region: "cn-north-1", engine: jdcloud.EnginePercona, version: "5.7", class: "db.percona.s1.small", storageGB: 120, dataGB: 8.3, vpc: "vpc-payprod001"},
	{id: "mariadb-payrefund1", name: "payments-refunds", team: TeamPayments, region: "cn-north-1", engine: jdcloud.EngineMariaDB, version: "10.2", class: "db.mariadb.s1.micro", storageGB: 40, dataGB: 3.1, vpc: "vpc-payprod001", prepaid: true},
	// cn-north-1, search
	{id: "mysql-srchindex1", name: "search-index-meta", team: TeamSearch, region: "cn-north-1", engine: jdcloud.EngineMySQL, version: "5.7", class: "db.mysql.s1.medium", storageGB: 200, dataGB: 62.0, vpc: "vpc-srchprod01"},
	{id: "pg-srchquery1", name: "search-query-log", team: TeamSearch, region: "cn-north-1", engine: jdcloud.EnginePostgreSQL, version: "11.2", class: "db.pg.s1.large", storageGB: 400, dataGB: 240.9, vpc: "vpc-srchprod01"},
	{id: "mariadb-srchcrawl1", name: "search-crawler", team: TeamSearch, region: "cn-north-1", engine: jdcloud.EngineMariaDB, version: "10.2", class: "db.mariadb.s1.small", storageGB: 100, dataGB: 41.6, vpc: "vpc-srchprod01"},
	{id: "percona-srchclick1", name: "search-clickstream", team: TeamSearch, region: "cn-north-1", engine: jdcloud.EnginePercona, version: "5.7", class: "db.percona.s1.xlarge", storageGB: 600, dataGB: 355.2, vpc: "vpc-srchprod01"},
	{id: "sqlserver-srchrept01", name: "search-reporting", team: TeamSearch, region: "cn-north-1", engine: jdcloud.EngineSQLServer, version: "2014 SE", class: "db.sqlsvr.s1.large", standalone: true, storageGB: 250, dataGB: 77.8, vpc: "vpc-srchprod01"},
	// cn-east-2
	{id: "mysql-payeastdb1", name: "payments-east", team: TeamPayments, region: "cn-east-2", engine: jdcloud.EngineMySQL, version: "5.7", class: "db.mysql.s1.small", storageGB: 100, dataGB: 22.4, vpc: "vpc-payeast001"},
	{id: "pg-payeastlg1", name: "payments-east-ledger", team: TeamPayments, region: "cn-east-2", engine: jdcloud.EnginePostgreSQL, version: "12.2", class: "db.pg.s1.micro", storageGB: 60, dataGB: 4.8, vpc: "vpc-payeast001"},
	{id: "mysql-srcheast01", name: "search-east", team: TeamSearch, region: "cn-east-2", engine: jdcloud.EngineMySQL, version: "5.6", class: "db.mysql.s1.medium", storageGB: 150, dataGB: 51.0, vpc: "vpc-srcheast01"},
	{id: "mariadb-srcheastm1", name: "search-east-cache", team: TeamSearch, region: "cn-east-2", engine: jdcloud.EngineMariaDB, version: "10.2", class: "db.mariadb.s1.micro", storageGB: 20, dataGB: 1.2, vpc: "vpc-srcheast01"},
	// cn-south-1
	{id: "mysql-payriskdb1", name: "payments-risk", team: TeamPayments, region: "cn-south-1", engine: jdcloud.EngineMySQL, version: "5.7", class: "db.mysql.m1.xlarge", storageGB: 200, dataGB: 120.0, vpc: "vpc-paysouth01"},
	{id: "pg-srchsouth1", name: "search-south", team: TeamSearch, region: "cn-south-1", engine: jdcloud.EnginePostgreSQL, version: "10.6", class: "db.pg.s1.small", storageGB: 80, dataGB: 15.5, vpc: "vpc-srchsouth1"},
	// cn-east-1
	{id: "percona-payarchv01", name: "payments-archive", team: TeamPayments, region: "cn-east-1", engine: jdcloud.EnginePercona, version: "5.7", class: "db.percona.s1.large", storageGB: 500, dataGB: 410.0, vpc: "vpc-paysuqian1"},
	{id: "mysql-srcharch01", name: "search-archive", team: TeamSearch, region: "cn-east-1", engine: jdcloud.EngineMySQL, version: "5.7", class: "db.mysql.s1.large", storageGB: 300, dataGB: 199.0, vpc: "vpc-srchsuqian"},
	// cn-north-1, teams outside the demo
	{id: "mysql-crmmaindb1", name: "crm-main", team: "crm", region: "cn-north-1", engine: jdcloud.EngineMySQL, version: "5.7", class: "db.mysql.s1.xlarge", storageGB: 800, dataGB: 402.3, vpc: "vpc-sharedsvc1"},
	{id: "pg-bianalyt01", name: "bi-analytics", team: "analytics", region: "cn-north-1", engine: jdcloud.EnginePostgreSQL, version: "12.2", class: "db.pg.s1.2xlarge", storageGB: 1200, dataGB: 655.0, vpc: "vpc-sharedsvc1"},
}

// seedVpc is one VPC of the seed; net is its second octet (10.net.0.0/16).
type seedVpc struct {
	id, name, team, region string
	net                    int
}

var seedVpcs = []seedVpc{
	{id: "vpc-payprod001", name: "payments-prod", team: TeamPayments, region: "cn-north-1", net: 10},
	{id: "vpc-payrestore", name: "payments-restore", team: TeamPayments, region: "cn-north-1", net: 11},
	{id: "vpc-srchprod01", name: "search-prod", team: TeamSearch, region: "cn-north-1", net: 20},
	{id: "vpc-srchrestor", name: "search-restore", team: TeamSearch, region: "cn-north-1", net: 21},
	{id: "vpc-sharedsvc1", name: "shared-services", region: "cn-north-1", net: 30},
	{id: "vpc-payeast001", name: "payments-east", team: TeamPayments, region: "cn-east-2", net: 40},
	{id: "vpc-srcheast01", name: "search-east", team: TeamSearch, region: "cn-east-2", net: 41},
	{id: "vpc-paysouth01", name: "payments-south", team: TeamPayments, region: "cn-south-1", net: 50},
	{id: "vpc-srchsouth1", name: "search-south", team: TeamSearch, region: "cn-south-1", net: 51},
	{id: "vpc-paysuqian1", name: "payments-suqian", team: TeamPayments, region: "cn-east-1", net: 60},
	{id: "vpc-srchsuqian", name: "search-suqian", team: TeamSearch, region: "cn-east-1", net: 61},
}

// Ownership is what one team owns in one region in the seed: its source instances and the
// VPCs it may restore into.
type Ownership struct {
	Team        string
	Region      string
	InstanceIDs []string
	VpcIDs      []string
}

// SeedOwnership returns, per team and region (sorted), the seed's instance and VPC ids, for the
// product's demo seed to hand out. The demo's teams are TeamPayments and TeamSearch; "crm" and
// "analytics" also appear (instances only). vpc-sharedsvc1 is in nobody's list.
func SeedOwnership() []Ownership {
	byKey := map[[2]string]*Ownership{}
	get := func(team, region string) *Ownership {
		k := [2]string{team, region}
		if byKey[k] == nil {
			byKey[k] = &Ownership{Team: team, Region: region}
		}
		return byKey[k]
	}
	for _, si := range seedInstances {
		o := get(si.team, si.region)
		o.InstanceIDs = append(o.InstanceIDs, si.id)
	}
	for _, sv := range seedVpcs {
		if sv.team != "" {
			o := get(sv.team, sv.region)
			o.VpcIDs = append(o.VpcIDs, sv.id)
		}
	}
	var out []Ownership
	for _, o := range byKey {
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b Ownership) int {
		return strings.Compare(a.Team+"/"+a.Region, b.Team+"/"+b.Region)
	})
	return out
}

// seed builds the initial state, with times relative to now.
func seed(now time.Time) *state {
	now = now.UTC().Truncate(time.Second)
	st := &state{Version: stateVersion, SeededAt: now, Regions: map[string]*regionState{}}
	for _, r := range jdcloud.Regions {
		st.Regions[r.ID] = &regionState{AZs: slices.Clone(r.AZs)}
	}
	for _, sv := range seedVpcs {
		rs := st.Regions[sv.region]
		created := now.AddDate(0, 0, -400+sv.net)
		v := jdcloud.Vpc{
			VpcID: sv.id, VpcName: sv.name, AddressPrefix: fmt.Sprintf("10.%d.0.0/16", sv.net),
			Description: "seeded by the Restore Desk simulator", RouteTableIDs: []string{"rtb-" + digest(sv.id, 10)},
			CreatedTime: created.Format(time.RFC3339),
		}
		if sv.team != "" {
			v.Tags = []jdcloud.Tag{{Key: "team", Value: sv.team}}
		}
		rs.Vpcs = append(rs.Vpcs, v)
		// One subnet per zone, in the first two zones of the region.
		for k, az := range rs.AZs[:min(2, len(rs.AZs))] {
			letter := az[len(az)-1:]
			base := fmt.Sprintf("10.%d.%d.", sv.net, k+1)
			rs.Subnets = append(rs.Subnets, jdcloud.Subnet{
				SubnetID: "subnet-" + strings.TrimPrefix(sv.id, "vpc-")[:9] + letter, SubnetName: sv.name + "-" + letter,
				VpcID: sv.id, AddressPrefix: base + "0/24", AvailableIPCount: 251 - 7*k - sv.net%5, IPMaskLen: 24,
				RouteTableID: v.RouteTableIDs[0], StartIP: base + "0", EndIP: base + "255",
				CreatedTime: created.Add(time.Hour).Format(time.RFC3339), SubnetType: "standard", Az: az,
			})
		}
	}
	for i, si := range seedInstances {
		rs := st.Regions[si.region]
		in := seedInstanceRecord(i, si, rs, now)
		rs.Instances = append(rs.Instances, &instance{Inst: in})
		rs.Backups = append(rs.Backups, seedBackups(i, si, in, now)...)
	}
	rs := st.Regions["cn-north-1"]
	rs.Backups = append(rs.Backups, retainedBackups(now)...)
	return st
}

// seedInstanceRecord builds the JD Cloud view of a seeded instance.
func seedInstanceRecord(i int, si seedInstance, rs *regionState, now time.Time) jdcloud.Instance {
	class, ok := jdcloud.LookupClass(si.class)
	if !ok {
		panic("jdcloudsim: seed class " + si.class + " is not in the class table")
	}
	azs := []string{rs.AZs[0], rs.AZs[min(1, len(rs.AZs)-1)]}
	typ := jdcloud.InstanceTypeCluster
	if si.standalone {
		azs, typ = azs[:1], jdcloud.InstanceTypeStandalone
	}
	var subnet string
	for _, sn := range rs.Subnets {
		if sn.VpcID == si.vpc && sn.Az == azs[0] {
			subnet = sn.SubnetID
			break
		}
	}
	created := now.AddDate(0, 0, -(90 + i*37%400))
	charge := &jdcloud.Charge{ChargeMode: jdcloud.ChargePostpaidByDuration, ChargeStatus: "normal", ChargeStartTime: created.Format(time.RFC3339)}
	if si.prepaid {
		charge.ChargeMode = jdcloud.ChargePrepaidByDuration
		charge.ChargeExpiredTime = now.AddDate(0, 7, 0).Format(time.RFC3339)
	}
	in := jdcloud.Instance{
		InstanceID: si.id, InstanceName: si.name, InstanceType: typ,
		Engine: si.engine, EngineVersion: si.version, MinorVersion: minorVersion(si.engine, si.version),
		InstanceClass: si.class, InstanceStorageType: jdcloud.StorageLocalSSD, InstanceStorageGB: si.storageGB,
		InstanceCPU: class.CPU, InstanceMemoryMB: class.MemoryGB * 1024,
		RegionID: si.region, AzID: azs, VpcID: si.vpc, SubnetID: subnet,
		InternalDomainName: fmt.Sprintf("%s-%s-%s.rds.jdcloud.com", strings.TrimSuffix(enginePrefix(si.engine), "-"), si.region, digest(si.id, 16)),
		InstancePort:       fmt.Sprint(jdcloud.DefaultPort(si.engine)),
		ConnectionMode:     "standard", AuditStatus: "off",
		InstanceStatus: jdcloud.StatusRunning, CreateTime: jdcloud.FormatLocalTime(created), Charge: charge,
		Tags: []jdcloud.Tag{
			{Key: "team", Value: si.team},
			{Key: "env", Value: "production"},
			{Key: "app", Value: strings.TrimPrefix(si.name, si.team+"-")},
		},
	}
	if si.engine == jdcloud.EngineMySQL {
		in.ParameterGroupID = "mysql-pg-" + digest(si.id+"/pg", 10)
		in.ParameterGroupName, in.ParameterStatus = si.name+"-params", "VALID"
	}
	return in
}

// minorVersion is a plausible minor version for the seed.
func minorVersion(engine, version string) string {
	switch {
	case engine == jdcloud.EngineMySQL && version == "5.7":
		return "5.7.26"
	case engine == jdcloud.EngineMySQL:
		return version + ".44"
	case engine == jdcloud.EnginePercona:
		return "5.7.24"
	case engine == jdcloud.EngineMariaDB:
		return "10.2.29"
	case engine == jdcloud.EnginePostgreSQL:
		return version
	}
	return version
}

// seedBackups builds an instance's backups: a week of daily automatic full backups (SQL
// Server: fulls on days 1, 4 and 7 with differential backups between them, plus database-level
// backups), a manual full backup for the MySQL family, a failed one on some instances and one
// still running on others.
func seedBackups(i int, si seedInstance, in jdcloud.Instance, now time.Time) []jdcloud.Backup {
	day := now.Truncate(24 * time.Hour)
	minute := time.Duration(i*7%60) * time.Minute
	mysqlFamily := si.engine == jdcloud.EngineMySQL || si.engine == jdcloud.EnginePercona || si.engine == jdcloud.EngineMariaDB
	n := 0
	mk := func(start time.Time, size float64, status, typ, unit, mode, name string) jdcloud.Backup {
		n++
		b := jdcloud.Backup{
			BackupID: uuidFrom(fmt.Sprintf("backup/%s/%d", si.id, n)), BackupName: name,
			InstanceID: si.id, InstanceName: si.name, BackupStatus: status,
			BackupStartTime: jdcloud.FormatLocalTime(start), BackupMode: mode,
			BackupSizeByte: int64(size * (1 << 30)), Engine: si.engine, AvailabilityZone: in.AzID[0],
		}
		if status != jdcloud.BackupBuilding {
			b.BackupEndTime = jdcloud.FormatLocalTime(start.Add(backupDuration(size)))
		}
		if mysqlFamily {
			b.BackupMethod = jdcloud.BackupMethodPhysical
		}
		if si.engine == jdcloud.EngineSQLServer {
			b.BackupType, b.BackupUnit = typ, unit
			b.BackupFiles = []string{strings.ReplaceAll(si.name, "-", "_") + "_" + start.Format("20060102") + ".bak"}
		}
		return b
	}
	var out []jdcloud.Backup
	for k := 1; k <= 7; k++ {
		start := day.AddDate(0, 0, -k).Add(2*time.Hour + minute) // 02:xx UTC, 10:xx Beijing
		size := si.dataGB * (1 - 0.004*float64(k))
		name := "auto_" + start.In(jdcloud.TimeZone).Format("20060102150405")
		status := jdcloud.BackupCompleted
		if k == 3 && i%4 == 1 {
			status, size = jdcloud.BackupError, size*0.37 // failed part-way
		}
		typ := jdcloud.BackupTypeFull
		if si.engine == jdcloud.EngineSQLServer && k != 1 && k != 4 && k != 7 {
			typ, size = jdcloud.BackupTypeDiff, size*0.06
		}
		out = append(out, mk(start, size, status, typ, jdcloud.BackupUnitInstance, jdcloud.BackupModeAuto, name))
	}
	if si.engine == jdcloud.EngineSQLServer {
		for k := 1; k <= 2; k++ {
			start := day.AddDate(0, 0, -k).Add(5*time.Hour + minute)
			out = append(out, mk(start, si.dataGB*0.42, jdcloud.BackupCompleted, jdcloud.BackupTypeFull,
				jdcloud.BackupUnitDatabase, jdcloud.BackupModeManual, "db_"+strings.ReplaceAll(si.name, "-", "_")))
		}
	}
	if mysqlFamily {
		start := now.Add(-36 * time.Hour).Truncate(time.Minute)
		out = append(out, mk(start, si.dataGB*0.998, jdcloud.BackupCompleted, jdcloud.BackupTypeFull,
			jdcloud.BackupUnitInstance, jdcloud.BackupModeManual, "before-release"))
	}
	if i%3 == 0 {
		out = append(out, mk(now.Add(-25*time.Minute).Truncate(time.Minute), 0, jdcloud.BackupBuilding,
			jdcloud.BackupTypeFull, jdcloud.BackupUnitInstance, jdcloud.BackupModeAuto, "auto_running"))
	}
	return out
}

// retainedBackups are the kept backups of the deleted RetainedInstanceID.
func retainedBackups(now time.Time) []jdcloud.Backup {
	day := now.Truncate(24 * time.Hour)
	var out []jdcloud.Backup
	for k := 1; k <= 3; k++ {
		start := day.AddDate(0, 0, -40-k).Add(2 * time.Hour)
		size := 57.3 - float64(k)
		out = append(out, jdcloud.Backup{
			BackupID: uuidFrom(fmt.Sprintf("backup/%s/%d", RetainedInstanceID, k)), BackupName: "auto_" + start.In(jdcloud.TimeZone).Format("20060102150405"),
			InstanceID: RetainedInstanceID, InstanceName: "payments-orders-old", BackupStatus: jdcloud.BackupRetained,
			BackupStartTime: jdcloud.FormatLocalTime(start), BackupEndTime: jdcloud.FormatLocalTime(start.Add(backupDuration(size))),
			BackupMode: jdcloud.BackupModeAuto, BackupMethod: jdcloud.BackupMethodPhysical,
			BackupSizeByte: int64(size * (1 << 30)), Engine: jdcloud.EngineMySQL, AvailabilityZone: "cn-north-1a",
		})
	}
	return out
}

// backupDuration is a plausible run time: two minutes plus one per 4 GB.
func backupDuration(sizeGB float64) time.Duration {
	return 2*time.Minute + time.Duration(math.Round(sizeGB/4))*time.Minute
}

// digest returns n hex characters derived from s: stable, id-shaped filler.
func digest(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

// uuidFrom returns a UUID v4-shaped id derived from s (backup ids are UUIDs).
func uuidFrom(s string) string {
	sum := sha256.Sum256([]byte(s))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
