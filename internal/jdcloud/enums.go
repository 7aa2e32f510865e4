package jdcloud

import "strings"

// Engines (docs/jdcloud.md, Enumerations). The values go on the wire as they are; note the space in
// "SQL Server".
const (
	EngineMySQL      = "MySQL"
	EnginePercona    = "Percona"
	EngineMariaDB    = "MariaDB"
	EngineSQLServer  = "SQL Server"
	EnginePostgreSQL = "PostgreSQL"
)

// Engines lists every RDS engine, in the order the portal shows them.
var Engines = []string{EngineMySQL, EnginePercona, EngineMariaDB, EngineSQLServer, EnginePostgreSQL}

// Instance statuses the portal acts on (docs/jdcloud.md, Enumerations). JD Cloud has many more transitional
// ones; the portal treats RUNNING as ready, anything ending in _ERROR as failed and the rest
// as in progress (see StatusFailed).
const (
	StatusBuilding   = "BUILDING"
	StatusRunning    = "RUNNING"
	StatusBuildError = "BUILD_ERROR"
	StatusDeleting   = "DELETING"
	StatusDeleted    = "DELETED"
)

// StatusFailed reports whether an instance status is a failure (any *_ERROR status).
func StatusFailed(status string) bool { return strings.HasSuffix(status, "_ERROR") }

// Backup statuses, types, units, modes and methods (docs/jdcloud.md, Enumerations).
const (
	BackupCompleted   = "COMPLETED"
	BackupBuilding    = "BUILDING"
	BackupError       = "ERROR"
	BackupDeleting    = "DELETING"
	BackupDeleteError = "DELETE_ERROR"
	BackupRetained    = "RETAINED" // the instance is gone, the backup is kept

	BackupTypeFull = "full"
	BackupTypeDiff = "diff" // SQL Server

	BackupUnitInstance = "instance"
	BackupUnitDatabase = "database" // SQL Server

	BackupModeAuto   = "auto"
	BackupModeManual = "manual"

	BackupMethodPhysical = "physical"
	BackupMethodSnapshot = "snapshot"
)

// Storage types (docs/jdcloud.md, Enumerations). EBS_SSD is the cloud disk, the only one that can be encrypted.
const (
	StorageLocalSSD  = "LOCAL_SSD"
	StorageEBSSSD    = "EBS_SSD"
	StorageLocalNVMe = "LOCAL_NVME"
)

// StorageTypes lists the storage types in the portal's order; the first is JD Cloud's default.
var StorageTypes = []string{StorageLocalSSD, StorageEBSSSD, StorageLocalNVMe}

// Instance architectures (instanceType, docs/jdcloud.md, Enumerations).
const (
	InstanceTypeStandalone = "standalone"
	InstanceTypeCluster    = "cluster" // primary/standby, the default
	InstanceTypeReadonly   = "readonly"
)

// Charge modes and units (docs/jdcloud.md, Enumerations).
const (
	ChargePrepaidByDuration  = "prepaid_by_duration"
	ChargePostpaidByDuration = "postpaid_by_duration" // the default
	ChargePostpaidByUsage    = "postpaid_by_usage"

	ChargeUnitMonth = "month"
	ChargeUnitYear  = "year"
)

// ChargeModes lists the charge modes in the portal's order; the first is the default.
var ChargeModes = []string{ChargePostpaidByDuration, ChargePostpaidByUsage, ChargePrepaidByDuration}
