package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"restoredesk/internal/app"
	"restoredesk/internal/logging"
)

// cmdWorker works only the background jobs — River's: the restore
// execution, expiry, audit checkpoints, session clean-up and notifications —
// until ctx ends. Any number may run beside web serve.
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
	cloud, stopSim, err := cloudConfig(ctx, cfg, pool, log, false)
	if err != nil {
		return err
	}
	defer stopSim()
	acfg := appConfig(cfg, pool, log, cloud)
	acfg.Jobs.Work = true
	if acfg.Kinds, acfg.Notify, err = background(cfg, getenv, pool, log); err != nil {
		return err
	}
	a, err := app.New(ctx, acfg)
	if err != nil {
		return err
	}
	log.Info("worker started")
	err = a.Run(ctx)
	log.Info("worker stopped")
	return err
}
