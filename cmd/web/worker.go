package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"golang.org/x/sync/errgroup"

	"restoredesk/internal/audit"
	"restoredesk/internal/jobs"
	"restoredesk/internal/logging"
)

// cmdWorker runs only the background worker (execution, tracking, expiry,
// audit checkpoints, and River's jobs: notifications) until ctx ends. Any number may run beside web serve.
func cmdWorker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := parseConfig(getenv, false)
	if err != nil {
		return err
	}
	if !cfg.Demo && (cfg.JDCloudAccessKey == "" || cfg.JDCloudSecretKey == "") {
		return errors.New("JDCLOUD_ACCESS_KEY, JDCLOUD_SECRET_KEY not set: the worker calls JD Cloud with them (or set DEMO=1)")
	}
	log := logging.New(stderr, cfg.LogLevel)
	pool, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	cloud, stopSim, err := openCloud(ctx, cfg, pool, log, false, nil)
	if err != nil {
		return err
	}
	defer stopSim()
	w, _, err := newWorker(ctx, cfg, pool, cloud, log)
	if err != nil {
		return err
	}
	jobClient, _, err := background(cfg, getenv, pool, log, true)
	if err != nil {
		return err
	}
	log.Info("worker started")
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(gctx) })
	g.Go(func() error { return audit.RunCheckpoints(gctx, pool, cfg.AuditCheckpoint, log) })
	g.Go(func() error { return jobs.Run(gctx, jobClient, log) })
	err = g.Wait()
	log.Info("worker stopped")
	return err
}
