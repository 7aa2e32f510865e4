package jdcloud

import "strings"

// Engines (API.md §4.1). The values go on the wire as they are; note the space in
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

// Instance statuses the portal acts on (API.md §4.2). JD Cloud has many more transitional
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

// Backup statuses, types, units, modes and methods (API.md §4.3).
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

// Storage types (API.md §4.4). EBS_SSD is the cloud disk, the only one that can be encrypted.
const (
	StorageLocalSSD  = "LOCAL_SSD"
	StorageEBSSSD    = "EBS_SSD"
	StorageLocalNVMe = "LOCAL_NVME"
)

// StorageTypes lists the storage types in the portal's order; the first is JD Cloud's default.
var StorageTypes = []string{StorageLocalSSD, StorageEBSSSD, StorageLocalNVMe}

// Instance architectures (instanceType, API.md §4.4).
const (
	InstanceTypeStandalone = "standalone"
	InstanceTypeCluster    = "cluster" // primary/standby, the default
	InstanceTypeReadonly   = "readonly"
)

// Charge modes and units (API.md §4.6).
const (
	ChargePrepaidByDuration  = "prepaid_by_duration"
	ChargePostpaidByDuration = "postpaid_by_duration" // the default
	ChargePostpaidByUsage    = "postpaid_by_usage"

	ChargeUnitMonth = "month"
	ChargeUnitYear  = "year"
)

// ChargeModes lists the charge modes in the portal's order; the first is the default.
var ChargeModes = []string{ChargePostpaidByDuration, ChargePostpaidByUsage, ChargePrepaidByDuration}
