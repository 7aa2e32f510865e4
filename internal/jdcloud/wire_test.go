package jdcloud_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"restoredesk/internal/jdcloud"
)

// roundTripper answers every request with a canned body and records what was sent, so these
// tests see the wire form without any network.
type roundTripper struct {
	mu   sync.Mutex
	reqs []*http.Request
	body map[string][]byte
	res  string
}

func (rt *roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, r)
	if rt.body == nil {
		rt.body = map[string][]byte{}
	}
	rt.body[r.URL.Path] = body
	rt.mu.Unlock()
	res := rt.res
	if res == "" {
		res = `{"requestId":"r1","result":{"dbInstances":[],"totalCount":0,"backup":[],"azs":[],"vpcs":[],"subnets":[],"instanceId":"mysql-x","orderId":"1"}}`
	}
	return &http.Response{
		StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(res)), Request: r,
	}, nil
}

func fixedClient(rt http.RoundTripper, opts ...jdcloud.Option) *jdcloud.Client {
	date := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	return jdcloud.New("TESTAK", "TESTSK", append([]jdcloud.Option{
		jdcloud.WithHTTPClient(&http.Client{Transport: rt}),
		jdcloud.WithClock(func() time.Time { return date }),
		jdcloud.WithNonce(func() string { return "11111111-2222-3333-4444-555555555555" }),
	}, opts...)...)
}

// TestClientReproducesGoSDKVector sends describeBackups exactly as the official Go SDK vector
// did (same keys, clock, nonce and parameters) and expects the same Authorization header.
func TestClientReproducesGoSDKVector(t *testing.T) {
	t.Parallel()
	rt := &roundTripper{}
	c := fixedClient(rt)
	if _, err := c.DescribeBackups(t.Context(), "cn-north-1", jdcloud.DescribeBackupsQuery{InstanceID: "mysql-src000001"}); err != nil {
		t.Fatal(err)
	}
	r := rt.reqs[0]
	if got := r.URL.String(); got != "https://rds.jdcloud-api.com/v1/regions/cn-north-1/backups?instanceId=mysql-src000001&pageNumber=1&pageSize=10" {
		t.Errorf("URL = %s", got)
	}
	const want = "JDCLOUD2-HMAC-SHA256 Credential=TESTAK/20240102/cn-north-1/rds/jdcloud2_request, SignedHeaders=content-type;host;x-jdcloud-date;x-jdcloud-nonce, Signature=614ba05a26416eb4d5ec412f89e9838b080845f9dc4d8d81dbd259c7d8f6d606"
	if got := r.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization\n got %s\nwant %s", got, want)
	}
}

// TestWireForm checks endpoints per service, the escaped action path, the trailing slashes,
// the canonical query on the wire, the headers and the exact body.
func TestWireForm(t *testing.T) {
	t.Parallel()
	rt := &roundTripper{}
	c := fixedClient(rt)
	ctx := t.Context()
	_, _ = c.DescribeInstances(ctx, "cn-north-1", jdcloud.DescribeInstancesQuery{
		PageNumber: 1, PageSize: 10,
		Filters:    []jdcloud.Filter{{Name: "instanceName", Values: []string{"restore demo*"}, Operator: "like"}},
		TagFilters: []jdcloud.TagFilter{{Key: "restoredesk", Values: []string{"d/1"}}},
	})
	_, _ = c.DescribeVpcs(ctx, "cn-east-2", jdcloud.DescribeVpcsQuery{})
	_, _ = c.DescribeSubnets(ctx, "cn-east-2", jdcloud.DescribeSubnetsQuery{VpcID: "vpc-abc123"})
	_, _ = c.CreateInstanceFromBackup(ctx, "cn-north-1", jdcloud.CreateInstanceFromBackupRequest{
		BackupID: "bak-1", Engine: jdcloud.EngineMySQL,
		InstanceSpec: jdcloud.RestoredInstanceSpec{
			InstanceClass: "db.mysql.s1.micro", InstanceStorageGB: 20, AzID: []string{"cn-north-1a", "cn-north-1a"},
			VpcID: "vpc-abc123", SubnetID: "subnet-xyz789", ChargeSpec: jdcloud.ChargeSpec{ChargeMode: "postpaid_by_duration"},
			TagSpec: []jdcloud.Tag{{Key: "restoredesk", Value: "d/1"}},
		},
	})
	_ = c.DeleteInstance(ctx, "cn-north-1", "mysql-k3ff6ewdx9")

	want := []struct{ method, url string }{
		{"GET", "https://rds.jdcloud-api.com/v1/regions/cn-north-1/instances?filters.1.name=instanceName&filters.1.operator=like&filters.1.values.1=restore%20demo%2A&pageNumber=1&pageSize=10&tagFilters.1.key=restoredesk&tagFilters.1.values.1=d%2F1"},
		{"GET", "https://vpc.jdcloud-api.com/v1/regions/cn-east-2/vpcs/"},
		{"GET", "https://vpc.jdcloud-api.com/v1/regions/cn-east-2/subnets/?filters.1.name=vpcId&filters.1.values.1=vpc-abc123"},
		{"POST", "https://rds.jdcloud-api.com/v1/regions/cn-north-1/instances%3AcreateInstanceFromBackup"},
		{"DELETE", "https://rds.jdcloud-api.com/v1/regions/cn-north-1/instances/mysql-k3ff6ewdx9"},
	}
	if len(rt.reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(rt.reqs), len(want))
	}
	for i, w := range want {
		r := rt.reqs[i]
		if r.Method != w.method || r.URL.String() != w.url {
			t.Errorf("request %d: %s %s\n                want %s %s", i, r.Method, r.URL, w.method, w.url)
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get(jdcloud.HeaderNonce) == "" || r.Header.Get(jdcloud.HeaderDate) != "20240102T030405Z" {
			t.Errorf("request %d headers %v", i, r.Header)
		}
		svc := "rds"
		if strings.Contains(w.url, "vpc.jdcloud") {
			svc = "vpc"
		}
		if a := r.Header.Get("Authorization"); !strings.Contains(a, "/"+svc+"/jdcloud2_request, SignedHeaders=content-type;host;x-jdcloud-date;x-jdcloud-nonce, ") {
			t.Errorf("request %d Authorization %s", i, a)
		}
	}
	body := rt.body["/v1/regions/cn-north-1/instances:createInstanceFromBackup"]
	wantBody := `{"backupId":"bak-1","engine":"MySQL","instanceSpec":{"instanceClass":"db.mysql.s1.micro","instanceStorageGB":20,"azId":["cn-north-1a","cn-north-1a"],"vpcId":"vpc-abc123","subnetId":"subnet-xyz789","chargeSpec":{"chargeMode":"postpaid_by_duration"},"tagSpec":[{"key":"restoredesk","value":"d/1"}]}}`
	if string(body) != wantBody {
		t.Errorf("body\n got %s\nwant %s", body, wantBody)
	}
	if !json.Valid(body) || rt.body["/v1/regions/cn-north-1/instances"] == nil || len(rt.body["/v1/regions/cn-north-1/instances"]) != 0 {
		t.Error("GET requests must have an empty body")
	}
}

func TestEndpointOverride(t *testing.T) {
	t.Parallel()
	rt := &roundTripper{}
	u, err := jdcloud.ParseEndpoint("http://127.0.0.1:8081")
	if err != nil {
		t.Fatal(err)
	}
	c := fixedClient(rt, jdcloud.WithEndpoint(u))
	_, _ = c.DescribeAzs(t.Context(), "cn-north-1", "MySQL")
	_, _ = c.DescribeVpcs(t.Context(), "cn-north-1", jdcloud.DescribeVpcsQuery{})
	for _, r := range rt.reqs {
		if r.URL.Scheme != "http" || r.Host != "127.0.0.1:8081" {
			t.Errorf("sent to %s", r.URL)
		}
	}
	if !strings.Contains(c.String(), "http://127.0.0.1:8081") {
		t.Errorf("String() = %s", c)
	}
}

func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081", true},
		{" https://rds.example.com/ ", "https://rds.example.com", true},
		{"http://[::1]:8081", "http://[::1]:8081", true},
		{"", "", false},
		{"127.0.0.1:8081", "", false},
		{"ftp://host", "", false},
		{"http://", "", false},
		{"http://host/v1", "", false},
		{"http://host?x=1", "", false},
		{"http://user:pw@host", "", false},
	} {
		u, err := jdcloud.ParseEndpoint(tc.in)
		if (err == nil) != tc.ok || (tc.ok && u.String() != tc.want) {
			t.Errorf("ParseEndpoint(%q) = %v, %v", tc.in, u, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"2020-01-07T15:14:07", "2020-01-07 15:14:07", "2020-01-07T07:14:07Z", "2020-01-07T15:14:07+08:00"} {
		got, err := jdcloud.ParseTime(in)
		if err != nil || !got.Equal(time.Date(2020, 1, 7, 7, 14, 7, 0, time.UTC)) {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := jdcloud.ParseTime("yesterday"); err == nil {
		t.Error("ParseTime accepted nonsense")
	}
	if got := jdcloud.FormatLocalTime(time.Date(2020, 1, 7, 7, 14, 7, 0, time.UTC)); got != "2020-01-07T15:14:07" {
		t.Errorf("FormatLocalTime = %s", got)
	}
}

func TestClassifyOtherErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want jdcloud.Class
	}{
		{nil, jdcloud.OK},
		{io.EOF, jdcloud.Ambiguous},
		{&jdcloud.APIError{HTTPStatus: 409}, jdcloud.Refused},
		{&jdcloud.APIError{HTTPStatus: 499}, jdcloud.Refused},
		{&jdcloud.APIError{HTTPStatus: 429}, jdcloud.NotPerformed},
		{&jdcloud.APIError{HTTPStatus: 502}, jdcloud.Ambiguous},
		{&jdcloud.APIError{HTTPStatus: 200, Code: 400}, jdcloud.Refused},
		{&jdcloud.APIError{HTTPStatus: 200}, jdcloud.Ambiguous},
		{&jdcloud.TransportError{Sent: false, Err: io.EOF}, jdcloud.NotPerformed},
		{&jdcloud.TransportError{Sent: true, Err: io.EOF}, jdcloud.Ambiguous},
	} {
		if got := jdcloud.Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	var buf bytes.Buffer
	buf.WriteString(jdcloud.Ambiguous.String())
	if buf.String() != "ambiguous" || jdcloud.NotPerformed.String() != "not performed" || jdcloud.Refused.String() != "refused" {
		t.Error("class names")
	}
}

func TestInstancePortTypes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{`{"instanceId":"i","instancePort":"3306","azId":["a"]}`, "3306"},
		{`{"instanceId":"i","instancePort":3306}`, "3306"},
		{`{"instanceId":"i","instancePort":null}`, ""},
		{`{"instanceId":"i"}`, ""},
	} {
		var in jdcloud.Instance
		if err := json.Unmarshal([]byte(tc.in), &in); err != nil || in.InstancePort != tc.want || in.InstanceID != "i" {
			t.Errorf("%s → %+v, %v", tc.in, in, err)
		}
	}
	var in jdcloud.Instance
	if err := json.Unmarshal([]byte(`{"instancePort":true}`), &in); err == nil {
		t.Error("accepted a boolean port")
	}
}
