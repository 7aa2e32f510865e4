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

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/jdcloud/jdcloudsim"
	"restoredesk/internal/postgres"
	"restoredesk/internal/restore"
)

// demoBuildTime is how long the demo simulator's new instances stay BUILDING:
// long enough to watch the status change, short enough to wait for.
const demoBuildTime = 20 * time.Second

// cloudFactory makes the JD Cloud clients of the web server and the worker.
type cloudFactory func(observe func(jdcloud.CallInfo)) *jdcloud.Client

// openCloud returns the JD Cloud client factory: the real endpoints (or
// JDCLOUD_ENDPOINT) with the configured keys, or in demo mode without an
// endpoint an in-process simulator on a loopback port whose state lives in
// the database. stop shuts the simulator down.
// count, when not nil, sees every call of every client.
func openCloud(ctx context.Context, cfg config, pool *pgxpool.Pool, log *slog.Logger, withSim bool, count func(jdcloud.CallInfo)) (cloudFactory, func(), error) {
	ak, sk, endpoint := cfg.JDCloudAccessKey, cfg.JDCloudSecretKey, cfg.JDCloudEndpoint
	stop := func() {}
	if cfg.Demo && endpoint == "" {
		if !withSim {
			return nil, stop, errors.New("JDCLOUD_ENDPOINT is not set: in demo mode the simulator runs inside web serve; " +
				"point the worker at a simulator (web jdcloud-sim) with JDCLOUD_ENDPOINT")
		}
		sim, err := jdcloudsim.New(ctx, jdcloudsim.Options{
			Persister: postgres.NewSimState(pool), BuildTime: demoBuildTime, Logger: log.With("component", "jdcloud-sim"),
		})
		if err != nil {
			return nil, stop, fmt.Errorf("demo JD Cloud simulator: %w", err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, stop, fmt.Errorf("demo JD Cloud simulator: %w", err)
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
	var opts []jdcloud.Option
	if endpoint != "" {
		u, err := jdcloud.ParseEndpoint(endpoint)
		if err != nil {
			stop()
			return nil, func() {}, fmt.Errorf("JDCLOUD_ENDPOINT: %w", err)
		}
		opts = append(opts, jdcloud.WithEndpoint(u))
	}
	httpClient := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	opts = append(opts, jdcloud.WithHTTPClient(httpClient), jdcloud.WithLogger(log), jdcloud.WithTimeout(cfg.JDCloudTimeout))
	factory := func(observe func(jdcloud.CallInfo)) *jdcloud.Client {
		all := observe
		if count != nil {
			all = func(info jdcloud.CallInfo) {
				count(info)
				if observe != nil {
					observe(info)
				}
			}
		}
		o := opts
		if all != nil {
			o = append(o[:len(o):len(o)], jdcloud.WithObserver(all))
		}
		return jdcloud.New(ak, sk, o...)
	}
	return factory, stop, nil
}

// newWorker wires the restore worker and lifecycle from the configuration.
func newWorker(ctx context.Context, cfg config, pool *pgxpool.Pool, cloud cloudFactory, log *slog.Logger) (*restore.Worker, *restore.Lifecycle, error) {
	dep, err := postgres.New(pool).Deployment(ctx)
	if err != nil {
		return nil, nil, err
	}
	life := restore.NewLifecycle(pool, postgres.LoadUser, cfg.ApprovalTTL)
	w := restore.NewWorker(pool, life, restore.WorkerConfig{
		Cloud: cloud, DeploymentID: dep.ID, VisibilityWindow: cfg.VisibilityWindow, BuildTimeout: cfg.BuildTimeout,
		ClientTimeout: cfg.JDCloudTimeout, RetryBudget: cfg.RetryBudget, Log: log.With("component", "worker"),
	})
	return w, life, nil
}
