package restore_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/jobs"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
	"restoredesk/internal/request"
	"restoredesk/internal/restore"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }

// fixture is a database with the demo's teams and people, the simulator over
// real HTTP, and the lifecycle and worker wired as web serve wires them.
type fixture struct {
	pool    *pgxpool.Pool
	sim     *jdcloudsim.Sim
	cloud   func(func(jdcloud.CallInfo)) *jdcloud.Client
	life    *restore.Lifecycle
	planner *restore.Planner
	users   map[string]int64
	teams   map[string]int64
	depID   string
}

// fastWorker is a worker configuration that makes tests take seconds.
func fastWorker() restore.WorkerConfig {
	return restore.WorkerConfig{
		VisibilityWindow: 1500 * time.Millisecond, BuildTimeout: time.Minute, MaxCreateAttempts: 5,
		RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		PollBase: 30 * time.Millisecond, PollMax: 150 * time.Millisecond,
	}
}

func newFixture(t *testing.T, ttl time.Duration) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{pool: postgrestest.Pool(t), users: map[string]int64{}, teams: map[string]int64{}}
	sim, err := jdcloudsim.New(ctx, jdcloudsim.Options{BuildTime: 300 * time.Millisecond, DeleteTime: 300 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.sim = sim
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	endpoint, _ := jdcloud.ParseEndpoint(srv.URL)
	f.cloud = func(observe func(jdcloud.CallInfo)) *jdcloud.Client {
		opts := []jdcloud.Option{jdcloud.WithEndpoint(endpoint), jdcloud.WithTimeout(5 * time.Second),
			jdcloud.WithRetry(jdcloud.RetryPolicy{Attempts: 2, BaseDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond})}
		if observe != nil {
			opts = append(opts, jdcloud.WithObserver(observe))
		}
		return jdcloud.New(jdcloudsim.DemoAccessKey, jdcloudsim.DemoSecretKey, opts...)
	}
	db := postgres.New(f.pool)
	for _, team := range []string{"payments", "search"} {
		var id int64
		if err := f.pool.QueryRow(ctx, `INSERT INTO teams (name) VALUES ($1) RETURNING id`, team).Scan(&id); err != nil {
			t.Fatal(err)
		}
		f.teams[team] = id
	}
	people := []struct {
		name    string
		teams   map[string]bool // team → lead
		auditor bool
		admin   bool
	}{
		{"alice", map[string]bool{"payments": false}, false, false},
		{"bob", map[string]bool{"payments": true}, false, false},
		{"grace", map[string]bool{"payments": true}, false, false},
		{"carol", map[string]bool{"payments": false, "search": true}, false, false},
		{"frank", map[string]bool{"search": false}, false, false},
		{"dave", nil, true, false},
		{"erin", nil, false, true},
	}
	for _, p := range people {
		id, err := db.InsertUser(ctx, postgres.NewUser{Username: p.name, Email: p.name + "@example.com", DisplayName: p.name,
			Auditor: p.auditor, Admin: p.admin})
		if err != nil {
			t.Fatal(err)
		}
		f.users[p.name] = id
		for team, lead := range p.teams {
			if _, err := f.pool.Exec(ctx, `INSERT INTO memberships (user_id, team_id, lead) VALUES ($1, $2, $3)`,
				id, f.teams[team], lead); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, o := range jdcloudsim.SeedOwnership() {
		team, ok := f.teams[o.Team]
		if !ok {
			continue
		}
		for _, id := range o.InstanceIDs {
			in, _ := sim.Instance(o.Region, id)
			db.AddTeamInstance(ctx, postgres.TeamInstance{TeamID: team, Region: o.Region, InstanceID: id, InstanceName: in.InstanceName, Engine: in.Engine})
		}
		for _, id := range o.VpcIDs {
			db.AddTeamVPC(ctx, postgres.TeamVPC{TeamID: team, Region: o.Region, VpcID: id})
		}
	}
	dep, err := db.Deployment(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.depID = dep.ID
	f.life = restore.NewLifecycle(f.pool, postgres.LoadUser, ttl)
	f.planner = restore.NewPlanner(db, f.cloud(nil), nil)
	return f
}

func (f *fixture) user(t *testing.T, name string) *policy.User {
	t.Helper()
	u, err := postgres.LoadUser(t.Context(), f.pool, f.users[name])
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) actor(name string) audit.Actor {
	return audit.Actor{UserID: f.users[name], Name: name, ClientAddr: "127.0.0.1", UserAgent: "test"}
}

// draft returns a form for restoring source's newest backup, as a user would
// leave it after picking the source and a backup.
func (f *fixture) draft(t *testing.T, who, team, source string) restore.Draft {
	t.Helper()
	d := restore.Draft{Key: fmt.Sprintf("key-%s-%d", who, time.Now().UnixNano()), Team: strconv.FormatInt(f.teams[team], 10),
		Region: "cn-north-1", Source: source, Reason: "customer dispute #4411: need last week's orders"}
	ch, err := f.planner.Choices(t.Context(), f.user(t, who), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Backups) == 0 {
		t.Fatalf("no restorable backups of %s (lookup: %s)", source, ch.LookupErr)
	}
	d = ch.Suggested
	d.Backup = ch.Backups[0].BackupID
	return d
}

// submit files a request as who and returns its id.
func (f *fixture) submit(t *testing.T, who, team, source string) int64 {
	t.Helper()
	d := f.draft(t, who, team, source)
	u := f.user(t, who)
	ch, err := f.planner.Choices(t.Context(), u, d)
	if err != nil {
		t.Fatal(err)
	}
	d = ch.Suggested
	n, problems := f.planner.Validate(u, d, ch)
	if problems != nil {
		t.Fatalf("valid draft refused: %v", problems)
	}
	id, created, err := f.life.Submit(t.Context(), f.actor(who), n)
	if err != nil || !created {
		t.Fatalf("submit: id %d created %v err %v", id, created, err)
	}
	return id
}

func (f *fixture) request(t *testing.T, id int64) request.Request {
	t.Helper()
	r, err := postgres.New(f.pool).Request(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runWorker runs a worker (or several, standing for replicas) until the
// test ends: the restore's jobs on a River client of its own, as each
// process has.
func (f *fixture) runWorker(t *testing.T, cfg restore.WorkerConfig) context.CancelFunc {
	t.Helper()
	cfg.Cloud, cfg.DeploymentID = f.cloud, f.depID
	w := restore.NewWorker(f.pool, f.life, cfg)
	client, err := jobs.New(f.pool, jobs.Config{Work: true, Test: true, Poll: 30 * time.Millisecond,
		JobTimeout: restore.JobTimeout(cfg.ClientTimeout), RescueAfter: restore.JobTimeout(cfg.ClientTimeout) + time.Second}, w)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { jobs.Run(ctx, client, slog.New(slog.DiscardHandler)); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

// waitStatus waits until request id is in a terminal state (or want) and returns it.
func (f *fixture) waitFinal(t *testing.T, id int64) request.Request {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := f.request(t, id)
		if r.Status.Terminal() {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %d still %s (%s)", id, r.Status, r.FailureReason)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// events returns the actions recorded for request id, in order.
func (f *fixture) events(t *testing.T, id int64) []string {
	t.Helper()
	rows, err := f.pool.Query(t.Context(), `SELECT action FROM audit_events WHERE target_type = 'request' AND target_id = $1 ORDER BY seq`,
		strconv.FormatInt(id, 10))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		rows.Scan(&a)
		out = append(out, a)
	}
	return out
}

// executionJobs counts request id's execution jobs, in any state.
func (f *fixture) executionJobs(t *testing.T, id int64) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = $1 AND (args->>'request_id')::bigint = $2`,
		restore.KindExecute, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
