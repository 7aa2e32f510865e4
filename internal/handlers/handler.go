// Package handlers is Restore Desk's HTTP layer: the routes, the middleware and
// one small handler per page or action. Handlers parse the request, call the
// storage or domain packages, and render a view; they return errors to one
// error handler that decides what the user sees.
package handlers

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/identity"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/notify"
	"restoredesk/internal/postgres"
	"restoredesk/internal/pricing"
	"restoredesk/internal/restore"
)

// Deps is everything the HTTP layer needs, wired by internal/app.
type Deps struct {
	Pool           *pgxpool.Pool
	Log            *slog.Logger
	Sessions       sessions.Store
	Metrics        *Metrics
	TrustedProxies []netip.Prefix
	Demo           bool
	DemoUsers      []string           // demo mode: the accounts the sign-in page lists
	SecureCookies  bool               // BASE_URL is https
	Planner        *restore.Planner   // the request form's choices and rules
	Lifecycle      *restore.Lifecycle // request transitions
	Identity       *identity.Service  // sign-in, sessions, accounts
	SSO            *SSO               // single sign-on; nil when not configured
	Cloud          *jdcloud.Client    // JD Cloud, for the admin's ownership pages; nil: not configured
	Prices         *pricing.Table     // cost estimates
	DefaultZone    *time.Location     // DEFAULT_TIME_ZONE: the pages' zone when neither the user nor the browser says
	Notify         *notify.Service    // channels, deliveries, outbox; nil: notifications not wired (some tests)
}

// Handler holds the dependencies shared by every handler method.
type Handler struct {
	Deps
	db *postgres.DB
}

// New returns a Handler using d.
func New(d Deps) *Handler {
	return &Handler{Deps: d, db: postgres.New(d.Pool)}
}
