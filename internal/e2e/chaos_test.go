package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
	"restoredesk/internal/restore"
)

// TestChaos is `make chaos`: the bounded chaos run that measures the
// worker's at-most-once promise when JD Cloud misbehaves and the processes
// and the database around it die. It is not part of the suite; it runs only
// with CHAOS=1 and CHAOS_PGDIR, the private cluster (scripts/pgcluster.sh)
// that TEST_DATABASE_URL points at and that it restarts once mid-run.
//
// The run: a standalone simulator with rotating fault phases, two `web serve`
// and one `web worker` on one database, requests filed and approved over
// HTTP the whole time, kill -9 of a random process every few seconds (it is
// restarted), and one immediate PostgreSQL restart. Then the faults stop, and
// it counts, from the simulator's own records: D, requests with more than
// one tagged instance; S, requests not terminal five minutes after the faults
// stopped; and, as failures too, tagged instances no request records or
// names in a request.duplicate_instance event, failed requests whose
// instance is RUNNING, failed requests without a reason, and an audit chain
// that does not verify. Its last line is the summary:
//
//	N requests: R ready, F failed, D duplicates, S stuck, audit ok|broken
//
// CHAOS_SUMMARY names a file the summary line is also written to;
// CHAOS_LOGDIR keeps the processes' logs (default: a new directory in $TMPDIR);
// CHAOS_PHASE shortens or lengthens each fault phase (default 40s).
func TestChaos(t *testing.T) {
	if os.Getenv("CHAOS") == "" {
		t.Skip("the chaos run is not part of the suite; make chaos runs it")
	}
	pgdir := os.Getenv("CHAOS_PGDIR")
	if pgdir == "" {
		t.Fatal("CHAOS_PGDIR is not set: run make chaos, which starts the cluster to restart")
	}
	c := newChaos(t, pgdir)
	c.run()
}

// The run's timings. The client timeout is longer than the slow reads, so a
// slow read answers; holds outlast the timeout, so a stalled create is one
// the client gave up on. Every phase keeps (hold − timeout) + visibility
// delay under the window: a worker keeping the promise creates no duplicate.
const (
	chaosWindow       = 20 * time.Second // JDCLOUD_VISIBILITY_WINDOW
	chaosClient       = 13 * time.Second // JDCLOUD_TIMEOUT
	chaosRetryBudget  = 3 * time.Minute  // JDCLOUD_RETRY_BUDGET
	chaosLongestHold  = 25 * time.Second // the longest hold of any phase
	chaosSettle       = 5 * time.Minute  // after the faults stop, when unfinished requests count as stuck
	chaosFilers       = 6                // goroutines filing and approving requests
	chaosDefaultPhase = 40 * time.Second
)

// chaosPhase is one set of faults, by operation, in the simulator's text form.
type chaosPhase struct {
	name   string
	faults map[string]string
}

var chaosPhases = []chaosPhase{
	{"5xx, 429, drops after performing, build errors", map[string]string{
		"*": "latency=200ms,fail-rate=0.15,throttle-rate=0.1",
		jdcloud.OpCreateInstanceFromBackup: "fail-rate=0.15,fail-after-perform=true,throttle-rate=0.15,drop-rate=0.2," +
			"visibility-delay=8s,build-error-rate=0.1",
	}},
	// Issue 9's cases 1 and 2: searches and polls slower than half the
	// window, new instances invisible for most of it.
	{"slow searches and status polls (11s), visibility delay 15s", map[string]string{
		"*":                                  "latency=300ms",
		jdcloud.OpDescribeInstances:          "latency=11s",
		jdcloud.OpDescribeInstanceAttributes: "latency=11s",
		jdcloud.OpCreateInstanceFromBackup:   "drop-rate=0.4,visibility-delay=15s",
	}},
	// Case 3: the gateway holds the create past the client's timeout and
	// JD Cloud performs it 7 s after the client gave up, visible 8 s later.
	{"stalled creates (held 20s), visibility delay 8s", map[string]string{
		"*":                                "latency=200ms,throttle-rate=0.1",
		jdcloud.OpCreateInstanceFromBackup: "hold=20s,hold-rate=0.5,drop-rate=0.3,visibility-delay=8s",
	}},
	{"everything at once: slow reads, creates held 25s, 5xx, 429", map[string]string{
		"*":                                  "latency=500ms,fail-rate=0.1",
		jdcloud.OpDescribeInstances:          "latency=11s,fail-rate=0.1",
		jdcloud.OpDescribeInstanceAttributes: "latency=11s,fail-rate=0.1",
		jdcloud.OpCreateInstanceFromBackup: "hold=25s,hold-rate=0.3,drop-rate=0.2,fail-rate=0.1,fail-after-perform=true," +
			"throttle-rate=0.1,visibility-delay=4s",
	}},
}

// chaos is one run.
type chaos struct {
	t       *testing.T
	w       *world
	bin     string
	pgdir   string
	logdir  string
	phase   time.Duration
	start   time.Time
	servers []string // base URLs of the two web servers
	slots   []*slot

	phaseName atomic.Value // string
	filed     atomic.Int64
	approved  atomic.Int64
	httpErrs  atomic.Int64
	lastErr   atomic.Value // string
	pgRestart string
}

func newChaos(t *testing.T, pgdir string) *chaos {
	c := &chaos{t: t, pgdir: pgdir, phase: chaosDefaultPhase, start: time.Now()}
	if s := os.Getenv("CHAOS_PHASE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("CHAOS_PHASE %q: want a duration such as 40s", s)
		}
		c.phase = d
	}
	c.logdir = os.Getenv("CHAOS_LOGDIR")
	if c.logdir == "" {
		dir, err := os.MkdirTemp("", "restoredesk-chaos-")
		if err != nil {
			t.Fatal(err)
		}
		c.logdir = dir
	} else if err := os.MkdirAll(c.logdir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.phaseName.Store("setting up")
	c.lastErr.Store("")
	c.say("building the web binary; process logs go to %s", c.logdir)
	c.bin = filepath.Join(t.TempDir(), "web")
	if out, err := exec.Command("go", "build", "-o", c.bin, "restoredesk/cmd/web").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c.w = newWorld(t, c.bin)
	c.w.env = append(c.w.env,
		"JDCLOUD_VISIBILITY_WINDOW="+chaosWindow.String(),
		"JDCLOUD_TIMEOUT="+chaosClient.String(),
		"JDCLOUD_RETRY_BUDGET="+chaosRetryBudget.String(),
		"BUILD_TIMEOUT=2m",
	)
	for _, name := range []string{"web serve A", "web serve B"} {
		addr := freeAddr(t)
		c.servers = append(c.servers, "http://"+addr)
		c.slots = append(c.slots, &slot{name: name, args: []string{"serve"},
			env: append(c.w.env[:len(c.w.env):len(c.w.env)], "LISTEN_ADDR="+addr, "METRICS_ADDR="+freeAddr(t),
				"BASE_URL=http://"+addr, "INSECURE_HTTP=1")}) // no TLS on the test rig
	}
	c.slots = append(c.slots, &slot{name: "web worker", args: []string{"worker"}, env: c.w.env})
	return c
}

// say prints a progress line with the time since the run started.
func (c *chaos) say(format string, args ...any) {
	fmt.Printf("chaos %4ds  %s\n", int(time.Since(c.start).Seconds()), fmt.Sprintf(format, args...))
}

func (c *chaos) run() {
	t := c.t
	ctx, stop := context.WithCancel(context.Background())
	var procs sync.WaitGroup
	t.Cleanup(func() { stop(); procs.Wait() })
	for _, s := range c.slots {
		s.log = filepath.Join(c.logdir, strings.ReplaceAll(s.name, " ", "-")+".log")
		procs.Go(func() { s.supervise(ctx, c) })
	}
	for _, u := range c.servers {
		waitFor(t, 30*time.Second, u+" to answer", func() bool { return httpOK(u + "/readyz") })
	}
	waitFor(t, 30*time.Second, "the worker to start", func() bool {
		b, _ := os.ReadFile(c.slots[2].log)
		return strings.Contains(string(b), "worker started")
	})
	dep, err := postgres.New(c.w.pool).Deployment(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c.say("simulator, 2 web servers and a worker are up (deployment %s); window %s, client timeout %s, %d phases of %s",
		dep.ID, chaosWindow, chaosClient, len(chaosPhases), c.phase)

	faulty, endFaults := context.WithCancel(ctx)
	var filers, chaosWork sync.WaitGroup
	for i := range chaosFilers {
		filers.Go(func() { c.file(faulty, i) })
	}
	chaosWork.Go(func() { c.killer(faulty) })
	chaosWork.Go(func() { c.report(ctx) })
	faultTime := time.Duration(len(chaosPhases)) * c.phase
	pgAt := time.Now().Add(faultTime * 55 / 100)
	for i, p := range chaosPhases {
		c.setFaults(p)
		c.phaseName.Store(fmt.Sprintf("phase %d/%d", i+1, len(chaosPhases)))
		c.say("phase %d/%d: %s", i+1, len(chaosPhases), p.name)
		end := time.Now().Add(c.phase)
		if pgAt.After(time.Now()) && pgAt.Before(end) {
			time.Sleep(time.Until(pgAt))
			c.restartPostgres()
		}
		time.Sleep(time.Until(end))
	}
	c.clearFaults()
	endFaults()
	faultsStopped := time.Now()
	c.phaseName.Store("settling")
	c.say("faults stopped; filers finish the request in hand")
	filers.Wait()
	c.approvePending()

	deadline := faultsStopped.Add(chaosSettle)
	for {
		active, err := c.unfinished()
		if err == nil && active == 0 {
			c.say("every request is terminal")
			break
		}
		if time.Now().After(deadline) {
			c.say("%s since the faults stopped: %d requests are not terminal", chaosSettle, active)
			break
		}
		time.Sleep(2 * time.Second)
	}
	// A create JD Cloud carries out late appears at most the longest hold
	// plus the window after the faults stopped: count duplicates after that.
	if wait := time.Until(faultsStopped.Add(chaosWindow + chaosLongestHold)); wait > 0 {
		c.say("waiting %s more (window plus the longest hold since the faults stopped) before counting instances", wait.Round(time.Second))
		time.Sleep(wait)
	}
	stop()
	chaosWork.Wait()
	procs.Wait()
	c.verdict(dep.ID)
}

// setFaults replaces the simulator's faults with phase p's.
func (c *chaos) setFaults(p chaosPhase) {
	c.clearFaults()
	for op, f := range p.faults {
		if err := c.controlDo(http.MethodPut, "/faults/"+url.PathEscape(op), f); err != nil {
			c.t.Fatalf("set fault %s:%s: %v", op, f, err)
		}
	}
}

func (c *chaos) clearFaults() {
	if err := c.controlDo(http.MethodDelete, "/faults", ""); err != nil {
		c.t.Fatalf("clear faults: %v", err)
	}
}

func (c *chaos) controlDo(method, path, body string) error {
	req, err := http.NewRequest(method, c.w.control+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return nil
}

// restartPostgres crashes the database and brings it back after 3 s.
func (c *chaos) restartPostgres() {
	c.say("PostgreSQL: immediate restart (down for 3s)")
	began := time.Now()
	out, err := exec.Command("../../scripts/pgcluster.sh", "crash-restart", c.pgdir, "3").CombinedOutput()
	if err != nil {
		c.t.Fatalf("restart PostgreSQL: %v\n%s", err, out)
	}
	c.pgRestart = fmt.Sprintf("PostgreSQL restarted immediately at %ds (back after %s)",
		int(began.Sub(c.start).Seconds()), time.Since(began).Round(100*time.Millisecond))
	c.say("%s", c.pgRestart)
}

// killer sends SIGKILL to a random process every 8–20 s until ctx ends; its
// slot restarts it.
func (c *chaos) killer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(between(8*time.Second, 20*time.Second)):
		}
		s := c.slots[rand.N(len(c.slots))]
		if pid := s.kill(); pid > 0 {
			c.say("kill -9 %s (pid %d)", s.name, pid)
		}
	}
}

// report prints the requests' progress every 15 s until ctx ends.
func (c *chaos) report(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(15 * time.Second):
		}
		counts, err := c.statusCounts(ctx)
		if err != nil {
			c.say("%s: cannot read the requests: %v", c.phaseName.Load(), err)
			continue
		}
		var parts []string
		for _, s := range request.Statuses() {
			if n := counts[string(s)]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, s))
			}
		}
		st := c.w.simStats()
		line := fmt.Sprintf("%s: %d filed, %d approved (%s); the simulator created %d instances; %d HTTP errors seen by the filers",
			c.phaseName.Load(), c.filed.Load(), c.approved.Load(), strings.Join(parts, ", "), st.Creates, c.httpErrs.Load())
		if e := c.lastErr.Load().(string); e != "" {
			line += " (last: " + e + ")"
		}
		c.say("%s", line)
	}
}

func (c *chaos) statusCounts(ctx context.Context) (map[string]int, error) {
	rows, err := c.w.pool.Query(ctx, `SELECT status, count(*) FROM restore_requests GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// unfinished counts the requests not in a terminal state.
func (c *chaos) unfinished() (int, error) {
	counts, err := c.statusCounts(context.Background())
	if err != nil {
		return -1, err
	}
	n := 0
	for s, k := range counts {
		if !restore.Status(s).Terminal() {
			n += k
		}
	}
	return n, nil
}

// file is one filer: until ctx ends it files a request as alice and has bob
// approve it, each call on either web server, retrying through kills and the
// database restart. The request in hand when ctx ends is still approved.
func (c *chaos) file(ctx context.Context, n int) {
	alice, bob := c.browser("alice"), c.browser("bob")
	for ctx.Err() == nil {
		v, err := requestForm(alice, fmt.Sprintf("chaos run: filer %d restores last night's orders", n))
		if err != nil {
			c.httpErr(err)
			pause(ctx, time.Second)
			continue
		}
		// The same values land on the same request: retry an unanswered post.
		var id int64
		for try := 0; try < 10 && id == 0; try++ {
			if id, err = submitForm(alice, v); err != nil {
				c.httpErr(err)
				time.Sleep(time.Second)
			}
		}
		if id == 0 {
			continue
		}
		c.filed.Add(1)
		if c.approve(bob, id, time.Minute) {
			c.approved.Add(1)
		}
		pause(ctx, between(500*time.Millisecond, 3*time.Second))
	}
}

// approve posts bob's approval of request id until a server answers it
// (approved, or no longer waiting for a decision) or within gives out.
func (c *chaos) approve(bob *chaosBrowser, id int64, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		p, err := bob.postForm(fmt.Sprintf("/requests/%d/approve", id), nil)
		if err == nil && p.status == http.StatusSeeOther {
			return true
		}
		if err == nil {
			err = fmt.Errorf("approve %d: %d", id, p.status)
		}
		c.httpErr(err)
		time.Sleep(time.Second)
	}
	return false
}

// approvePending approves, over HTTP, requests still pending after the
// filers stopped (their approval was lost with a killed server), so that
// every request filed goes to the worker.
func (c *chaos) approvePending() {
	rows, err := c.w.pool.Query(context.Background(), `SELECT id FROM restore_requests WHERE status = $1`, string(restore.Pending))
	if err != nil {
		c.t.Fatalf("pending requests: %v", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		c.t.Fatalf("pending requests: %v", err)
	}
	if len(ids) == 0 {
		return
	}
	c.say("approving %d requests left pending: %v", len(ids), ids)
	bob := c.browser("bob")
	for _, id := range ids {
		if c.approve(bob, id, time.Minute) {
			c.approved.Add(1)
		}
	}
}

func (c *chaos) httpErr(err error) {
	c.httpErrs.Add(1)
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if i := strings.IndexByte(msg, '?'); i >= 0 && strings.Contains(msg, "http://") {
		msg = msg[:i] + "…" // the form's query string says nothing
	}
	c.lastErr.Store(msg)
}

// chaosBrowser is a signed-in user's browser that sends each request to
// either web server: the session cookie is valid on both (one key set, one
// database), and cookies do not tell ports apart.
type chaosBrowser struct {
	c        *chaos
	username string
	http     *http.Client
	signedIn bool // one goroutine uses a browser
}

func (c *chaos) browser(username string) *chaosBrowser {
	jar, _ := cookiejar.New(nil)
	return &chaosBrowser{c: c, username: username, http: &http.Client{
		Jar: jar, Timeout: 90 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *chaosBrowser) get(path string) (page, error) {
	return b.send(http.MethodGet, path, nil)
}

func (b *chaosBrowser) postForm(path string, v url.Values) (page, error) {
	return b.send(http.MethodPost, path, v)
}

// send sends one request, signing in first when there is no session yet or
// a server answers that it has none.
func (b *chaosBrowser) send(method, path string, form url.Values) (page, error) {
	if !b.signedIn {
		if err := b.signIn(); err != nil {
			return page{}, err
		}
	}
	p, err := b.once(method, path, form)
	if err == nil && (p.status == http.StatusUnauthorized || p.status == http.StatusSeeOther && strings.HasPrefix(p.location, "/signin")) {
		if err := b.signIn(); err != nil {
			return page{}, err
		}
		p, err = b.once(method, path, form)
	}
	return p, err
}

func (b *chaosBrowser) signIn() error {
	p, err := b.once(http.MethodPost, "/signin", url.Values{"username": {b.username}, "password": {procPassword}})
	if err != nil {
		return err
	}
	if p.status != http.StatusSeeOther || strings.HasPrefix(p.location, "/signin") {
		return fmt.Errorf("sign in %s: %d %s", b.username, p.status, p.location)
	}
	b.signedIn = true
	return nil
}

func (b *chaosBrowser) once(method, path string, form url.Values) (page, error) {
	base := b.c.servers[rand.N(len(b.c.servers))]
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return page{}, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return page{}, err
	}
	return page{resp.StatusCode, resp.Header.Get("Location"), string(raw)}, nil
}

// slot is one of the run's app processes, restarted whenever it ends until
// the run is over: after a kill -9 of ours, or when it exits by itself (said
// in the progress, as it should not happen).
type slot struct {
	name string
	args []string
	env  []string
	log  string // every incarnation appends to it

	mu        sync.Mutex
	cmd       *exec.Cmd
	killed    bool // the current process was killed by us
	kills     int
	selfExits int
}

func (s *slot) supervise(ctx context.Context, c *chaos) {
	f, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.say("%s: %v", s.name, err)
		return
	}
	defer f.Close()
	for ctx.Err() == nil {
		cmd := exec.CommandContext(ctx, c.bin, s.args...)
		cmd.Env, cmd.Stdout, cmd.Stderr = s.env, f, f
		fmt.Fprintf(f, "=== chaos: %s starts at %s\n", s.name, time.Now().UTC().Format(time.RFC3339Nano))
		err := cmd.Start()
		if err == nil {
			s.mu.Lock()
			s.cmd = cmd
			s.mu.Unlock()
			err = cmd.Wait()
		}
		s.mu.Lock()
		s.cmd = nil
		killed := s.killed
		s.killed = false
		s.mu.Unlock()
		fmt.Fprintf(f, "=== chaos: %s ended at %s: %v\n", s.name, time.Now().UTC().Format(time.RFC3339Nano), err)
		if ctx.Err() != nil {
			return
		}
		if killed {
			pause(ctx, between(500*time.Millisecond, 3*time.Second))
			continue
		}
		s.mu.Lock()
		s.selfExits++
		s.mu.Unlock()
		c.say("%s exited by itself (%v); restarting it (log %s)", s.name, err, s.log)
		pause(ctx, time.Second)
	}
}

// kill sends SIGKILL to the running process and returns its pid (0: none runs).
func (s *slot) kill() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.killed {
		return 0
	}
	s.killed = true
	s.kills++
	_ = s.cmd.Process.Kill()
	return s.cmd.Process.Pid
}

// chaosRequest is what the verdict reads of a request.
type chaosRequest struct {
	id       int64
	status   string
	instance string
	reason   string
}

// verdict compares the requests with the simulator's instances and the
// audit trail, explains each failure, and prints the summary line last.
func (c *chaos) verdict(deploymentID string) {
	t := c.t
	ctx := context.Background()
	rows, err := c.w.pool.Query(ctx, `SELECT id, status, coalesce(instance_id, ''), failure_reason FROM restore_requests ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []chaosRequest
	for rows.Next() {
		var r chaosRequest
		if err := rows.Scan(&r.id, &r.status, &r.instance, &r.reason); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	// Every instance carrying our tag key, visible or not, by request.
	var all []jdcloud.Instance
	c.w.controlJSON("/instances/cn-north-1?tag-key="+url.QueryEscape(restore.TagKey), &all)
	tagged := map[int64][]jdcloud.Instance{}
	var strays []jdcloud.Instance
	for _, in := range all {
		v, _ := in.Tag(restore.TagKey)
		id, err := strconv.ParseInt(strings.TrimPrefix(v, deploymentID+"/"), 10, 64)
		if err != nil || !strings.HasPrefix(v, deploymentID+"/") {
			strays = append(strays, in)
			continue
		}
		tagged[id] = append(tagged[id], in)
	}
	// The instances each request names in request.duplicate_instance events.
	named := map[int64]string{}
	evRows, err := c.w.pool.Query(ctx, `SELECT target_id, details::text FROM audit_events
		WHERE action = $1 AND target_type = 'request'`, audit.RequestDuplicate)
	if err != nil {
		t.Fatal(err)
	}
	for evRows.Next() {
		var target, details string
		if err := evRows.Scan(&target, &details); err != nil {
			t.Fatal(err)
		}
		id, _ := strconv.ParseInt(target, 10, 64)
		named[id] += details
	}
	if err := evRows.Err(); err != nil {
		t.Fatal(err)
	}

	var ready, failed, dups, stuck int
	var problems []string
	explain := map[int64][]string{}
	kinds := map[string]int{} // problem kind → how many
	note := func(id int64, kind, format string, args ...any) {
		kinds[kind]++
		explain[id] = append(explain[id], kind+": "+fmt.Sprintf(format, args...))
	}
	for _, r := range reqs {
		ins := tagged[r.id]
		switch {
		case r.status == string(restore.Ready):
			ready++
		case r.status == string(restore.Failed):
			failed++
		case !restore.Status(r.status).Terminal():
			stuck++
			note(r.id, "stuck", "still %s %s after the faults stopped", r.status, chaosSettle)
		}
		if len(ins) > 1 {
			dups++
			note(r.id, "duplicate", "%d instances carry its tag", len(ins))
		}
		for _, in := range ins {
			if in.InstanceID != r.instance && !strings.Contains(named[r.id], in.InstanceID) {
				note(r.id, "orphan", "%s (%s) carries its tag, but the request records %q and no request.duplicate_instance event names it",
					in.InstanceID, in.InstanceStatus, r.instance)
			}
			if r.status == string(restore.Failed) && in.InstanceStatus == jdcloud.StatusRunning {
				note(r.id, "wrong failure", "failed, but its instance %s is RUNNING", in.InstanceID)
			}
		}
		if r.status == string(restore.Failed) && strings.TrimSpace(r.reason) == "" {
			note(r.id, "no reason", "failed without a reason")
		}
		if r.status == string(restore.Ready) && !slices.ContainsFunc(ins, func(in jdcloud.Instance) bool { return in.InstanceID == r.instance }) {
			note(r.id, "unknown instance", "ready with %q, which the simulator does not hold under its tag", r.instance)
		}
	}
	for _, in := range strays {
		v, _ := in.Tag(restore.TagKey)
		problems = append(problems, fmt.Sprintf("orphan: %s (%s) carries %s=%s, which is no request of this deployment",
			in.InstanceID, in.InstanceStatus, restore.TagKey, v))
	}

	if len(reqs) == 0 {
		problems = append(problems, "no request was filed, so nothing was measured; the filers' last error: "+c.lastErr.Load().(string))
	}

	auditOK := true
	cmd := exec.Command(c.bin, "audit", "verify")
	cmd.Env = c.w.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		auditOK = false
		problems = append(problems, fmt.Sprintf("audit chain: %v: %s", err, strings.TrimSpace(string(out))))
	}

	// The details: each request with a problem, with what the simulator
	// holds under its tag and the request's own history.
	byID := map[int64]chaosRequest{}
	for _, r := range reqs {
		byID[r.id] = r
	}
	var bad []int64
	for id := range explain {
		bad = append(bad, id)
	}
	slices.Sort(bad)
	if len(bad) > 0 || len(problems) > 0 {
		fmt.Println()
		fmt.Printf("chaos: %d requests with problems\n", len(bad))
	}
	for i, id := range bad {
		r := byID[id]
		fmt.Printf("request %d: %s, records instance %q", id, r.status, r.instance)
		if r.reason != "" {
			fmt.Printf(", reason %q", r.reason)
		}
		fmt.Println()
		for _, e := range explain[id] {
			fmt.Printf("  - %s\n", e)
		}
		if i >= 15 {
			continue // the first ones in full; the rest in a line each
		}
		for _, in := range tagged[id] {
			created := in.CreateTime
			if at, err := jdcloud.ParseTime(in.CreateTime); err == nil {
				created = at.UTC().Format("15:04:05")
			}
			fmt.Printf("  instance %s: %s, created %s\n", in.InstanceID, in.InstanceStatus, created)
		}
		for _, e := range c.history(id) {
			fmt.Printf("  %s\n", e)
		}
	}
	for _, p := range problems {
		fmt.Printf("%s\n", p)
	}

	reasons := map[string]int{}
	for _, r := range reqs {
		if r.status == string(restore.Failed) {
			reasons[chaosReasonShape.ReplaceAllString(r.reason, "…")]++
		}
	}
	for _, k := range slices.Sorted(maps.Keys(reasons)) {
		fmt.Printf("chaos: failed ×%d: %s\n", reasons[k], k)
	}
	if len(kinds) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(kinds)) {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, kinds[k]))
		}
		fmt.Printf("chaos: problems found: %s\n", strings.Join(parts, ", "))
	}

	fmt.Println()
	st := c.w.simStats()
	raw, _ := json.Marshal(st.Injected)
	fmt.Printf("chaos: the simulator created %d instances (%d tagged ours); injected %s\n", st.Creates, len(all)-len(strays), raw)
	for _, s := range c.slots {
		fmt.Printf("chaos: %s killed %d times, exited by itself %d times (log %s)\n", s.name, s.kills, s.selfExits, s.log)
	}
	fmt.Printf("chaos: %s; %d requests filed by %d filers (%d HTTP errors on the way), in %s\n",
		c.pgRestart, c.filed.Load(), chaosFilers, c.httpErrs.Load(), time.Since(c.start).Round(time.Second))

	audit := "ok"
	if !auditOK {
		audit = "broken"
	}
	summary := fmt.Sprintf("%d requests: %d ready, %d failed, %d duplicates, %d stuck, audit %s", len(reqs), ready, failed, dups, stuck, audit)
	if f := os.Getenv("CHAOS_SUMMARY"); f != "" {
		if err := os.WriteFile(f, []byte(summary+"\n"), 0o644); err != nil {
			t.Errorf("write %s: %v", f, err)
		}
	}
	if len(bad) > 0 || len(problems) > 0 {
		t.Fail()
	}
	fmt.Println(summary)
}

// chaosReasonShape matches what differs between failure reasons of one
// kind (instance and JD Cloud request ids), to count them together.
var chaosReasonShape = regexp.MustCompile(`\b[a-z]+-[a-z0-9]{10}\b|request id [a-z0-9]+`)

// history is request id's audit events, one line each, oldest first.
func (c *chaos) history(id int64) []string {
	rows, err := c.w.pool.Query(context.Background(), `SELECT occurred_at, action, details::text FROM audit_events
		WHERE target_type = 'request' AND target_id = $1 ORDER BY seq`, strconv.FormatInt(id, 10))
	if err != nil {
		return []string{"(history: " + err.Error() + ")"}
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var at time.Time
		var action, details string
		if err := rows.Scan(&at, &action, &details); err != nil {
			return append(out, "(history: "+err.Error()+")")
		}
		switch {
		case action == "request.created":
			details = "" // the whole spec, the same for every request of the run
		case len(details) > 240:
			details = details[:240] + "…"
		}
		out = append(out, fmt.Sprintf("%s %s %s", at.UTC().Format("15:04:05.000"), action, details))
	}
	if err := rows.Err(); err != nil {
		out = append(out, "(history: "+err.Error()+")")
	}
	return out
}

// between is a random duration in [lo, hi).
func between(lo, hi time.Duration) time.Duration { return lo + rand.N(hi-lo) }

// pause sleeps for d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
