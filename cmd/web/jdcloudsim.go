package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"restoredesk/internal/jdcloud/jdcloudsim"
)

// cmdJDCloudSim runs `web jdcloud-sim [-addr 127.0.0.1:8081] [-build-time 5s] [fault flags]`:
// the JD Cloud simulator on its own listener, until ctx is cancelled. The key pair comes from
// JDCLOUD_ACCESS_KEY / JDCLOUD_SECRET_KEY, or is the public demo pair when both are unset.
// Point the product at it with JDCLOUD_ENDPOINT=http://<addr>.
func cmdJDCloudSim(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("jdcloud-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "listen `address` of the simulated JD Cloud API")
	controlAddr := fs.String("control-addr", "", "listen `address` of the unauthenticated control API (stats, faults); off when empty")
	buildTime := fs.Duration("build-time", jdcloudsim.DefaultBuildTime, "how long a new instance stays BUILDING")
	deleteTime := fs.Duration("delete-time", jdcloudsim.DefaultDeleteTime, "how long a deleted instance stays DELETING")
	seed := fs.Uint64("seed", 1, "seed of the random source behind fault rates and generated ids")
	var all jdcloudsim.Fault
	fs.DurationVar(&all.Latency, "latency", 0, "latency added to every answer")
	fs.Float64Var(&all.FailRate, "error-rate", 0, "share (0–1) of calls answered 503 UNAVAILABLE without being performed")
	fs.Float64Var(&all.ThrottleRate, "throttle-rate", 0, "share (0–1) of calls answered 429 RATE_LIMIT")
	fs.Float64Var(&all.DropRate, "drop-rate", 0, "share (0–1) of calls performed, then answered by closing the connection")
	fs.Float64Var(&all.BuildErrorRate, "build-error-rate", 0, "share (0–1) of new instances whose build ends in BUILD_ERROR")
	fs.DurationVar(&all.VisibilityDelay, "visibility-delay", 0, "how long a new instance is missing from describe calls")
	faults := map[string]jdcloudsim.Fault{}
	fs.Func("fault", "per-operation fault `OP:key=value,...` (repeatable), e.g. createInstanceFromBackup:drop-next=1,visibility-delay=30s;\n"+
		"keys: latency, fail-next, fail-rate, fail-status, fail-after-perform, throttle-next, throttle-rate,\n"+
		"drop-next, drop-rate, build-error-next, build-error-rate, visibility-delay, hold, hold-next, hold-rate;\n"+
		"OP * means every operation",
		func(s string) error {
			op, f, err := jdcloudsim.ParseFault(s)
			if err != nil {
				return err
			}
			faults[op] = f
			return nil
		})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("jdcloud-sim: unexpected argument %q", fs.Arg(0))
	}
	for name, v := range map[string]float64{
		"error-rate": all.FailRate, "throttle-rate": all.ThrottleRate, "drop-rate": all.DropRate, "build-error-rate": all.BuildErrorRate,
	} {
		if v < 0 || v > 1 {
			return fmt.Errorf("jdcloud-sim: -%s %v: want a share between 0 and 1", name, v)
		}
	}
	for name, d := range map[string]time.Duration{
		"build-time": *buildTime, "delete-time": *deleteTime, "latency": all.Latency, "visibility-delay": all.VisibilityDelay,
	} {
		if d < 0 || (d == 0 && (name == "build-time" || name == "delete-time")) {
			return fmt.Errorf("jdcloud-sim: -%s %v: want a positive duration", name, d)
		}
	}
	if _, ok := faults[jdcloudsim.AllOperations]; !ok && !all.IsZero() {
		faults[jdcloudsim.AllOperations] = all
	} else if ok && !all.IsZero() {
		return errors.New("jdcloud-sim: give faults for every operation either with -fault '*:…' or with the shorthand flags, not both")
	}

	ak, sk := getenv("JDCLOUD_ACCESS_KEY"), getenv("JDCLOUD_SECRET_KEY")
	switch {
	case ak == "" && sk == "":
		ak, sk = jdcloudsim.DemoAccessKey, jdcloudsim.DemoSecretKey
	case ak == "":
		return errors.New("jdcloud-sim: JDCLOUD_ACCESS_KEY is not set (set both keys, or neither for the demo pair)")
	case sk == "":
		return errors.New("jdcloud-sim: JDCLOUD_SECRET_KEY is not set (set both keys, or neither for the demo pair)")
	}

	level := slog.LevelInfo
	if strings.EqualFold(getenv("LOG_LEVEL"), "debug") {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	sim, err := jdcloudsim.New(ctx, jdcloudsim.Options{
		AccessKey: ak, SecretKey: sk, BuildTime: *buildTime, DeleteTime: *deleteTime,
		Logger: log, Seed: *seed, Faults: faults,
	})
	if err != nil {
		return err
	}

	servers := []*http.Server{}
	serve := func(name, addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("jdcloud-sim: -%s: %w", name, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("jdcloud-sim: serve", "listener", name, "err", err)
			}
		}()
		fmt.Fprintf(stdout, "jdcloud-sim: %s on http://%s\n", name, ln.Addr())
		return nil
	}
	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, srv := range servers {
			_ = srv.Shutdown(sctx)
		}
	}
	if err := serve("addr", *addr, sim); err != nil {
		return err
	}
	if *controlAddr != "" {
		if err := serve("control-addr", *controlAddr, sim.ControlHandler()); err != nil {
			shutdown()
			return err
		}
	}
	fmt.Fprintf(stdout, "jdcloud-sim: access key %s, build time %s; point the product at it with JDCLOUD_ENDPOINT=http://%s\n",
		ak, *buildTime, *addr)
	for op, f := range faults {
		fmt.Fprintf(stdout, "jdcloud-sim: fault %s:%s\n", op, f)
	}
	<-ctx.Done()
	shutdown()
	return nil
}
