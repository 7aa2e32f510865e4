package jdcloud_test

import (
	"strings"
	"testing"

	"restoredesk/internal/jdcloud"
)

func ptr[T any](v T) *T { return &v }

// validCase is a request that passes every rule, with its facts.
func validCase() (jdcloud.CreateInstanceFromBackupRequest, jdcloud.Facts) {
	req := jdcloud.CreateInstanceFromBackupRequest{
		BackupID: "b-1",
		Engine:   jdcloud.EngineMySQL,
		InstanceSpec: jdcloud.RestoredInstanceSpec{
			InstanceName:      "restore-42",
			InstanceClass:     "db.mysql.s1.small",
			InstanceStorageGB: 60,
			AzID:              []string{"cn-north-1a", "cn-north-1b"},
			VpcID:             "vpc-1",
			SubnetID:          "subnet-1",
			ChargeSpec:        jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePostpaidByDuration},
			TagSpec:           []jdcloud.Tag{{Key: "restoredesk", Value: "d/42"}},
		},
	}
	facts := jdcloud.Facts{
		Backup: &jdcloud.Backup{BackupID: "b-1", BackupStatus: jdcloud.BackupCompleted, Engine: jdcloud.EngineMySQL, BackupSizeByte: 50 << 30},
		AZs:    []string{"cn-north-1a", "cn-north-1b"},
		Subnet: &jdcloud.Subnet{SubnetID: "subnet-1", VpcID: "vpc-1"},
	}
	return req, facts
}

func TestValidateCreate(t *testing.T) {
	t.Parallel()
	type mod func(*jdcloud.CreateInstanceFromBackupRequest, *jdcloud.Facts)
	spec := func(f func(*jdcloud.RestoredInstanceSpec)) mod {
		return func(r *jdcloud.CreateInstanceFromBackupRequest, _ *jdcloud.Facts) { f(&r.InstanceSpec) }
	}
	sqlServer := func(r *jdcloud.CreateInstanceFromBackupRequest, f *jdcloud.Facts) {
		r.Engine = jdcloud.EngineSQLServer
		r.InstanceSpec.InstanceClass = "db.sqlsvr.s1.large"
		r.InstanceSpec.InstanceStorageGB = 200
		f.Backup.Engine = jdcloud.EngineSQLServer
		f.Backup.BackupType, f.Backup.BackupUnit = jdcloud.BackupTypeFull, jdcloud.BackupUnitInstance
	}
	postgres := func(r *jdcloud.CreateInstanceFromBackupRequest, f *jdcloud.Facts) {
		r.Engine = jdcloud.EnginePostgreSQL
		r.InstanceSpec.InstanceClass = "db.pg.s1.small"
		f.Backup.Engine = jdcloud.EnginePostgreSQL
	}
	for _, tc := range []struct {
		name  string
		mods  []mod
		field string // "" means valid
		text  string // part of the message
	}{
		{name: "valid"},
		{name: "valid: same zone twice", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.AzID = []string{"cn-north-1a", "cn-north-1a"} })}},
		{name: "valid: prepaid 9 months", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) {
			s.ChargeSpec = jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePrepaidByDuration, ChargeUnit: "month", ChargeDuration: 9}
		})}},
		{name: "valid: encrypted cloud disk", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) {
			s.InstanceStorageType, s.StorageEncrypted = jdcloud.StorageEBSSSD, ptr(true)
		})}},
		{name: "valid: port and parameter group for MySQL", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstancePort, s.ParameterGroup = "3307", "mysql-pg-x" })}},
		{name: "valid: Chinese name", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceName = "恢复_订单-1" })}},
		{name: "valid: SQL Server standalone in one zone", mods: []mod{sqlServer, spec(func(s *jdcloud.RestoredInstanceSpec) {
			s.InstanceType, s.AzID = jdcloud.InstanceTypeStandalone, []string{"cn-north-1a"}
		})}},
		{name: "valid: storageEncrypted false for PostgreSQL", mods: []mod{postgres, spec(func(s *jdcloud.RestoredInstanceSpec) { s.StorageEncrypted = ptr(false) })}},

		{name: "backup missing", mods: []mod{func(r *jdcloud.CreateInstanceFromBackupRequest, _ *jdcloud.Facts) { r.BackupID = "" }}, field: jdcloud.FieldBackupID, text: "required"},
		{name: "backup unknown", mods: []mod{func(_ *jdcloud.CreateInstanceFromBackupRequest, f *jdcloud.Facts) { f.Backup = nil }}, field: jdcloud.FieldBackupID, text: "does not exist"},
		{name: "backup not completed", mods: []mod{func(_ *jdcloud.CreateInstanceFromBackupRequest, f *jdcloud.Facts) {
			f.Backup.BackupStatus = jdcloud.BackupBuilding
		}}, field: jdcloud.FieldBackupID, text: "BUILDING"},
		{name: "backup retained", mods: []mod{func(_ *jdcloud.CreateInstanceFromBackupRequest, f *jdcloud.Facts) {
			f.Backup.BackupStatus = jdcloud.BackupRetained
		}}, field: jdcloud.FieldBackupID, text: "RETAINED"},
		{name: "diff backup", mods: []mod{sqlServer, func(_ *jdcloud.CreateInstanceFromBackupRequest, f *jdcloud.Facts) {
			f.Backup.BackupType = jdcloud.BackupTypeDiff
		}}, field: jdcloud.FieldBackupID, text: "diff"},
		{name: "database-level backup", mods: []mod{sqlServer, func(_ *jdcloud.CreateInstanceFromBackupRequest, f *jdcloud.Facts) {
			f.Backup.BackupUnit = jdcloud.BackupUnitDatabase
		}}, field: jdcloud.FieldBackupID, text: "database-level"},
		{name: "engine missing", mods: []mod{func(r *jdcloud.CreateInstanceFromBackupRequest, _ *jdcloud.Facts) { r.Engine = "" }}, field: jdcloud.FieldEngine, text: "required"},
		{name: "engine unknown", mods: []mod{func(r *jdcloud.CreateInstanceFromBackupRequest, _ *jdcloud.Facts) { r.Engine = "Oracle" }}, field: jdcloud.FieldEngine, text: "not one of"},
		{name: "engine differs from backup", mods: []mod{func(r *jdcloud.CreateInstanceFromBackupRequest, _ *jdcloud.Facts) { r.Engine = jdcloud.EnginePercona }}, field: jdcloud.FieldEngine, text: "backup's engine MySQL"},
		{name: "engine differs from source instance", mods: []mod{func(_ *jdcloud.CreateInstanceFromBackupRequest, f *jdcloud.Facts) {
			f.SourceEngine = jdcloud.EngineMariaDB
		}}, field: jdcloud.FieldEngine, text: "MariaDB"},
		{name: "class missing", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceClass = "" })}, field: jdcloud.FieldInstanceClass, text: "required"},
		{name: "class of another engine", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceClass = "db.pg.s1.small" })}, field: jdcloud.FieldInstanceClass, text: "not a MySQL class"},
		{name: "storage missing", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceStorageGB = 0 })}, field: jdcloud.FieldStorageGB, text: "required"},
		{name: "storage above the class", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceStorageGB = 160 })}, field: jdcloud.FieldStorageGB, text: "60–150"},
		{name: "storage off the step", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceStorageGB = 65 })}, field: jdcloud.FieldStorageGB, text: "not a size"},
		{name: "storage below the backup", mods: []mod{func(_ *jdcloud.CreateInstanceFromBackupRequest, f *jdcloud.Facts) {
			f.Backup.BackupSizeByte = 60<<30 + 1
		}}, field: jdcloud.FieldStorageGB, text: "smaller than the backup (61 GB)"},
		{name: "zones missing", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.AzID = nil })}, field: jdcloud.FieldAzID, text: "required"},
		{name: "one zone for a cluster", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.AzID = []string{"cn-north-1a"} })}, field: jdcloud.FieldAzID, text: "primary and a standby"},
		{name: "two zones for SQL Server standalone", mods: []mod{sqlServer, spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceType = jdcloud.InstanceTypeStandalone })}, field: jdcloud.FieldAzID, text: "exactly one"},
		{name: "zone of another region", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.AzID = []string{"cn-north-1a", "cn-east-2a"} })}, field: jdcloud.FieldAzID, text: "cn-east-2a"},
		{name: "vpc missing", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.VpcID = "" })}, field: jdcloud.FieldVpcID, text: "required"},
		{name: "subnet missing", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.SubnetID = "" })}, field: jdcloud.FieldSubnetID, text: "required"},
		{name: "subnet unknown", mods: []mod{func(_ *jdcloud.CreateInstanceFromBackupRequest, f *jdcloud.Facts) { f.Subnet = nil }}, field: jdcloud.FieldSubnetID, text: "does not exist"},
		{name: "subnet of another vpc", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.VpcID = "vpc-2" })}, field: jdcloud.FieldSubnetID, text: "does not belong to VPC vpc-2"},
		{name: "charge mode missing", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.ChargeSpec.ChargeMode = "" })}, field: jdcloud.FieldChargeMode, text: "required"},
		{name: "charge mode unknown", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.ChargeSpec.ChargeMode = "free" })}, field: jdcloud.FieldChargeMode, text: "not one of"},
		{name: "prepaid without unit", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) {
			s.ChargeSpec = jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePrepaidByDuration, ChargeDuration: 1}
		})}, field: jdcloud.FieldChargeUnit, text: "required"},
		{name: "prepaid 10 months", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) {
			s.ChargeSpec = jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePrepaidByDuration, ChargeUnit: "month", ChargeDuration: 10}
		})}, field: jdcloud.FieldChargeDuration, text: "1–9 months"},
		{name: "prepaid 4 years", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) {
			s.ChargeSpec = jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePrepaidByDuration, ChargeUnit: "year", ChargeDuration: 4}
		})}, field: jdcloud.FieldChargeDuration, text: "1–3 years"},
		{name: "postpaid with a period", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.ChargeSpec.ChargeDuration = 3 })}, field: jdcloud.FieldChargeDuration, text: "prepaid"},
		{name: "postpaid with a unit", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.ChargeSpec.ChargeUnit = "month" })}, field: jdcloud.FieldChargeUnit, text: "prepaid"},
		{name: "name too short", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceName = "a" })}, field: jdcloud.FieldInstanceName, text: "2–32"},
		{name: "name too long", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceName = strings.Repeat("a", 33) })}, field: jdcloud.FieldInstanceName, text: "2–32"},
		{name: "name with a space", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceName = "my db" })}, field: jdcloud.FieldInstanceName, text: "' '"},
		{name: "parameter group for PostgreSQL", mods: []mod{postgres, spec(func(s *jdcloud.RestoredInstanceSpec) { s.ParameterGroup = "pg-x" })}, field: jdcloud.FieldParameterGroup, text: "not available for PostgreSQL"},
		{name: "storage type for PostgreSQL", mods: []mod{postgres, spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceStorageType = jdcloud.StorageLocalSSD })}, field: jdcloud.FieldStorageType, text: "not available"},
		{name: "storage type unknown", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceStorageType = "HDD" })}, field: jdcloud.FieldStorageType, text: "not one of"},
		{name: "encrypted local disk", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.StorageEncrypted = ptr(true) })}, field: jdcloud.FieldStorageEncrypted, text: "EBS_SSD"},
		{name: "encrypted for PostgreSQL", mods: []mod{postgres, spec(func(s *jdcloud.RestoredInstanceSpec) { s.StorageEncrypted = ptr(true) })}, field: jdcloud.FieldStorageEncrypted, text: "not available"},
		{name: "port below range", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstancePort = "1149" })}, field: jdcloud.FieldPort, text: "1150 and 5999"},
		{name: "port above range", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstancePort = "6000" })}, field: jdcloud.FieldPort, text: "1150 and 5999"},
		{name: "port not a number", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstancePort = "33o6" })}, field: jdcloud.FieldPort, text: "not a port"},
		{name: "port for SQL Server", mods: []mod{sqlServer, spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstancePort = "1433" })}, field: jdcloud.FieldPort, text: "not available for SQL Server"},
		{name: "architecture for MySQL", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceType = jdcloud.InstanceTypeCluster })}, field: jdcloud.FieldInstanceType, text: "only SQL Server"},
		{name: "architecture unknown", mods: []mod{sqlServer, spec(func(s *jdcloud.RestoredInstanceSpec) { s.InstanceType = "multi-replica" })}, field: jdcloud.FieldInstanceType, text: "not one of"},
		{name: "tag without key", mods: []mod{spec(func(s *jdcloud.RestoredInstanceSpec) { s.TagSpec = []jdcloud.Tag{{Value: "x"}} })}, field: jdcloud.FieldTagSpec, text: "key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, facts := validCase()
			for _, m := range tc.mods {
				m(&req, &facts)
			}
			ps := jdcloud.ValidateCreate(req, facts)
			if tc.field == "" {
				if len(ps) > 0 {
					t.Fatalf("problems for a valid request: %s", ps)
				}
				return
			}
			msg, ok := ps.ByField()[tc.field]
			if !ok {
				t.Fatalf("no problem on %s; got %s", tc.field, ps)
			}
			if !strings.Contains(msg, tc.text) {
				t.Errorf("%s: %q does not mention %q", tc.field, msg, tc.text)
			}
			if !strings.Contains(ps.String(), tc.field+": ") {
				t.Errorf("String() %q does not name the field", ps)
			}
		})
	}
}

func TestValidateCreateOneProblemPerField(t *testing.T) {
	t.Parallel()
	ps := jdcloud.ValidateCreate(jdcloud.CreateInstanceFromBackupRequest{}, jdcloud.Facts{})
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Field] {
			t.Errorf("two problems on %s", p.Field)
		}
		seen[p.Field] = true
	}
	for _, f := range []string{jdcloud.FieldBackupID, jdcloud.FieldEngine, jdcloud.FieldInstanceClass, jdcloud.FieldStorageGB,
		jdcloud.FieldAzID, jdcloud.FieldVpcID, jdcloud.FieldSubnetID, jdcloud.FieldChargeMode} {
		if msg := ps.ByField()[f]; !strings.Contains(msg, "required") {
			t.Errorf("%s: %q, want a required problem", f, msg)
		}
	}
}

func TestRuleTable(t *testing.T) {
	t.Parallel()
	ids := map[string]bool{}
	for _, r := range jdcloud.Rules() {
		if r.ID == "" || r.Field == "" || r.Doc == "" {
			t.Errorf("incomplete rule %+v", r)
		}
		if r.Confidence != jdcloud.Confirmed && r.Confidence != jdcloud.Assumed {
			t.Errorf("rule %s: confidence %q", r.ID, r.Confidence)
		}
		if ids[r.ID] {
			t.Errorf("duplicate rule id %s", r.ID)
		}
		ids[r.ID] = true
	}
	for _, tc := range []struct {
		field, engine string
		want          bool
	}{
		{jdcloud.FieldParameterGroup, jdcloud.EngineMySQL, true},
		{jdcloud.FieldParameterGroup, jdcloud.EnginePercona, false},
		{jdcloud.FieldPort, jdcloud.EngineMariaDB, true},
		{jdcloud.FieldPort, jdcloud.EnginePostgreSQL, false},
		{jdcloud.FieldInstanceType, jdcloud.EngineSQLServer, true},
		{jdcloud.FieldInstanceType, jdcloud.EngineMySQL, false},
		{jdcloud.FieldStorageEncrypted, jdcloud.EngineSQLServer, false},
		{jdcloud.FieldInstanceClass, jdcloud.EngineSQLServer, true},
	} {
		if got := jdcloud.FieldApplies(tc.field, tc.engine); got != tc.want {
			t.Errorf("FieldApplies(%s, %s) = %v", tc.field, tc.engine, got)
		}
	}
}

func TestClasses(t *testing.T) {
	t.Parallel()
	for _, e := range jdcloud.Engines {
		cs := jdcloud.Classes(e)
		if len(cs) < 4 {
			t.Errorf("%s has %d classes", e, len(cs))
		}
		for _, c := range cs {
			smallest, ok := c.Storage.Smallest(0)
			if !ok || !c.Storage.Allows(smallest) || c.CPU < 1 || c.MemoryGB < 1 || c.Engine != e {
				t.Errorf("class %+v is inconsistent", c)
			}
			if got, ok := jdcloud.LookupClass(c.Code); !ok || got.Code != c.Code {
				t.Errorf("LookupClass(%s) = %v, %v", c.Code, got, ok)
			}
			if c.Confidence == jdcloud.Assumed && c.Note == "" {
				t.Errorf("assumed class %s has no note", c.Code)
			}
		}
	}
	small, _ := jdcloud.LookupClass("db.mysql.s1.small")
	micro, _ := jdcloud.LookupClass("db.mysql.s1.micro")
	for _, tc := range []struct {
		s      jdcloud.StorageSizes
		gb     int
		allows bool
		least  int
		fits   bool
	}{
		{small.Storage, 60, true, 60, true},
		{small.Storage, 61, false, 70, true},
		{small.Storage, 150, true, 150, true},
		{small.Storage, 151, false, 0, false},
		{micro.Storage, 40, true, 40, true},
		{micro.Storage, 41, false, 60, true},
		{micro.Storage, 101, false, 0, false},
	} {
		if got := tc.s.Allows(tc.gb); got != tc.allows {
			t.Errorf("%s Allows(%d) = %v", tc.s, tc.gb, got)
		}
		if least, ok := tc.s.Smallest(tc.gb); least != tc.least || ok != tc.fits {
			t.Errorf("%s Smallest(%d) = %d, %v; want %d, %v", tc.s, tc.gb, least, ok, tc.least, tc.fits)
		}
	}
	if got := micro.Storage.String(); got != "20, 40, 60, 80 or 100" {
		t.Errorf("micro sizes render as %q", got)
	}
	if got := small.Label(); got != "db.mysql.s1.small (1 CPU, 2 GB)" {
		t.Errorf("Label = %q", got)
	}
}
