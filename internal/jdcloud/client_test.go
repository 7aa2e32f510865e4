package jdcloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/testkit"
)

// The tests in this file drive the client against the simulator over real loopback HTTP.

// clock is the simulator's clock; tests move it forward to skip build and delete times. The
// client signs with real time, which stays well within the 15-minute skew window.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a simulator on a loopback listener and a client pointed at it.
type env struct {
	sim    *jdcloudsim.Sim
	srv    *httptest.Server
	clock  *clock
	client *jdcloud.Client
	logs   *testkit.Buffer

	mu    sync.Mutex
	calls []jdcloud.CallInfo
}

// testSecret is the secret of the test key pair; TestNoSecretInLogs looks for it.
const testAK, testSK = "test-ak-0001", "test-sk-Zq8v3HkP2s"

func newEnv(t *testing.T, opts ...jdcloud.Option) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Now()}, logs: &testkit.Buffer{}}
	sim, err := jdcloudsim.New(t.Context(), jdcloudsim.Options{
		AccessKey: testAK, SecretKey: testSK, BuildTime: 5 * time.Second, DeleteTime: 2 * time.Second,
		Now: e.clock.Now, Seed: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.sim = sim
	e.srv = httptest.NewServer(sim)
	t.Cleanup(e.srv.Close)
	u, err := jdcloud.ParseEndpoint(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	base := []jdcloud.Option{
		jdcloud.WithEndpoint(u),
		jdcloud.WithTimeout(5 * time.Second),
		jdcloud.WithRetry(jdcloud.RetryPolicy{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}),
		jdcloud.WithLogger(slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		jdcloud.WithObserver(func(ci jdcloud.CallInfo) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.calls = append(e.calls, ci)
		}),
	}
	e.client = jdcloud.New(testAK, testSK, append(base, opts...)...)
	return e
}

// observed returns the CallInfos seen so far and forgets them.
func (e *env) observed() []jdcloud.CallInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.calls
	e.calls = nil
	return c
}

// restorable returns the newest restorable backup of a seeded instance.
func (e *env) restorable(t *testing.T, region, instanceID string) jdcloud.Backup {
	t.Helper()
	bs, err := e.client.AllBackups(t.Context(), region, instanceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Restorable() {
			return b
		}
	}
	t.Fatalf("%s has no restorable backup", instanceID)
	return jdcloud.Backup{}
}

// restoreRequest is a valid restore of mysql-payorders1's newest full backup into
// vpc-payrestore, tagged with tag.
func (e *env) restoreRequest(t *testing.T, tag string) jdcloud.CreateInstanceFromBackupRequest {
	b := e.restorable(t, "cn-north-1", "mysql-payorders1")
	return jdcloud.CreateInstanceFromBackupRequest{
		BackupID: b.BackupID, Engine: jdcloud.EngineMySQL,
		InstanceSpec: jdcloud.RestoredInstanceSpec{
			InstanceName: "restore-1", InstanceClass: "db.mysql.s1.large", InstanceStorageGB: 200,
			AzID: []string{"cn-north-1a", "cn-north-1b"}, VpcID: "vpc-payrestore", SubnetID: "subnet-payrestora",
			ChargeSpec: jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePostpaidByDuration},
			TagSpec:    []jdcloud.Tag{{Key: "restoredesk", Value: tag}},
		},
	}
}

func ids(is []jdcloud.Instance) []string {
	var out []string
	for _, i := range is {
		out = append(out, i.InstanceID)
	}
	slices.Sort(out)
	return out
}

func TestDescribeInstances(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		region string
		q      jdcloud.DescribeInstancesQuery
		total  int
		want   []string // nil: only check counts
		items  int
	}{
		{name: "first page, default size", region: "cn-north-1", total: 12, items: 10},
		{name: "third page of five", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{PageNumber: 3, PageSize: 5}, total: 12, items: 2},
		{name: "past the end shows the last page", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{PageNumber: 9, PageSize: 5}, total: 12, items: 2},
		{name: "every page at once", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{PageNumber: -1}, total: 12, items: 12},
		{name: "engine", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{Filters: []jdcloud.Filter{{Name: "engine", Values: []string{"MySQL"}}}},
			total: 3, want: []string{"mysql-crmmaindb1", "mysql-payorders1", "mysql-srchindex1"}},
		{name: "engine with a space", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{Filters: []jdcloud.Filter{{Name: "engine", Values: []string{"SQL Server"}}}},
			total: 2, want: []string{"sqlserver-payrecon01", "sqlserver-srchrept01"}},
		{name: "instanceName like with *", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{Filters: []jdcloud.Filter{{Name: "instanceName", Values: []string{"payments-re*"}, Operator: "like"}}},
			total: 2, want: []string{"mariadb-payrefund1", "sqlserver-payrecon01"}},
		{name: "instanceName eq", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{Filters: []jdcloud.Filter{{Name: "instanceName", Values: []string{"search-crawler"}}}},
			total: 1, want: []string{"mariadb-srchcrawl1"}},
		{name: "instanceId, two values", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{Filters: []jdcloud.Filter{{Name: "instanceId", Values: []string{"pg-payledger1", "pg-srchquery1"}}}},
			total: 2, want: []string{"pg-payledger1", "pg-srchquery1"}},
		{name: "tag filter", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{TagFilters: []jdcloud.TagFilter{{Key: "team", Values: []string{"search"}}}},
			total: 5, want: []string{"mariadb-srchcrawl1", "mysql-srchindex1", "percona-srchclick1", "pg-srchquery1", "sqlserver-srchrept01"}},
		{name: "tag filter, two values", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{PageSize: 100, TagFilters: []jdcloud.TagFilter{{Key: "team", Values: []string{"search", "payments"}}}},
			total: 10, items: 10},
		{name: "filter and tag filter", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{
			Filters:    []jdcloud.Filter{{Name: "engine", Values: []string{"PostgreSQL"}}},
			TagFilters: []jdcloud.TagFilter{{Key: "team", Values: []string{"payments"}}}},
			total: 1, want: []string{"pg-payledger1"}},
		{name: "vpcId", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{Filters: []jdcloud.Filter{{Name: "vpcId", Values: []string{"vpc-sharedsvc1"}}}},
			total: 2, want: []string{"mysql-crmmaindb1", "pg-bianalyt01"}},
		{name: "no match", region: "cn-north-1", q: jdcloud.DescribeInstancesQuery{TagFilters: []jdcloud.TagFilter{{Key: "restoredesk", Values: []string{"nothing"}}}},
			total: 0, want: nil, items: 0},
		{name: "other region", region: "cn-east-2", total: 4, items: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := e.client.DescribeInstances(t.Context(), tc.region, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if p.TotalCount != tc.total {
				t.Errorf("TotalCount = %d, want %d", p.TotalCount, tc.total)
			}
			if tc.want != nil {
				if got := ids(p.Items); !slices.Equal(got, tc.want) {
					t.Errorf("instances = %v, want %v", got, tc.want)
				}
			} else if len(p.Items) != tc.items {
				t.Errorf("%d items, want %d", len(p.Items), tc.items)
			}
			for _, in := range p.Items {
				if in.InstanceStatus == "" || in.Engine == "" || in.RegionID != tc.region || len(in.AzID) == 0 || in.InternalDomainName == "" {
					t.Errorf("incomplete instance %+v", in)
				}
			}
		})
	}

	t.Run("AllInstances", func(t *testing.T) {
		t.Parallel()
		all, err := e.client.AllInstances(t.Context(), "cn-north-1", jdcloud.DescribeInstancesQuery{})
		if err != nil || len(all) != 12 {
			t.Fatalf("AllInstances = %d instances, %v", len(all), err)
		}
	})
}

func TestDescribeInstanceAttributes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in, err := e.client.DescribeInstanceAttributes(t.Context(), "cn-north-1", "sqlserver-srchrept01")
	if err != nil {
		t.Fatal(err)
	}
	if in.Engine != jdcloud.EngineSQLServer || in.InstanceType != jdcloud.InstanceTypeStandalone || len(in.AzID) != 1 ||
		in.InstancePort != "1433" || !strings.HasSuffix(in.InternalDomainName, ".rds.jdcloud.com") || in.InstanceStatus != jdcloud.StatusRunning {
		t.Errorf("unexpected attributes %+v", in)
	}
	if v, ok := in.Tag("team"); !ok || v != "search" {
		t.Errorf("team tag = %q, %v", v, ok)
	}

	_, err = e.client.DescribeInstanceAttributes(t.Context(), "cn-north-1", "mysql-nosuchthing")
	var api *jdcloud.APIError
	if !errors.As(err, &api) || api.HTTPStatus != 404 || api.Code != 404 || api.Status != "NOT_FOUND" || api.RequestID == "" || api.Operation != jdcloud.OpDescribeInstanceAttributes {
		t.Fatalf("err = %#v", err)
	}
	if !jdcloud.IsNotFound(err) || jdcloud.Classify(err) != jdcloud.Refused {
		t.Errorf("IsNotFound = %v, Classify = %v", jdcloud.IsNotFound(err), jdcloud.Classify(err))
	}
}

func TestDescribeBackups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	p, err := e.client.DescribeBackups(ctx, "cn-north-1", jdcloud.DescribeBackupsQuery{InstanceID: "mysql-payorders1", PageNumber: 2, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	all, err := e.client.AllBackups(ctx, "cn-north-1", "mysql-payorders1")
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalCount != len(all) || len(all) < 8 || len(p.Items) != 3 || p.Items[0].BackupID != all[3].BackupID {
		t.Fatalf("page 2 of 3: %d items of %d; all: %d", len(p.Items), p.TotalCount, len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b jdcloud.Backup) int { return strings.Compare(b.BackupStartTime, a.BackupStartTime) }) {
		t.Error("backups are not newest first")
	}
	for _, b := range all {
		if _, err := jdcloud.ParseTime(b.BackupStartTime); err != nil || b.InstanceID != "mysql-payorders1" || b.Engine != jdcloud.EngineMySQL {
			t.Errorf("backup %+v: %v", b, err)
		}
		if b.BackupStatus == jdcloud.BackupCompleted && (b.SizeGB() < 170 || b.BackupEndTime == "") {
			t.Errorf("completed backup with %d GB, end %q", b.SizeGB(), b.BackupEndTime)
		}
	}

	statuses := map[string]bool{}
	for _, id := range []string{"mysql-payorders1", "pg-payledger1", "sqlserver-payrecon01", jdcloudsim.RetainedInstanceID} {
		bs, err := e.client.AllBackups(ctx, "cn-north-1", id)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			statuses[b.BackupStatus] = true
			statuses[b.BackupType+"/"+b.BackupUnit] = true
		}
	}
	for _, want := range []string{"COMPLETED", "BUILDING", "ERROR", "RETAINED", "diff/instance", "full/database", "full/instance"} {
		if !statuses[want] {
			t.Errorf("no %s backup among %v", want, statuses)
		}
	}

	diffs, err := e.client.DescribeBackups(ctx, "cn-north-1", jdcloud.DescribeBackupsQuery{InstanceID: "sqlserver-payrecon01", BackupTypeFilter: "diff", PageSize: 100})
	if err != nil || diffs.TotalCount == 0 || slices.ContainsFunc(diffs.Items, func(b jdcloud.Backup) bool { return b.BackupType != "diff" }) {
		t.Errorf("diff filter: %+v, %v", diffs, err)
	}

	if _, err := e.client.DescribeBackups(ctx, "cn-north-1", jdcloud.DescribeBackupsQuery{}); !errors.Is(err, jdcloud.ErrInvalidRequest) {
		t.Errorf("no instance id: %v", err)
	}
}

func TestDescribeAzs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		region string
		want   []string
	}{
		{"cn-north-1", []string{"cn-north-1a", "cn-north-1b", "cn-north-1c"}},
		{"cn-east-1", []string{"cn-east-1a"}},
		{"cn-east-2", []string{"cn-east-2a", "cn-east-2b"}},
		{"cn-south-1", []string{"cn-south-1a"}},
	} {
		azs, err := e.client.DescribeAzs(t.Context(), tc.region, jdcloud.EngineSQLServer)
		if err != nil || !slices.Equal(azs, tc.want) {
			t.Errorf("%s: %v, %v", tc.region, azs, err)
		}
	}
	_, err := e.client.DescribeAzs(t.Context(), "cn-north-1", "Oracle")
	var api *jdcloud.APIError
	if !errors.As(err, &api) || api.HTTPStatus != 400 || api.Status != "INVALID_ARGUMENT" || jdcloud.Classify(err) != jdcloud.Refused {
		t.Errorf("unknown engine: %v", err)
	}
	_, err = e.client.DescribeAzs(t.Context(), "mars-1", jdcloud.EngineMySQL)
	if !errors.As(err, &api) || api.HTTPStatus != 400 {
		t.Errorf("unknown region: %v", err)
	}
}

func TestDescribeVpcsAndSubnets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	p, err := e.client.DescribeVpcs(ctx, "cn-north-1", jdcloud.DescribeVpcsQuery{PageNumber: 2, PageSize: 2})
	if err != nil || p.TotalCount != 5 || len(p.Items) != 2 {
		t.Fatalf("page 2 of VPCs: %+v, %v", p, err)
	}
	vpcs, err := e.client.AllVpcs(ctx, "cn-north-1", jdcloud.DescribeVpcsQuery{Filters: []jdcloud.Filter{{Name: "vpcIds", Values: []string{"vpc-payprod001", "vpc-payrestore"}}}})
	if err != nil || len(vpcs) != 2 {
		t.Fatalf("vpcIds filter: %+v, %v", vpcs, err)
	}
	for _, v := range vpcs {
		if len(v.Subnets) != 2 || v.AddressPrefix == "" || v.VpcName == "" {
			t.Errorf("VPC %+v", v)
		}
	}

	sp, err := e.client.DescribeSubnets(ctx, "cn-north-1", jdcloud.DescribeSubnetsQuery{VpcID: "vpc-payrestore"})
	if err != nil || sp.TotalCount != 2 {
		t.Fatalf("subnets of vpc-payrestore: %+v, %v", sp, err)
	}
	for _, s := range sp.Items {
		if s.VpcID != "vpc-payrestore" || s.Az == "" || s.AddressPrefix == "" {
			t.Errorf("subnet %+v", s)
		}
	}
	all, err := e.client.AllSubnets(ctx, "cn-north-1", jdcloud.DescribeSubnetsQuery{})
	if err != nil || len(all) != 10 {
		t.Errorf("all subnets: %d, %v", len(all), err)
	}
	page, err := e.client.DescribeSubnets(ctx, "cn-north-1", jdcloud.DescribeSubnetsQuery{PageNumber: 1, PageSize: 3})
	if err != nil || len(page.Items) != 3 || page.TotalCount != 10 {
		t.Errorf("subnet page: %d of %d, %v", len(page.Items), page.TotalCount, err)
	}
}

func TestCreateRunDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	req := e.restoreRequest(t, "dep1/req1")
	created, err := e.client.CreateInstanceFromBackup(ctx, "cn-north-1", req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.InstanceID, "mysql-") || len(created.InstanceID) != len("mysql-")+10 || created.OrderID == "" {
		t.Errorf("created %+v", created)
	}
	in, err := e.client.DescribeInstanceAttributes(ctx, "cn-north-1", created.InstanceID)
	if err != nil || in.InstanceStatus != jdcloud.StatusBuilding {
		t.Fatalf("right after create: %+v, %v", in, err)
	}

	e.clock.Advance(6 * time.Second)
	in, err = e.client.DescribeInstanceAttributes(ctx, "cn-north-1", created.InstanceID)
	if err != nil || in.InstanceStatus != jdcloud.StatusRunning {
		t.Fatalf("after the build time: %+v, %v", in, err)
	}
	if in.InstancePort != "3306" || in.InternalDomainName == "" || in.VpcID != "vpc-payrestore" || in.InstanceStorageGB != 200 ||
		in.EngineVersion != "5.7" || !slices.Equal(in.AzID, []string{"cn-north-1a", "cn-north-1b"}) {
		t.Errorf("instance %+v", in)
	}
	found, err := e.client.AllInstances(ctx, "cn-north-1", jdcloud.DescribeInstancesQuery{
		TagFilters: []jdcloud.TagFilter{{Key: "restoredesk", Values: []string{"dep1/req1"}}},
	})
	if err != nil || len(found) != 1 || found[0].InstanceID != created.InstanceID {
		t.Fatalf("by tag: %+v, %v", found, err)
	}
	byName, err := e.client.AllInstances(ctx, "cn-north-1", jdcloud.DescribeInstancesQuery{
		Filters: []jdcloud.Filter{{Name: "instanceName", Values: []string{"restore-1"}}},
	})
	if err != nil || len(byName) != 1 {
		t.Fatalf("by name: %+v, %v", byName, err)
	}

	if err := e.client.DeleteInstance(ctx, "cn-north-1", created.InstanceID); err != nil {
		t.Fatal(err)
	}
	in, err = e.client.DescribeInstanceAttributes(ctx, "cn-north-1", created.InstanceID)
	if err != nil || in.InstanceStatus != jdcloud.StatusDeleting {
		t.Fatalf("after delete: %+v, %v", in, err)
	}
	e.clock.Advance(3 * time.Second)
	_, err = e.client.DescribeInstanceAttributes(ctx, "cn-north-1", created.InstanceID)
	if !jdcloud.IsNotFound(err) {
		t.Fatalf("after the delete time: %v", err)
	}
	if err := e.client.DeleteInstance(ctx, "cn-north-1", created.InstanceID); !jdcloud.IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}
	// A prepaid instance cannot be deleted.
	err = e.client.DeleteInstance(ctx, "cn-north-1", "mariadb-payrefund1")
	var api *jdcloud.APIError
	if !errors.As(err, &api) || api.Status != "FAILED_PRECONDITION" {
		t.Errorf("prepaid delete: %v", err)
	}
	if st := e.sim.Stats(); st.Creates != 1 || st.Deletes != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestCreateRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	valid := e.restoreRequest(t, "dep1/refused")
	sqlBackups, err := e.client.AllBackups(t.Context(), "cn-north-1", "sqlserver-payrecon01")
	if err != nil {
		t.Fatal(err)
	}
	backupWhere := func(f func(jdcloud.Backup) bool) string {
		i := slices.IndexFunc(sqlBackups, f)
		if i < 0 {
			t.Fatal("no such seeded backup")
		}
		return sqlBackups[i].BackupID
	}
	mysqlBackups, _ := e.client.AllBackups(t.Context(), "cn-north-1", "mysql-payorders1")
	building := mysqlBackups[slices.IndexFunc(mysqlBackups, func(b jdcloud.Backup) bool { return b.BackupStatus == jdcloud.BackupBuilding })].BackupID
	sqlSpec := func(r *jdcloud.CreateInstanceFromBackupRequest) {
		r.Engine = jdcloud.EngineSQLServer
		r.InstanceSpec.InstanceClass, r.InstanceSpec.InstanceStorageGB = "db.sqlsvr.s1.xlarge", 800
	}

	for _, tc := range []struct {
		name   string
		mod    func(*jdcloud.CreateInstanceFromBackupRequest)
		status int
		code   string
		field  string
	}{
		{"unknown backup", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.BackupID = "00000000-0000-4000-8000-000000000000" }, 404, "NOT_FOUND", "backup"},
		{"backup still building", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.BackupID = building }, 400, "INVALID_ARGUMENT", jdcloud.FieldBackupID},
		{"diff backup", func(r *jdcloud.CreateInstanceFromBackupRequest) {
			sqlSpec(r)
			r.BackupID = backupWhere(func(b jdcloud.Backup) bool { return b.BackupType == jdcloud.BackupTypeDiff })
		}, 400, "INVALID_ARGUMENT", jdcloud.FieldBackupID},
		{"database-level backup", func(r *jdcloud.CreateInstanceFromBackupRequest) {
			sqlSpec(r)
			r.BackupID = backupWhere(func(b jdcloud.Backup) bool { return b.BackupUnit == jdcloud.BackupUnitDatabase })
		}, 400, "INVALID_ARGUMENT", jdcloud.FieldBackupID},
		{"engine differs from the backup", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.Engine = jdcloud.EnginePercona }, 400, "INVALID_ARGUMENT", jdcloud.FieldEngine},
		{"class of another engine", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.InstanceSpec.InstanceClass = "db.pg.s1.large" }, 400, "INVALID_ARGUMENT", jdcloud.FieldInstanceClass},
		{"storage outside the class", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.InstanceSpec.InstanceStorageGB = 510 }, 400, "INVALID_ARGUMENT", jdcloud.FieldStorageGB},
		{"storage below the backup", func(r *jdcloud.CreateInstanceFromBackupRequest) {
			r.InstanceSpec.InstanceClass, r.InstanceSpec.InstanceStorageGB = "db.mysql.s1.small", 150
		}, 400, "INVALID_ARGUMENT", jdcloud.FieldStorageGB},
		{"zone of another region", func(r *jdcloud.CreateInstanceFromBackupRequest) {
			r.InstanceSpec.AzID = []string{"cn-east-2a", "cn-east-2b"}
		}, 400, "INVALID_ARGUMENT", jdcloud.FieldAzID},
		{"one zone for a cluster", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.InstanceSpec.AzID = []string{"cn-north-1a"} }, 400, "INVALID_ARGUMENT", jdcloud.FieldAzID},
		{"subnet of another VPC", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.InstanceSpec.SubnetID = "subnet-payprod00a" }, 400, "INVALID_ARGUMENT", jdcloud.FieldSubnetID},
		{"unknown subnet", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.InstanceSpec.SubnetID = "subnet-nosuchone" }, 400, "INVALID_ARGUMENT", jdcloud.FieldSubnetID},
		{"port out of range", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.InstanceSpec.InstancePort = "6000" }, 400, "INVALID_ARGUMENT", jdcloud.FieldPort},
		{"prepaid for ten months", func(r *jdcloud.CreateInstanceFromBackupRequest) {
			r.InstanceSpec.ChargeSpec = jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePrepaidByDuration, ChargeUnit: "month", ChargeDuration: 10}
		}, 400, "INVALID_ARGUMENT", jdcloud.FieldChargeDuration},
		{"postpaid with a period", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.InstanceSpec.ChargeSpec.ChargeDuration = 2 }, 400, "INVALID_ARGUMENT", jdcloud.FieldChargeDuration},
		{"architecture for MySQL", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.InstanceSpec.InstanceType = "standalone" }, 400, "INVALID_ARGUMENT", jdcloud.FieldInstanceType},
		{"encryption on local disk", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.InstanceSpec.StorageEncrypted = ptr(true) }, 400, "INVALID_ARGUMENT", jdcloud.FieldStorageEncrypted},
		{"bad name", func(r *jdcloud.CreateInstanceFromBackupRequest) { r.InstanceSpec.InstanceName = "restore me!" }, 400, "INVALID_ARGUMENT", jdcloud.FieldInstanceName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := valid
			req.InstanceSpec.AzID = slices.Clone(valid.InstanceSpec.AzID)
			tc.mod(&req)
			_, err := e.client.CreateInstanceFromBackup(t.Context(), "cn-north-1", req)
			var api *jdcloud.APIError
			if !errors.As(err, &api) {
				t.Fatalf("err = %v, want an APIError", err)
			}
			if api.HTTPStatus != tc.status || api.Code != tc.status || api.Status != tc.code || api.RequestID == "" {
				t.Errorf("got %d %d %s (request id %q), want %d %s", api.HTTPStatus, api.Code, api.Status, api.RequestID, tc.status, tc.code)
			}
			if !strings.Contains(api.Message, tc.field) {
				t.Errorf("message %q does not name %s", api.Message, tc.field)
			}
			if jdcloud.Classify(err) != jdcloud.Refused {
				t.Errorf("Classify = %v, want refused", jdcloud.Classify(err))
			}
		})
	}
	// Cleanups run after the parallel subtests have finished.
	t.Cleanup(func() {
		if n := e.sim.Stats().Creates; n != 0 {
			t.Errorf("%d instances created by refused requests", n)
		}
	})
}

func TestInvalidArguments(t *testing.T) {
	t.Parallel()
	// A call whose arguments are unusable is refused before anything is sent.
	e := newEnv(t)
	for _, err := range []error{
		func() error {
			_, err := e.client.DescribeInstances(t.Context(), "", jdcloud.DescribeInstancesQuery{})
			return err
		}(),
		func() error { _, err := e.client.DescribeInstanceAttributes(t.Context(), "cn-north-1", ""); return err }(),
		e.client.DeleteInstance(t.Context(), "cn-north-1", ""),
		func() error { _, err := e.client.DescribeAzs(t.Context(), "cn-north-1", ""); return err }(),
	} {
		if !errors.Is(err, jdcloud.ErrInvalidRequest) || jdcloud.Classify(err) != jdcloud.Refused {
			t.Errorf("err = %v", err)
		}
	}
	if calls := e.observed(); len(calls) != 0 {
		t.Errorf("%d calls observed", len(calls))
	}
	if n := len(e.sim.Stats().Calls); n != 0 {
		t.Errorf("the simulator saw %d operations", n)
	}
}

// closedAddr returns a loopback address with nothing listening.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestErrorClasses shows each kind of failure with its classification and what really
// happened on the simulator's side.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, e *env, err error)
	// notYetPerformed: the client gave up before a held create was carried out.
	notYetPerformed := func(t *testing.T, e *env, err error) {
		t.Helper()
		if got := e.sim.Stats().Creates; got != 0 {
			t.Errorf("the held create was performed before the client gave up (%d creates)", got)
		}
	}
	performed := func(n int) check {
		return func(t *testing.T, e *env, err error) {
			t.Helper()
			// Give a delayed answer time to finish on the simulator's side.
			deadline := time.Now().Add(3 * time.Second)
			for e.sim.Stats().Creates != n && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := e.sim.Stats().Creates; got != n {
				t.Errorf("%d instances created, want %d", got, n)
			}
			if n > 0 {
				if found := e.sim.InstancesByTag("cn-north-1", "restoredesk", "dep1/classes"); len(found) != n {
					t.Errorf("%d tagged instances, want %d", len(found), n)
				}
			}
		}
	}
	transport := func(sent, timeout bool) check {
		return func(t *testing.T, e *env, err error) {
			t.Helper()
			var te *jdcloud.TransportError
			if !errors.As(err, &te) || te.Sent != sent || te.Timeout != timeout {
				t.Errorf("err = %#v, want a TransportError with Sent %v, Timeout %v", err, sent, timeout)
			}
		}
	}
	apiError := func(status int, code, text string) check {
		return func(t *testing.T, e *env, err error) {
			t.Helper()
			var api *jdcloud.APIError
			if !errors.As(err, &api) || api.HTTPStatus != status || api.Status != code || !strings.Contains(api.Message, text) || api.RequestID == "" {
				t.Errorf("err = %#v, want %d %s mentioning %q with a request id", err, status, code, text)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		fault  jdcloudsim.Fault
		opts   []jdcloud.Option
		client func(e *env) *jdcloud.Client // overrides the env's client
		class  jdcloud.Class
		checks []check
	}{
		{name: "success", class: jdcloud.OK, checks: []check{performed(1)}},
		{name: "wrong secret: 401 refused", class: jdcloud.Refused,
			client: func(e *env) *jdcloud.Client {
				u, _ := jdcloud.ParseEndpoint(e.srv.URL)
				return jdcloud.New(testAK, "not-the-secret", jdcloud.WithEndpoint(u))
			},
			checks: []check{apiError(401, "ACCESS_ERROR", "sign result is not same"), performed(0)}},
		{name: "throttled: 429 not performed", fault: jdcloudsim.Fault{ThrottleNext: 1}, class: jdcloud.NotPerformed,
			checks: []check{apiError(429, "RATE_LIMIT", "rate"), performed(0)}},
		{name: "503 before performing: ambiguous", fault: jdcloudsim.Fault{FailNext: 1}, class: jdcloud.Ambiguous,
			checks: []check{apiError(503, "UNAVAILABLE", "unavailable"), performed(0)}},
		{name: "500 after performing: ambiguous", fault: jdcloudsim.Fault{FailNext: 1, FailStatus: 500, FailAfterPerform: true}, class: jdcloud.Ambiguous,
			checks: []check{apiError(500, "INTERNAL", "internal"), performed(1)}},
		{name: "connection dropped after performing: ambiguous", fault: jdcloudsim.Fault{DropNext: 1}, class: jdcloud.Ambiguous,
			checks: []check{transport(true, false), performed(1)}},
		{name: "timeout after sending: ambiguous", fault: jdcloudsim.Fault{Latency: 400 * time.Millisecond},
			opts: []jdcloud.Option{jdcloud.WithTimeout(100 * time.Millisecond)}, class: jdcloud.Ambiguous,
			checks: []check{transport(true, true), performed(1)}},
		{name: "held past the timeout, performed late: ambiguous", fault: jdcloudsim.Fault{Hold: 500 * time.Millisecond, HoldNext: 1},
			opts: []jdcloud.Option{jdcloud.WithTimeout(100 * time.Millisecond)}, class: jdcloud.Ambiguous,
			checks: []check{transport(true, true), notYetPerformed, performed(1)}},
		{name: "connection refused: not performed", class: jdcloud.NotPerformed,
			client: func(e *env) *jdcloud.Client {
				u, _ := jdcloud.ParseEndpoint("http://" + closedAddr(t))
				return jdcloud.New(testAK, testSK, jdcloud.WithEndpoint(u))
			},
			checks: []check{transport(false, false), performed(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.opts...)
			if !tc.fault.IsZero() {
				e.sim.SetFault(jdcloud.OpCreateInstanceFromBackup, tc.fault)
			}
			req := e.restoreRequest(t, "dep1/classes")
			e.observed() // forget the backup look-up
			c := e.client
			if tc.client != nil {
				c = tc.client(e)
			}
			_, err := c.CreateInstanceFromBackup(t.Context(), "cn-north-1", req)
			if got := jdcloud.Classify(err); got != tc.class {
				t.Errorf("Classify(%v) = %v, want %v", err, got, tc.class)
			}
			for _, ch := range tc.checks {
				ch(t, e, err)
			}
			if tc.client == nil {
				// Creates are never retried by the client.
				if calls := e.observed(); len(calls) != 1 {
					t.Errorf("%d attempts, want 1: %+v", len(calls), calls)
				}
			}
		})
	}
}

// TestNonJSONAnswers covers answers that are not JD Cloud's envelope: they still become errors
// that say what happened.
func TestNonJSONAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		status  int
		ctype   string
		body    string
		class   jdcloud.Class
		message string
	}{
		{"502 text from a proxy", 502, "text/plain", "Bad Gateway\n", jdcloud.Ambiguous, "non-JSON answer (text/plain): Bad Gateway"},
		{"403 HTML", 403, "text/html; charset=utf-8", "<html><body>Forbidden</body></html>", jdcloud.Refused, "non-JSON answer (text/html): <html>"},
		{"200 garbage", 200, "application/json", "{not json", jdcloud.Ambiguous, "non-JSON answer"},
		{"200 without result", 200, "application/json", `{"requestId":"abc"}`, jdcloud.Ambiguous, "no result"},
		{"500 empty", 500, "", "", jdcloud.Ambiguous, "empty answer"},
		{"302 redirect is not followed", 302, "text/plain", "moved", jdcloud.Refused, "moved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(jdcloud.HeaderRequestID, "req-header-id")
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				if tc.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			u, _ := jdcloud.ParseEndpoint(srv.URL)
			c := jdcloud.New(testAK, testSK, jdcloud.WithEndpoint(u), jdcloud.WithRetry(jdcloud.RetryPolicy{Attempts: 1}))
			_, err := c.DescribeAzs(t.Context(), "cn-north-1", jdcloud.EngineMySQL)
			var api *jdcloud.APIError
			wantID := "req-header-id"
			if strings.Contains(tc.body, "requestId") {
				wantID = "abc" // the body's id wins over the header's
			}
			if !errors.As(err, &api) || api.HTTPStatus != tc.status || api.RequestID != wantID || !strings.Contains(api.Message, tc.message) {
				t.Fatalf("err = %#v", err)
			}
			if got := jdcloud.Classify(err); got != tc.class {
				t.Errorf("Classify = %v, want %v", got, tc.class)
			}
		})
	}
}

func TestReadRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fault    jdcloudsim.Fault
		ok       bool
		statuses []int
	}{
		{"two 503s then success", jdcloudsim.Fault{FailNext: 2}, true, []int{503, 503, 200}},
		{"two throttles then success", jdcloudsim.Fault{ThrottleNext: 2}, true, []int{429, 429, 200}},
		{"a dropped connection then success", jdcloudsim.Fault{DropNext: 1}, true, []int{0, 200}},
		{"gives up after three attempts", jdcloudsim.Fault{FailNext: 5, FailStatus: 500}, false, []int{500, 500, 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A fresh connection per attempt, so the client sees each drop: on a reused
			// connection Go's transport itself repeats a dropped GET (see the next subtest).
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.DisableKeepAlives = true
			e := newEnv(t, jdcloud.WithHTTPClient(&http.Client{Transport: tr}))
			e.sim.SetFault(jdcloud.OpDescribeInstances, tc.fault)
			_, err := e.client.DescribeInstances(t.Context(), "cn-north-1", jdcloud.DescribeInstancesQuery{})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			calls := e.observed()
			var statuses []int
			for i, c := range calls {
				statuses = append(statuses, c.HTTPStatus)
				if c.Attempt != i+1 || c.Operation != jdcloud.OpDescribeInstances || c.Region != "cn-north-1" || c.Duration <= 0 {
					t.Errorf("call %d: %+v", i, c)
				}
				if c.HTTPStatus != 0 && c.RequestID == "" {
					t.Errorf("call %d has no request id", i)
				}
				if (c.Err == nil) != (c.HTTPStatus == 200) {
					t.Errorf("call %d: status %d, err %v", i, c.HTTPStatus, c.Err)
				}
			}
			if !slices.Equal(statuses, tc.statuses) {
				t.Errorf("statuses %v, want %v", statuses, tc.statuses)
			}
		})
	}

	t.Run("a dropped keep-alive read is repeated by Go's transport, not refused as a replay", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		if _, err := e.client.DescribeAzs(t.Context(), "cn-north-1", jdcloud.EngineMySQL); err != nil { // warm a connection
			t.Fatal(err)
		}
		e.observed()
		e.sim.SetFault(jdcloud.OpDescribeAzs, jdcloudsim.Fault{DropNext: 1})
		if _, err := e.client.DescribeAzs(t.Context(), "cn-north-1", jdcloud.EngineMySQL); err != nil {
			t.Fatal(err)
		}
		st := e.sim.Stats()
		if st.Injected["drop"] != 1 || st.Calls[jdcloud.OpDescribeAzs] != 3 || st.Unauthenticated != 0 {
			t.Errorf("stats %+v", st)
		}
		if c := e.observed(); len(c) != 1 || c[0].HTTPStatus != 200 {
			t.Errorf("observed %+v", c)
		}
	})
	t.Run("refusals are not retried", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		_, err := e.client.DescribeInstanceAttributes(t.Context(), "cn-north-1", "mysql-nosuchthing")
		if !jdcloud.IsNotFound(err) || len(e.observed()) != 1 {
			t.Errorf("err %v", err)
		}
	})
	t.Run("deletes are not retried", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.sim.SetFault(jdcloud.OpDeleteInstance, jdcloudsim.Fault{FailNext: 1})
		err := e.client.DeleteInstance(t.Context(), "cn-north-1", "mysql-srchindex1")
		if jdcloud.Classify(err) != jdcloud.Ambiguous || len(e.observed()) != 1 {
			t.Errorf("err %v", err)
		}
	})
	t.Run("timeouts are retried for reads", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, jdcloud.WithTimeout(50*time.Millisecond), jdcloud.WithRetry(jdcloud.RetryPolicy{Attempts: 2}))
		e.sim.SetFault(jdcloud.OpDescribeAzs, jdcloudsim.Fault{Latency: 300 * time.Millisecond})
		start := time.Now()
		_, err := e.client.DescribeAzs(t.Context(), "cn-north-1", jdcloud.EngineMySQL)
		var te *jdcloud.TransportError
		if !errors.As(err, &te) || !te.Timeout || jdcloud.Classify(err) != jdcloud.Ambiguous {
			t.Fatalf("err = %v", err)
		}
		if n := len(e.observed()); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
		if d := time.Since(start); d > 250*time.Millisecond {
			t.Errorf("took %v; the per-attempt timeout did not apply", d)
		}
	})
	t.Run("the caller's context stops retries", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, jdcloud.WithRetry(jdcloud.RetryPolicy{Attempts: 5, BaseDelay: time.Second, MaxDelay: time.Second}))
		e.sim.SetFault(jdcloud.OpDescribeAzs, jdcloudsim.Fault{FailNext: 5})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := e.client.DescribeAzs(ctx, "cn-north-1", jdcloud.EngineMySQL)
		if err == nil || time.Since(start) > 900*time.Millisecond {
			t.Errorf("err %v after %v", err, time.Since(start))
		}
	})
}

// TestFaultRates checks the probabilistic faults answer about the share asked for.
func TestFaultRates(t *testing.T) {
	t.Parallel()
	const calls = 200
	for _, tc := range []struct {
		name  string
		fault jdcloudsim.Fault
		count func(err error) bool
	}{
		{"fail-rate", jdcloudsim.Fault{FailRate: 0.3}, func(err error) bool {
			var api *jdcloud.APIError
			return errors.As(err, &api) && api.HTTPStatus == 503
		}},
		{"fail-rate with 500", jdcloudsim.Fault{FailRate: 0.3, FailStatus: 500}, func(err error) bool {
			var api *jdcloud.APIError
			return errors.As(err, &api) && api.HTTPStatus == 500
		}},
		{"throttle-rate", jdcloudsim.Fault{ThrottleRate: 0.3}, func(err error) bool { return jdcloud.Classify(err) == jdcloud.NotPerformed }},
		{"drop-rate", jdcloudsim.Fault{DropRate: 0.3}, func(err error) bool {
			var te *jdcloud.TransportError
			return errors.As(err, &te) && te.Sent
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.DisableKeepAlives = true // every drop reaches the client
			e := newEnv(t, jdcloud.WithRetry(jdcloud.RetryPolicy{Attempts: 1}), jdcloud.WithHTTPClient(&http.Client{Transport: tr}))
			e.sim.SetFault(jdcloud.OpDescribeAzs, tc.fault)
			n := 0
			for range calls {
				_, err := e.client.DescribeAzs(t.Context(), "cn-north-1", jdcloud.EngineMySQL)
				if err != nil && !tc.count(err) {
					t.Fatalf("unexpected error %v", err)
				}
				if err != nil {
					n++
				}
			}
			if n < calls*15/100 || n > calls*45/100 {
				t.Errorf("%d of %d calls faulted, want about 30%%", n, calls)
			}
		})
	}
	t.Run("build-error-rate", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.sim.SetFault(jdcloud.OpCreateInstanceFromBackup, jdcloudsim.Fault{BuildErrorRate: 0.5})
		req := e.restoreRequest(t, "dep1/rate")
		var created []string
		for range 40 {
			c, err := e.client.CreateInstanceFromBackup(t.Context(), "cn-north-1", req)
			if err != nil {
				t.Fatal(err)
			}
			created = append(created, c.InstanceID)
		}
		e.clock.Advance(time.Minute)
		failed := 0
		for _, id := range created {
			in, err := e.client.DescribeInstanceAttributes(t.Context(), "cn-north-1", id)
			if err != nil {
				t.Fatal(err)
			}
			if in.InstanceStatus == jdcloud.StatusBuildError {
				failed++
			}
		}
		if failed < 10 || failed > 30 {
			t.Errorf("%d of 40 builds failed, want about half", failed)
		}
	})
}

func TestLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sim.SetFault(jdcloudsim.AllOperations, jdcloudsim.Fault{Latency: 150 * time.Millisecond})
	start := time.Now()
	if _, err := e.client.DescribeAzs(t.Context(), "cn-north-1", jdcloud.EngineMySQL); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %v, want at least the injected latency", d)
	}
	if c := e.observed(); len(c) != 1 || c[0].Duration < 150*time.Millisecond {
		t.Errorf("observed %+v", c)
	}
}

func TestBuildError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sim.SetFault(jdcloud.OpCreateInstanceFromBackup, jdcloudsim.Fault{BuildErrorNext: 1})
	created, err := e.client.CreateInstanceFromBackup(t.Context(), "cn-north-1", e.restoreRequest(t, "dep1/builderr"))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second)
	in, err := e.client.DescribeInstanceAttributes(t.Context(), "cn-north-1", created.InstanceID)
	if err != nil || in.InstanceStatus != jdcloud.StatusBuildError || !jdcloud.StatusFailed(in.InstanceStatus) {
		t.Fatalf("%+v, %v", in, err)
	}
	// Only the next build fails.
	second, err := e.client.CreateInstanceFromBackup(t.Context(), "cn-north-1", e.restoreRequest(t, "dep1/buildok"))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second)
	if in, _ := e.client.DescribeInstanceAttributes(t.Context(), "cn-north-1", second.InstanceID); in.InstanceStatus != jdcloud.StatusRunning {
		t.Errorf("second build: %s", in.InstanceStatus)
	}
}

func TestVisibilityDelay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sim.SetFault(jdcloud.OpCreateInstanceFromBackup, jdcloudsim.Fault{VisibilityDelay: 30 * time.Second})
	created, err := e.client.CreateInstanceFromBackup(t.Context(), "cn-north-1", e.restoreRequest(t, "dep1/late"))
	if err != nil {
		t.Fatal(err)
	}
	byTag := jdcloud.DescribeInstancesQuery{TagFilters: []jdcloud.TagFilter{{Key: "restoredesk", Values: []string{"dep1/late"}}}}
	check := func(visible bool) {
		t.Helper()
		found, err := e.client.AllInstances(t.Context(), "cn-north-1", byTag)
		if err != nil || (len(found) == 1) != visible {
			t.Errorf("by tag: %d found, %v; want visible %v", len(found), err, visible)
		}
		_, err = e.client.DescribeInstanceAttributes(t.Context(), "cn-north-1", created.InstanceID)
		if jdcloud.IsNotFound(err) == visible {
			t.Errorf("attributes: %v; want visible %v", err, visible)
		}
		all, _ := e.client.AllInstances(t.Context(), "cn-north-1", jdcloud.DescribeInstancesQuery{})
		if (len(all) == 13) != visible {
			t.Errorf("%d instances listed; want visible %v", len(all), visible)
		}
	}
	check(false)
	if _, ok := e.sim.Instance("cn-north-1", created.InstanceID); !ok {
		t.Error("the simulator does not hold the hidden instance")
	}
	e.clock.Advance(31 * time.Second)
	check(true)
}

// TestNoSecretInLogs runs successful and failing calls of every kind and checks that the
// secret key appears in no log line, error, observed call or printed value.
func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	var texts []string
	add := func(err error) {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%#v %+v", err, err))
		}
	}
	_, err := e.client.DescribeInstances(ctx, "cn-north-1", jdcloud.DescribeInstancesQuery{})
	add(err)
	_, err = e.client.DescribeInstanceAttributes(ctx, "cn-north-1", "mysql-nosuchthing")
	add(err)
	e.sim.SetFault(jdcloud.OpDescribeAzs, jdcloudsim.Fault{FailNext: 5})
	_, err = e.client.DescribeAzs(ctx, "cn-north-1", jdcloud.EngineMySQL)
	add(err)
	_, err = e.client.CreateInstanceFromBackup(ctx, "cn-north-1", e.restoreRequest(t, "dep1/secret"))
	add(err)
	u, _ := jdcloud.ParseEndpoint("http://" + closedAddr(t))
	refused := jdcloud.New(testAK, testSK, jdcloud.WithEndpoint(u), jdcloud.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_, err = refused.DescribeVpcs(ctx, "cn-north-1", jdcloud.DescribeVpcsQuery{})
	add(err)

	cred := jdcloud.NewCredential(testAK, testSK)
	js, _ := json.Marshal(cred)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("credential", "cred", cred)
	texts = append(texts, e.logs.String(), logged.String(), string(js),
		fmt.Sprintf("%v %+v %#v %s %q", cred, cred, cred, cred, cred),
		fmt.Sprintf("%v %+v %#v %s", e.client, e.client, *e.client, e.client),
		fmt.Sprintf("%+v", e.observed()))
	for _, s := range texts {
		if strings.Contains(s, testSK) {
			t.Fatalf("secret key leaked in %q", s)
		}
	}
	logs := e.logs.String()
	for _, want := range []string{`"operation":"describeInstances"`, `"jdcloud_request_id":"`, `"status":404`, `"duration":`, `"level":"DEBUG"`, "connection refused"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if !strings.Contains(fmt.Sprint(cred), "[REDACTED]") {
		t.Errorf("credential prints as %v", cred)
	}
}

// byTimeRequest is a point-in-time restore of mysql-payorders1 (db.mysql.s1.large, 500 GB).
func byTimeRequest(at time.Time, tag string) jdcloud.CreateInstanceByTimeRequest {
	return jdcloud.CreateInstanceByTimeRequest{RestoreTime: jdcloud.FormatRestoreTime(at), InstanceSpec: jdcloud.RestoredInstanceSpec{
		InstanceName: "restore-pit", InstanceClass: "db.mysql.s1.large", InstanceStorageGB: 500,
		AzID: []string{"cn-north-1a", "cn-north-1b"}, VpcID: "vpc-payrestore", SubnetID: "subnet-payrestora",
		ChargeSpec: jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePostpaidByDuration},
		TagSpec:    []jdcloud.Tag{{Key: "restoredesk", Value: tag}},
	}}
}

// TestCreateInstanceByTime: the client's restoreTime (Beijing time, no zone) reaches the
// simulator as the moment meant, the simulator enforces its own window and the size rules, and
// the calls around point-in-time restores answer as on JD Cloud.
func TestCreateInstanceByTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	// Yesterday 14:30 Beijing time is yesterday 06:30 UTC.
	y := e.clock.Now().In(jdcloud.TimeZone).AddDate(0, 0, -1)
	at := time.Date(y.Year(), y.Month(), y.Day(), 14, 30, 0, 0, jdcloud.TimeZone)
	created, err := e.client.CreateInstanceByTime(ctx, "cn-north-1", "mysql-payorders1", byTimeRequest(at, "dep1/pit"))
	if err != nil {
		t.Fatal(err)
	}
	point, ok := e.sim.RestorePoint("cn-north-1", created.InstanceID)
	if !ok || !point.Equal(at) || point.UTC().Hour() != 6 || point.UTC().Minute() != 30 {
		t.Errorf("the simulator restored to %s (%v), want %s = 06:30 UTC", point.UTC(), ok, at.UTC())
	}
	in, ok := e.sim.Instance("cn-north-1", created.InstanceID)
	if !ok || in.InstanceStatus != jdcloud.StatusBuilding || in.Engine != jdcloud.EngineMySQL {
		t.Errorf("new instance %+v", in)
	}

	refused := func(name string, err error, text string) {
		t.Helper()
		var api *jdcloud.APIError
		if !errors.As(err, &api) || api.HTTPStatus != 400 || !strings.Contains(api.Message, text) {
			t.Errorf("%s: %v, want a 400 mentioning %q", name, err, text)
		}
	}
	now := e.clock.Now()
	_, err = e.client.CreateInstanceByTime(ctx, "cn-north-1", "mysql-payorders1", byTimeRequest(now.Add(time.Hour), "dep1/x"))
	refused("in the future", err, "later than the latest restorable moment")
	_, err = e.client.CreateInstanceByTime(ctx, "cn-north-1", "mysql-payorders1", byTimeRequest(now.AddDate(0, 0, -8), "dep1/x"))
	refused("eight days ago", err, "earlier than the earliest restorable moment")
	small := byTimeRequest(at, "dep1/x")
	small.InstanceSpec.InstanceStorageGB = 200
	_, err = e.client.CreateInstanceByTime(ctx, "cn-north-1", "mysql-payorders1", small)
	refused("less storage than the source", err, "smaller than the source's 500 GB")
	pg := byTimeRequest(at, "dep1/x")
	pg.InstanceSpec.InstanceClass = "db.pg.s1.medium"
	_, err = e.client.CreateInstanceByTime(ctx, "cn-north-1", "pg-payledger1", pg)
	refused("PostgreSQL", err, "does not support PostgreSQL")
	if _, err := e.client.CreateInstanceByTime(ctx, "cn-north-1", "mysql-nosuch1", byTimeRequest(at, "dep1/x")); !jdcloud.IsNotFound(err) {
		t.Errorf("unknown source: %v, want not found", err)
	}

	policy, err := e.client.DescribeBackupPolicy(ctx, "cn-north-1", "mysql-payorders1")
	if err != nil || policy.RetentionPeriod != 7 || policy.BinlogRetentionPeriod != 7 {
		t.Errorf("backup policy %+v, %v", policy, err)
	}
	_, err = e.client.DescribeLatestRestoreTime(ctx, "cn-north-1", "mysql-payorders1")
	refused("latest restore time of MySQL", err, "SQL Server instances only")
	latest, err := e.client.DescribeLatestRestoreTime(ctx, "cn-north-1", "sqlserver-payrecon01")
	if err != nil || latest.After(now) || now.Sub(latest) > 5*time.Minute {
		t.Errorf("SQL Server's latest restore time %s (%v), want within 5 minutes before %s", latest, err, now)
	}
	if st := e.sim.Stats(); st.Creates != 1 {
		t.Errorf("%d creates, want 1", st.Creates)
	}
}

// TestCreateInstanceByTimeFaults: the point-in-time create has the create's faults, and the
// client never repeats it.
func TestCreateInstanceByTimeFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sim.SetFault(jdcloud.OpCreateInstanceByTime, jdcloudsim.Fault{DropNext: 1, VisibilityDelay: 30 * time.Second})
	at := e.clock.Now().Add(-3 * time.Hour)
	_, err := e.client.CreateInstanceByTime(t.Context(), "cn-north-1", "mysql-payorders1", byTimeRequest(at, "dep1/drop"))
	if jdcloud.Classify(err) != jdcloud.Ambiguous {
		t.Fatalf("dropped create: %v (%v), want ambiguous", err, jdcloud.Classify(err))
	}
	tagged := e.sim.InstancesByTag("cn-north-1", "restoredesk", "dep1/drop")
	if len(tagged) != 1 || e.sim.Stats().Creates != 1 {
		t.Fatalf("%d tagged instances after a dropped create, want 1", len(tagged))
	}
	byTag := jdcloud.DescribeInstancesQuery{TagFilters: []jdcloud.TagFilter{{Key: "restoredesk", Values: []string{"dep1/drop"}}}}
	if found, err := e.client.AllInstances(t.Context(), "cn-north-1", byTag); err != nil || len(found) != 0 {
		t.Errorf("visible before the delay: %d, %v", len(found), err)
	}
	if calls := e.observed(); len(calls) != 2 { // the create, once, and the search
		t.Errorf("%d calls, want 2: %+v", len(calls), calls)
	}
}
