package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"restoredesk/internal/jdcloud/jdcloudsim"
)

// sdkVersion is the pinned version of the official SDK (testdata/package.json).
const sdkVersion = "1.2.202"

// ensureSDK makes sure the pinned SDK is installed under testdata/node_modules, running npm ci
// (from package-lock.json) when it is not. A missing node or npm fails the test: the interop
// check is part of the contract (docs/jdcloud.md, The simulator), not optional.
func ensureSDK(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the JD Cloud JavaScript SDK interop test needs Node.js (v18 or later) and npm; " +
			"install them (Debian: apt-get install nodejs npm) and run the test again")
	}
	pkg := filepath.Join("testdata", "node_modules", "jdcloud-sdk-js", "package.json")
	if raw, err := os.ReadFile(pkg); err == nil {
		var p struct{ Version string }
		if json.Unmarshal(raw, &p) == nil && p.Version == sdkVersion {
			return node
		}
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal("npm is not on PATH: it is needed once to install jdcloud-sdk-js@" + sdkVersion + " into testdata/node_modules")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	// --ignore-scripts: the SDK needs no install scripts, and none of its dependencies' run.
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	cmd.Dir = "testdata"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm ci in %s failed (is the npm registry reachable?): %v\n%s", cmd.Dir, err, out)
	}
	t.Logf("installed jdcloud-sdk-js@%s with npm ci", sdkVersion)
	return node
}

// step is one entry of interop.js's report.
type step struct {
	OK     bool            `json:"ok"`
	Status int             `json:"status"`
	Value  json.RawMessage `json:"value"`
	Error  json.RawMessage `json:"error"`
}

// jdError is the JD Cloud error envelope the SDK rejects with.
type jdError struct {
	RequestID string `json:"requestId"`
	Error     struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestJavaScriptSDK(t *testing.T) {
	node := ensureSDK(t)

	sim, err := jdcloudsim.New(t.Context(), jdcloudsim.Options{BuildTime: 300 * time.Millisecond, DeleteTime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim) // 127.0.0.1, a real loopback listener
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "interop.js")
	cmd.Dir = "testdata"
	cmd.Env = append(os.Environ(),
		"SIM_HOST="+strings.TrimPrefix(srv.URL, "http://"),
		"SIM_AK="+jdcloudsim.DemoAccessKey, "SIM_SK="+jdcloudsim.DemoSecretKey, "SIM_REGION=cn-north-1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var report map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("node interop.js: %v; no report (%v)\nstdout: %s\nstderr: %s", runErr, err, stdout.String(), stderr.String())
	}
	if runErr != nil {
		t.Fatalf("node interop.js: %v\nfatal: %s\nstderr: %s", runErr, report["fatal"], stderr.String())
	}
	if testing.Verbose() {
		t.Logf("interop.js report: %s", stdout.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), jdcloudsim.DemoSecretKey) {
		t.Error("the SDK printed the secret key: its logger is not silenced")
	}

	get := func(name string) step {
		t.Helper()
		var s step
		if err := json.Unmarshal(report[name], &s); err != nil {
			t.Fatalf("step %s missing from the report: %v", name, err)
		}
		return s
	}
	// ok decodes a resolved step's value into v.
	ok := func(name string, v any) {
		t.Helper()
		s := get(name)
		if !s.OK || s.Status != 200 {
			t.Fatalf("%s: rejected (status %d): %s", name, s.Status, s.Error)
		}
		if err := json.Unmarshal(s.Value, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// refused checks a rejected step carries JD Cloud's envelope.
	refused := func(name string, status int, code, text string) {
		t.Helper()
		s := get(name)
		var e jdError
		if s.OK || s.Status != status || json.Unmarshal(s.Error, &e) != nil {
			t.Errorf("%s: ok %v status %d error %s, want a %d rejection", name, s.OK, s.Status, s.Error, status)
			return
		}
		if e.RequestID == "" || e.Error.Code != status || e.Error.Status != code || !strings.Contains(e.Error.Message, text) {
			t.Errorf("%s: envelope %+v, want %d %s mentioning %q", name, e, status, code, text)
		}
	}

	var list struct {
		RequestID string `json:"requestId"`
		Result    struct {
			DBInstances []struct {
				InstanceID string `json:"instanceId"`
			} `json:"dbInstances"`
			TotalCount int `json:"totalCount"`
		} `json:"result"`
	}
	ok("describeInstances", &list)
	if list.RequestID == "" || list.Result.TotalCount != 12 || len(list.Result.DBInstances) != 10 {
		t.Errorf("describeInstances: %d of %d", len(list.Result.DBInstances), list.Result.TotalCount)
	}
	ok("describeInstancesFiltered", &list)
	var got []string
	for _, in := range list.Result.DBInstances {
		got = append(got, in.InstanceID)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"mysql-payorders1", "pg-payledger1"}) {
		t.Errorf("filtered instances %v", got)
	}

	var attrs struct {
		Result struct {
			Attr struct {
				InstanceID, InstanceStatus, InternalDomainName, InstancePort string
			} `json:"dbInstanceAttributes"`
		} `json:"result"`
	}
	ok("describeInstanceAttributes", &attrs)
	if a := attrs.Result.Attr; a.InstanceID != "mysql-payorders1" || a.InstanceStatus != "RUNNING" || a.InternalDomainName == "" || a.InstancePort != "3306" {
		t.Errorf("attributes %+v", a)
	}

	var backups struct {
		Result struct {
			Backup []struct {
				BackupID, BackupStatus, BackupStartTime string
				BackupSizeByte                          int64
			} `json:"backup"`
			TotalCount int `json:"totalCount"`
		} `json:"result"`
	}
	ok("describeBackups", &backups)
	if n := len(backups.Result.Backup); n == 0 || n != min(10, backups.Result.TotalCount) {
		t.Errorf("describeBackups: %d of %d", n, backups.Result.TotalCount)
	}
	ok("describeBackupsPage2", &backups)
	if len(backups.Result.Backup) != 3 {
		t.Errorf("describeBackups page 2 of 3: %d", len(backups.Result.Backup))
	}

	var azs struct {
		Result struct {
			Azs []string `json:"azs"`
		} `json:"result"`
	}
	ok("describeAzs", &azs)
	if !slices.Equal(azs.Result.Azs, []string{"cn-north-1a", "cn-north-1b", "cn-north-1c"}) {
		t.Errorf("describeAzs %v", azs.Result.Azs)
	}
	ok("describeAzsOtherRegion", &azs)
	if !slices.Equal(azs.Result.Azs, []string{"cn-east-2a", "cn-east-2b"}) {
		t.Errorf("describeAzs in cn-east-2 %v", azs.Result.Azs)
	}

	var vpcs struct {
		Result struct {
			Vpcs []struct {
				VpcID   string `json:"vpcId"`
				Subnets []any  `json:"subnets"`
			} `json:"vpcs"`
			TotalCount int `json:"totalCount"`
		} `json:"result"`
	}
	ok("describeVpcs", &vpcs)
	if vpcs.Result.TotalCount != 5 || len(vpcs.Result.Vpcs) != 5 {
		t.Errorf("describeVpcs: %d of %d", len(vpcs.Result.Vpcs), vpcs.Result.TotalCount)
	}
	var subnets struct {
		Result struct {
			Subnets []struct {
				SubnetID, VpcID string
			} `json:"subnets"`
			TotalCount int `json:"totalCount"`
		} `json:"result"`
	}
	ok("describeSubnets", &subnets)
	if subnets.Result.TotalCount != 2 || subnets.Result.Subnets[0].VpcID != "vpc-payrestore" {
		t.Errorf("describeSubnets %+v", subnets.Result)
	}

	var created struct {
		Result struct {
			InstanceID string `json:"instanceId"`
			OrderID    string `json:"orderId"`
		} `json:"result"`
	}
	ok("createInstanceFromBackup", &created)
	if created.Result.InstanceID == "" || created.Result.OrderID == "" {
		t.Fatalf("created %+v", created.Result)
	}
	var statuses []string
	_ = json.Unmarshal(report["statuses"], &statuses)
	if len(statuses) < 2 || statuses[0] != "BUILDING" || statuses[len(statuses)-1] != "RUNNING" {
		t.Errorf("statuses seen by the SDK: %v, want BUILDING … RUNNING", statuses)
	}
	ok("describeByTag", &list)
	if list.Result.TotalCount != 1 || list.Result.DBInstances[0].InstanceID != created.Result.InstanceID {
		t.Errorf("by tag: %+v", list.Result)
	}

	refused("invalidClass", 400, "INVALID_ARGUMENT", "instanceSpec.instanceClass")
	refused("invalidPort", 400, "INVALID_ARGUMENT", "instanceSpec.instancePort")
	refused("invalidSubnet", 400, "INVALID_ARGUMENT", "instanceSpec.subnetId")
	refused("invalidEngine", 400, "INVALID_ARGUMENT", "engine")
	refused("unknownBackup", 404, "NOT_FOUND", "backup")
	refused("wrongSecret", 401, "ACCESS_ERROR", "sign result is not same")

	var policy struct {
		Result struct {
			RetentionPeriod       int `json:"retentionPeriod"`
			BinlogRetentionPeriod int `json:"binlogRetentionPeriod"`
		} `json:"result"`
	}
	ok("describeBackupPolicy", &policy)
	if policy.Result.RetentionPeriod != 7 || policy.Result.BinlogRetentionPeriod != 7 {
		t.Errorf("describeBackupPolicy %+v", policy.Result)
	}
	var latest struct {
		Result struct {
			LatestRestoreTime string `json:"latestRestoreTime"`
		} `json:"result"`
	}
	ok("describeLatestRestoreTime", &latest)
	if _, err := time.Parse("2006-01-02 15:04:05", latest.Result.LatestRestoreTime); err != nil {
		t.Errorf("describeLatestRestoreTime %q: %v", latest.Result.LatestRestoreTime, err)
	}
	refused("describeLatestRestoreTimeMySQL", 400, "INVALID_ARGUMENT", "SQL Server instances only")
	var byTime struct {
		Result struct {
			InstanceID string `json:"instanceId"`
		} `json:"result"`
	}
	ok("createInstanceByTime", &byTime)
	var restoreTime string
	_ = json.Unmarshal(report["restoreTime"], &restoreTime)
	sent, err := time.ParseInLocation("2006-01-02 15:04:05", restoreTime, time.FixedZone("UTC+8", 8*3600))
	if point, found := sim.RestorePoint("cn-north-1", byTime.Result.InstanceID); err != nil || !found || !point.Equal(sent) {
		t.Errorf("createInstanceByTime: the simulator restored to %s (%v), the SDK sent %q (%v)", point, found, restoreTime, err)
	}
	refused("createInstanceByTimeTooSmall", 400, "INVALID_ARGUMENT", "smaller than the source's 500 GB")

	var none struct{}
	ok("deleteInstance", &none)
	ok("describeDeleted", &attrs)
	if attrs.Result.Attr.InstanceStatus != "DELETING" {
		t.Errorf("after deleteInstance: %s", attrs.Result.Attr.InstanceStatus)
	}

	// The simulator's side of the story: two creates (one from a backup, one by time), one
	// delete, one 401.
	st := sim.Stats()
	if st.Creates != 2 || st.Deletes != 1 || st.Unauthenticated != 1 {
		t.Errorf("simulator stats %+v", st)
	}
	if in, found := sim.Instance("cn-north-1", created.Result.InstanceID); !found || in.InstanceName != "js-restore" || len(in.Tags) != 1 {
		t.Errorf("the created instance as the simulator holds it: %+v", in)
	}
}
