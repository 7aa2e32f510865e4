package jdcloud

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file is the one table of createInstanceFromBackup parameter rules: the request
// form's rules. The portal's form handler and the simulator both validate with
// ValidateCreate, so they cannot disagree. Each rule is marked Confirmed when JD Cloud's docs
// or SDKs state it, Assumed when docs/jdcloud.md marks it assumed or it is the portal's own
// policy: if the real API turns out to behave differently, the fix is one line here.

// Confidence says whether a rule (or a class-table entry) is documented.
type Confidence string

const (
	// Confirmed: stated by JD Cloud's documentation or official SDKs.
	Confirmed Confidence = "confirmed"
	// Assumed: not confirmed by the sources (docs/jdcloud.md marks it assumed), or portal policy.
	Assumed Confidence = "assumed"
)

// API field paths, the keys of Problems. The form maps them to its inputs.
const (
	FieldBackupID         = "backupId"
	FieldEngine           = "engine"
	FieldInstanceName     = "instanceSpec.instanceName"
	FieldInstanceClass    = "instanceSpec.instanceClass"
	FieldStorageGB        = "instanceSpec.instanceStorageGB"
	FieldAzID             = "instanceSpec.azId"
	FieldVpcID            = "instanceSpec.vpcId"
	FieldSubnetID         = "instanceSpec.subnetId"
	FieldChargeMode       = "instanceSpec.chargeSpec.chargeMode"
	FieldChargeUnit       = "instanceSpec.chargeSpec.chargeUnit"
	FieldChargeDuration   = "instanceSpec.chargeSpec.chargeDuration"
	FieldParameterGroup   = "instanceSpec.parameterGroup"
	FieldStorageType      = "instanceSpec.instanceStorageType"
	FieldStorageEncrypted = "instanceSpec.storageEncrypted"
	FieldPort             = "instanceSpec.instancePort"
	FieldInstanceType     = "instanceSpec.instanceType"
	FieldTagSpec          = "instanceSpec.tagSpec"
	FieldRestoreTime      = "restoreTime" // createInstanceByTime
	FieldSourceInstance   = "instanceId"  // createInstanceByTime's source, a path parameter
)

// Limits used by the rules below; change them here.
const (
	PortMin       = 1150 // instancePort range (docs/jdcloud.md, Enumerations: port)
	PortMax       = 5999
	NameMinLen    = 2 // instanceName length in characters (terraform docs)
	NameMaxLen    = 32
	MaxPrepaidMon = 9 // chargeDuration for chargeUnit month (docs/jdcloud.md, Enumerations: billing)
	MaxPrepaidYr  = 3 // chargeDuration for chargeUnit year
)

var (
	// restoreEngines are the engines createInstanceFromBackup accepts. The English docs say
	// "only support MySQL"; the SDK text and our product cover every engine, so all are assumed.
	restoreEngines = []string{EngineMySQL, EnginePercona, EngineMariaDB, EngineSQLServer, EnginePostgreSQL}

	// portEngines take instancePort. The docs also name 5432 as PostgreSQL's default; the form
	// offers the port for the MySQL family only (assumed).
	portEngines = []string{EngineMySQL, EnginePercona, EngineMariaDB}

	// instanceTypes are the architectures the portal offers SQL Server. The API also documents
	// "multi-replica" (assumed not offered).
	instanceTypes = []string{InstanceTypeCluster, InstanceTypeStandalone}
)

// Facts are what ValidateCreate needs to know beyond the request. The form handler gathers
// them from JD Cloud (describeBackups, describeAzs, describeSubnets); the simulator from its
// state.
type Facts struct {
	// Backup is the backup named by backupId; nil when it does not exist (or, for the form,
	// is not a backup of the chosen source instance).
	Backup *Backup
	// SourceEngine is the engine of the backup's source instance; empty means Backup.Engine.
	SourceEngine string
	// AZs are the region's availability zones for the engine (describeAzs).
	AZs []string
	// Subnet is the subnet named by instanceSpec.subnetId; nil when it does not exist.
	Subnet *Subnet

	// For createInstanceByTime (ValidateCreateByTime):
	// Source is the source instance; nil when it does not exist.
	Source *Instance
	// RestoreAt is the restore point as understood; zero when restoreTime is missing or
	// unreadable (the caller parses it: the simulator with its own code).
	RestoreAt time.Time
	// Window is the span the restore point must lie in (see RestoreWindowFor).
	Window RestoreWindow
}

// Problem is one broken rule, keyed by the API field path it concerns.
type Problem struct {
	Field   string // e.g. "instanceSpec.instanceStorageGB"
	Message string // for people; it names the value, not the field
	Rule    string // Rule.ID
}

// Problems are the broken rules of a request, at most one per field, in table order.
type Problems []Problem

// ByField returns the problems as field → message, the shape forms render.
func (ps Problems) ByField() map[string]string {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		if _, ok := m[p.Field]; !ok {
			m[p.Field] = p.Message
		}
	}
	return m
}

// Has reports whether a field has a problem.
func (ps Problems) Has(field string) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Field == field })
}

// String renders "field: message; field: message", the message the simulator answers with.
func (ps Problems) String() string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Field + ": " + p.Message
	}
	return strings.Join(parts, "; ")
}

// sourceClass is the class of a point-in-time restore's source instance.
func sourceClass(in *ruleInput) (InstanceClass, bool) {
	if in.facts.Source == nil {
		return InstanceClass{}, false
	}
	return LookupClass(in.facts.Source.InstanceClass)
}

// Rule is one parameter rule of createInstanceFromBackup and createInstanceByTime.
type Rule struct {
	ID         string     // stable name, e.g. "instancePort.range"
	Field      string     // the API field path its problems are keyed by
	Confidence Confidence // Confirmed or Assumed
	Doc        string     // what it requires, in words
	engines    []string   // for engine-specific fields: the engines that accept the field
	kind       ruleKind   // the kinds of restore it applies to
	check      func(*ruleInput) string
}

// ruleKind says which calls a rule applies to: both, only the backup restore, or only the
// point-in-time restore. The instanceSpec rules apply to both: it is one model.
type ruleKind int

const (
	anyRestore ruleKind = iota
	backupRestore
	timeRestore
)

// ruleInput is what a rule's check sees.
type ruleInput struct {
	req    *CreateInstanceFromBackupRequest
	spec   *RestoredInstanceSpec
	facts  *Facts
	engine string         // req.Engine when it is a known engine, else ""
	class  *InstanceClass // the class when it exists and belongs to engine
	byTime *CreateInstanceByTimeRequest
}

// backupEngine is the engine the backup's source instance runs.
func (in *ruleInput) backupEngine() string {
	if in.facts.SourceEngine != "" {
		return in.facts.SourceEngine
	}
	if in.facts.Backup != nil {
		return in.facts.Backup.Engine
	}
	return ""
}

// engineOnly builds the rule that refuses an engine-specific field for other engines.
func engineOnly(field string, conf Confidence, engines []string, set func(*RestoredInstanceSpec) bool) Rule {
	return Rule{
		ID: field[strings.LastIndexByte(field, '.')+1:] + ".engine", Field: field, Confidence: conf,
		Doc:     fmt.Sprintf("only for %s", strings.Join(engines, ", ")),
		engines: engines,
		check: func(in *ruleInput) string {
			if in.engine == "" || !set(in.spec) || slices.Contains(engines, in.engine) {
				return ""
			}
			return fmt.Sprintf("not available for %s (only %s)", in.engine, strings.Join(engines, ", "))
		},
	}
}

// rules is the table. Order matters only within a field: the first problem wins.
var rules = []Rule{
	// The backup.
	{ID: "backupId.required", kind: backupRestore, Field: FieldBackupID, Confidence: Confirmed, Doc: "required",
		check: func(in *ruleInput) string { return required(in.req.BackupID) }},
	{ID: "backupId.exists", kind: backupRestore, Field: FieldBackupID, Confidence: Confirmed, Doc: "names an existing backup",
		check: func(in *ruleInput) string {
			if in.facts.Backup == nil {
				return fmt.Sprintf("backup %s does not exist", in.req.BackupID)
			}
			return ""
		}},
	{ID: "backupId.completed", kind: backupRestore, Field: FieldBackupID, Confidence: Assumed, Doc: "the backup is COMPLETED",
		check: func(in *ruleInput) string {
			if b := in.facts.Backup; b != nil && b.BackupStatus != BackupCompleted {
				return fmt.Sprintf("backup %s is %s, not COMPLETED", b.BackupID, b.BackupStatus)
			}
			return ""
		}},
	{ID: "backupId.full", kind: backupRestore, Field: FieldBackupID, Confidence: Assumed, Doc: "the backup is a full backup",
		check: func(in *ruleInput) string {
			if b := in.facts.Backup; b != nil && b.BackupType != "" && b.BackupType != BackupTypeFull {
				return fmt.Sprintf("backup %s is a %s backup, not a full one", b.BackupID, b.BackupType)
			}
			return ""
		}},
	{ID: "backupId.instanceLevel", kind: backupRestore, Field: FieldBackupID, Confidence: Assumed, Doc: "the backup is instance-level",
		check: func(in *ruleInput) string {
			if b := in.facts.Backup; b != nil && b.BackupUnit != "" && b.BackupUnit != BackupUnitInstance {
				return fmt.Sprintf("backup %s is a %s-level backup, not an instance-level one", b.BackupID, b.BackupUnit)
			}
			return ""
		}},

	// The engine.
	{ID: "engine.required", Field: FieldEngine, Confidence: Confirmed, Doc: "required",
		check: func(in *ruleInput) string { return required(in.req.Engine) }},
	{ID: "engine.known", Field: FieldEngine, Confidence: Confirmed, Doc: "one of " + strings.Join(Engines, ", "),
		check: func(in *ruleInput) string { return oneOf(in.req.Engine, Engines) }},
	{ID: "engine.restorable", kind: backupRestore, Field: FieldEngine, Confidence: Assumed, Doc: "an engine createInstanceFromBackup supports",
		check: func(in *ruleInput) string {
			if !slices.Contains(restoreEngines, in.req.Engine) {
				return fmt.Sprintf("%s cannot be restored from a backup", in.req.Engine)
			}
			return ""
		}},
	{ID: "engine.matchesBackup", kind: backupRestore, Field: FieldEngine, Confidence: Confirmed, Doc: "equals the engine of the backup's source instance",
		check: func(in *ruleInput) string {
			if be := in.backupEngine(); be != "" && be != in.req.Engine {
				return fmt.Sprintf("%s differs from the backup's engine %s", in.req.Engine, be)
			}
			return ""
		}},

	// Class and storage.
	{ID: "instanceClass.required", Field: FieldInstanceClass, Confidence: Confirmed, Doc: "required",
		check: func(in *ruleInput) string { return required(in.spec.InstanceClass) }},
	{ID: "instanceClass.ofEngine", Field: FieldInstanceClass, Confidence: Assumed, Doc: "a class of the engine (class table)",
		check: func(in *ruleInput) string {
			if in.engine != "" && in.class == nil {
				return fmt.Sprintf("%s is not a %s class", in.spec.InstanceClass, in.engine)
			}
			return ""
		}},
	{ID: "instanceStorageGB.required", Field: FieldStorageGB, Confidence: Confirmed, Doc: "required, a positive whole number",
		check: func(in *ruleInput) string {
			if in.spec.InstanceStorageGB <= 0 {
				return "is required and must be a positive whole number of GB"
			}
			return ""
		}},
	{ID: "instanceStorageGB.ofClass", Field: FieldStorageGB, Confidence: Assumed, Doc: "one of the class's storage sizes",
		check: func(in *ruleInput) string {
			if c := in.class; c != nil && !c.Storage.Allows(in.spec.InstanceStorageGB) {
				return fmt.Sprintf("%d GB is not a size of %s (%s GB)", in.spec.InstanceStorageGB, c.Code, c.Storage)
			}
			return ""
		}},
	{ID: "instanceStorageGB.fitsBackup", kind: backupRestore, Field: FieldStorageGB, Confidence: Assumed, Doc: "at least the backup's size, rounded up to GB",
		check: func(in *ruleInput) string {
			if b := in.facts.Backup; b != nil && in.spec.InstanceStorageGB < b.SizeGB() {
				return fmt.Sprintf("%d GB is smaller than the backup (%d GB)", in.spec.InstanceStorageGB, b.SizeGB())
			}
			return ""
		}},

	// Zones.
	{ID: "azId.required", Field: FieldAzID, Confidence: Confirmed, Doc: "required",
		check: func(in *ruleInput) string {
			if len(in.spec.AzID) == 0 || slices.Contains(in.spec.AzID, "") {
				return "is required"
			}
			return ""
		}},
	{ID: "azId.count", Field: FieldAzID, Confidence: Assumed,
		Doc: "[primary, standby] for primary/standby architectures, [primary] for SQL Server standalone",
		check: func(in *ruleInput) string {
			if in.engine == "" {
				return ""
			}
			if want := AZCount(in.engine, in.spec.InstanceType); len(in.spec.AzID) != want {
				if want == 1 {
					return fmt.Sprintf("needs exactly one zone for a standalone %s instance, got %d", in.engine, len(in.spec.AzID))
				}
				return fmt.Sprintf("needs a primary and a standby zone (the same zone twice for both in one), got %d", len(in.spec.AzID))
			}
			return ""
		}},
	{ID: "azId.inRegion", Field: FieldAzID, Confidence: Confirmed, Doc: "zones of the region",
		check: func(in *ruleInput) string {
			for _, az := range in.spec.AzID {
				if !slices.Contains(in.facts.AZs, az) {
					return fmt.Sprintf("zone %s is not available in this region", az)
				}
			}
			return ""
		}},

	// Network.
	{ID: "vpcId.required", Field: FieldVpcID, Confidence: Confirmed, Doc: "required",
		check: func(in *ruleInput) string { return required(in.spec.VpcID) }},
	{ID: "subnetId.required", Field: FieldSubnetID, Confidence: Confirmed, Doc: "required",
		check: func(in *ruleInput) string { return required(in.spec.SubnetID) }},
	{ID: "subnetId.exists", Field: FieldSubnetID, Confidence: Confirmed, Doc: "names an existing subnet",
		check: func(in *ruleInput) string {
			if in.facts.Subnet == nil {
				return fmt.Sprintf("subnet %s does not exist", in.spec.SubnetID)
			}
			return ""
		}},
	{ID: "subnetId.inVpc", Field: FieldSubnetID, Confidence: Assumed, Doc: "a subnet of the VPC",
		check: func(in *ruleInput) string {
			if s := in.facts.Subnet; s != nil && in.spec.VpcID != "" && s.VpcID != in.spec.VpcID {
				return fmt.Sprintf("subnet %s does not belong to VPC %s", s.SubnetID, in.spec.VpcID)
			}
			return ""
		}},

	// Billing.
	{ID: "chargeMode.value", Field: FieldChargeMode, Confidence: Confirmed, Doc: "one of " + strings.Join(ChargeModes, ", "),
		check: func(in *ruleInput) string {
			if in.spec.ChargeSpec.ChargeMode == "" {
				return "is required"
			}
			return oneOf(in.spec.ChargeSpec.ChargeMode, ChargeModes)
		}},
	{ID: "chargeUnit.prepaid", Field: FieldChargeUnit, Confidence: Confirmed, Doc: "prepaid: month or year",
		check: func(in *ruleInput) string {
			cs := in.spec.ChargeSpec
			if cs.ChargeMode != ChargePrepaidByDuration {
				return ""
			}
			if cs.ChargeUnit == "" {
				return "is required for prepaid billing (month or year)"
			}
			return oneOf(cs.ChargeUnit, []string{ChargeUnitMonth, ChargeUnitYear})
		}},
	{ID: "chargeDuration.prepaid", Field: FieldChargeDuration, Confidence: Confirmed,
		Doc: fmt.Sprintf("prepaid: 1–%d months or 1–%d years", MaxPrepaidMon, MaxPrepaidYr),
		check: func(in *ruleInput) string {
			cs := in.spec.ChargeSpec
			if cs.ChargeMode != ChargePrepaidByDuration {
				return ""
			}
			limit := map[string]int{ChargeUnitMonth: MaxPrepaidMon, ChargeUnitYear: MaxPrepaidYr}[cs.ChargeUnit]
			if limit == 0 {
				return "" // the unit's own problem says what is wrong
			}
			if cs.ChargeDuration < 1 || cs.ChargeDuration > limit {
				return fmt.Sprintf("must be 1–%d %ss for prepaid billing", limit, cs.ChargeUnit)
			}
			return ""
		}},
	{ID: "chargeUnit.postpaid", Field: FieldChargeUnit, Confidence: Assumed, Doc: "not with postpaid billing",
		check: func(in *ruleInput) string {
			if cs := in.spec.ChargeSpec; cs.ChargeMode != ChargePrepaidByDuration && cs.ChargeUnit != "" {
				return "only applies to prepaid billing"
			}
			return ""
		}},
	{ID: "chargeDuration.postpaid", Field: FieldChargeDuration, Confidence: Assumed, Doc: "not with postpaid billing",
		check: func(in *ruleInput) string {
			if cs := in.spec.ChargeSpec; cs.ChargeMode != ChargePrepaidByDuration && cs.ChargeDuration != 0 {
				return "only applies to prepaid billing"
			}
			return ""
		}},

	// Name.
	{ID: "instanceName.format", Field: FieldInstanceName, Confidence: Confirmed,
		Doc:   fmt.Sprintf("optional; %d–%d letters, digits, Chinese characters, _ and -", NameMinLen, NameMaxLen),
		check: func(in *ruleInput) string { return checkName(in.spec.InstanceName) }},

	// Engine-specific fields: refused for the other engines.
	engineOnly(FieldParameterGroup, Confirmed, []string{EngineMySQL},
		func(s *RestoredInstanceSpec) bool { return s.ParameterGroup != "" }),
	engineOnly(FieldStorageType, Confirmed, []string{EngineMySQL},
		func(s *RestoredInstanceSpec) bool { return s.InstanceStorageType != "" }),
	{ID: "instanceStorageType.value", Field: FieldStorageType, Confidence: Confirmed, Doc: "one of " + strings.Join(StorageTypes, ", "),
		check: func(in *ruleInput) string {
			if in.spec.InstanceStorageType == "" {
				return ""
			}
			return oneOf(in.spec.InstanceStorageType, StorageTypes)
		}},
	// Only true is refused: false is the default, and SDK examples send it explicitly.
	engineOnly(FieldStorageEncrypted, Confirmed, []string{EngineMySQL},
		func(s *RestoredInstanceSpec) bool { return s.StorageEncrypted != nil && *s.StorageEncrypted }),
	{ID: "storageEncrypted.cloudDisk", Field: FieldStorageEncrypted, Confidence: Confirmed, Doc: "only with storage type " + StorageEBSSSD,
		check: func(in *ruleInput) string {
			if e := in.spec.StorageEncrypted; e != nil && *e && in.spec.InstanceStorageType != StorageEBSSSD {
				return "needs the cloud-disk storage type " + StorageEBSSSD
			}
			return ""
		}},
	engineOnly(FieldPort, Assumed, portEngines,
		func(s *RestoredInstanceSpec) bool { return s.InstancePort != "" }),
	{ID: "instancePort.range", Field: FieldPort, Confidence: Confirmed, Doc: fmt.Sprintf("%d–%d", PortMin, PortMax),
		check: func(in *ruleInput) string {
			if in.spec.InstancePort == "" {
				return ""
			}
			p, err := strconv.Atoi(in.spec.InstancePort)
			if err != nil || p < PortMin || p > PortMax {
				return fmt.Sprintf("%q is not a port between %d and %d", in.spec.InstancePort, PortMin, PortMax)
			}
			return ""
		}},
	engineOnly(FieldInstanceType, Confirmed, []string{EngineSQLServer},
		func(s *RestoredInstanceSpec) bool { return s.InstanceType != "" }),
	{ID: "instanceType.value", Field: FieldInstanceType, Confidence: Assumed, Doc: "standalone or cluster",
		check: func(in *ruleInput) string {
			if in.spec.InstanceType == "" {
				return ""
			}
			return oneOf(in.spec.InstanceType, instanceTypes)
		}},

	// Tags.
	{ID: "tagSpec.keys", Field: FieldTagSpec, Confidence: Assumed, Doc: "every tag has a key, keys are unique",
		check: func(in *ruleInput) string {
			seen := map[string]bool{}
			for _, t := range in.spec.TagSpec {
				if strings.TrimSpace(t.Key) == "" {
					return "every tag needs a key"
				}
				if seen[t.Key] {
					return fmt.Sprintf("tag key %s appears twice", t.Key)
				}
				seen[t.Key] = true
			}
			return ""
		}},

	// The point in time (createInstanceByTime).
	{ID: "instanceId.exists", kind: timeRestore, Field: FieldSourceInstance, Confidence: Confirmed, Doc: "names an existing instance",
		check: func(in *ruleInput) string {
			if in.facts.Source == nil {
				return "the source instance does not exist"
			}
			return ""
		}},
	{ID: "instanceId.running", kind: timeRestore, Field: FieldSourceInstance, Confidence: Assumed, Doc: "the source instance is RUNNING",
		check: func(in *ruleInput) string {
			if s := in.facts.Source; s != nil && s.InstanceStatus != StatusRunning {
				return fmt.Sprintf("the source instance is %s, not RUNNING", s.InstanceStatus)
			}
			return ""
		}},
	{ID: "engine.pointInTime", kind: timeRestore, Field: FieldEngine, Confidence: Assumed,
		Doc: "an engine with point-in-time restore: " + strings.Join(PointInTimeEngines, ", "),
		check: func(in *ruleInput) string {
			if in.req.Engine != "" && !slices.Contains(PointInTimeEngines, in.req.Engine) {
				return fmt.Sprintf("%s instances cannot be restored to a point in time here (only %s)", in.req.Engine,
					strings.Join(PointInTimeEngines, ", "))
			}
			return ""
		}},
	{ID: "restoreTime.required", kind: timeRestore, Field: FieldRestoreTime, Confidence: Confirmed, Doc: "required",
		check: func(in *ruleInput) string {
			if in.byTime.RestoreTime == "" || in.facts.RestoreAt.IsZero() {
				return "is required, as " + RestoreTimeLayout
			}
			return ""
		}},
	{ID: "restoreTime.notFuture", kind: timeRestore, Field: FieldRestoreTime, Confidence: Confirmed, Doc: "not later than the latest restorable moment",
		check: func(in *ruleInput) string {
			if w := in.facts.Window; !w.To.IsZero() && in.facts.RestoreAt.After(w.To) {
				return fmt.Sprintf("%s is later than the latest restorable moment, %s", FormatRestoreTime(in.facts.RestoreAt),
					FormatRestoreTime(w.To))
			}
			return ""
		}},
	{ID: "restoreTime.window", kind: timeRestore, Field: FieldRestoreTime, Confidence: Assumed,
		Doc: "within the restore window: the last 7 days, as far as backups and binlogs are kept, and at least 30 minutes after the source was created",
		check: func(in *ruleInput) string {
			if w := in.facts.Window; !w.From.IsZero() && in.facts.RestoreAt.Before(w.From) {
				return fmt.Sprintf("%s is earlier than the earliest restorable moment, %s (%s)", FormatRestoreTime(in.facts.RestoreAt),
					FormatRestoreTime(w.From), w.FromReason)
			}
			return ""
		}},
	{ID: "instanceClass.notSmaller", kind: timeRestore, Field: FieldInstanceClass, Confidence: Confirmed,
		Doc: "not smaller than the source's class (CPU and memory)",
		check: func(in *ruleInput) string {
			src, ok := sourceClass(in)
			if !ok || in.class == nil {
				return ""
			}
			if in.class.CPU < src.CPU || in.class.MemoryGB < src.MemoryGB {
				return fmt.Sprintf("%s (%d cores, %d GB) is smaller than the source's %s (%d cores, %d GB)", in.class.Code,
					in.class.CPU, in.class.MemoryGB, src.Code, src.CPU, src.MemoryGB)
			}
			return ""
		}},
	{ID: "instanceStorageGB.notSmaller", kind: timeRestore, Field: FieldStorageGB, Confidence: Confirmed,
		Doc: "not smaller than the source's storage",
		check: func(in *ruleInput) string {
			if s := in.facts.Source; s != nil && in.spec.InstanceStorageGB < s.InstanceStorageGB {
				return fmt.Sprintf("%d GB is smaller than the source's %d GB", in.spec.InstanceStorageGB, s.InstanceStorageGB)
			}
			return ""
		}},
}

// Rules returns the rule table, for documentation pages and tests.
func Rules() []Rule { return slices.Clone(rules) }

// ValidateCreate checks a createInstanceFromBackup request against the rule table and the
// facts, and returns the broken rules keyed by API field path (at most one per field), or nil.
// It is the single validation used by the portal's form and by the simulator.
func ValidateCreate(req CreateInstanceFromBackupRequest, f Facts) Problems {
	in := &ruleInput{req: &req, spec: &req.InstanceSpec, facts: &f}
	if slices.Contains(Engines, req.Engine) {
		in.engine = req.Engine
		if c, ok := LookupClass(req.InstanceSpec.InstanceClass); ok && c.Engine == req.Engine {
			in.class = &c
		}
	}
	return in.validate(backupRestore)
}

// ValidateCreateByTime checks a createInstanceByTime request against the same table: the
// instanceSpec rules, and the point-in-time ones in place of the backup's. The engine is the
// source instance's.
func ValidateCreateByTime(req CreateInstanceByTimeRequest, f Facts) Problems {
	engine := ""
	if f.Source != nil {
		engine = f.Source.Engine
	}
	in := &ruleInput{req: &CreateInstanceFromBackupRequest{Engine: engine, InstanceSpec: req.InstanceSpec},
		spec: &req.InstanceSpec, facts: &f, byTime: &req}
	if slices.Contains(Engines, engine) {
		in.engine = engine
		if c, ok := LookupClass(req.InstanceSpec.InstanceClass); ok && c.Engine == engine {
			in.class = &c
		}
	}
	return in.validate(timeRestore)
}

// validate runs the rules of kind (and those of every kind) in table order.
func (in *ruleInput) validate(kind ruleKind) Problems {
	var ps Problems
	for _, r := range rules {
		if ps.Has(r.Field) || (r.kind != anyRestore && r.kind != kind) {
			continue
		}
		if msg := r.check(in); msg != "" {
			ps = append(ps, Problem{Field: r.Field, Message: msg, Rule: r.ID})
		}
	}
	return ps
}

// FieldApplies reports whether an engine-specific field (parameterGroup, instanceStorageType,
// storageEncrypted, instancePort, instanceType) applies to an engine, per the rule table;
// every other field applies to all engines. Forms hide the fields that do not apply.
func FieldApplies(field, engine string) bool {
	for _, r := range rules {
		if r.Field == field && r.engines != nil {
			return slices.Contains(r.engines, engine)
		}
	}
	return true
}

// AZCount is how many zones azId takes: one for a SQL Server standalone instance, two
// (primary and standby) otherwise (assumed from the docs' "2-AZ layout" wording).
func AZCount(engine, instanceType string) int {
	if engine == EngineSQLServer && instanceType == InstanceTypeStandalone {
		return 1
	}
	return 2
}

func required(v string) string {
	if strings.TrimSpace(v) == "" {
		return "is required"
	}
	return ""
}

func oneOf(v string, allowed []string) string {
	if slices.Contains(allowed, v) {
		return ""
	}
	return fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

// checkName applies the instance-name rule: optional; NameMinLen–NameMaxLen characters, each
// an ASCII letter or digit, a Chinese (Han) character, '_' or '-'.
func checkName(name string) string {
	if name == "" {
		return ""
	}
	if !utf8.ValidString(name) {
		return "is not valid text"
	}
	n := utf8.RuneCountInString(name)
	if n < NameMinLen || n > NameMaxLen {
		return fmt.Sprintf("must be %d–%d characters, got %d", NameMinLen, NameMaxLen, n)
	}
	for _, r := range name {
		if !(r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') || unicode.Is(unicode.Han, r)) {
			return fmt.Sprintf("may contain only letters, digits, Chinese characters, _ and -; %q is not allowed", r)
		}
	}
	return ""
}
