package jdcloudsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
)

var nonceSeq atomic.Int64

// nextNonce returns a fresh nonce per request.
func nextNonce() string { return fmt.Sprintf("nonce-%d-%d", time.Now().UnixNano(), nonceSeq.Add(1)) }

func newSim(t *testing.T, opts jdcloudsim.Options) (*jdcloudsim.Sim, *httptest.Server) {
	t.Helper()
	sim, err := jdcloudsim.New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

// signed describes a raw request to the simulator, signed as a given SDK would.
type signed struct {
	method, path, query string // path as sent (escaped), raw query as sent
	body                string
	headers             []string // signed header set; default: the Go SDK's
	ak, sk              string   // default: the demo pair
	region, service     string   // default: cn-north-1 / rds
	at                  time.Time
	nonce               string
	extra               map[string]string // headers set before signing
}

func (s signed) send(t *testing.T, srvURL string) (*http.Response, envelope) {
	t.Helper()
	target := srvURL + s.path
	if s.query != "" {
		target += "?" + s.query
	}
	r, err := http.NewRequest(s.method, target, strings.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	for k, v := range s.extra {
		r.Header.Set(k, v)
	}
	if s.headers == nil {
		s.headers = jdcloud.ClientSignedHeaders
	}
	if s.ak == "" {
		s.ak, s.sk = jdcloudsim.DemoAccessKey, jdcloudsim.DemoSecretKey
	}
	if s.region == "" {
		s.region = "cn-north-1"
	}
	if s.service == "" {
		s.service = "rds"
	}
	if s.at.IsZero() {
		s.at = time.Now()
	}
	if s.nonce == "" {
		s.nonce = nextNonce()
	}
	if err := jdcloud.Sign(r, []byte(s.body), jdcloud.NewCredential(s.ak, s.sk), s.region, s.service, s.headers, s.at, s.nonce); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, raw)
	}
	if resp.Header.Get(jdcloud.HeaderRequestID) == "" || resp.Header.Get(jdcloud.HeaderRequestID) != env.RequestID {
		t.Errorf("request id header %q, body %q", resp.Header.Get(jdcloud.HeaderRequestID), env.RequestID)
	}
	return resp, env
}

type envelope struct {
	RequestID string          `json:"requestId"`
	Result    json.RawMessage `json:"result"`
	Error     *struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	_, srv := newSim(t, jdcloudsim.Options{})
	list := signed{method: "GET", path: "/v1/regions/cn-north-1/instances", query: "pageSize=10"}
	replayed := list
	replayed.nonce = "the-same-nonce"
	for _, tc := range []struct {
		name   string
		req    signed
		status int
		text   string
	}{
		{"Go SDK header set", list, 200, ""},
		{"JS SDK header set with accept and an unsorted, partly escaped query", signed{
			method: "GET", path: "/v1/regions/cn-north-1/instances",
			query:   "pageNumber=1&pageSize=10&filters.1.name=instanceName&filters.1.values.1=payments*&filters.1.values.2=a%2Fb%3Ac~d&filters.1.values.3=%E4%B8%AD%E6%96%87&filters.1.operator=like",
			headers: []string{"accept", "content-type", "host", "x-jdcloud-date", "x-jdcloud-nonce"},
			extra:   map[string]string{"Accept": "application/json", "User-Agent": "JdcloudSdkNode/1.0.0  rds/1.1.6"},
		}, 200, ""},
		{"raw colon in the action path", signed{method: "POST", path: "/v1/regions/cn-north-1/instances:createInstanceFromBackup", body: `{}`}, 400, "backupId"},
		{"first use of a nonce", replayed, 200, ""},
		{"replayed nonce", replayed, 401, "nonce"},
		{"wrong secret", signed{method: "GET", path: list.path, ak: jdcloudsim.DemoAccessKey, sk: "wrong"}, 401, "sign result is not same [gw]"},
		{"unknown access key", signed{method: "GET", path: list.path, ak: "someone-else", sk: jdcloudsim.DemoSecretKey}, 401, "invalid access key"},
		{"clock skew", signed{method: "GET", path: list.path, at: time.Now().Add(-16 * time.Minute)}, 401, "out of range"},
		{"scope of another service", signed{method: "GET", path: list.path, service: "vpc"}, 401, "service"},
		{"scope of another region", signed{method: "GET", path: list.path, region: "cn-east-2"}, 401, "region"},
		{"vpc path with the vpc service", signed{method: "GET", path: "/v1/regions/cn-north-1/vpcs/", service: "vpc"}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the replay case depends on the case before it.
			resp, env := tc.req.send(t, srv.URL)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %+v", resp.StatusCode, tc.status, env.Error)
			}
			if tc.status == 401 && (env.Error == nil || env.Error.Status != "ACCESS_ERROR" || env.Error.Code != 401) {
				t.Errorf("401 envelope %+v", env.Error)
			}
			if tc.text != "" && (env.Error == nil || !strings.Contains(env.Error.Message, tc.text)) {
				t.Errorf("message %+v does not mention %q", env.Error, tc.text)
			}
		})
	}

	t.Run("no authorization", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/v1/regions/cn-north-1/instances")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env envelope
		_ = json.NewDecoder(resp.Body).Decode(&env)
		if resp.StatusCode != 401 || env.Error == nil || env.Error.Message != "lack of header authorization [gw]" || env.RequestID == "" {
			t.Errorf("%d %+v", resp.StatusCode, env)
		}
	})
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	_, srv := newSim(t, jdcloudsim.Options{})
	for _, tc := range []struct {
		method, path, query, service string
		status                       int
	}{
		{"GET", "/v1/regions/cn-north-1/instances", "", "rds", 200},
		{"GET", "/v1/regions/cn-north-1/instances/mysql-payorders1", "", "rds", 200},
		{"GET", "/v1/regions/cn-north-1/backups", "instanceId=mysql-payorders1&pageNumber=1&pageSize=10", "rds", 200},
		{"GET", "/v1/regions/cn-north-1/azs", "engine=SQL%20Server", "rds", 200},
		{"GET", "/v1/regions/cn-north-1/vpcs/", "pageNumber=1&pageSize=20", "vpc", 200},
		{"GET", "/v1/regions/cn-north-1/subnets/", "filters.1.name=vpcId&filters.1.values.1=vpc-payprod001", "vpc", 200},
		{"GET", "/v1/regions/cn-north-1/vpcs", "", "vpc", 404},    // the real path has a trailing slash
		{"GET", "/v1/regions/cn-north-1/subnets", "", "vpc", 404}, // likewise
		{"PUT", "/v1/regions/cn-north-1/instances", "", "rds", 404},
		{"GET", "/v2/regions/cn-north-1/instances", "", "rds", 404},
		{"GET", "/v1/regions/cn-north-1/instances:describeInstanceClasses", "", "rds", 404}, // RDS has none
		{"GET", "/v1/regions/cn-north-1/backups", "", "rds", 400},                           // instanceId is required
		{"GET", "/v1/regions/cn-north-1/azs", "", "rds", 400},                               // engine is required
		{"GET", "/v1/regions/cn-north-1/instances", "pageSize=101", "rds", 400},
		{"GET", "/v1/regions/cn-north-1/instances", "pageNumber=0", "rds", 400},
		{"GET", "/v1/regions/cn-north-1/instances", "filters.1.name=color&filters.1.values.1=red", "rds", 400},
		{"GET", "/v1/regions/cn-north-1/instances", "filters.1.name=engine&filters.1.values.1=MySQL&filters.1.operator=like", "rds", 400},
		{"GET", "/v1/regions/cn-north-1/instances", "filters.x.name=engine", "rds", 400},
		{"GET", "/v1/regions/mars-1/instances", "", "rds", 400},
		{"GET", "/v1/regions/cn-north-1/instances/mysql-nosuchone1", "", "rds", 404},
		{"DELETE", "/v1/regions/cn-north-1/instances/mysql-nosuchone1", "", "rds", 404},
	} {
		t.Run(tc.method+" "+tc.path+"?"+tc.query, func(t *testing.T) {
			t.Parallel()
			region := "cn-north-1"
			if strings.Contains(tc.path, "mars-1") {
				region = "mars-1"
			}
			resp, env := signed{method: tc.method, path: tc.path, query: tc.query, service: tc.service, region: region}.send(t, srv.URL)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %+v", resp.StatusCode, tc.status, env.Error)
			}
			if tc.status != 200 && (env.Error == nil || env.Error.Code != tc.status || env.Error.Message == "") {
				t.Errorf("error envelope %+v", env.Error)
			}
			if tc.status == 200 && (env.Error != nil || len(env.Result) == 0) {
				t.Errorf("success envelope %+v", env)
			}
		})
	}
}

// TestCreateBodyTypes covers the body checks only a raw request can reach: wrong JSON types,
// broken JSON, unknown fields and nulls (the Go SDK sends both).
func TestCreateBodyTypes(t *testing.T) {
	t.Parallel()
	sim, srv := newSim(t, jdcloudsim.Options{})
	backup := restorableBackup(t, srv.URL, "mysql-payorders1")
	valid := `{"backupId":"` + backup + `","engine":"MySQL","instanceSpec":{"instanceClass":"db.mysql.s1.large","instanceStorageGB":200,` +
		`"azId":["cn-north-1a","cn-north-1b"],"vpcId":"vpc-payrestore","subnetId":"subnet-payrestora","chargeSpec":{"chargeMode":"postpaid_by_duration"}`
	for _, tc := range []struct {
		name   string
		body   string
		status int
		text   string
	}{
		{"valid", valid + `}}`, 200, ""},
		{"Go SDK style: nulls and regionId", valid + `,"instancePort":null,"parameterGroup":null,"storageEncrypted":null,"tagSpec":null},"regionId":"cn-north-1"}`, 200, ""},
		{"JS SDK style: string port and explicit false", valid + `,"instancePort":"3306","storageEncrypted":false,"instanceStorageType":"LOCAL_SSD"}}`, 200, ""},
		{"storage as a string", strings.Replace(valid, `"instanceStorageGB":200`, `"instanceStorageGB":"200"`, 1) + `}}`, 400, "instanceSpec.instanceStorageGB: must be a JSON number"},
		{"port as a number", valid + `,"instancePort":3306}}`, 400, "instanceSpec.instancePort: must be a JSON string"},
		{"zones as a string", strings.Replace(valid, `["cn-north-1a","cn-north-1b"]`, `"cn-north-1a"`, 1) + `}}`, 400, "instanceSpec.azId: must be a JSON array"},
		{"broken JSON", valid, 400, "not valid JSON"},
		{"empty body", ``, 400, "required"},
		{"two values", valid + `}}{}`, 400, "more than one"},
		{"missing instanceSpec", `{"backupId":"` + backup + `","engine":"MySQL"}`, 400, "instanceSpec.instanceClass: is required"},
		{"unknown backup", `{"backupId":"nope","engine":"MySQL","instanceSpec":{}}`, 404, "backup nope not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, env := signed{method: "POST", path: "/v1/regions/cn-north-1/instances%3AcreateInstanceFromBackup", body: tc.body}.send(t, srv.URL)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %+v", resp.StatusCode, tc.status, env.Error)
			}
			if tc.status == 200 {
				var res jdcloud.CreatedInstance
				if err := json.Unmarshal(env.Result, &res); err != nil || res.InstanceID == "" || res.OrderID == "" {
					t.Errorf("result %s: %v", env.Result, err)
				}
				return
			}
			want := map[int]string{400: "INVALID_ARGUMENT", 404: "NOT_FOUND"}[tc.status]
			if env.Error == nil || env.Error.Status != want || !strings.Contains(env.Error.Message, tc.text) {
				t.Errorf("error %+v, want %s mentioning %q", env.Error, want, tc.text)
			}
		})
	}
	t.Cleanup(func() {
		if n := sim.Stats().Creates; n != 3 {
			t.Errorf("%d creates, want 3", n)
		}
	})
}

func restorableBackup(t *testing.T, srvURL, instanceID string) string {
	t.Helper()
	_, env := signed{method: "GET", path: "/v1/regions/cn-north-1/backups", query: "instanceId=" + instanceID + "&pageNumber=-1"}.send(t, srvURL)
	var res struct {
		Backup []jdcloud.Backup `json:"backup"`
	}
	if err := json.Unmarshal(env.Result, &res); err != nil {
		t.Fatal(err)
	}
	for _, b := range res.Backup {
		if b.Restorable() {
			return b.BackupID
		}
	}
	t.Fatalf("no restorable backup of %s", instanceID)
	return ""
}

// TestSeed checks the seed is what the demo needs: deterministic, every engine, every backup
// status, two VPCs per team in cn-north-1, at least four mixed-engine instances per team there,
// consistent networks and classes.
func TestSeed(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	load := func() []byte {
		p := &jdcloudsim.MemoryPersister{}
		if _, err := jdcloudsim.New(t.Context(), jdcloudsim.Options{Persister: p, Now: func() time.Time { return at }}); err != nil {
			t.Fatal(err)
		}
		raw, _ := p.Load(t.Context())
		return raw
	}
	first, second := load(), load()
	if !bytes.Equal(first, second) {
		t.Error("two seeds at the same time differ")
	}

	var st struct {
		SeededAt time.Time `json:"seededAt"`
		Regions  map[string]struct {
			AZs       []string `json:"azs"`
			Instances []struct {
				Inst jdcloud.Instance `json:"instance"`
			} `json:"instances"`
			Backups []jdcloud.Backup `json:"backups"`
			Vpcs    []jdcloud.Vpc    `json:"vpcs"`
			Subnets []jdcloud.Subnet `json:"subnets"`
		} `json:"regions"`
	}
	if err := json.Unmarshal(first, &st); err != nil {
		t.Fatal(err)
	}
	if !st.SeededAt.Equal(at) || len(st.Regions) != 4 {
		t.Fatalf("seeded at %v with %d regions", st.SeededAt, len(st.Regions))
	}
	engines, statuses := map[string]bool{}, map[string]bool{}
	instances := map[string]jdcloud.Instance{}
	for region, rs := range st.Regions {
		subnets := map[string]jdcloud.Subnet{}
		for _, s := range rs.Subnets {
			subnets[s.SubnetID] = s
			if !slices.Contains(rs.AZs, s.Az) {
				t.Errorf("subnet %s in zone %s outside %s", s.SubnetID, s.Az, region)
			}
		}
		for _, in := range rs.Instances {
			i := in.Inst
			instances[i.InstanceID] = i
			engines[i.Engine] = true
			if s, ok := subnets[i.SubnetID]; !ok || s.VpcID != i.VpcID {
				t.Errorf("%s: subnet %s is not in VPC %s", i.InstanceID, i.SubnetID, i.VpcID)
			}
			c, ok := jdcloud.LookupClass(i.InstanceClass)
			if !ok || c.Engine != i.Engine || !c.Storage.Allows(i.InstanceStorageGB) {
				t.Errorf("%s: class %s with %d GB does not fit the class table", i.InstanceID, i.InstanceClass, i.InstanceStorageGB)
			}
			if len(i.Tags) == 0 || i.InternalDomainName == "" || i.InstancePort == "" || i.RegionID != region {
				t.Errorf("%s lacks tags or connection details", i.InstanceID)
			}
		}
		for _, b := range rs.Backups {
			statuses[b.BackupStatus] = true
			start, err := jdcloud.ParseTime(b.BackupStartTime)
			if err != nil || !start.Before(at) {
				t.Errorf("backup %s starts at %q, not in the past", b.BackupID, b.BackupStartTime)
			}
			if _, ok := instances[b.InstanceID]; !ok && b.BackupStatus != jdcloud.BackupRetained && b.InstanceID != jdcloudsim.RetainedInstanceID {
				// Instances of this region are all loaded before its backups are checked.
				t.Errorf("backup %s of unknown instance %s", b.BackupID, b.InstanceID)
			}
		}
	}
	for _, e := range jdcloud.Engines {
		if !engines[e] {
			t.Errorf("no %s instance", e)
		}
	}
	for _, s := range []string{"COMPLETED", "BUILDING", "ERROR", "RETAINED"} {
		if !statuses[s] {
			t.Errorf("no %s backup", s)
		}
	}

	own := jdcloudsim.SeedOwnership()
	for _, team := range []string{jdcloudsim.TeamPayments, jdcloudsim.TeamSearch} {
		regions := 0
		for _, o := range own {
			if o.Team != team {
				continue
			}
			regions++
			for _, id := range o.InstanceIDs {
				if instances[id].RegionID != o.Region {
					t.Errorf("%s: %s is not in %s", team, id, o.Region)
				}
			}
			if o.Region != "cn-north-1" {
				continue
			}
			mixed := map[string]bool{}
			for _, id := range o.InstanceIDs {
				mixed[instances[id].Engine] = true
			}
			if len(o.InstanceIDs) < 4 || len(mixed) < 4 || len(o.VpcIDs) != 2 {
				t.Errorf("%s in cn-north-1: %d instances of %d engines, %d VPCs", team, len(o.InstanceIDs), len(mixed), len(o.VpcIDs))
			}
		}
		if regions < 2 {
			t.Errorf("%s owns resources in %d regions", team, regions)
		}
	}
}

// TestPersistence restarts the simulator on the same Persister: created instances survive,
// with their state, and new ids do not repeat old ones.
func TestPersistence(t *testing.T) {
	t.Parallel()
	p := &jdcloudsim.MemoryPersister{}
	now := time.Now()
	clock := func() time.Time { return now }
	_, srv := newSim(t, jdcloudsim.Options{Persister: p, Now: clock, BuildTime: time.Hour})
	saves := p.Saves()
	backup := restorableBackup(t, srv.URL, "pg-payledger1")
	create := func(url string) string {
		body := `{"backupId":"` + backup + `","engine":"PostgreSQL","instanceSpec":{"instanceClass":"db.pg.s1.medium","instanceStorageGB":100,` +
			`"azId":["cn-north-1a","cn-north-1a"],"vpcId":"vpc-payrestore","subnetId":"subnet-payrestora","chargeSpec":{"chargeMode":"postpaid_by_duration"},` +
			`"tagSpec":[{"key":"restoredesk","value":"dep/1"}]}}`
		resp, env := signed{method: "POST", path: "/v1/regions/cn-north-1/instances%3AcreateInstanceFromBackup", body: body}.send(t, url)
		var res jdcloud.CreatedInstance
		if resp.StatusCode != 200 || json.Unmarshal(env.Result, &res) != nil {
			t.Fatalf("create: %d %+v", resp.StatusCode, env.Error)
		}
		return res.InstanceID
	}
	first := create(srv.URL)
	if p.Saves() != saves+1 {
		t.Errorf("%d saves after one create, want %d", p.Saves(), saves+1)
	}

	sim2, srv2 := newSim(t, jdcloudsim.Options{Persister: p, Now: clock, BuildTime: time.Hour})
	in, ok := sim2.Instance("cn-north-1", first)
	if !ok || in.InstanceStatus != jdcloud.StatusBuilding || in.Engine != jdcloud.EnginePostgreSQL {
		t.Fatalf("after a restart: %+v, %v", in, ok)
	}
	if v, _ := in.Tag("restoredesk"); v != "dep/1" {
		t.Errorf("tag %q", v)
	}
	if second := create(srv2.URL); second == first {
		t.Errorf("a restarted simulator repeated id %s", first)
	}
	// The build time is kept across the restart: an hour later the instance runs.
	now = now.Add(time.Hour + time.Second)
	if in, _ := sim2.Instance("cn-north-1", first); in.InstanceStatus != jdcloud.StatusRunning {
		t.Errorf("after the build time: %s", in.InstanceStatus)
	}

	if _, err := jdcloudsim.New(t.Context(), jdcloudsim.Options{Persister: badPersister{}}); err == nil {
		t.Error("New accepted a state it cannot read")
	}
}

type badPersister struct{}

func (badPersister) Load(context.Context) ([]byte, error) { return []byte(`{"version":99}`), nil }
func (badPersister) Save(context.Context, []byte) error   { return errors.New("no") }

func TestParseFault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		op   string
		want jdcloudsim.Fault
		err  string
	}{
		{in: "createInstanceFromBackup:drop-next=1,visibility-delay=30s", op: "createInstanceFromBackup",
			want: jdcloudsim.Fault{DropNext: 1, VisibilityDelay: 30 * time.Second}},
		{in: "*:latency=250ms, fail-rate=0.1 ,fail-status=500", op: "*",
			want: jdcloudsim.Fault{Latency: 250 * time.Millisecond, FailRate: 0.1, FailStatus: 500}},
		{in: "describeInstances:fail-next=3,fail-after-perform=true,throttle-next=2,throttle-rate=0.5,drop-rate=1", op: "describeInstances",
			want: jdcloudsim.Fault{FailNext: 3, FailAfterPerform: true, ThrottleNext: 2, ThrottleRate: 0.5, DropRate: 1}},
		{in: "createInstanceFromBackup:build-error-next=2,build-error-rate=0.25", op: "createInstanceFromBackup",
			want: jdcloudsim.Fault{BuildErrorNext: 2, BuildErrorRate: 0.25}},
		{in: "createInstanceFromBackup:hold=40s,hold-next=1,hold-rate=0.2", op: "createInstanceFromBackup",
			want: jdcloudsim.Fault{Hold: 40 * time.Second, HoldNext: 1, HoldRate: 0.2}},
		{in: "describeVpcs:", op: "describeVpcs"},
		{in: "latency=1s", err: "OP:"},
		{in: "reboot:latency=1s", err: "unknown operation"},
		{in: "*:latency=fast", err: "duration"},
		{in: "*:fail-rate=2", err: "between 0 and 1"},
		{in: "*:fail-status=404", err: "500 or 503"},
		{in: "*:fail-next=-1", err: "non-negative"},
		{in: "*:colour=red", err: "unknown key"},
		{in: "*:latency", err: "key=value"},
	} {
		op, f, err := jdcloudsim.ParseFault(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseFault(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || op != tc.op || f != tc.want {
			t.Errorf("ParseFault(%q) = %q, %+v, %v", tc.in, op, f, err)
			continue
		}
		// The text form round-trips.
		if _, back, err := jdcloudsim.ParseFault(op + ":" + f.String()); err != nil || back != f {
			t.Errorf("round trip of %q: %+v, %v", f.String(), back, err)
		}
	}
}

func TestControlHandler(t *testing.T) {
	t.Parallel()
	sim, srv := newSim(t, jdcloudsim.Options{})
	ctl := httptest.NewServer(sim.ControlHandler())
	t.Cleanup(ctl.Close)
	do := func(method, path, body string) (int, string) {
		t.Helper()
		r, _ := http.NewRequest(method, ctl.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	if code, _ := do("PUT", "/faults/describeAzs", "fail-next=1,latency=1ms"); code != 204 {
		t.Fatalf("PUT fault: %d", code)
	}
	if code, body := do("GET", "/faults", ""); code != 200 || !strings.Contains(body, `"describeAzs":"latency=1ms,fail-next=1"`) {
		t.Errorf("GET faults: %d %s", code, body)
	}
	if code, _ := do("PUT", "/faults/describeAzs", "fail-next=x"); code != 400 {
		t.Errorf("bad fault: %d", code)
	}
	if code, _ := do("PUT", "/faults/reboot", "fail-next=1"); code != 404 {
		t.Errorf("unknown op: %d", code)
	}
	resp, _ := signed{method: "GET", path: "/v1/regions/cn-north-1/azs", query: "engine=MySQL"}.send(t, srv.URL)
	if resp.StatusCode != 503 {
		t.Errorf("faulted call: %d", resp.StatusCode)
	}
	resp, _ = signed{method: "GET", path: "/v1/regions/cn-north-1/azs", query: "engine=MySQL"}.send(t, srv.URL)
	if resp.StatusCode != 200 {
		t.Errorf("after the fault was used up: %d", resp.StatusCode)
	}
	var st jdcloudsim.Stats
	code, body := do("GET", "/stats", "")
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil || st.Calls["describeAzs"] != 2 || st.Performed["describeAzs"] != 1 || st.Injected["fail"] != 1 {
		t.Errorf("stats %d %s", code, body)
	}
	if code, _ := do("DELETE", "/faults", ""); code != 204 || len(sim.Faults()) != 0 {
		t.Errorf("DELETE faults: %d, %v", code, sim.Faults())
	}
	if code, _ := do("POST", "/stats/reset", ""); code != 204 || len(sim.Stats().Calls) != 0 {
		t.Errorf("reset: %d", code)
	}
	if code, body := do("GET", "/instances/cn-north-1/mysql-payorders1", ""); code != 200 || !strings.Contains(body, `"instanceId":"mysql-payorders1"`) {
		t.Errorf("instance: %d %s", code, body)
	}
	if code, body := do("GET", "/instances/cn-north-1?tag=team=search", ""); code != 200 || strings.Count(body, `"instanceId"`) != 5 {
		t.Errorf("by tag: %d %s", code, body)
	}
	if code, body := do("GET", "/seed", ""); code != 200 || !strings.Contains(body, "vpc-payrestore") {
		t.Errorf("seed: %d %s", code, body)
	}
}

// TestControlTagKey: ?tag-key lists every instance carrying the key whatever its value,
// including those still hidden by a visibility delay, and nothing else: the chaos run counts
// duplicate instances with it from the simulator's own records.
func TestControlTagKey(t *testing.T) {
	t.Parallel()
	sim, srv := newSim(t, jdcloudsim.Options{Faults: map[string]jdcloudsim.Fault{
		jdcloud.OpCreateInstanceFromBackup: {VisibilityDelay: time.Hour},
	}})
	ctl := httptest.NewServer(sim.ControlHandler())
	t.Cleanup(ctl.Close)
	backup := restorableBackup(t, srv.URL, "mysql-payorders1")
	var want []string
	for _, v := range []string{"dep/1", "dep/1", "dep/2"} {
		body := `{"backupId":"` + backup + `","engine":"MySQL","instanceSpec":{"instanceClass":"db.mysql.s1.large","instanceStorageGB":200,` +
			`"azId":["cn-north-1a","cn-north-1b"],"vpcId":"vpc-payrestore","subnetId":"subnet-payrestora","chargeSpec":{"chargeMode":"postpaid_by_duration"},` +
			`"tagSpec":[{"key":"restoredesk","value":"` + v + `"}]}}`
		resp, env := signed{method: "POST", path: "/v1/regions/cn-north-1/instances%3AcreateInstanceFromBackup", body: body}.send(t, srv.URL)
		var res jdcloud.CreatedInstance
		if resp.StatusCode != 200 || json.Unmarshal(env.Result, &res) != nil {
			t.Fatalf("create: %d %+v", resp.StatusCode, env.Error)
		}
		want = append(want, res.InstanceID)
	}
	list := func(query string) (int, []jdcloud.Instance) {
		t.Helper()
		resp, err := http.Get(ctl.URL + "/instances/cn-north-1?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out []jdcloud.Instance
		if resp.StatusCode == 200 {
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, out
	}
	code, got := list("tag-key=restoredesk")
	var ids []string
	for _, in := range got {
		ids = append(ids, in.InstanceID)
	}
	if code != 200 || !slices.Equal(ids, want) {
		t.Errorf("tag-key=restoredesk: %d %v, want the three hidden instances %v in creation order", code, ids, want)
	}
	if code, got := list("tag-key=nobody"); code != 200 || len(got) != 0 {
		t.Errorf("tag-key=nobody: %d %v, want an empty list", code, got)
	}
	if code, got := list("tag=restoredesk%3Ddep%2F1"); code != 200 || len(got) != 2 {
		t.Errorf("tag=restoredesk=dep/1: %d %v, want the two instances with that value", code, got)
	}
	if code, _ := list(""); code != 400 {
		t.Errorf("neither tag nor tag-key: %d, want 400", code)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	if _, err := jdcloudsim.New(t.Context(), jdcloudsim.Options{AccessKey: "only-one"}); err == nil {
		t.Error("accepted half a key pair")
	}
	if _, err := jdcloudsim.New(t.Context(), jdcloudsim.Options{Faults: map[string]jdcloudsim.Fault{"reboot": {FailNext: 1}}}); err == nil {
		t.Error("accepted a fault for an unknown operation")
	}
	sim, srv := newSim(t, jdcloudsim.Options{AccessKey: "ak2", SecretKey: "sk2",
		Faults: map[string]jdcloudsim.Fault{"*": {ThrottleNext: 1}}})
	resp, env := signed{method: "GET", path: "/v1/regions/cn-north-1/azs", query: "engine=MySQL", ak: "ak2", sk: "sk2"}.send(t, srv.URL)
	if resp.StatusCode != 429 || env.Error.Status != "RATE_LIMIT" {
		t.Errorf("initial fault: %d %+v", resp.StatusCode, env.Error)
	}
	resp, _ = signed{method: "GET", path: "/v1/regions/cn-north-1/azs", query: "engine=MySQL"}.send(t, srv.URL)
	if resp.StatusCode != 401 || sim.Stats().Unauthenticated != 1 {
		t.Errorf("demo pair accepted by a simulator with its own keys: %d", resp.StatusCode)
	}
}

// TestDeleteInstance: only a running instance can be deleted; it goes
// through DELETING and is then unknown (404, to describes and to a second
// delete), its own backups gone with it; operation protection refuses the
// delete with 403 and leaves the instance as it was.
func TestDeleteInstance(t *testing.T) {
	t.Parallel()
	sim, srv := newSim(t, jdcloudsim.Options{BuildTime: time.Hour, DeleteTime: 50 * time.Millisecond})
	endpoint, _ := jdcloud.ParseEndpoint(srv.URL)
	c := jdcloud.New(jdcloudsim.DemoAccessKey, jdcloudsim.DemoSecretKey, jdcloud.WithEndpoint(endpoint))
	ctx := t.Context()
	backup := restorableBackup(t, srv.URL, "mysql-payorders1")
	created, err := c.CreateInstanceFromBackup(ctx, "cn-north-1", jdcloud.CreateInstanceFromBackupRequest{BackupID: backup, Engine: "MySQL",
		InstanceSpec: jdcloud.RestoredInstanceSpec{InstanceClass: "db.mysql.s1.large", InstanceStorageGB: 200,
			AzID: []string{"cn-north-1a", "cn-north-1b"}, VpcID: "vpc-payrestore", SubnetID: "subnet-payrestora",
			ChargeSpec: jdcloud.ChargeSpec{ChargeMode: jdcloud.ChargePostpaidByDuration}}})
	if err != nil {
		t.Fatal(err)
	}
	api := func(err error) *jdcloud.APIError {
		t.Helper()
		e, ok := errors.AsType[*jdcloud.APIError](err)
		if !ok {
			t.Fatalf("error %v, want an answer from JD Cloud", err)
		}
		return e
	}
	if e := api(c.DeleteInstance(ctx, "cn-north-1", created.InstanceID)); e.HTTPStatus != 400 || !strings.Contains(e.Message, "BUILDING") {
		t.Errorf("delete while building: %v", e)
	}

	// A running instance with backups of its own.
	const id = "mysql-payorders1"
	if bs, _ := c.AllBackups(ctx, "cn-north-1", id); len(bs) == 0 {
		t.Fatal("the seed's instance has no backups to lose")
	}
	sim.SetFault(jdcloud.OpDeleteInstance, jdcloudsim.Fault{Protected: true})
	if e := api(c.DeleteInstance(ctx, "cn-north-1", id)); e.HTTPStatus != 403 || !strings.Contains(e.Message, "operation protection") {
		t.Errorf("protected delete: %v", e)
	}
	if in, _ := sim.Instance("cn-north-1", id); in.InstanceStatus != jdcloud.StatusRunning || sim.Stats().Deletes != 0 {
		t.Fatalf("a refused delete changed the instance: %s", in.InstanceStatus)
	}
	sim.SetFault(jdcloud.OpDeleteInstance, jdcloudsim.Fault{})
	if err := c.DeleteInstance(ctx, "cn-north-1", id); err != nil {
		t.Fatal(err)
	}
	if in, _ := sim.Instance("cn-north-1", id); in.InstanceStatus != jdcloud.StatusDeleting {
		t.Errorf("after the delete: %s, want DELETING", in.InstanceStatus)
	}
	if bs, _ := c.AllBackups(ctx, "cn-north-1", id); len(bs) != 0 {
		t.Errorf("%d backups of the deleted instance remain", len(bs))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.DescribeInstanceAttributes(ctx, "cn-north-1", id)
		if jdcloud.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still there: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.DeleteInstance(ctx, "cn-north-1", id); !jdcloud.IsNotFound(err) {
		t.Errorf("a second delete: %v, want 404", err)
	}
	if n := sim.Stats().Deletes; n != 1 {
		t.Errorf("%d deletes counted, want 1", n)
	}
}
