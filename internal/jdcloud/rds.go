package jdcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Operation ids, as JD Cloud names them. CallInfo.Operation, APIError.Operation and the
// simulator's fault settings use these names.
const (
	OpCreateInstanceFromBackup   = "createInstanceFromBackup"
	OpDescribeInstances          = "describeInstances"
	OpDescribeInstanceAttributes = "describeInstanceAttributes"
	OpDescribeBackups            = "describeBackups"
	OpDescribeAzs                = "describeAzs"
	OpDeleteInstance             = "deleteInstance"
	OpDescribeVpcs               = "describeVpcs"
	OpDescribeSubnets            = "describeSubnets"
	OpCreateInstanceByTime       = "createInstanceByTime"
	OpDescribeBackupPolicy       = "describeBackupPolicy"
	OpDescribeLatestRestoreTime  = "describeLatestRestoreTime"
)

// Operations lists every operation the client performs.
var Operations = []string{
	OpCreateInstanceFromBackup, OpDescribeInstances, OpDescribeInstanceAttributes,
	OpDescribeBackups, OpDescribeAzs, OpDeleteInstance, OpDescribeVpcs, OpDescribeSubnets,
	OpCreateInstanceByTime, OpDescribeBackupPolicy, OpDescribeLatestRestoreTime,
}

var (
	opCreateInstanceFromBackup   = operation{OpCreateInstanceFromBackup, "rds", http.MethodPost, false}
	opDescribeInstances          = operation{OpDescribeInstances, "rds", http.MethodGet, true}
	opDescribeInstanceAttributes = operation{OpDescribeInstanceAttributes, "rds", http.MethodGet, true}
	opDescribeBackups            = operation{OpDescribeBackups, "rds", http.MethodGet, true}
	opDescribeAzs                = operation{OpDescribeAzs, "rds", http.MethodGet, true}
	opDeleteInstance             = operation{OpDeleteInstance, "rds", http.MethodDelete, false}
	opCreateInstanceByTime       = operation{OpCreateInstanceByTime, "rds", http.MethodPost, false}
	opDescribeBackupPolicy       = operation{OpDescribeBackupPolicy, "rds", http.MethodGet, true}
	opDescribeLatestRestoreTime  = operation{OpDescribeLatestRestoreTime, "rds", http.MethodGet, true}
)

// Charge is an instance's billing state. Times are ISO 8601 UTC ("2024-01-02T03:04:05Z").
type Charge struct {
	ChargeMode        string `json:"chargeMode"`
	ChargeStatus      string `json:"chargeStatus,omitempty"` // normal, overdue, arrear
	ChargeStartTime   string `json:"chargeStartTime,omitempty"`
	ChargeExpiredTime string `json:"chargeExpiredTime,omitempty"`
	ChargeRetireTime  string `json:"chargeRetireTime,omitempty"`
}

// Instance is an RDS instance as describeInstances (DBInstance) and describeInstanceAttributes
// (DBInstanceAttribute) return it; the latter fills more fields. Times are kept as JD Cloud
// sends them (see ParseTime): the documented formats differ between calls.
type Instance struct {
	InstanceID          string   `json:"instanceId"`
	InstanceName        string   `json:"instanceName"`
	InstanceType        string   `json:"instanceType,omitempty"` // standalone, cluster, readonly
	Engine              string   `json:"engine"`
	EngineVersion       string   `json:"engineVersion,omitempty"`
	MinorVersion        string   `json:"minorVersion,omitempty"`
	InstanceClass       string   `json:"instanceClass,omitempty"`
	InstanceStorageType string   `json:"instanceStorageType,omitempty"`
	StorageEncrypted    bool     `json:"storageEncrypted"`
	InstanceStorageGB   int      `json:"instanceStorageGB"`
	InstanceCPU         int      `json:"instanceCPU,omitempty"`
	InstanceMemoryMB    int      `json:"instanceMemoryMB,omitempty"`
	RegionID            string   `json:"regionId"`
	AzID                []string `json:"azId"`
	VpcID               string   `json:"vpcId"`
	SubnetID            string   `json:"subnetId"`
	ParameterGroupID    string   `json:"parameterGroupId,omitempty"`
	ParameterGroupName  string   `json:"parameterGroupName,omitempty"`
	ParameterStatus     string   `json:"parameterStatus,omitempty"`
	InternalDomainName  string   `json:"internalDomainName,omitempty"`
	PublicDomainName    string   `json:"publicDomainName,omitempty"`
	InstancePort        string   `json:"instancePort,omitempty"` // a string on the wire
	ConnectionMode      string   `json:"connectionMode,omitempty"`
	AuditStatus         string   `json:"auditStatus,omitempty"`
	InstanceStatus      string   `json:"instanceStatus"`
	CreateTime          string   `json:"createTime,omitempty"`
	Charge              *Charge  `json:"charge,omitempty"`
	SourceInstanceID    string   `json:"sourceInstanceId,omitempty"`
	Tags                []Tag    `json:"tags,omitempty"`
}

// UnmarshalJSON decodes an instance, accepting instancePort as a string (as documented) or a
// number: a wrong guess about that type must not make every describe call fail.
func (in *Instance) UnmarshalJSON(b []byte) error {
	type plain Instance // no methods, so no recursion
	var aux struct {
		plain
		InstancePort json.RawMessage `json:"instancePort"` // shadows plain's field
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*in = Instance(aux.plain)
	in.InstancePort = ""
	if p := bytes.TrimSpace(aux.InstancePort); len(p) > 0 && string(p) != "null" {
		var s string
		if err := json.Unmarshal(p, &s); err != nil {
			var n json.Number
			if err := json.Unmarshal(p, &n); err != nil {
				return fmt.Errorf("instancePort: %s is neither a string nor a number", p)
			}
			s = n.String()
		}
		in.InstancePort = s
	}
	return nil
}

// Tag returns the value of the instance's tag key, and whether it has one.
func (in Instance) Tag(key string) (string, bool) {
	for _, t := range in.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// Backup is an RDS backup as describeBackups returns it (docs/jdcloud.md, describeBackups).
type Backup struct {
	BackupID         string   `json:"backupId"`
	BackupName       string   `json:"backupName,omitempty"`
	InstanceID       string   `json:"instanceId"`
	InstanceName     string   `json:"instanceName,omitempty"`
	BackupStatus     string   `json:"backupStatus"`
	BackupStartTime  string   `json:"backupStartTime,omitempty"`
	BackupEndTime    string   `json:"backupEndTime,omitempty"`
	BackupType       string   `json:"backupType,omitempty"`   // full, diff (SQL Server)
	BackupMode       string   `json:"backupMode,omitempty"`   // auto, manual
	BackupMethod     string   `json:"backupMethod,omitempty"` // physical, snapshot
	BackupUnit       string   `json:"backupUnit,omitempty"`   // instance, database (SQL Server)
	BackupFiles      []string `json:"backupFiles,omitempty"`
	BackupSizeByte   int64    `json:"backupSizeByte"`
	Engine           string   `json:"engine,omitempty"`
	AvailabilityZone string   `json:"availabilityZone,omitempty"`
}

// Restorable reports whether the portal offers the backup for a restore: COMPLETED, full (an
// empty type counts as full: only SQL Server reports it) and instance-level (likewise).
func (b Backup) Restorable() bool {
	return b.BackupStatus == BackupCompleted &&
		(b.BackupType == "" || b.BackupType == BackupTypeFull) &&
		(b.BackupUnit == "" || b.BackupUnit == BackupUnitInstance)
}

// SizeGB is the backup's size in GiB, rounded up: the least storage that can hold it.
func (b Backup) SizeGB() int {
	const gib = 1 << 30
	return int((b.BackupSizeByte + gib - 1) / gib)
}

// ChargeSpec is the billing of a new instance (docs/jdcloud.md, Enumerations: billing).
type ChargeSpec struct {
	ChargeMode     string `json:"chargeMode"`
	ChargeUnit     string `json:"chargeUnit,omitempty"`     // prepaid only: month or year
	ChargeDuration int    `json:"chargeDuration,omitempty"` // prepaid only: 1–9 months or 1–3 years
}

// RestoredInstanceSpec is the instanceSpec of createInstanceFromBackup
// (RestoredNewDBInstanceSpec, docs/jdcloud.md, createInstanceFromBackup). Optional fields are left out of the body when
// empty; the rules for them are in rules.go.
type RestoredInstanceSpec struct {
	InstanceName        string     `json:"instanceName,omitempty"`
	InstanceClass       string     `json:"instanceClass"`
	InstanceStorageGB   int        `json:"instanceStorageGB"`
	AzID                []string   `json:"azId"`
	VpcID               string     `json:"vpcId"`
	SubnetID            string     `json:"subnetId"`
	ChargeSpec          ChargeSpec `json:"chargeSpec"`
	ParameterGroup      string     `json:"parameterGroup,omitempty"`
	InstanceStorageType string     `json:"instanceStorageType,omitempty"`
	InstancePort        string     `json:"instancePort,omitempty"` // a string on the wire
	StorageEncrypted    *bool      `json:"storageEncrypted,omitempty"`
	InstanceType        string     `json:"instanceType,omitempty"`
	TagSpec             []Tag      `json:"tagSpec,omitempty"`
}

// CreateInstanceFromBackupRequest is the body of createInstanceFromBackup.
type CreateInstanceFromBackupRequest struct {
	BackupID     string               `json:"backupId"`
	Engine       string               `json:"engine"`
	InstanceSpec RestoredInstanceSpec `json:"instanceSpec"`
}

// CreateInstanceByTimeRequest is the body of createInstanceByTime: the source instance's data
// as it was at RestoreTime, in a new instance described by the same spec as a backup restore.
// RestoreTime is in RestoreTimeLayout (see FormatRestoreTime).
type CreateInstanceByTimeRequest struct {
	RestoreTime  string               `json:"restoreTime"`
	InstanceSpec RestoredInstanceSpec `json:"instanceSpec"`
}

// BackupPolicy is an instance's backup policy (describeBackupPolicy): how many days of backups
// and of binlogs JD Cloud keeps, which bounds how far back a point-in-time restore may go.
type BackupPolicy struct {
	StartWindow           string `json:"startWindow,omitempty"` // e.g. "02:00-03:00"
	RetentionPeriod       int    `json:"retentionPeriod"`       // days, 7–730
	BinlogRetentionPeriod int    `json:"binlogRetentionPeriod"` // see BinlogRetention for its unit
	BackupBinlog          string `json:"backupBinlog,omitempty"`
	CycleMode             int    `json:"cycleMode,omitempty"`
}

// CreatedInstance is the result of createInstanceFromBackup.
type CreatedInstance struct {
	InstanceID string `json:"instanceId"`
	OrderID    string `json:"orderId,omitempty"`
}

// DescribeInstancesQuery selects instances for DescribeInstances. Useful filters (operator
// "eq" unless noted): instanceId, instanceName (eq, like), engine, engineVersion,
// instanceStatus, vpcId, instanceType, internalDomainName.
type DescribeInstancesQuery struct {
	PageNumber int // 1-based; 0 means JD Cloud's default, 1
	PageSize   int // 10–100 in tens; 0 means JD Cloud's default, 10
	Filters    []Filter
	TagFilters []TagFilter
}

// DescribeInstances lists one page of the region's instances (GET
// /v1/regions/{regionId}/instances). It returns an *APIError for a JD Cloud refusal, a
// *TransportError when no answer arrived, or an error wrapping ErrInvalidRequest for unusable
// arguments; Classify tells them apart. Reads are retried per the client's RetryPolicy.
func (c *Client) DescribeInstances(ctx context.Context, region string, q DescribeInstancesQuery) (Page[Instance], error) {
	query := appendPaging(nil, q.PageNumber, q.PageSize)
	query = appendFilters(query, q.Filters)
	query = appendTagFilters(query, q.TagFilters)
	var res struct {
		DBInstances []Instance `json:"dbInstances"`
		TotalCount  int        `json:"totalCount"`
	}
	err := c.call(ctx, opDescribeInstances, region, []string{"", "v1", "regions", region, "instances"}, query, nil, &res)
	if err != nil {
		return Page[Instance]{}, err
	}
	return Page[Instance]{Items: res.DBInstances, TotalCount: res.TotalCount, PageNumber: q.PageNumber, PageSize: q.PageSize}, nil
}

// AllInstances pages through DescribeInstances (100 a page) and returns every instance that
// matches q's filters; q's paging fields are ignored. Errors as DescribeInstances, wrapped
// with the page number.
func (c *Client) AllInstances(ctx context.Context, region string, q DescribeInstancesQuery) ([]Instance, error) {
	return collectAll(ctx, func(ctx context.Context, n int) (Page[Instance], error) {
		q.PageNumber, q.PageSize = n, 100
		return c.DescribeInstances(ctx, region, q)
	})
}

// DescribeInstanceAttributes returns one instance with all its attributes (GET
// /v1/regions/{regionId}/instances/{instanceId}); the workflow polls its InstanceStatus. An
// unknown (or not yet visible) instance gives an *APIError for which IsNotFound is true.
// Other errors as DescribeInstances.
func (c *Client) DescribeInstanceAttributes(ctx context.Context, region, instanceID string) (Instance, error) {
	if instanceID == "" {
		return Instance{}, fmt.Errorf("jdcloud %s: %w: instance id is required", OpDescribeInstanceAttributes, ErrInvalidRequest)
	}
	var res struct {
		Attributes Instance `json:"dbInstanceAttributes"`
	}
	err := c.call(ctx, opDescribeInstanceAttributes, region, []string{"", "v1", "regions", region, "instances", instanceID}, nil, nil, &res)
	return res.Attributes, err
}

// DescribeBackupsQuery selects backups for DescribeBackups.
type DescribeBackupsQuery struct {
	InstanceID string // required
	PageNumber int    // 1-based; 0 sends 1 (the JS SDK makes paging mandatory)
	PageSize   int    // 10, 20, 30, 50 or 100; 0 sends 10
	// BackupTypeFilter ("full" or "diff") is documented as a SQL Server test parameter.
	BackupTypeFilter string
}

// DescribeBackups lists one page of an instance's backups, newest first (GET
// /v1/regions/{regionId}/backups). Errors as DescribeInstances.
func (c *Client) DescribeBackups(ctx context.Context, region string, q DescribeBackupsQuery) (Page[Backup], error) {
	if q.InstanceID == "" {
		return Page[Backup]{}, fmt.Errorf("jdcloud %s: %w: instance id is required", OpDescribeBackups, ErrInvalidRequest)
	}
	if q.PageNumber == 0 {
		q.PageNumber = 1
	}
	if q.PageSize == 0 {
		q.PageSize = 10
	}
	query := []queryPair{{"instanceId", q.InstanceID}}
	query = appendPaging(query, q.PageNumber, q.PageSize)
	if q.BackupTypeFilter != "" {
		query = append(query, queryPair{"backupTypeFilter", q.BackupTypeFilter})
	}
	var res struct {
		Backups    []Backup `json:"backup"`
		TotalCount int      `json:"totalCount"`
	}
	err := c.call(ctx, opDescribeBackups, region, []string{"", "v1", "regions", region, "backups"}, query, nil, &res)
	if err != nil {
		return Page[Backup]{}, err
	}
	return Page[Backup]{Items: res.Backups, TotalCount: res.TotalCount, PageNumber: q.PageNumber, PageSize: q.PageSize}, nil
}

// AllBackups pages through DescribeBackups (100 a page) and returns all of an instance's
// backups, newest first. Errors as DescribeInstances, wrapped with the page number.
func (c *Client) AllBackups(ctx context.Context, region, instanceID string) ([]Backup, error) {
	return collectAll(ctx, func(ctx context.Context, n int) (Page[Backup], error) {
		return c.DescribeBackups(ctx, region, DescribeBackupsQuery{InstanceID: instanceID, PageNumber: n, PageSize: 100})
	})
}

// DescribeAzs returns the availability zones of a region where engine can be placed (GET
// /v1/regions/{regionId}/azs?engine=…). Errors as DescribeInstances.
func (c *Client) DescribeAzs(ctx context.Context, region, engine string) ([]string, error) {
	if engine == "" {
		return nil, fmt.Errorf("jdcloud %s: %w: engine is required", OpDescribeAzs, ErrInvalidRequest)
	}
	var res struct {
		Azs []string `json:"azs"`
	}
	err := c.call(ctx, opDescribeAzs, region, []string{"", "v1", "regions", region, "azs"}, []queryPair{{"engine", engine}}, nil, &res)
	return res.Azs, err
}

// CreateInstanceFromBackup creates a new instance from a full backup (POST
// /v1/regions/{regionId}/instances:createInstanceFromBackup). JD Cloud has no idempotency key
// for it, so the client never repeats it: on an error, Classify says whether it may have
// happened (Ambiguous) and the caller decides. Tag the instance through
// req.InstanceSpec.TagSpec to find it again. Errors as DescribeInstances; ValidateCreate
// checks req against the same rules the simulator enforces before anything is sent.
func (c *Client) CreateInstanceFromBackup(ctx context.Context, region string, req CreateInstanceFromBackupRequest) (CreatedInstance, error) {
	var res CreatedInstance
	err := c.call(ctx, opCreateInstanceFromBackup, region, []string{"", "v1", "regions", region, "instances:createInstanceFromBackup"}, nil, req, &res)
	if err == nil && res.InstanceID == "" {
		err = &APIError{Operation: OpCreateInstanceFromBackup, HTTPStatus: http.StatusOK, Message: "answer has no instance id"}
	}
	return res, err
}

// CreateInstanceByTime creates a new instance holding sourceID's data as it was at the
// request's restore time (POST /v1/regions/{regionId}/instances/{instanceId}:createInstanceByTime,
// the path signed with %3A for the colon). Like CreateInstanceFromBackup it has no
// idempotency key and is never repeated by the client: tag the instance to find it again.
func (c *Client) CreateInstanceByTime(ctx context.Context, region, sourceID string, req CreateInstanceByTimeRequest) (CreatedInstance, error) {
	var res CreatedInstance
	if sourceID == "" {
		return res, fmt.Errorf("jdcloud %s: %w: source instance id is required", OpCreateInstanceByTime, ErrInvalidRequest)
	}
	err := c.call(ctx, opCreateInstanceByTime, region, []string{"", "v1", "regions", region, "instances", sourceID + ":createInstanceByTime"}, nil, req, &res)
	if err == nil && res.InstanceID == "" {
		err = &APIError{Operation: OpCreateInstanceByTime, HTTPStatus: http.StatusOK, Message: "answer has no instance id"}
	}
	return res, err
}

// DescribeBackupPolicy returns an instance's backup policy (GET
// /v1/regions/{regionId}/instances/{instanceId}:describeBackupPolicy).
func (c *Client) DescribeBackupPolicy(ctx context.Context, region, instanceID string) (BackupPolicy, error) {
	var res BackupPolicy
	if instanceID == "" {
		return res, fmt.Errorf("jdcloud %s: %w: instance id is required", OpDescribeBackupPolicy, ErrInvalidRequest)
	}
	err := c.call(ctx, opDescribeBackupPolicy, region, []string{"", "v1", "regions", region, "instances", instanceID + ":describeBackupPolicy"}, nil, nil, &res)
	return res, err
}

// DescribeLatestRestoreTime returns the latest moment a SQL Server instance can be restored to
// (GET /v1/regions/{regionId}/instances/{instanceId}:describeLatestRestoreTime). JD Cloud
// serves it for SQL Server only.
func (c *Client) DescribeLatestRestoreTime(ctx context.Context, region, instanceID string) (time.Time, error) {
	var res struct {
		LatestRestoreTime string `json:"latestRestoreTime"`
	}
	if instanceID == "" {
		return time.Time{}, fmt.Errorf("jdcloud %s: %w: instance id is required", OpDescribeLatestRestoreTime, ErrInvalidRequest)
	}
	err := c.call(ctx, opDescribeLatestRestoreTime, region, []string{"", "v1", "regions", region, "instances", instanceID + ":describeLatestRestoreTime"}, nil, nil, &res)
	if err != nil {
		return time.Time{}, err
	}
	t, perr := ParseTime(res.LatestRestoreTime)
	if perr != nil {
		return time.Time{}, &APIError{Operation: OpDescribeLatestRestoreTime, HTTPStatus: http.StatusOK, Message: perr.Error()}
	}
	return t, nil
}

// DeleteInstance deletes an instance (DELETE /v1/regions/{regionId}/instances/{instanceId});
// it moves through DELETING and disappears. Not retried by the client. Errors as
// DescribeInstances; an unknown instance gives an *APIError for which IsNotFound is true.
func (c *Client) DeleteInstance(ctx context.Context, region, instanceID string) error {
	if instanceID == "" {
		return fmt.Errorf("jdcloud %s: %w: instance id is required", OpDeleteInstance, ErrInvalidRequest)
	}
	return c.call(ctx, opDeleteInstance, region, []string{"", "v1", "regions", region, "instances", instanceID}, nil, nil, nil)
}

// DefaultPort is the port an engine listens on when instancePort is not given: 3306 for
// MySQL, Percona and MariaDB and 5432 for PostgreSQL (docs/jdcloud.md, createInstanceFromBackup), 1433 for SQL Server
// (assumed).
func DefaultPort(engine string) int {
	switch engine {
	case EnginePostgreSQL:
		return 5432
	case EngineSQLServer:
		return 1433
	default:
		return 3306
	}
}
