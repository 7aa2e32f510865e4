package handlers

import (
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/audit"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/views"
)

// The dashboard's list lengths.
const (
	dashMine     = 10 // the viewer's latest requests
	dashWaiting  = 5  // the oldest requests waiting for the viewer's decision
	dashActivity = 10 // the latest audit events the viewer may see
	// dashScan is how many of the latest events the dashboard reads to find
	// dashActivity that people care about.
	dashScan = 200
)

// dashActions are the events "Recent activity" shows: what happened to
// requests, never sign-ins, JD Cloud calls or administration.
var dashActions = map[string]bool{
	audit.RequestCreated: true, audit.RequestApproved: true, audit.RequestRejected: true, audit.RequestCancelled: true,
	audit.RequestExpired: true, audit.RequestReady: true, audit.RequestFailed: true,
}

// dashboardRequests loads the dashboard's restore sections for u: their
// latest requests, what waits for their decision (leads), and the latest
// audit events their scope shows.
func (h *Handler) dashboardRequests(c echo.Context, u *policy.User) (views.DashboardRequests, error) {
	ctx := c.Request().Context()
	now := time.Now()
	scope := policy.RequestScopeFor(u)
	d := views.DashboardRequests{
		CanRequest: len(u.Teams) > 0,
		MineHref:   "/requests?" + url.Values{"requester": {u.Username}}.Encode(),
	}
	mine, err := h.db.ListRequests(ctx, postgres.RequestFilter{AllTeams: scope.All, TeamIDs: scope.TeamIDs, RequesterID: u.ID},
		postgres.RequestCursor{}, false, dashMine)
	if err != nil {
		return d, err
	}
	d.Mine = requestRows(ctx, mine.Requests, now)
	if len(policy.DecidableTeams(u)) > 0 {
		d.Lead = true
		f := decidableBy(u)
		if d.WaitingCount, err = h.db.CountRequestsUpTo(ctx, f, views.DashWaitingUpTo); err != nil {
			return d, err
		}
		waiting, err := h.db.ListRequests(ctx, f, postgres.RequestCursor{}, true, dashWaiting)
		if err != nil {
			return d, err
		}
		d.Waiting = requestRows(ctx, waiting.Requests, now)
	}
	events, err := audit.Query(ctx, h.Pool, audit.Filter{TargetType: audit.TargetRequest}, policy.AuditScopeFor(u), audit.Cursor{}, dashScan)
	if err != nil {
		return d, err
	}
	var rows []audit.Row
	for _, r := range events.Events {
		if dashActions[r.Action] && len(rows) < dashActivity {
			rows = append(rows, r)
		}
	}
	for _, it := range timelineItems(rows) {
		d.Activity = append(d.Activity, it.Event)
	}
	if err := h.nameTeams(ctx, u, d.Activity); err != nil {
		return d, err
	}
	if policy.CanViewAuditLog(u) {
		d.AuditHref = "/audit"
	}
	if u.Admin {
		d.Admin = true
		dups, err := h.db.DuplicateInstances(ctx, 50)
		if err != nil {
			return d, err
		}
		d.Duplicates = duplicateViews(dups)
	}
	return d, nil
}
