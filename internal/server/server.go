// Package server assembles the web server's handler the way `web serve`
// runs it: identity and single sign-on, the demo seed, the routes. cmdServe
// and the end-to-end tests both call New, so the tests exercise the real wiring.
package server

import (
	"context"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/demo"
	"restoredesk/internal/handlers"
	"restoredesk/internal/identity"
)

// Config is what New needs beyond the handler dependencies the caller builds.
type Config struct {
	// Deps are the handler dependencies (pool, logger, cookie store,
	// metrics…). New fills Identity and SSO when they are nil.
	Deps handlers.Deps
	// Identity tunes hashing, throttling and session lifetimes; the zero
	// value is production's. Tests lower the hashing cost and the delays.
	Identity identity.Config
	// SSO turns on single sign-on when its Issuer is set.
	SSO handlers.SSOConfig
}

// New returns the web server's handler. In demo mode it first seeds the demo
// teams and users (refusing a database that is not a demo database).
func New(ctx context.Context, cfg Config) (*echo.Echo, error) {
	d := cfg.Deps
	if d.Identity == nil {
		d.Identity = identity.New(d.Pool, cfg.Identity)
	}
	if d.SSO == nil && cfg.SSO.Issuer != "" {
		d.SSO = handlers.NewSSO(cfg.SSO)
	}
	if d.Demo {
		d.DemoUsers = demo.Descriptions()
		if err := demo.Seed(ctx, d.Pool, d.Identity); err != nil {
			return nil, fmt.Errorf("demo seed: %w", err)
		}
	}
	e := echo.New()
	handlers.Routes(e, handlers.New(d), d)
	go cleanUp(ctx, d)
	return e, nil
}

// cleanUp deletes expired sessions and old sign-in failures every hour until
// ctx ends. They are refused anyway; this only keeps the tables small.
func cleanUp(ctx context.Context, d handlers.Deps) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := d.Identity.CleanUp(ctx); err != nil && ctx.Err() == nil {
				d.Log.WarnContext(ctx, "clean up sessions", "err", err)
			}
		}
	}
}
