package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
	"restoredesk/internal/restore"
)

// These tests reproduce what a slow or stalled JD Cloud does to the
// at-most-once promise, with the real `web worker` and `web jdcloud-sim`
// processes: the worker must reason from when its calls were sent and ended,
// not from when answers happened to arrive. Their timings follow the worker's
// fixed poll backoff (2 s, 4 s, 8 s, then 10 s), so a search or poll that is
// sent inside the window answers after it.

// setFault sets op's fault on the simulator through its control API.
func (w *world) setFault(op, spec string) {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPut, w.control+"/faults/"+op, strings.NewReader(spec))
	if spec == "" {
		req, _ = http.NewRequest(http.MethodDelete, w.control+"/faults/"+op, nil)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		w.t.Fatalf("set fault %s %q: %d", op, spec, resp.StatusCode)
	}
}

// setEnv overrides app settings for the processes started from now on.
func (w *world) setEnv(kv ...string) { w.env = append(w.env, kv...) }

// shortRescue makes River take a dead worker's job back sooner than in
// production, through the same settings: a job's timeout is twice
// JDCLOUD_TIMEOUT (10 s here), and JOB_RESCUE_AFTER must be longer.
func (w *world) shortRescue() { w.setEnv("JDCLOUD_TIMEOUT=5s", "JOB_RESCUE_AFTER=12s") }

// wantNoFailure asserts that the request never failed on the way.
func (w *world) wantNoFailure(id int64) {
	w.t.Helper()
	if n := w.events(id, audit.RequestFailed); n != 0 {
		w.t.Errorf("%d request.failed events, want 0", n)
	}
}

// duplicates returns the instance ids recorded as request id's duplicates.
func (w *world) duplicates(id int64) []string {
	w.t.Helper()
	dups, err := postgres.New(w.pool).RequestDuplicates(w.t.Context(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, d := range dups {
		out = append(out, d.InstanceID)
	}
	return out
}

// duplicateEvent returns the details of request id's request.duplicate_instance event.
func (w *world) duplicateEvent(id int64) map[string]any {
	w.t.Helper()
	var raw []byte
	err := w.pool.QueryRow(w.t.Context(), `SELECT details FROM audit_events
		WHERE target_type = 'request' AND target_id = $1 AND action = $2`, strconv.FormatInt(id, 10), audit.RequestDuplicate).Scan(&raw)
	if err != nil {
		w.t.Fatalf("no request.duplicate_instance event: %v", err)
	}
	var d map[string]any
	if err := json.Unmarshal(raw, &d); err != nil {
		w.t.Fatal(err)
	}
	return d
}

// testSlowSearches: the create is performed but its answer lost, the instance
// stays invisible for 17 s of a 20 s window, and every tag search takes 9 s.
// A search sent at second ~13 answers at ~22, after the window: that answer
// must not count as "not created", since the search was sent inside it.
func testSlowSearches(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceFromBackup:drop-next=1,visibility-delay=17s")
	w.setEnv("JDCLOUD_VISIBILITY_WINDOW=20s")
	id := submitAndApprove(t, w)
	w.setFault(jdcloud.OpDescribeInstances, "latency=9s")
	p := w.worker("web worker")
	r := w.waitFinalWithin(90*time.Second, id, p)
	w.wantOneInstance(id, r)
	w.wantNoFailure(id)
	if adopted := w.events(id, audit.RequestInstanceAdopted); adopted != 1 {
		t.Errorf("%d request.instance_adopted events, want 1", adopted)
	}
}

// testSlowPolls: the create answers, the instance stays invisible for 17 s of
// a 20 s window, and every status poll takes 9 s. A poll sent at ~13 s
// answers "not found" at ~22 s; the tolerance counts from its sending, so the
// request must not fail while its instance builds and runs.
func testSlowPolls(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceFromBackup:visibility-delay=17s")
	w.setEnv("JDCLOUD_VISIBILITY_WINDOW=20s")
	id := submitAndApprove(t, w)
	w.setFault(jdcloud.OpDescribeInstanceAttributes, "latency=9s")
	p := w.worker("web worker")
	r := w.waitFinalWithin(90*time.Second, id, p)
	w.wantOneInstance(id, r)
	w.wantNoFailure(id)
}

// testStalledCreate: the gateway holds the create past the client's default
// 30 s timeout and JD Cloud carries it out 6 s after the client gave up (W/2
// of a 12 s window), visible 3 s later (W/4). The window counts from the end
// of the call, so the worker finds the instance instead of creating another.
func testStalledCreate(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceFromBackup:hold=36s,hold-next=1,visibility-delay=3s")
	w.setEnv("JDCLOUD_VISIBILITY_WINDOW=12s")
	id := submitAndApprove(t, w)
	p := w.worker("web worker")
	r := w.waitFinalWithin(90*time.Second, id, p)
	w.wantOneInstance(id, r)
	w.wantNoFailure(id)
	if st := w.simStats(); st.Injected["hold"] != 1 {
		t.Errorf("the simulator held %d calls, want 1 (the fault did not bite)", st.Injected["hold"])
	}
}

// testLateCreate: the create is held past the client's 3 s timeout and
// carried out 11 s after the client gave up, later than the 8 s window. The
// worker rightly concludes it did not happen and creates again; the late
// instance must then be found by the last tag search and reported, on the
// request page, to admins and in the metrics, never left billing silently.
func testLateCreate(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceFromBackup:hold=14s,hold-next=1")
	w.setEnv("JDCLOUD_VISIBILITY_WINDOW=8s", "JDCLOUD_TIMEOUT=3s")
	runCLI(t, bin, w.env, procPassword+"\n", "user", "add", "-username", "root", "-email", "root@example.com",
		"-name", "Root", "-admin", "-password-stdin")
	id := submitAndApprove(t, w)
	p := w.worker("web worker")
	r := w.waitFinalWithin(60*time.Second, id, p)
	if r.Status != string(restore.Ready) {
		t.Fatalf("request %d ended %s (%s), want ready", id, r.Status, r.Reason)
	}
	waitFor(t, 60*time.Second, "the late instance to be reported", func() bool { return len(w.duplicates(id)) == 1 }, p)
	tagged := w.tagged(id)
	if len(tagged) != 2 {
		t.Fatalf("%d instances carry the tag, want 2 (the late one and the retry's)", len(tagged))
	}
	dup := w.duplicates(id)[0]
	if dup == r.InstanceID || !slices.ContainsFunc(tagged, func(in jdcloud.Instance) bool { return in.InstanceID == dup }) {
		t.Errorf("duplicate %q: want the tagged instance that is not the request's %q", dup, r.InstanceID)
	}
	d := w.duplicateEvent(id)
	if d["adopted"] != r.InstanceID || fmt.Sprint(d["duplicates"]) != "["+dup+"]" || len(d["instance_ids"].([]any)) != 2 || d["search"] != "recheck" {
		t.Errorf("request.duplicate_instance details %v", d)
	}

	_, srv := w.serve("web serve")
	if _, body := srv.SignIn(t, "alice", procPassword).Get(t, fmt.Sprintf("/requests/%d", id)); !strings.Contains(body, dup) ||
		!strings.Contains(body, "more than one instance") {
		t.Errorf("the request page does not show duplicate %s", dup)
	}
	if _, body := srv.SignIn(t, "root", procPassword).Get(t, "/"); !strings.Contains(body, "Instances to delete") || !strings.Contains(body, dup) {
		t.Errorf("the admin's dashboard does not list duplicate %s", dup)
	}
	resp, err := http.Get(w.metrics)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "\nrestoredesk_duplicate_instances 1\n") {
		t.Errorf("metrics lack restoredesk_duplicate_instances 1")
	}
}

// testTwoTagged: the create is performed and its answer lost, and meanwhile a
// second instance with the request's tag appears (as if JD Cloud had carried
// the call out twice). The worker adopts the earliest-created one and records
// the other as a duplicate.
func testTwoTagged(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceFromBackup:drop-next=1,visibility-delay=4s")
	w.setEnv("JDCLOUD_VISIBILITY_WINDOW=10s")
	id := submitAndApprove(t, w)
	p := w.worker("web worker")
	waitFor(t, 20*time.Second, "the first create", func() bool { return w.simStats().Creates == 1 }, p)
	w.createTagged(id)
	r := w.waitFinalWithin(60*time.Second, id, p)
	if r.Status != string(restore.Ready) {
		t.Fatalf("request %d ended %s (%s), want ready", id, r.Status, r.Reason)
	}
	waitFor(t, 40*time.Second, "the second instance to be reported", func() bool { return len(w.duplicates(id)) == 1 }, p)
	tagged := w.tagged(id)
	if len(tagged) != 2 {
		t.Fatalf("%d tagged instances, want 2", len(tagged))
	}
	first := tagged[0]
	for _, in := range tagged[1:] {
		if in.CreateTime < first.CreateTime || (in.CreateTime == first.CreateTime && in.InstanceID < first.InstanceID) {
			first = in
		}
	}
	if r.InstanceID != first.InstanceID {
		t.Errorf("the request adopted %s, want the earliest created %s", r.InstanceID, first.InstanceID)
	}
	if dups := w.duplicates(id); dups[0] == r.InstanceID {
		t.Errorf("the request's own instance is recorded as a duplicate")
	}
	if n := w.events(id, audit.RequestDuplicate); n != 1 {
		t.Errorf("%d request.duplicate_instance events, want 1", n)
	}
}

// createTagged has the simulator create an instance carrying request id's
// tag, from the request's own parameters, as if JD Cloud had done it.
func (w *world) createTagged(id int64) {
	t := w.t
	t.Helper()
	db := postgres.New(w.pool)
	req, err := db.Request(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	dep, err := db.Deployment(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var spec jdcloud.RestoredInstanceSpec
	if err := json.Unmarshal(req.Spec, &spec); err != nil {
		t.Fatal(err)
	}
	spec.InstanceName = "restore-" + strconv.FormatInt(id, 10)
	spec.TagSpec = []jdcloud.Tag{{Key: restore.TagKey, Value: dep.ID + "/" + strconv.FormatInt(id, 10)}}
	ep, err := jdcloud.ParseEndpoint(w.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c := jdcloud.New(jdcloudsim.DemoAccessKey, jdcloudsim.DemoSecretKey, jdcloud.WithEndpoint(ep))
	if _, err := c.CreateInstanceFromBackup(t.Context(), req.Region, jdcloud.CreateInstanceFromBackupRequest{
		BackupID: req.BackupID, Engine: req.Engine, InstanceSpec: spec}); err != nil {
		t.Fatalf("create the second tagged instance: %v", err)
	}
}

// testThrottledMinute: JD Cloud answers every create with 429 for a whole
// minute. Those creates were certainly not performed, so the worker retries
// within its time budget (10 minutes by default) and the request becomes
// ready with one instance once the throttling stops.
func testThrottledMinute(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceFromBackup:throttle-rate=1")
	id := submitAndApprove(t, w)
	p := w.worker("web worker")
	time.Sleep(time.Minute)
	if r := w.request(id); r.Status != string(restore.Provisioning) {
		t.Fatalf("after a minute of 429s the request is %s (%s), want still provisioning", r.Status, r.Reason)
	}
	if st := w.simStats(); st.Injected["throttle"] < 5 {
		t.Fatalf("only %d throttled creates in a minute", st.Injected["throttle"])
	}
	w.setFault(jdcloud.OpCreateInstanceFromBackup, "")
	r := w.waitFinalWithin(90*time.Second, id, p)
	w.wantOneInstance(id, r)
	w.wantNoFailure(id)
}

// dbProxy is a TCP proxy in front of PostgreSQL that a test can cut and
// restore, on the same address: PostgreSQL unreachable, as the app sees it
// when the network or the server goes away.
type dbProxy struct {
	t      *testing.T
	addr   string // where the app connects
	target string // the real server
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newDBProxy(t *testing.T, target string) *dbProxy {
	p := &dbProxy{t: t, addr: freeAddr(t), target: target}
	p.restore()
	t.Cleanup(p.cut)
	return p
}

// restore listens again and forwards every new connection.
func (p *dbProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// cut refuses new connections and breaks the open ones.
func (p *dbProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// testDatabaseOutage: PostgreSQL becomes unreachable while a request is
// being executed. Pages answer 503 with plain words, never 500; when the
// database is back, pages work again and the worker finishes the request by
// itself, with one instance.
func testDatabaseOutage(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceFromBackup:latency=2s")
	u, err := url.Parse(w.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newDBProxy(t, u.Host)
	u.Host = proxy.addr
	w.setEnv("DATABASE_URL=" + u.String())
	p, srv := w.serve("web serve")
	alice := srv.SignIn(t, "alice", procPassword)
	id := submitThroughForm(t, alice)
	if resp, _ := srv.SignIn(t, "bob", procPassword).PostForm(t, fmt.Sprintf("/requests/%d/approve", id), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	waitFor(t, 20*time.Second, "the create to be sent", func() bool { return w.simStats().Calls[jdcloud.OpCreateInstanceFromBackup] == 1 }, p)
	proxy.cut()
	for _, path := range []string{fmt.Sprintf("/requests/%d", id), "/", "/requests"} {
		resp, body := alice.Get(t, path)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Try again in a moment") {
			t.Errorf("GET %s with the database gone: %d, want 503 saying to try again\n%.300s", path, resp.StatusCode, body)
		}
	}
	time.Sleep(3 * time.Second) // the worker meets the outage too
	proxy.restore()
	r := w.waitFinalWithin(60*time.Second, id, p)
	w.wantOneInstance(id, r)
	if resp, _ := alice.Get(t, fmt.Sprintf("/requests/%d", id)); resp.StatusCode != http.StatusOK {
		t.Errorf("the request page after the outage: %d", resp.StatusCode)
	}
	if strings.Contains(p.out.String(), `"status":500`) {
		t.Errorf("a page answered 500 during the outage")
	}
}

// wantRestorePoint asserts that the simulator restored request id's instance
// to the moment the request asked for.
func (w *world) wantRestorePoint(id int64, instanceID string) {
	w.t.Helper()
	r, err := postgres.New(w.pool).Request(w.t.Context(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	var got struct{ RestorePoint time.Time }
	w.controlJSON("/instances/cn-north-1/"+instanceID+"/restore-point", &got)
	if r.RestoreTime == nil || !got.RestorePoint.Equal(*r.RestoreTime) {
		w.t.Errorf("the simulator restored to %s, the request asked for %v", got.RestorePoint, r.RestoreTime)
	}
}

// testDroppedCreateByTime: the point-in-time create is performed and its
// answer lost; the worker adopts the tagged instance, never creates twice.
func testDroppedCreateByTime(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceByTime:drop-next=1,visibility-delay=2s")
	id := submitAndApproveKind(t, w, request.ToPointInTime)
	p := w.worker("web worker")
	r := w.waitFinal(id, p)
	w.wantOneInstance(id, r)
	w.wantRestorePoint(id, r.InstanceID)
	if st := w.simStats(); st.Injected["drop"] != 1 || st.Calls[jdcloud.OpCreateInstanceByTime] != 1 {
		t.Errorf("the simulator dropped %d answers of %d point-in-time creates, want 1 of 1", st.Injected["drop"],
			st.Calls[jdcloud.OpCreateInstanceByTime])
	}
	if adopted := w.events(id, audit.RequestInstanceAdopted); adopted != 1 {
		t.Errorf("%d request.instance_adopted events, want 1", adopted)
	}
}

// testWorkerKilledByTime: a worker is SIGKILLed after JD Cloud performed its
// point-in-time create and before it recorded the answer; the next worker
// adopts the instance by its tag.
func testWorkerKilledByTime(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceByTime:latency=4s")
	w.shortRescue()
	first := w.worker("web worker 1")
	id := submitAndApproveKind(t, w, request.ToPointInTime)
	waitFor(t, 20*time.Second, "the simulator to perform the create", func() bool { return w.simStats().Creates == 1 }, first)
	first.kill()
	if r := w.request(id); r.Status != string(restore.Provisioning) || r.CreateSentAt == nil || r.InstanceID != "" {
		t.Fatalf("the kill missed the window: request is %s, create sent at %v, instance %q", r.Status, r.CreateSentAt, r.InstanceID)
	}
	second := w.worker("web worker 2")
	r := w.waitFinalWithin(2*time.Minute, id, second)
	w.wantOneInstance(id, r)
	w.wantRestorePoint(id, r.InstanceID)
	if adopted, created := w.events(id, audit.RequestInstanceAdopted), w.events(id, audit.RequestInstanceCreated); adopted != 1 || created != 0 {
		t.Errorf("%d request.instance_adopted and %d request.instance_created events, want 1 and 0", adopted, created)
	}
}
