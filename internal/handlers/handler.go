// Package handlers is Restore Desk's HTTP layer: the routes, the middleware and
// one small handler per page or action. Handlers parse the request, call the
// storage or domain packages, and render a view; they return errors to one
// error handler that decides what the user sees.
package handlers

import (
	"log/slog"
	"net/netip"

	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/identity"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/notify"
	"restoredesk/internal/postgres"
	"restoredesk/internal/restore"
)

// Deps is everything the HTTP layer needs, wired in main.
type Deps struct {
	Pool           *pgxpool.Pool
	Log            *slog.Logger
	Sessions       sessions.Store
	Metrics        *Metrics
	TrustedProxies []netip.Prefix
	Demo           bool
	SecureCookies  bool               // BASE_URL is https
	Planner        *restore.Planner   // the request form's choices and rules
	Lifecycle      *restore.Lifecycle // request transitions
	Identity       *identity.Service  // sign-in, sessions, accounts; nil: production settings
	SSO            *SSO               // single sign-on; nil when not configured
	Cloud          *jdcloud.Client    // JD Cloud, for the admin's ownership pages; nil: not configured
	Notify         *notify.Service    // channels, deliveries, outbox; nil: notifications not wired (some tests)
}

// Handler holds the dependencies shared by every handler method.
type Handler struct {
	db       *postgres.DB
	pool     *pgxpool.Pool
	log      *slog.Logger
	sessions sessions.Store
	metrics  *Metrics
	demo     bool
	secure   bool
	planner  *restore.Planner
	life     *restore.Lifecycle
	identity *identity.Service
	sso      *SSO
	cloud    *jdcloud.Client
	notify   *notify.Service
}

// New returns a Handler using d.
func New(d Deps) *Handler {
	if d.Identity == nil {
		d.Identity = identity.New(d.Pool, identity.Config{})
	}
	return &Handler{
		db:       postgres.New(d.Pool),
		pool:     d.Pool,
		log:      d.Log,
		sessions: d.Sessions,
		metrics:  d.Metrics,
		demo:     d.Demo,
		secure:   d.SecureCookies,
		planner:  d.Planner,
		life:     d.Lifecycle,
		identity: d.Identity,
		sso:      d.SSO,
		cloud:    d.Cloud,
		notify:   d.Notify,
	}
}
