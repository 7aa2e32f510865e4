package jdcloudsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"restoredesk/internal/jdcloud"
)

// perform runs an authenticated, unfaulted operation. Callers hold s.mu.
func (s *Sim) perform(ctx context.Context, rt route, r *http.Request, body []byte) result {
	s.advanceLocked(ctx)
	rs := s.st.Regions[rt.region]
	if rs == nil {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("regionId %s is not a valid region", rt.region))
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", "malformed query string")
	}
	now := s.now()
	var res result
	switch rt.op {
	case jdcloud.OpDescribeInstances:
		res = s.describeInstances(rs, q, now)
	case jdcloud.OpDescribeInstanceAttributes:
		res = s.describeInstanceAttributes(rs, rt.id, now)
	case jdcloud.OpDescribeBackups:
		res = s.describeBackups(rs, q)
	case jdcloud.OpDescribeAzs:
		res = s.describeAzs(rs, q)
	case jdcloud.OpCreateInstanceFromBackup:
		res = s.createInstanceFromBackup(ctx, rt.region, rs, body, now)
	case jdcloud.OpDeleteInstance:
		res = s.deleteInstance(ctx, rs, rt.id, now)
	case jdcloud.OpCreateInstanceByTime:
		res = s.createInstanceByTime(ctx, rt.region, rs, rt.id, body, now)
	case jdcloud.OpDescribeBackupPolicy:
		res = s.describeBackupPolicy(rs, rt.id, now)
	case jdcloud.OpDescribeLatestRestoreTime:
		res = s.describeLatestRestoreTime(rs, rt.id, now)
	case jdcloud.OpDescribeVpcs:
		res = s.describeVpcs(rs, q)
	case jdcloud.OpDescribeSubnets:
		res = s.describeSubnets(rs, q)
	default:
		res = errResult(http.StatusNotImplemented, "NOT_IMPLEMENTED", rt.op+" is not simulated")
	}
	if res.status == http.StatusOK {
		s.stats.Performed[rt.op]++
	}
	return res
}

// invalid turns a query or body problem into 400 INVALID_ARGUMENT.
func invalid(err error) result {
	return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
}

// instanceFilters are describeInstances' filters and their operators (first = default).
var instanceFilters = map[string][]string{
	"instanceId": {"eq"}, "instanceName": {"eq", "like"}, "engine": {"eq"}, "engineVersion": {"eq"},
	"instanceStatus": {"eq"}, "vpcId": {"eq"}, "instanceType": {"eq"}, "internalDomainName": {"eq"},
	"publicDomainName": {"eq"}, "chargeMode": {"eq"},
}

// instanceField returns the value an instance filter looks at.
func instanceField(in *jdcloud.Instance, name string) string {
	switch name {
	case "instanceId":
		return in.InstanceID
	case "instanceName":
		return in.InstanceName
	case "engine":
		return in.Engine
	case "engineVersion":
		return in.EngineVersion
	case "instanceStatus":
		return in.InstanceStatus
	case "vpcId":
		return in.VpcID
	case "instanceType":
		return in.InstanceType
	case "internalDomainName":
		return in.InternalDomainName
	case "publicDomainName":
		return in.PublicDomainName
	case "chargeMode":
		if in.Charge != nil {
			return in.Charge.ChargeMode
		}
	}
	return ""
}

func (s *Sim) describeInstances(rs *regionState, q url.Values, now time.Time) result {
	number, size, err := paging(q, 10)
	if err != nil {
		return invalid(err)
	}
	filters, err := parseFilters(q, instanceFilters)
	if err != nil {
		return invalid(err)
	}
	tagFilters, err := parseTagFilters(q)
	if err != nil {
		return invalid(err)
	}
	var found []jdcloud.Instance
	for _, in := range rs.Instances {
		if !in.visible(now) || !hasTags(in.Inst.Tags, tagFilters) {
			continue
		}
		if !all(filters, func(f jdcloud.Filter) bool { return matches(instanceField(&in.Inst, f.Name), f) }) {
			continue
		}
		found = append(found, listView(in.Inst))
	}
	return okResult(map[string]any{"dbInstances": nonNil(paginate(found, number, size)), "totalCount": len(found)})
}

// listView trims an instance to the fields describeInstances (DBInstance) carries; the rest
// are describeInstanceAttributes-only.
func listView(in jdcloud.Instance) jdcloud.Instance {
	v := cloneInstance(in)
	v.MinorVersion, v.ParameterGroupID, v.ParameterGroupName, v.ParameterStatus = "", "", "", ""
	v.ConnectionMode, v.AuditStatus = "", ""
	return v
}

func (s *Sim) describeInstanceAttributes(rs *regionState, id string, now time.Time) result {
	in := rs.findInstance(id)
	if in == nil || !in.visible(now) {
		return errResult(http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("instance %s not found", id))
	}
	return okResult(map[string]any{"dbInstanceAttributes": cloneInstance(in.Inst)})
}

func (s *Sim) describeBackups(rs *regionState, q url.Values) result {
	id := q.Get("instanceId")
	if id == "" {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", "instanceId is required")
	}
	number, size, err := paging(q, 10)
	if err != nil {
		return invalid(err)
	}
	typeFilter := q.Get("backupTypeFilter")
	if typeFilter != "" && typeFilter != jdcloud.BackupTypeFull && typeFilter != jdcloud.BackupTypeDiff {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("backupTypeFilter %q must be full or diff", typeFilter))
	}
	var found []jdcloud.Backup
	for _, b := range rs.Backups {
		if b.InstanceID == id && (typeFilter == "" || b.BackupType == typeFilter) {
			found = append(found, b)
		}
	}
	// Newest first, as the API sorts by backupStartTime descending. The zone-less times sort
	// correctly as text.
	slices.SortStableFunc(found, func(a, b jdcloud.Backup) int { return strings.Compare(b.BackupStartTime, a.BackupStartTime) })
	return okResult(map[string]any{"backup": nonNil(paginate(found, number, size)), "totalCount": len(found)})
}

func (s *Sim) describeAzs(rs *regionState, q url.Values) result {
	engine := q.Get("engine")
	if engine == "" {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", "engine is required")
	}
	if !slices.Contains(jdcloud.Engines, engine) {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("engine %q is not one of %s", engine, strings.Join(jdcloud.Engines, ", ")))
	}
	return okResult(map[string]any{"azs": slices.Clone(rs.AZs)})
}

func (s *Sim) deleteInstance(ctx context.Context, rs *regionState, id string, now time.Time) result {
	in := rs.findInstance(id)
	if in == nil || !in.visible(now) {
		return errResult(http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("instance %s not found", id))
	}
	if f := s.faults[jdcloud.OpDeleteInstance]; f != nil && f.Protected {
		return errResult(http.StatusForbidden, "PERMISSION_DENIED",
			"deleteInstance is protected by operation protection (MFA) for this sub-user; send x-jdcloud-security-token or turn it off")
	}
	switch st := in.Inst.InstanceStatus; {
	case st == jdcloud.StatusBuilding || st == jdcloud.StatusDeleting:
		return errResult(http.StatusBadRequest, "FAILED_PRECONDITION", fmt.Sprintf("instance %s is %s and cannot be deleted now", id, st))
	case in.Inst.Charge != nil && in.Inst.Charge.ChargeMode == jdcloud.ChargePrepaidByDuration:
		return errResult(http.StatusBadRequest, "FAILED_PRECONDITION", fmt.Sprintf("instance %s is prepaid and cannot be deleted before it expires", id))
	}
	in.Inst.InstanceStatus = jdcloud.StatusDeleting
	in.GoneAt = now.Add(s.deleteTime)
	// Deleting an instance removes its own backups with it.
	rs.Backups = slices.DeleteFunc(rs.Backups, func(b jdcloud.Backup) bool { return b.InstanceID == id })
	s.stats.Deletes++
	if err := s.save(ctx); err != nil {
		return errResult(http.StatusInternalServerError, "INTERNAL", "state not saved")
	}
	return okResult(nil)
}

// createInstanceFromBackup validates the body with the shared rule table and creates a
// BUILDING instance that becomes RUNNING (or BUILD_ERROR) after the build time.
func (s *Sim) createInstanceFromBackup(ctx context.Context, region string, rs *regionState, body []byte, now time.Time) result {
	var req jdcloud.CreateInstanceFromBackupRequest
	if err := decodeStrict(body, &req); err != nil {
		return invalid(err)
	}
	var backup *jdcloud.Backup
	if req.BackupID != "" {
		if backup = rs.findBackup(req.BackupID); backup == nil {
			return errResult(http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("backup %s not found", req.BackupID))
		}
	}
	facts := jdcloud.Facts{Backup: backup, AZs: rs.AZs, Subnet: rs.findSubnet(req.InstanceSpec.SubnetID)}
	var source *instance
	if backup != nil {
		if source = rs.findInstance(backup.InstanceID); source != nil {
			facts.SourceEngine = source.Inst.Engine
		}
	}
	if ps := jdcloud.ValidateCreate(req, facts); len(ps) > 0 {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", ps.String())
	}
	return s.addInstance(ctx, jdcloud.OpCreateInstanceFromBackup, region, rs, req.Engine, req.InstanceSpec, source, time.Time{}, now)
}

// Point-in-time restores, as the simulator understands them. It parses restoreTime and
// computes its window with its own code, not the client's, so a zone or layout mistake in the
// client shows up as a restore point tests can see.
var (
	simBeijing       = time.FixedZone("Beijing", 8*3600)
	simPITEngines    = []string{jdcloud.EngineMySQL, jdcloud.EnginePercona, jdcloud.EngineMariaDB, jdcloud.EngineSQLServer}
	simPITDays       = 7
	simPITAfterStart = 30 * time.Minute
)

// parseRestoreTime reads restoreTime: "2006-01-02 15:04:05" in Beijing time, as every JD Cloud
// example writes it, or an RFC 3339 time with its zone.
func parseRestoreTime(v string) (time.Time, bool) {
	if t, err := time.ParseInLocation("2006-01-02 15:04:05", v, simBeijing); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// simWindow is the span a restore point of source must lie in at now.
func simWindow(source jdcloud.Instance, now time.Time) jdcloud.RestoreWindow {
	w := jdcloud.RestoreWindow{From: now.AddDate(0, 0, -simPITDays), To: now, FromReason: "the last 7 days"}
	if created, err := time.ParseInLocation("2006-01-02T15:04:05", source.CreateTime, simBeijing); err == nil {
		if first := created.Add(simPITAfterStart); first.After(w.From) {
			w.From, w.FromReason = first, "30 minutes after the source instance was created"
		}
	}
	if source.Engine == jdcloud.EngineSQLServer {
		w.To = sqlServerLatest(now)
	}
	return w
}

// sqlServerLatest is the latest restorable moment of a SQL Server instance: its last log
// backup, taken every five minutes.
func sqlServerLatest(now time.Time) time.Time { return now.Truncate(5 * time.Minute) }

// createInstanceByTime restores a source instance's data as of restoreTime into a new
// instance, with the same spec rules as a backup restore and the point-in-time ones.
func (s *Sim) createInstanceByTime(ctx context.Context, region string, rs *regionState, sourceID string, body []byte, now time.Time) result {
	var req jdcloud.CreateInstanceByTimeRequest
	if err := decodeStrict(body, &req); err != nil {
		return invalid(err)
	}
	src := rs.findInstance(sourceID)
	if src == nil || !src.visible(now) {
		return errResult(http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("instance %s not found", sourceID))
	}
	if !slices.Contains(simPITEngines, src.Inst.Engine) {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("createInstanceByTime does not support %s instances", src.Inst.Engine))
	}
	at, ok := parseRestoreTime(req.RestoreTime)
	if !ok {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("restoreTime %q: want yyyy-MM-dd HH:mm:ss", req.RestoreTime))
	}
	facts := jdcloud.Facts{AZs: rs.AZs, Subnet: rs.findSubnet(req.InstanceSpec.SubnetID), Source: &src.Inst,
		RestoreAt: at, Window: simWindow(src.Inst, now)}
	if ps := jdcloud.ValidateCreateByTime(req, facts); len(ps) > 0 {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT", ps.String())
	}
	return s.addInstance(ctx, jdcloud.OpCreateInstanceByTime, region, rs, src.Inst.Engine, req.InstanceSpec, src, at, now)
}

// describeBackupPolicy answers every instance's policy: a week of backups and of binlogs.
func (s *Sim) describeBackupPolicy(rs *regionState, id string, now time.Time) result {
	in := rs.findInstance(id)
	if in == nil || !in.visible(now) {
		return errResult(http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("instance %s not found", id))
	}
	p := jdcloud.BackupPolicy{StartWindow: "02:00-03:00", RetentionPeriod: 7, BinlogRetentionPeriod: 7, CycleMode: 1}
	if in.Inst.Engine != jdcloud.EngineSQLServer && in.Inst.Engine != jdcloud.EnginePostgreSQL {
		p.BackupBinlog = "true"
	}
	return okResult(p)
}

// describeLatestRestoreTime is served for SQL Server only, as on JD Cloud.
func (s *Sim) describeLatestRestoreTime(rs *regionState, id string, now time.Time) result {
	in := rs.findInstance(id)
	if in == nil || !in.visible(now) {
		return errResult(http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("instance %s not found", id))
	}
	if in.Inst.Engine != jdcloud.EngineSQLServer {
		return errResult(http.StatusBadRequest, "INVALID_ARGUMENT",
			fmt.Sprintf("describeLatestRestoreTime supports SQL Server instances only; %s is %s", id, in.Inst.Engine))
	}
	return okResult(map[string]string{"latestRestoreTime": sqlServerLatest(now).In(simBeijing).Format("2006-01-02 15:04:05")})
}

// addInstance creates a BUILDING instance from a validated spec, made by op (one of the
// creates), that becomes RUNNING (or BUILD_ERROR) after the build time. source, when known,
// gives it its engine version; restorePoint is a point-in-time restore's moment.
func (s *Sim) addInstance(ctx context.Context, op, region string, rs *regionState, engine string, spec jdcloud.RestoredInstanceSpec,
	source *instance, restorePoint, now time.Time) result {
	class, _ := jdcloud.LookupClass(spec.InstanceClass)
	id := s.newID(enginePrefix(engine), 10)
	for rs.findInstance(id) != nil {
		id = s.newID(enginePrefix(engine), 10)
	}
	inst := jdcloud.Instance{
		InstanceID:          id,
		InstanceName:        spec.InstanceName,
		InstanceType:        jdcloud.InstanceTypeCluster,
		Engine:              engine,
		EngineVersion:       defaultVersion(engine),
		InstanceClass:       spec.InstanceClass,
		InstanceStorageType: spec.InstanceStorageType,
		StorageEncrypted:    spec.StorageEncrypted != nil && *spec.StorageEncrypted,
		InstanceStorageGB:   spec.InstanceStorageGB,
		InstanceCPU:         class.CPU,
		InstanceMemoryMB:    class.MemoryGB * 1024,
		RegionID:            region,
		AzID:                slices.Clone(spec.AzID),
		VpcID:               spec.VpcID,
		SubnetID:            spec.SubnetID,
		InternalDomainName:  s.domainName(engine, region),
		InstancePort:        spec.InstancePort,
		ConnectionMode:      "standard",
		AuditStatus:         "off",
		InstanceStatus:      jdcloud.StatusBuilding,
		CreateTime:          jdcloud.FormatLocalTime(now),
		Charge: &jdcloud.Charge{
			ChargeMode:      spec.ChargeSpec.ChargeMode,
			ChargeStatus:    "normal",
			ChargeStartTime: now.UTC().Format(time.RFC3339),
		},
		Tags: slices.Clone(spec.TagSpec),
	}
	if source != nil {
		inst.EngineVersion, inst.MinorVersion = source.Inst.EngineVersion, source.Inst.MinorVersion
	}
	if inst.InstanceName == "" {
		inst.InstanceName = id
	}
	if spec.InstanceType != "" {
		inst.InstanceType = spec.InstanceType
	}
	if inst.InstanceStorageType == "" {
		inst.InstanceStorageType = jdcloud.StorageLocalSSD
	}
	if inst.InstancePort == "" {
		inst.InstancePort = fmt.Sprint(jdcloud.DefaultPort(engine))
	}
	if engine == jdcloud.EngineMySQL {
		inst.ParameterGroupID = spec.ParameterGroup
		if inst.ParameterGroupID == "" {
			inst.ParameterGroupID = "mysql-pg-default"
		}
		inst.ParameterGroupName, inst.ParameterStatus = inst.ParameterGroupID, "VALID"
	}
	if spec.ChargeSpec.ChargeMode == jdcloud.ChargePrepaidByDuration {
		months := spec.ChargeSpec.ChargeDuration
		if spec.ChargeSpec.ChargeUnit == jdcloud.ChargeUnitYear {
			months *= 12
		}
		inst.Charge.ChargeExpiredTime = now.UTC().AddDate(0, months, 0).Format(time.RFC3339)
	}
	fails := s.buildFails(op)
	if fails {
		s.stats.Injected["buildError"]++
	}
	rs.Instances = append(rs.Instances, &instance{
		Inst:         inst,
		ReadyAt:      now.Add(s.buildTime),
		BuildFails:   fails,
		VisibleAt:    now.Add(s.visibilityDelay(op)),
		RestorePoint: restorePoint,
	})
	s.stats.Creates++
	if err := s.save(ctx); err != nil {
		// The instance exists in memory; answer like a gateway whose backend failed midway.
		return errResult(http.StatusInternalServerError, "INTERNAL", "state not saved")
	}
	return okResult(jdcloud.CreatedInstance{InstanceID: id, OrderID: s.newDigits(12)})
}

// decodeStrict decodes a JSON object body, turning type errors into messages that name the
// API field. Unknown fields are accepted: the Go SDK adds regionId and sends unset fields as
// null, the JS SDK sends whatever it is given.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("request body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("%s: must be a JSON %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		return fmt.Errorf("request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return errors.New("request body has more than one JSON value")
	}
	return nil
}

// jsonKind names a Go kind the way an API user thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int64", "int32", "float64":
		return "number"
	case "slice":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return kind
}

// enginePrefix is the instance-id prefix of an engine. Only "mysql-" is documented; the others
// are assumed.
func enginePrefix(engine string) string {
	switch engine {
	case jdcloud.EnginePercona:
		return "percona-"
	case jdcloud.EngineMariaDB:
		return "mariadb-"
	case jdcloud.EngineSQLServer:
		return "sqlserver-"
	case jdcloud.EnginePostgreSQL:
		return "pg-"
	default:
		return "mysql-"
	}
}

// defaultVersion is the engine version of an instance whose source is unknown.
func defaultVersion(engine string) string {
	switch engine {
	case jdcloud.EnginePercona:
		return "5.7"
	case jdcloud.EngineMariaDB:
		return "10.2"
	case jdcloud.EngineSQLServer:
		return "2016 EE"
	case jdcloud.EnginePostgreSQL:
		return "12.2"
	default:
		return "5.7"
	}
}

// domainName is an internal domain name shaped like the docs' example
// mysql-cn-north-1-c1ce20704a60487d.rds.jdcloud.com. Callers hold s.mu.
func (s *Sim) domainName(engine, region string) string {
	p := strings.TrimSuffix(enginePrefix(engine), "-")
	return fmt.Sprintf("%s-%s-%s.rds.jdcloud.com", p, region, s.newHex(16))
}

// newID returns prefix plus n lower-case alphanumerics from the seeded source. Callers hold
// s.mu.
func (s *Sim) newID(prefix string, n int) string {
	return prefix + s.draw("abcdefghijklmnopqrstuvwxyz0123456789", n)
}

func (s *Sim) newHex(n int) string    { return s.draw("0123456789abcdef", n) }
func (s *Sim) newDigits(n int) string { return s.draw("0123456789", n) }

// draw returns n characters of alphabet. The source is seeded with the options' seed and the
// persisted id counter, so ids are deterministic and a restarted simulator does not repeat the
// ids it handed out before.
func (s *Sim) draw(alphabet string, n int) string {
	s.st.Counter++
	r := rand.New(rand.NewPCG(s.seed, s.st.Counter))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func all[T any](xs []T, f func(T) bool) bool {
	for _, x := range xs {
		if !f(x) {
			return false
		}
	}
	return true
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// cloneInstance deep-copies the slices of an instance, so answers never alias state.
func cloneInstance(in jdcloud.Instance) jdcloud.Instance {
	in.AzID = slices.Clone(in.AzID)
	in.Tags = slices.Clone(in.Tags)
	if in.Charge != nil {
		c := *in.Charge
		in.Charge = &c
	}
	return in
}
