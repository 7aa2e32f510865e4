package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"restoredesk/internal/app"
	"restoredesk/internal/logging"
	"restoredesk/internal/postgres"
)

// cmdServe runs the web server and the background work until ctx ends.
func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := parseConfig(getenv, true)
	if err != nil {
		return err
	}
	log := logging.New(stderr, cfg.LogLevel)
	pool, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()

	if cfg.Demo {
		log.Warn("DEMO mode: simulated JD Cloud and seeded demo users; never use this for real data")
		if len(cfg.SessionKeys) == 0 {
			key, err := demoSessionKey(cfg.DataDir)
			if err != nil {
				return fmt.Errorf("demo session key: %w", err)
			}
			log.Warn("SESSION_KEYS not set: using a generated demo key kept in " + filepath.Join(cfg.DataDir, "session.key"))
			cfg.SessionKeys = [][]byte{key}
		}
	}

	cloud, stopSim, err := cloudConfig(ctx, cfg, pool, log, true)
	if err != nil {
		return err
	}
	defer stopSim()
	if cfg.InsecureHTTP && (cfg.BaseURL == nil || cfg.BaseURL.Scheme != "https") {
		base := "(not set)"
		if cfg.BaseURL != nil {
			base = cfg.BaseURL.String()
		}
		log.Warn("INSECURE_HTTP=1: BASE_URL is not https, so session cookies are sent without Secure and no HSTS header; never use this in production",
			"base_url", base)
	}
	// River works the background jobs in this process too; a.Run starts it.
	acfg := appConfig(cfg, pool, log, cloud)
	acfg.Jobs.Work = true
	if acfg.Kinds, acfg.Notify, err = background(cfg, getenv, pool, log); err != nil {
		return err
	}
	a, err := app.New(ctx, acfg)
	if err != nil {
		return err
	}
	if cfg.Demo {
		if err := a.SeedDemo(ctx); err != nil {
			return err
		}
	}

	web := &http.Server{
		Addr: cfg.ListenAddr, Handler: a.Web,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 5 * time.Minute, // audit exports stream for a while
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	metricsMux := http.NewServeMux()
	metricsMux.Handle("/metrics", promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{}))
	mon := &http.Server{Addr: cfg.MetricsAddr, Handler: metricsMux, ReadHeaderTimeout: 10 * time.Second}

	webLn, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR %s: %w", cfg.ListenAddr, err)
	}
	monLn, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		webLn.Close()
		return fmt.Errorf("METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
	}
	log.Info("serving", "addr", "http://"+webLn.Addr().String(), "metrics", "http://"+monLn.Addr().String()+"/metrics", "demo", cfg.Demo)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveUntilClosed(web, webLn) })
	g.Go(func() error { return serveUntilClosed(mon, monLn) })
	g.Go(func() error { return a.Run(gctx) })
	g.Go(func() error {
		<-gctx.Done()
		// Stop accepting, let in-flight requests finish, then close the pool
		// (deferred above) once both servers have returned.
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return errors.Join(web.Shutdown(sctx), mon.Shutdown(sctx))
	})
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func serveUntilClosed(s *http.Server, ln net.Listener) error {
	if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// connect reads the configuration of a command that only needs the
// database and connects to it.
func connect(ctx context.Context, getenv func(string) string) (*pgxpool.Pool, error) {
	cfg, err := parseConfig(getenv, false)
	if err != nil {
		return nil, err
	}
	return dial(ctx, cfg)
}

// dial connects to DATABASE_URL; the error names the variable.
func dial(ctx context.Context, cfg config) (*pgxpool.Pool, error) {
	pool, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.DBConnectTimeout)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	return pool, nil
}

// openDatabase connects to DATABASE_URL and applies pending migrations.
func openDatabase(ctx context.Context, cfg config, log *slog.Logger) (*pgxpool.Pool, error) {
	pool, err := dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	applied, err := postgres.Migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "versions", applied)
	}
	return pool, nil
}

// demoSessionKey returns the demo deployment's session key, generating it on
// first use and keeping it under dir so sessions survive restarts.
func demoSessionKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, "session.key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= minSessionKeyLen {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	raw := make([]byte, 48)
	rand.Read(raw)
	key := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, err
	}
	return []byte(key), nil
}

// cmdMigrate applies pending migrations and reports what it did.
func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := connect(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := postgres.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
		return nil
	}
	fmt.Fprintf(stdout, "applied migrations %v\n", applied)
	return nil
}
