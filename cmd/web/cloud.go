package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/app"
	"restoredesk/internal/identity"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/jobs"
	"restoredesk/internal/postgres"
	"restoredesk/internal/restore"
)

// demoBuildTime is how long the demo simulator's new instances stay BUILDING:
// long enough to watch the status change, short enough to wait for.
const demoBuildTime = 20 * time.Second

// cloudConfig says how to reach JD Cloud: the real endpoints (or
// JDCLOUD_ENDPOINT) with the configured keys, or in demo mode without an
// endpoint an in-process simulator on a loopback port whose state lives in
// the database; withSim is false for commands that may not start one. stop
// shuts the simulator down.
func cloudConfig(ctx context.Context, cfg config, pool *pgxpool.Pool, log *slog.Logger, withSim bool) (app.Cloud, func(), error) {
	ak, sk, endpoint := cfg.JDCloudAccessKey, cfg.JDCloudSecretKey, cfg.JDCloudEndpoint
	stop := func() {}
	if cfg.Demo && endpoint == "" {
		if !withSim {
			return app.Cloud{}, stop, errors.New("JDCLOUD_ENDPOINT is not set: in demo mode the simulator runs inside web serve; " +
				"point the worker at a simulator (web jdcloud-sim) with JDCLOUD_ENDPOINT")
		}
		sim, err := jdcloudsim.New(ctx, jdcloudsim.Options{
			Persister: postgres.NewSimState(pool), BuildTime: demoBuildTime, Logger: log.With("component", "jdcloud-sim"),
		})
		if err != nil {
			return app.Cloud{}, stop, fmt.Errorf("demo JD Cloud simulator: %w", err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return app.Cloud{}, stop, fmt.Errorf("demo JD Cloud simulator: %w", err)
		}
		srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		stop = func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		}
		endpoint = "http://" + ln.Addr().String()
		ak, sk = jdcloudsim.DemoAccessKey, jdcloudsim.DemoSecretKey
		log.Info("demo JD Cloud simulator", "endpoint", endpoint, "build_time", demoBuildTime)
	}
	httpClient := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	c := app.Cloud{AccessKey: ak, SecretKey: sk, Options: []jdcloud.Option{jdcloud.WithHTTPClient(httpClient), jdcloud.WithTimeout(cfg.JDCloudTimeout)}}
	if endpoint != "" {
		u, err := jdcloud.ParseEndpoint(endpoint)
		if err != nil {
			stop()
			return app.Cloud{}, func() {}, fmt.Errorf("JDCLOUD_ENDPOINT: %w", err)
		}
		c.Options = append(c.Options, jdcloud.WithEndpoint(u))
	}
	return c, stop, nil
}

// appConfig is the application's configuration from the environment's.
func appConfig(cfg config, pool *pgxpool.Pool, log *slog.Logger, cloud app.Cloud) app.Config {
	return app.Config{
		Pool: pool, Log: log, Demo: cfg.Demo,
		SessionKeyPairs: cookieKeyPairs(cfg.SessionKeys),
		SecureCookies:   cfg.BaseURL != nil && cfg.BaseURL.Scheme == "https",
		TrustedProxies:  cfg.TrustedProxies, SSO: ssoConfig(cfg),
		Identity:          identity.Config{IdleTimeout: cfg.SessionIdleTimeout, AbsoluteTimeout: cfg.SessionMaxAge},
		SessionPersistent: cfg.SessionPersistent,
		Cloud:             cloud, ApprovalTTL: cfg.ApprovalTTL, AuditCheckpoint: cfg.AuditCheckpoint, Prices: cfg.Prices,
		DefaultZone: cfg.DefaultZone,
		Worker: restore.WorkerConfig{VisibilityWindow: cfg.VisibilityWindow, BuildTimeout: cfg.BuildTimeout,
			ClientTimeout: cfg.JDCloudTimeout, RetryBudget: cfg.RetryBudget},
		Jobs: jobs.Config{JobTimeout: cfg.JobTimeout, RescueAfter: cfg.JobRescueAfter},
	}
}
