// Package app is Restore Desk's one wiring: New builds the whole application
// (identity, lifecycle, worker, JD Cloud client, sessions, handlers and
// routes) from a Config. `web serve`, `web worker` and the test harness
// (internal/testkit) all call New, with different values and nothing else, so
// the tests run the wiring production runs.
//
// New starts nothing: Run starts the background work (River's jobs too), SeedDemo seeds demo
// mode, and the caller serves App.Web on the listener of its choice.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"restoredesk/internal/demo"
	"restoredesk/internal/handlers"
	"restoredesk/internal/identity"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jobs"
	"restoredesk/internal/notify"
	"restoredesk/internal/postgres"
	"restoredesk/internal/pricing"
	"restoredesk/internal/restore"
	"restoredesk/internal/timezone"
)

// Config is everything New needs. The zero value of a tuning field means
// production's default.
type Config struct {
	// Pool is the migrated database.
	Pool *pgxpool.Pool
	Log  *slog.Logger
	// Demo marks every page "Demo" and lists the demo accounts on the
	// sign-in page; SeedDemo seeds them.
	Demo bool

	// SessionKeyPairs are gorilla/securecookie's hash and block keys, newest
	// pair first.
	SessionKeyPairs [][]byte
	// SecureCookies: the site is served over https (BASE_URL), so cookies are
	// Secure and HSTS is sent.
	SecureCookies  bool
	TrustedProxies []netip.Prefix
	// Identity tunes hashing, throttling and session lifetimes.
	Identity identity.Config
	// SessionPersistent gives the session cookie a Max-Age (the session's
	// absolute lifetime) so it outlives the browser; without it the cookie
	// ends with the browser, and the session ends on the server anyway.
	SessionPersistent bool
	// SSO turns single sign-on on when its Issuer is set.
	SSO handlers.SSOConfig

	// Cloud says how to reach JD Cloud.
	Cloud Cloud
	// ApprovalTTL is how long a request waits for a decision (default 72h).
	ApprovalTTL time.Duration
	// Worker tunes the restore worker; New fills its Cloud, DeploymentID and Log.
	Worker restore.WorkerConfig
	// Copies tunes the deletion of restored copies.
	Copies restore.CopiesConfig
	// AuditCheckpoint is how often the audit chain's head is logged (default 1h).
	AuditCheckpoint time.Duration
	// Prices is the price table estimates come from (default: the shipped one).
	Prices *pricing.Table
	// DefaultZone is the zone pages show times in when neither the user's
	// setting nor their browser says (DEFAULT_TIME_ZONE; nil: Asia/Shanghai).
	DefaultZone *time.Location

	// Notify gives the admin pages their notification service (channels,
	// deliveries, outbox); nil: notifications are not wired.
	Notify *notify.Service
	// Jobs tunes the River client New builds for all the background work;
	// with Jobs.Work, Run works the jobs (web serve, web worker), otherwise
	// this process only inserts them. A zero JobTimeout is derived from the
	// JD Cloud client's timeout (restore.JobTimeout), a zero RescueAfter is
	// RescueMargin longer.
	Jobs jobs.Config
	// Kinds is the background work beside the application's own (the
	// restore execution, expiry, session clean-up, audit checkpoints):
	// main's list, notifications today.
	Kinds []jobs.Kind
}

// RescueMargin is how much longer than the job timeout River waits before it
// takes a job still marked running for one whose worker died, by default.
const RescueMargin = 15 * time.Second

// Cloud is the JD Cloud key pair and client options (endpoint, HTTP client,
// timeouts, retries).
type Cloud struct {
	AccessKey, SecretKey string
	Options              []jdcloud.Option
}

// App is the application New built.
type App struct {
	// Web answers every route of the product.
	Web *echo.Echo
	// Metrics is what /metrics serves: HTTP, JD Cloud calls, requests by status.
	Metrics   *prometheus.Registry
	Identity  *identity.Service
	Lifecycle *restore.Lifecycle
	Worker    *restore.Worker
	// Jobs is the River client of every background job.
	Jobs *jobs.Client
	// Cloud returns a JD Cloud client whose calls are counted in Metrics and
	// also reported to observe (when not nil).
	Cloud        func(observe func(jdcloud.CallInfo)) *jdcloud.Client
	DeploymentID string

	pool *pgxpool.Pool
	log  *slog.Logger
	work bool // Run works the jobs
}

// New builds the application. It reads the deployment id from the database
// and starts nothing.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.ApprovalTTL == 0 {
		cfg.ApprovalTTL = 72 * time.Hour
	}
	if cfg.AuditCheckpoint == 0 {
		cfg.AuditCheckpoint = time.Hour
	}
	dep, err := postgres.New(cfg.Pool).Deployment(ctx)
	if err != nil {
		return nil, err
	}
	httpMetrics := handlers.NewMetrics()
	work := newWorkflowMetrics(httpMetrics.Registry, cfg.Pool)
	cloud := func(observe func(jdcloud.CallInfo)) *jdcloud.Client {
		all := func(info jdcloud.CallInfo) {
			work.observe(info)
			if observe != nil {
				observe(info)
			}
		}
		opts := append(cfg.Cloud.Options[:len(cfg.Cloud.Options):len(cfg.Cloud.Options)],
			jdcloud.WithLogger(cfg.Log), jdcloud.WithObserver(all))
		return jdcloud.New(cfg.Cloud.AccessKey, cfg.Cloud.SecretKey, opts...)
	}

	ids := identity.New(cfg.Pool, cfg.Identity)
	life := restore.NewLifecycle(cfg.Pool, postgres.LoadUser, cfg.ApprovalTTL)
	wcfg := cfg.Worker
	wcfg.Cloud, wcfg.DeploymentID, wcfg.Log = cloud, dep.ID, cfg.Log.With("component", "worker")
	worker := restore.NewWorker(cfg.Pool, life, wcfg)
	jc := cfg.Jobs
	if jc.Log == nil {
		jc.Log = cfg.Log
	}
	if jc.JobTimeout == 0 {
		jc.JobTimeout = restore.JobTimeout(wcfg.ClientTimeout)
	}
	if jc.RescueAfter == 0 {
		jc.RescueAfter = jc.JobTimeout + RescueMargin
	}
	copies := restore.NewCopies(cfg.Pool, worker, cfg.Copies)
	house := &housekeeping{pool: cfg.Pool, ids: ids, log: cfg.Log, checkpoint: cfg.AuditCheckpoint}
	client, err := jobs.New(cfg.Pool, jc, append([]jobs.Kind{worker, copies, house}, cfg.Kinds...)...)
	if err != nil {
		return nil, err
	}

	store := sessions.NewCookieStore(cfg.SessionKeyPairs...)
	maxAge := 0
	if cfg.SessionPersistent {
		maxAge = int(ids.Config().AbsoluteTimeout.Seconds())
	}
	store.Options = &sessions.Options{Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: cfg.SecureCookies, SameSite: http.SameSiteLaxMode}
	deps := handlers.Deps{
		Pool: cfg.Pool, Log: cfg.Log, Sessions: store, Metrics: httpMetrics,
		TrustedProxies: cfg.TrustedProxies, Demo: cfg.Demo, SecureCookies: cfg.SecureCookies,
		Planner: restore.NewPlanner(postgres.New(cfg.Pool), cloud(nil), cfg.Log), Lifecycle: life,
		Identity: ids, Cloud: cloud(nil), Prices: cfg.Prices, DefaultZone: cfg.DefaultZone, Notify: cfg.Notify,
	}
	if deps.Prices == nil {
		deps.Prices = pricing.Shipped()
	}
	if deps.DefaultZone == nil {
		deps.DefaultZone, _ = timezone.Load(timezone.Default)
	}
	if cfg.Demo {
		deps.DemoUsers = demo.Descriptions()
	}
	if cfg.SSO.Issuer != "" {
		deps.SSO = handlers.NewSSO(cfg.SSO)
	}
	e := echo.New()
	handlers.Routes(e, handlers.New(deps))

	return &App{
		Web: e, Metrics: httpMetrics.Registry, Identity: ids, Lifecycle: life, Worker: worker, Jobs: client,
		Cloud: cloud, DeploymentID: dep.ID,
		pool: cfg.Pool, log: cfg.Log, work: jc.Work,
	}, nil
}

// SeedDemo seeds demo mode: the demo teams and users, then the simulator's
// instances and VPCs for those teams. It refuses a database that holds data
// and is not a demo database (demo.ErrNotDemoDatabase).
func (a *App) SeedDemo(ctx context.Context) error {
	if err := demo.Seed(ctx, a.pool, a.Identity); err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	return demo.SeedOwnership(ctx, a.pool, a.Cloud(nil))
}

// Run does the background work until ctx ends, when Config.Jobs.Work is
// set: River works every job — the restore execution, expiry, the session
// clean-up, the audit checkpoints and the notifications — and its periodic
// jobs run once per period across every process. Any number of processes
// may run it against one database. Without Work it returns at once.
func (a *App) Run(ctx context.Context) error {
	if !a.work {
		return nil
	}
	return jobs.Run(ctx, a.Jobs, a.log)
}
