package notify_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jobs"
	"restoredesk/internal/notify"
	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
	"restoredesk/internal/restore"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }

// fixture is a database with two teams and their people, the real
// lifecycle, and a notifier whose River client the test starts.
type fixture struct {
	t     *testing.T
	url   string
	pool  *pgxpool.Pool
	life  *restore.Lifecycle
	users map[string]int64
	teams map[string]int64
	box   *notify.Box
}

var base, _ = url.Parse("https://restore.example.com")

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	u := postgrestest.URL(t)
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	box, _ := notify.NewBox("test key test key test key test key")
	f := &fixture{t: t, url: u, pool: pool, users: map[string]int64{}, teams: map[string]int64{}, box: box}
	f.life = restore.NewLifecycle(pool, postgres.LoadUser, 72*time.Hour)
	db := postgres.New(pool)
	for _, team := range []string{"payments", "search"} {
		id, err := db.InsertTeam(ctx, team)
		if err != nil {
			t.Fatal(err)
		}
		f.teams[team] = id
		f.exec(`INSERT INTO team_instances (team_id, region, instance_id) VALUES ($1, 'cn-north-1', $2)`, id, "mysql-"+team)
		f.exec(`INSERT INTO team_vpcs (team_id, region, vpc_id) VALUES ($1, 'cn-north-1', $2)`, id, "vpc-"+team)
	}
	for _, p := range []struct {
		name  string
		teams map[string]bool
		admin bool
	}{
		{"alice", map[string]bool{"payments": false}, false},
		{"bob", map[string]bool{"payments": true}, false},
		{"grace", map[string]bool{"payments": true}, false},
		{"carol", map[string]bool{"search": true}, false},
		{"frank", map[string]bool{"search": false}, false},
		{"erin", nil, true},
	} {
		id, err := db.InsertUser(ctx, postgres.NewUser{Username: p.name, Email: p.name + "@example.com", DisplayName: p.name, Admin: p.admin})
		if err != nil {
			t.Fatal(err)
		}
		f.users[p.name] = id
		for team, lead := range p.teams {
			if err := db.SetMembership(ctx, id, f.teams[team], lead); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f *fixture) actor(name string) audit.Actor {
	return audit.Actor{UserID: f.users[name], Name: name}
}

// submit files a request as name in team.
func (f *fixture) submit(name, team, reason string) int64 {
	f.t.Helper()
	key := make([]byte, 12)
	rand.Read(key)
	id, _, err := f.life.Submit(f.t.Context(), f.actor(name), restore.NewRequest{
		SubmissionKey: hex.EncodeToString(key), TeamID: f.teams[team], Region: "cn-north-1",
		SourceInstanceID: "mysql-" + team, SourceInstanceName: team + "-db",
		Backup: jdcloud.Backup{BackupID: "bk-1", BackupName: "nightly"},
		Engine: "MySQL", Spec: jdcloud.RestoredInstanceSpec{VpcID: "vpc-" + team}, Reason: reason,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// finish moves approved request id to status as the worker would, with its event.
func (f *fixture) finish(id int64, action, status string, details map[string]any) {
	f.t.Helper()
	f.event(id, action, status, details)
}

// record writes an audit event about request id without moving it.
func (f *fixture) record(id int64, action string, details map[string]any) {
	f.t.Helper()
	f.event(id, action, "", details)
}

// event records action about request id, first moving it to status unless "".
func (f *fixture) event(id int64, action, status string, details map[string]any) {
	err := postgres.New(f.pool).Tx(f.t.Context(), func(tx *postgres.DB) error {
		r, err := tx.RequestForUpdate(f.t.Context(), id)
		if err != nil {
			return err
		}
		if status != "" {
			if _, err := tx.Conn().Exec(f.t.Context(), `UPDATE restore_requests SET status = $2 WHERE id = $1`, id, status); err != nil {
				return err
			}
		}
		_, err = audit.Record(f.t.Context(), tx.Conn(), audit.Event{Actor: audit.System, Action: action, TargetType: audit.TargetRequest,
			TargetID: strconv.FormatInt(id, 10), TeamID: r.TeamID, Details: details})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// channel stores a group channel (team "" for the global default).
func (f *fixture) channel(team, kind, name, rawURL, secret, allow string) int64 {
	f.t.Helper()
	in := postgres.ChannelInput{Kind: kind, Name: name, Enabled: true, AllowNetworks: allow, URLHint: notify.MaskURL(rawURL), HasSecret: secret != ""}
	if team != "" {
		id := f.teams[team]
		in.TeamID = &id
	}
	sealed, err := f.box.Seal(notify.Secrets{URL: rawURL, Secret: secret})
	if err != nil {
		f.t.Fatal(err)
	}
	in.Secrets = sealed
	id, err := postgres.New(f.pool).InsertChannel(f.t.Context(), in)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// worker starts a working River client with the notifier on its own pool,
// as one more process would; it stops when the test ends.
func (f *fixture) worker(cfg notify.Config) *jobs.Client {
	f.t.Helper()
	pool, err := pgxpool.New(context.Background(), f.url)
	if err != nil {
		f.t.Fatal(err)
	}
	cfg.BaseURL, cfg.Box = base, f.box
	if cfg.FanoutEvery == 0 {
		cfg.FanoutEvery = 100 * time.Millisecond
	}
	if cfg.ReminderEvery == 0 {
		cfg.ReminderEvery = 100 * time.Millisecond
	}
	if cfg.Backoff == nil {
		cfg.Backoff = []time.Duration{0, 0, 0}
	}
	client, err := jobs.New(pool, jobs.Config{Work: true, Test: true, Poll: 50 * time.Millisecond, Log: testLog}, notify.New(pool, cfg))
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- jobs.Run(ctx, client, slogDiscard) }()
	f.t.Cleanup(func() { cancel(); <-done; pool.Close() })
	return client
}

// settle waits until every event is fanned out and no delivery is queued
// or retrying, then returns the deliveries.
func (f *fixture) settle() []postgres.Delivery {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var behind, open int
		f.pool.QueryRow(context.Background(), `SELECT (SELECT max(seq) FROM audit_events) - (SELECT last_seq FROM notify_cursor),
			(SELECT count(*) FROM notify_deliveries WHERE status IN ('queued', 'retrying'))`).Scan(&behind, &open)
		if behind == 0 && open == 0 {
			break
		}
		if time.Now().After(deadline) {
			rows, _ := f.pool.Query(context.Background(), `SELECT kind, state::text, attempt, errors::text FROM river_job ORDER BY id DESC LIMIT 5`)
			for rows.Next() {
				var k, st, e string
				var a int
				rows.Scan(&k, &st, &a, &e)
				f.t.Logf("job %s %s %d %s", k, st, a, e)
			}
			rows.Close()
			f.t.Fatalf("deliveries did not settle: %d events behind, %d open", behind, open)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ds, err := postgres.New(f.pool).PersonalDeliveries(context.Background(), 0, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	return ds
}
