package e2e_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
	"restoredesk/internal/request"
	"restoredesk/internal/restore"
	"restoredesk/internal/testkit"
)

// These tests run the real `web` binary: the JD Cloud simulator, web servers
// and workers as separate processes on one database, and prove the workflow's
// guarantees across processes: one approval however many arrive at once, and
// at most one create however the call or the worker ends.

// TestProcesses builds the binary once and runs the multi-process scenarios
// in parallel.
func TestProcesses(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "web")
	build := exec.Command("go", "build", "-o", bin, "restoredesk/cmd/web")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("concurrent approvals", func(t *testing.T) { t.Parallel(); testConcurrentApprovals(t, bin) })
	t.Run("dropped create", func(t *testing.T) { t.Parallel(); testDroppedCreate(t, bin) })
	t.Run("worker killed during create", func(t *testing.T) { t.Parallel(); testWorkerKilled(t, bin) })
	t.Run("step slower than the rescue delay", func(t *testing.T) { t.Parallel(); testSlowStep(t, bin) })
	t.Run("slow tag searches", func(t *testing.T) { t.Parallel(); testSlowSearches(t, bin) })
	t.Run("slow status polls", func(t *testing.T) { t.Parallel(); testSlowPolls(t, bin) })
	t.Run("stalled create carried out within the window", func(t *testing.T) { t.Parallel(); testStalledCreate(t, bin) })
	t.Run("stalled create carried out after the window", func(t *testing.T) { t.Parallel(); testLateCreate(t, bin) })
	t.Run("two tagged instances", func(t *testing.T) { t.Parallel(); testTwoTagged(t, bin) })
	t.Run("a minute of throttled creates", func(t *testing.T) { t.Parallel(); testThrottledMinute(t, bin) })
	t.Run("database outage", func(t *testing.T) { t.Parallel(); testDatabaseOutage(t, bin) })
	t.Run("point in time: dropped create", func(t *testing.T) { t.Parallel(); testDroppedCreateByTime(t, bin) })
	t.Run("point in time: worker killed during create", func(t *testing.T) { t.Parallel(); testWorkerKilledByTime(t, bin) })
}

// procPassword is the password of the users the tests create with the CLI.
const procPassword = "process test password 1"

// proc is a running `web` process whose output is kept for failure messages.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *testkit.Buffer
	done chan struct{}
}

// startProc starts `bin args…` with env and kills it when the test ends.
func startProc(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), out: &testkit.Buffer{}, done: make(chan struct{})}
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = env, p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("output of %s (%s):\n%s", name, strings.Join(args, " "), p.out)
		}
	})
	return p
}

// kill ends the process at once (SIGKILL: no shutdown code runs) and waits.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// pause freezes the process (SIGSTOP): its connections, and so its locks,
// stay open, but it does nothing until resume.
func (p *proc) pause() { p.cmd.Process.Signal(syscall.SIGSTOP) }

// resume lets a paused process go on (SIGCONT).
func (p *proc) resume() { p.cmd.Process.Signal(syscall.SIGCONT) }

// runCLI runs a one-shot `web` command and fails the test if it fails.
func runCLI(t *testing.T, bin string, env []string, stdin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("web %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor polls cond until it holds or the deadline passes; what describes
// the wait for the failure message.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool, procs ...*proc) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		for _, p := range procs {
			select {
			case <-p.done:
				t.Fatalf("%s exited while waiting for %s", p.name, what)
			default:
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func httpOK(u string) bool {
	resp, err := http.Get(u)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// world is one database and one simulator process, with the CLI's users and
// teams: alice (member) and bob (lead) of payments, which owns the MySQL
// instance mysql-payorders1 and the VPC vpc-payprod001 in cn-north-1.
type world struct {
	t        *testing.T
	bin      string
	env      []string // what every app process gets
	pool     *pgxpool.Pool
	sim      *proc
	endpoint string // the simulated JD Cloud API
	control  string // the simulator's control API
	metrics  string // the metrics of the last `web serve` started
	dbURL    string // the world's database
}

func newWorld(t *testing.T, bin string, fault ...string) *world {
	t.Helper()
	dbURL := postgrestest.URL(t)
	simAddr, controlAddr := freeAddr(t), freeAddr(t)
	args := []string{"jdcloud-sim", "-addr", simAddr, "-control-addr", controlAddr, "-build-time", "1s"}
	for _, f := range fault {
		args = append(args, "-fault", f)
	}
	w := &world{t: t, bin: bin, endpoint: "http://" + simAddr, control: "http://" + controlAddr, dbURL: dbURL}
	w.sim = startProc(t, "jdcloud-sim", bin, []string{"PATH=" + os.Getenv("PATH")}, args...)
	waitFor(t, 10*time.Second, "the simulator", func() bool { return httpOK(w.control + "/stats") }, w.sim)
	w.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + dbURL,
		"JDCLOUD_ENDPOINT=" + w.endpoint,
		"JDCLOUD_ACCESS_KEY=" + jdcloudsim.DemoAccessKey,
		"JDCLOUD_SECRET_KEY=" + jdcloudsim.DemoSecretKey,
		"SESSION_KEYS=" + "process-test-session-key-0123456789abcdef",
		"JDCLOUD_VISIBILITY_WINDOW=5s",
		"BUILD_TIMEOUT=1m",
		"APPROVAL_TTL=1h",
		"AUDIT_CHECKPOINT_INTERVAL=1h",
		"LOG_LEVEL=debug",
	}
	runCLI(t, bin, w.env, "", "migrate")
	for _, u := range []string{"alice", "bob"} {
		runCLI(t, bin, w.env, procPassword+"\n", "user", "add", "-username", u, "-email", u+"@example.com",
			"-name", strings.ToUpper(u[:1])+u[1:], "-password-stdin")
	}
	runCLI(t, bin, w.env, "", "team", "add", "-name", "payments")
	runCLI(t, bin, w.env, "", "team", "member", "add", "-team", "payments", "-username", "alice")
	runCLI(t, bin, w.env, "", "team", "member", "add", "-team", "payments", "-username", "bob", "-lead")

	pool, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	w.pool = pool
	db := postgres.New(pool)
	team, err := db.TeamByName(t.Context(), "payments")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddTeamInstance(t.Context(), postgres.TeamInstance{TeamID: team.ID, Region: "cn-north-1",
		InstanceID: "mysql-payorders1", InstanceName: "payments-orders", Engine: jdcloud.EngineMySQL}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddTeamVPC(t.Context(), postgres.TeamVPC{TeamID: team.ID, Region: "cn-north-1", VpcID: "vpc-payprod001"}); err != nil {
		t.Fatal(err)
	}
	return w
}

// serve starts a `web serve` process (web server and worker) and waits until
// it answers; the Server it returns only has its URL, for e2e's clients.
func (w *world) serve(name string) (*proc, *testkit.Server) {
	t := w.t
	t.Helper()
	addr := freeAddr(t)
	metrics := freeAddr(t)
	env := append(w.env[:len(w.env):len(w.env)], "LISTEN_ADDR="+addr, "METRICS_ADDR="+metrics,
		"BASE_URL=http://"+addr, "INSECURE_HTTP=1") // no TLS on the test rig
	p := startProc(t, name, w.bin, env, "serve")
	w.metrics = "http://" + metrics + "/metrics"
	srv := &testkit.Server{URL: "http://" + addr}
	waitFor(t, 15*time.Second, name+" to answer", func() bool { return httpOK(srv.URL + "/readyz") }, p)
	return p, srv
}

// worker starts a `web worker` process and waits until it works.
func (w *world) worker(name string) *proc {
	t := w.t
	t.Helper()
	p := startProc(t, name, w.bin, w.env, "worker")
	waitFor(t, 15*time.Second, name+" to start", func() bool { return strings.Contains(p.out.String(), "worker started") }, p)
	return p
}

// simStats reads the simulator's counters through its control API.
func (w *world) simStats() jdcloudsim.Stats {
	w.t.Helper()
	var st jdcloudsim.Stats
	w.controlJSON("/stats", &st)
	return st
}

// tagged returns the instances carrying request id's tag, visible yet or not.
func (w *world) tagged(id int64) []jdcloud.Instance {
	w.t.Helper()
	dep, err := postgres.New(w.pool).Deployment(w.t.Context())
	if err != nil {
		w.t.Fatal(err)
	}
	tag := restore.TagKey + "=" + dep.ID + "/" + strconv.FormatInt(id, 10)
	var out []jdcloud.Instance
	w.controlJSON("/instances/cn-north-1?tag="+url.QueryEscape(tag), &out)
	return out
}

func (w *world) controlJSON(path string, v any) {
	w.t.Helper()
	resp, err := http.Get(w.control + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		w.t.Fatalf("control %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		w.t.Fatalf("control %s: %v", path, err)
	}
}

// requestRow is what the tests look at in a request's row.
type requestRow struct {
	Status       string
	InstanceID   string
	CreateSentAt *time.Time
	Attempts     int
	Reason       string
}

// request reads request id's row.
func (w *world) request(id int64) requestRow {
	w.t.Helper()
	var r requestRow
	err := w.pool.QueryRow(w.t.Context(), `SELECT status, coalesce(instance_id, ''), create_sent_at, create_attempts, failure_reason
		FROM restore_requests WHERE id = $1`, id).Scan(&r.Status, &r.InstanceID, &r.CreateSentAt, &r.Attempts, &r.Reason)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// events counts request id's audit events with action.
func (w *world) events(id int64, action string) int {
	w.t.Helper()
	var n int
	err := w.pool.QueryRow(w.t.Context(), `SELECT count(*) FROM audit_events WHERE target_type = 'request' AND target_id = $1 AND action = $2`,
		strconv.FormatInt(id, 10), action).Scan(&n)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// waitFinal waits until request id reaches a final status and returns it.
func (w *world) waitFinal(id int64, procs ...*proc) requestRow {
	w.t.Helper()
	return w.waitFinalWithin(30*time.Second, id, procs...)
}

// waitFinalWithin is waitFinal with a longer wait, for runs that ride out slow faults.
func (w *world) waitFinalWithin(d time.Duration, id int64, procs ...*proc) requestRow {
	w.t.Helper()
	var r requestRow
	waitFor(w.t, d, fmt.Sprintf("request %d to finish", id), func() bool {
		r = w.request(id)
		return restore.Status(r.Status).Terminal()
	}, procs...)
	return r
}

// submitThroughForm fills the request form as a browser without JavaScript
// does and submits it (see requestForm), and returns the new request's id.
func submitThroughForm(t *testing.T, c *testkit.Client) int64 {
	t.Helper()
	b := testBrowser{t, c}
	v, err := requestForm(b, "process test: restore last night's orders")
	if err != nil {
		t.Fatal(err)
	}
	id, err := submitForm(b, v)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// page is an answer as a browser that does not follow redirects sees it.
type page struct {
	status   int
	location string
	body     string
}

// browser is what requestForm and submitForm need of a browser: GET a page
// and POST a form, without following redirects.
type browser interface {
	get(path string) (page, error)
	postForm(path string, v url.Values) (page, error)
}

// testBrowser is a testkit.Client as a browser; it fails the test on transport errors.
type testBrowser struct {
	t *testing.T
	c *testkit.Client
}

func (b testBrowser) get(path string) (page, error) {
	resp, body := b.c.Get(b.t, path)
	return page{resp.StatusCode, resp.Header.Get("Location"), body}, nil
}

func (b testBrowser) postForm(path string, v url.Values) (page, error) {
	resp, body := b.c.PostForm(b.t, path, v)
	return page{resp.StatusCode, resp.Header.Get("Location"), body}, nil
}

// requestForm fills the request form as a browser without JavaScript does
// (choose the source, "Update choices", take the newest backup, update
// again) and returns the values it would submit, with reason.
func requestForm(b browser, reason string) (url.Values, error) {
	load := func(q url.Values) (*goquery.Document, error) {
		p, err := b.get("/requests/new?" + q.Encode())
		if err != nil {
			return nil, err
		}
		if p.status != http.StatusOK {
			return nil, fmt.Errorf("request form: %d\n%s", p.status, p.body)
		}
		return goquery.NewDocumentFromReader(strings.NewReader(p.body))
	}
	values := func(d *goquery.Document) url.Values {
		v := url.Values{}
		d.Find("#request-form input[name], #request-form textarea[name]").Each(func(_ int, s *goquery.Selection) {
			name := s.AttrOr("name", "")
			switch {
			case s.Is("textarea"):
				v.Set(name, s.Text())
			case s.AttrOr("type", "") == "checkbox", s.AttrOr("type", "") == "radio":
				// A browser sends a checkbox or a radio button only when checked.
				if _, ok := s.Attr("checked"); ok {
					v.Set(name, s.AttrOr("value", "on"))
				}
			default:
				v.Set(name, s.AttrOr("value", ""))
			}
		})
		d.Find("#request-form select[name]").Each(func(_ int, s *goquery.Selection) {
			opt := s.Find("option[selected]")
			if opt.Length() == 0 {
				opt = s.Find("option").First()
			}
			v.Set(s.AttrOr("name", ""), opt.AttrOr("value", ""))
		})
		return v
	}
	d, err := load(url.Values{"source": {"mysql-payorders1"}})
	if err != nil {
		return nil, err
	}
	v := values(d)
	if d, err = load(v); err != nil {
		return nil, err
	}
	newest := d.Find("#backup option[value!='']").First().AttrOr("value", "")
	if newest == "" {
		return nil, fmt.Errorf("the form offers no backup of mysql-payorders1:\n%s", d.Text())
	}
	v.Set("backup", newest)
	if d, err = load(v); err != nil {
		return nil, err
	}
	v = values(d)
	v.Set("reason", reason)
	return v, nil
}

// submitForm posts the request form's values and returns the request's id.
// Posting the same values again lands on the same request (the form's key).
func submitForm(b browser, v url.Values) (int64, error) {
	p, err := b.postForm("/requests", v)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(p.location, "/requests/"), 10, 64)
	if p.status != http.StatusSeeOther || err != nil {
		return 0, fmt.Errorf("submit: %d %q\n%s", p.status, p.location, p.body)
	}
	return id, nil
}

// wantOneInstance asserts the simulator performed exactly one create, the one
// instance carrying request id's tag, and that the request is ready with it.
func (w *world) wantOneInstance(id int64, r requestRow) {
	w.t.Helper()
	if r.Status != string(restore.Ready) {
		w.t.Errorf("request %d is %s, want ready", id, r.Status)
	}
	if st := w.simStats(); st.Creates != 1 {
		w.t.Errorf("the simulator created %d instances, want 1 (stats %+v)", st.Creates, st)
	}
	tagged := w.tagged(id)
	if len(tagged) != 1 {
		w.t.Fatalf("%d instances carry request %d's tag, want 1: %+v", len(tagged), id, tagged)
	}
	if tagged[0].InstanceID != r.InstanceID {
		w.t.Errorf("request %d records instance %q, the tagged one is %q", id, r.InstanceID, tagged[0].InstanceID)
	}
}

// testConcurrentApprovals: 20 approve POSTs arrive at once, split between two
// `web serve` processes on one database, with bob signed in on each. Exactly
// one approval is recorded, and exactly one instance is created.
func testConcurrentApprovals(t *testing.T, bin string) {
	w := newWorld(t, bin)
	pa, a := w.serve("web serve A")
	pb, b := w.serve("web serve B")
	id := submitThroughForm(t, a.SignIn(t, "alice", procPassword))
	bobs := []*testkit.Client{a.SignIn(t, "bob", procPassword), b.SignIn(t, "bob", procPassword)}
	bases := []string{a.URL, b.URL}

	const n = 20
	statuses := make([]int, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		k := i % 2
		jar := bobs[k].Cookies()
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/requests/%d/approve", bases[k], id), nil)
			req.Header.Set("Origin", bases[k])
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			for _, c := range jar {
				req.AddCookie(c)
			}
			<-start
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				errs[i] = err
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		// Every click lands back on the request: one says approved, the
		// others that it no longer waits for a decision.
		if errs[i] != nil || statuses[i] != http.StatusSeeOther {
			t.Errorf("approve %d (server %c): status %d, error %v", i, 'A'+i%2, statuses[i], errs[i])
		}
	}
	if got := w.events(id, audit.RequestApproved); got != 1 {
		t.Errorf("%d request.approved events, want exactly 1", got)
	}
	r := w.waitFinal(id, pa, pb)
	w.wantOneInstance(id, r)
	if got := w.events(id, audit.RequestInstanceCreated); got != 1 {
		t.Errorf("%d request.instance_created events, want 1", got)
	}
}

// testDroppedCreate: JD Cloud performs the create and drops the connection
// before answering, and the new instance stays invisible for 2 s, within the
// 5 s visibility window. The worker must not create again: it finds the
// tagged instance and adopts it.
func testDroppedCreate(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceFromBackup:drop-next=1,visibility-delay=2s")
	p, srv := w.serve("web serve")
	id := submitThroughForm(t, srv.SignIn(t, "alice", procPassword))
	resp, _ := srv.SignIn(t, "bob", procPassword).PostForm(t, fmt.Sprintf("/requests/%d/approve", id), nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	r := w.waitFinal(id, p)
	w.wantOneInstance(id, r)
	if st := w.simStats(); st.Injected["drop"] != 1 {
		t.Errorf("the simulator dropped %d answers, want 1 (the fault did not bite)", st.Injected["drop"])
	}
	if adopted, created := w.events(id, audit.RequestInstanceAdopted), w.events(id, audit.RequestInstanceCreated); adopted != 1 || created != 0 {
		t.Errorf("%d request.instance_adopted and %d request.instance_created events, want 1 and 0", adopted, created)
	}
	if r.Attempts != 1 {
		t.Errorf("%d create attempts recorded, want 1", r.Attempts)
	}
}

// testWorkerKilled: a `web worker` is killed with SIGKILL after JD Cloud has
// performed its create but before the worker has recorded the answer. The
// simulator performs a create first and then holds the answer back for 4 s
// (its latency fault), so the kill lands in exactly that window: the
// request's create_sent_at is committed (it is written before every create),
// the simulator counts the create, and no instance id is recorded. A new
// worker must recognise the instance by its tag and adopt it, never create a
// second one.
func testWorkerKilled(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceFromBackup:latency=4s")
	w.shortRescue()
	first := w.worker("web worker 1")
	id := submitAndApprove(t, w)

	waitFor(t, 20*time.Second, "the simulator to perform the create", func() bool { return w.simStats().Creates == 1 }, first)
	first.kill()
	r := w.request(id)
	if r.Status != string(restore.Provisioning) || r.CreateSentAt == nil || r.InstanceID != "" {
		t.Fatalf("the kill missed the window: request is %s, create sent at %v, instance %q; "+
			"want provisioning, sent, no instance", r.Status, r.CreateSentAt, r.InstanceID)
	}

	// The dead worker's job stays "running" until River's leader rescues it
	// (JOB_RESCUE_AFTER, checked every 30 s); the request then resumes on
	// the worker left, within two minutes of the kill.
	second := w.worker("web worker 2")
	r = w.waitFinalWithin(2*time.Minute, id, second)
	w.wantOneInstance(id, r)
	if adopted, created := w.events(id, audit.RequestInstanceAdopted), w.events(id, audit.RequestInstanceCreated); adopted != 1 || created != 0 {
		t.Errorf("%d request.instance_adopted and %d request.instance_created events, want 1 and 0", adopted, created)
	}
	if r.Attempts != 1 {
		t.Errorf("%d create attempts recorded, want 1", r.Attempts)
	}
}

// testSlowStep: a step that lasts longer than the rescue delay, with a
// second worker running. The gateway holds the create past the delay, and the
// worker sending it is frozen meanwhile, so its River job is still "running"
// when the leader (the second worker) rescues it and runs it again. That run
// finds the request's lock held — the frozen worker's connection is alive —
// and snoozes; when the first worker wakes it finishes its step, and the
// create stays one call at the simulator and one instance.
func testSlowStep(t *testing.T, bin string) {
	w := newWorld(t, bin, "createInstanceFromBackup:hold=15s,hold-next=1")
	w.shortRescue()                           // job timeout 10 s, rescue after 12 s
	w.setEnv("JDCLOUD_VISIBILITY_WINDOW=25s") // covers the hold: the late create is found, not repeated
	first := w.worker("web worker 1")
	id := submitAndApprove(t, w)
	waitFor(t, 30*time.Second, "the create to reach the simulator", func() bool { return w.simStats().Injected["hold"] == 1 }, first)
	first.pause()
	second := w.worker("web worker 2")
	waitFor(t, 2*time.Minute, "the rescued job to meet the held lock", func() bool {
		return strings.Contains(second.out.String(), "request held by another worker")
	}, second)
	if st := w.simStats(); st.Calls[jdcloud.OpCreateInstanceFromBackup] != 1 {
		t.Errorf("%d create calls while the first worker was frozen, want 1", st.Calls[jdcloud.OpCreateInstanceFromBackup])
	}
	first.resume()
	r := w.waitFinalWithin(2*time.Minute, id, first, second)
	w.wantOneInstance(id, r)
	if n := w.simStats().Calls[jdcloud.OpCreateInstanceFromBackup]; n != 1 {
		t.Errorf("%d create calls at the simulator, want 1", n)
	}
}

// submitAndApprove files alice's request for mysql-payorders1 and has bob
// approve it, in this process against the shared database (no web server
// runs, so only the worker processes may execute it).
func submitAndApprove(t *testing.T, w *world) int64 {
	t.Helper()
	return submitAndApproveKind(t, w, request.FromBackup)
}

// submitAndApproveKind is submitAndApprove for a backup or, with
// request.ToPointInTime, the source as it was three hours ago.
func submitAndApproveKind(t *testing.T, w *world, kind request.Kind) int64 {
	t.Helper()
	ctx := t.Context()
	db := postgres.New(w.pool)
	load := func(name string) audit.Actor {
		u, err := db.UserByUsername(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return audit.Actor{UserID: u.ID, Name: name}
	}
	alice, bob := load("alice"), load("bob")
	u, err := postgres.LoadUser(ctx, w.pool, alice.UserID)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := jdcloud.ParseEndpoint(w.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	planner := restore.NewPlanner(db, jdcloud.New(jdcloudsim.DemoAccessKey, jdcloudsim.DemoSecretKey, jdcloud.WithEndpoint(ep)), nil)
	d := restore.Draft{Key: rand.Text(), Team: strconv.FormatInt(u.Teams[0].TeamID, 10), Region: "cn-north-1",
		Source: "mysql-payorders1", Reason: "process test: restore last night's orders", Kind: string(kind)}
	if kind == request.ToPointInTime {
		d.RestoreAt = time.Now().Add(-3 * time.Hour).In(restore.DefaultZone).Format("2006-01-02T15:04")
	}
	ch, err := planner.Choices(ctx, u, d)
	if err != nil || (kind != request.ToPointInTime && len(ch.Backups) == 0) {
		t.Fatalf("choices: %v (%s)", err, ch.LookupErr)
	}
	d = ch.Suggested
	if kind != request.ToPointInTime {
		d.Backup = ch.Backups[0].BackupID
	}
	if ch, err = planner.Choices(ctx, u, d); err != nil {
		t.Fatal(err)
	}
	d = ch.Suggested
	n, problems := planner.Validate(u, d, ch)
	if problems != nil {
		t.Fatalf("the request is refused: %v", problems)
	}
	life := restore.NewLifecycle(w.pool, postgres.LoadUser, time.Hour)
	id, _, err := life.Submit(ctx, alice, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := life.Approve(ctx, bob, id, ""); err != nil {
		t.Fatal(err)
	}
	return id
}
