package testkit

import (
	"context"
	"crypto/rand"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"restoredesk/internal/app"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/jobs"
	"restoredesk/internal/postgres"
	"restoredesk/internal/restore"
)

// Restore is the restore workflow of a test server: the JD Cloud simulator
// over real HTTP, the client factory, and the lifecycle the handlers use.
type Restore struct {
	Sim          *jdcloudsim.Sim
	Cloud        func(observe func(jdcloud.CallInfo)) *jdcloud.Client
	Lifecycle    *restore.Lifecycle
	DeploymentID string
}

// FastWorker is a worker configuration that finishes a restore in about a
// second against a simulator whose builds take BuildTime.
func FastWorker() restore.WorkerConfig {
	return restore.WorkerConfig{
		VisibilityWindow: 1500 * time.Millisecond, BuildTimeout: time.Minute,
		RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		PollBase: 30 * time.Millisecond, PollMax: 150 * time.Millisecond,
	}
}

// FastJobs is the River configuration replicas run with in tests: quick
// polls and start-up; the timeouts stay production's, derived from the JD
// Cloud client's.
func FastJobs() jobs.Config {
	return jobs.Config{Work: true, Test: true, Poll: 30 * time.Millisecond}
}

// BuildTime is how long the test simulator's instances stay BUILDING.
const BuildTime = 500 * time.Millisecond

// simulator is a test's JD Cloud: a simulator over real HTTP and how to reach it.
type simulator struct {
	sim   *jdcloudsim.Sim
	cloud app.Cloud
}

// startSimulator starts a simulator until the test ends.
func startSimulator(t testing.TB) simulator {
	t.Helper()
	sim, err := jdcloudsim.New(t.Context(), jdcloudsim.Options{BuildTime: BuildTime, Seed: 7})
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	endpoint, _ := jdcloud.ParseEndpoint(srv.URL)
	return simulator{sim: sim, cloud: app.Cloud{
		AccessKey: jdcloudsim.DemoAccessKey, SecretKey: jdcloudsim.DemoSecretKey,
		Options: []jdcloud.Option{jdcloud.WithEndpoint(endpoint), jdcloud.WithTimeout(5 * time.Second),
			jdcloud.WithRetry(jdcloud.RetryPolicy{Attempts: 2, BaseDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond})},
	}}
}

// RunWorker runs a worker against the server's database and simulator
// until the test ends: a replica built by app.New from the server's
// configuration with cfg as its restore worker's, working every River job
// as `web worker` does (several calls stand for several replicas).
func (s *Server) RunWorker(t testing.TB, cfg restore.WorkerConfig) {
	t.Helper()
	c := s.config
	c.Worker, c.Jobs = cfg, FastJobs()
	// The copies' check runs often, so a test sees a copy soon after Ready.
	c.Copies = restore.CopiesConfig{CheckEvery: 200 * time.Millisecond, Wait: 100 * time.Millisecond,
		RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond}
	a, err := app.New(t.Context(), c)
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// GrantSeedOwnership gives team (created when missing) the instances and VPCs
// the simulator's seed assigns it, as the demo seed does.
func (s *Server) GrantSeedOwnership(t testing.TB, team string) int64 {
	t.Helper()
	id := s.Team(t, team)
	db := postgres.New(s.Pool)
	for _, o := range jdcloudsim.SeedOwnership() {
		if o.Team != team {
			continue
		}
		for _, inst := range o.InstanceIDs {
			in, _ := s.Restore.Sim.Instance(o.Region, inst)
			if _, err := db.AddTeamInstance(t.Context(), postgres.TeamInstance{TeamID: id, Region: o.Region, InstanceID: inst,
				InstanceName: in.InstanceName, Engine: in.Engine}); err != nil {
				t.Fatal(err)
			}
		}
		for _, v := range o.VpcIDs {
			if _, err := db.AddTeamVPC(t.Context(), postgres.TeamVPC{TeamID: id, Region: o.Region, VpcID: v}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return id
}

// RequestForm returns a valid request form for username: team's first
// instance in cn-north-1 of the given source id, its newest backup, and the
// defaults the form fills in.
func (s *Server) RequestForm(t testing.TB, username, team, source string) url.Values {
	t.Helper()
	ctx := t.Context()
	u, err := postgres.New(s.Pool).UserByUsername(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	pu, err := postgres.LoadUser(ctx, s.Pool, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	planner := restore.NewPlanner(postgres.New(s.Pool), s.Restore.Cloud(nil), nil)
	d := restore.Draft{Key: rand.Text(), Team: strconv.FormatInt(s.Team(t, team), 10), Region: "cn-north-1", Source: source}
	ch, err := planner.Choices(ctx, pu, d)
	if err != nil || len(ch.Backups) == 0 {
		t.Fatalf("request form for %s: %v (%s)", source, err, ch.LookupErr)
	}
	d = ch.Suggested
	d.Backup = ch.Backups[0].BackupID
	if ch, err = planner.Choices(ctx, pu, d); err != nil {
		t.Fatal(err)
	}
	d = ch.Suggested
	return url.Values{
		"key": {d.Key}, "team": {d.Team}, "region": {d.Region}, "source": {d.Source}, "backup": {d.Backup},
		"class": {d.Class}, "storage": {d.Storage}, "az_primary": {d.AZPrimary}, "az_standby": {d.AZStandby},
		"vpc": {d.VPC}, "subnet": {d.Subnet}, "storage_type": {d.StorageType}, "port": {d.Port}, "arch": {d.Arch},
		"charge_mode": {d.ChargeMode}, "reason": {"test restore by " + username},
	}
}

// SubmitRequest files a request as username (created by CreateUser) through
// the form and returns its id.
func (s *Server) SubmitRequest(t testing.TB, username, team, source string) int64 {
	t.Helper()
	return s.SubmitRequestAs(t, username, Password, team, source)
}

// SubmitRequestAs is SubmitRequest for a user with another password (the
// demo users').
func (s *Server) SubmitRequestAs(t testing.TB, username, password, team, source string) int64 {
	t.Helper()
	c := s.SignIn(t, username, password)
	resp, body := c.PostForm(t, "/requests", s.RequestForm(t, username, team, source))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !strings.HasPrefix(loc, "/requests/") {
		t.Fatalf("submit request as %s: %d %s\n%s", username, resp.StatusCode, loc, body)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/requests/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
