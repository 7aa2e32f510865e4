package handlers

import (
	"compress/gzip"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"restoredesk/internal/restore"
	"restoredesk/static"
)

// Routes configures e with the middleware, the error handler and every route
// of the product. It is the one list of what the server answers.
func Routes(e *echo.Echo, h *Handler) {
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.errorHandler
	e.IPExtractor = ipExtractor(h.TrustedProxies)

	e.Use(
		requestID(h.TrustedProxies),
		requestLogger(h.Log),
		h.Metrics.middleware(),
		securityHeaders(h.SecureCookies),
		compress(),
		recoverPanics(h.Log),
		inputGate(),
		crossOriginProtection(),
		timeout(30*time.Second),
		h.authenticate(),
		h.timeZone(),
	)

	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/static/*", staticFiles())

	// Identity: sign-in, sessions, account, administration.
	e.GET("/", h.dashboard)
	e.GET("/signin", h.signInForm)
	e.POST("/signin", h.signIn)
	e.POST("/signout", h.signOut)
	e.GET("/auth/oidc", h.ssoStart)
	e.GET("/auth/oidc/callback", h.ssoCallback)
	e.GET("/account", h.account, requireUser)
	e.POST("/account/password", h.accountPassword, requireUser)
	e.POST("/account/sessions/revoke", h.accountRevokeSessions, requireUser)
	e.POST("/account/sessions/:session/signout", h.accountEndSession, requireUser)
	e.POST("/account/time-zone", h.accountTimeZone, requireUser)
	e.GET("/admin", h.adminHome, requireAdmin)
	e.GET("/admin/users", h.adminUsers, requireAdmin)
	e.GET("/admin/users/new", h.adminUserNew, requireAdmin)
	e.POST("/admin/users", h.adminUserCreate, requireAdmin)
	e.GET("/admin/users/:id", h.adminUser, requireAdmin)
	e.POST("/admin/users/:id/roles", h.adminUserRoles, requireAdmin)
	e.POST("/admin/users/:id/admin/confirm", h.adminUserConfirmAdmin, requireAdmin)
	e.GET("/admin/users/:id/disable", h.adminUserDisableConfirm, requireAdmin)
	e.POST("/admin/users/:id/disable", h.adminUserDisable, requireAdmin)
	e.POST("/admin/users/:id/enable", h.adminUserEnable, requireAdmin)
	e.POST("/admin/users/:id/password", h.adminUserPassword, requireAdmin)
	e.GET("/admin/users/:id/sessions/revoke", h.adminUserRevokeSessionsConfirm, requireAdmin)
	e.POST("/admin/users/:id/sessions/revoke", h.adminUserRevokeSessions, requireAdmin)
	e.GET("/admin/teams", h.adminTeams, requireAdmin)
	e.POST("/admin/teams", h.adminTeamCreate, requireAdmin)
	e.GET("/admin/teams/:id", h.adminTeam, requireAdmin)
	e.POST("/admin/teams/:id/policy", h.adminTeamPolicy, requireAdmin)
	e.POST("/admin/teams/:id/members", h.adminTeamAddMember, requireAdmin)
	e.POST("/admin/teams/:id/members/:user/role", h.adminTeamMemberRole, requireAdmin)
	e.GET("/admin/teams/:id/members/:user/remove", h.adminTeamRemoveMemberConfirm, requireAdmin)
	e.POST("/admin/teams/:id/members/:user/remove", h.adminTeamRemoveMember, requireAdmin)
	e.GET("/admin/teams/:id/ownership", h.adminOwnership, requireAdmin)
	e.POST("/admin/teams/:id/ownership/instances", h.adminOwnershipChange(restore.KindInstance, true), requireAdmin)
	e.GET("/admin/teams/:id/ownership/instances/remove", h.adminOwnershipRemoveConfirm(restore.KindInstance), requireAdmin)
	e.POST("/admin/teams/:id/ownership/instances/remove", h.adminOwnershipChange(restore.KindInstance, false), requireAdmin)
	e.POST("/admin/teams/:id/ownership/vpcs", h.adminOwnershipChange(restore.KindVPC, true), requireAdmin)
	e.GET("/admin/teams/:id/ownership/vpcs/remove", h.adminOwnershipRemoveConfirm(restore.KindVPC), requireAdmin)
	e.POST("/admin/teams/:id/ownership/vpcs/remove", h.adminOwnershipChange(restore.KindVPC, false), requireAdmin)

	// Notifications: channels, deliveries, the demo outbox, personal choices.
	e.GET("/admin/channels", h.adminChannels, requireAdmin)
	e.POST("/admin/channels", h.adminChannelCreate, requireAdmin)
	e.GET("/admin/channels/mail", h.adminPersonalMail, requireAdmin)
	e.GET("/admin/channels/:id", h.adminChannel, requireAdmin)
	e.POST("/admin/channels/:id", h.adminChannelUpdate, requireAdmin)
	e.POST("/admin/channels/:id/test", h.adminChannelTest, requireAdmin)
	e.POST("/admin/channels/:id/delete", h.adminChannelDelete, requireAdmin)
	e.POST("/admin/deliveries/:id/resend", h.adminDeliveryResend, requireAdmin)
	e.GET("/admin/jobs", h.adminJobs, requireAdmin)
	e.POST("/admin/jobs/:id/retry", h.adminJobRetry, requireAdmin)
	e.GET("/outbox", h.outbox, requireUser)
	e.POST("/account/notifications", h.accountNotifications, requireUser)

	// Audit log (audit trail).
	e.GET("/audit", h.auditPage, requireUser)
	e.GET("/audit/export", h.auditExport, requireUser)

	// Restore requests (restore workflow).
	req := e.Group("/requests", requireUser)
	req.GET("", h.requestHistory)
	req.GET("/new", h.newRequestForm)
	req.POST("/new", h.newRequestForm) // the no-JavaScript reloads, which keep the reason out of the address
	req.POST("", h.createRequest)
	req.GET("/:id", h.requestPage)
	req.GET("/:id/status", h.requestStatus)
	req.POST("/:id/approve", h.decide("approve"))
	req.POST("/:id/reject", h.decide("reject"))
	req.POST("/:id/cancel", h.decide("cancel"))
	req.POST("/:id/copies/:copy/extend", h.extendCopy)
	req.GET("/:id/copies/:copy/delete", h.deleteCopyConfirm)
	req.POST("/:id/copies/:copy/delete", h.deleteCopy)
	e.GET("/approvals", h.approvals, requireUser)
	e.GET("/copies", h.liveCopies, requireUser)
}

// staticFiles serves the embedded static files. A request carrying the file's
// current version may be cached for a year; anything else is revalidated.
func staticFiles() echo.HandlerFunc {
	files := http.FileServerFS(static.FS)
	return func(c echo.Context) error {
		name := c.Param("*")
		v := static.Version(name)
		if v == "" {
			return echo.ErrNotFound
		}
		if c.QueryParam("v") == v {
			c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Response().Header().Set("Cache-Control", "public, max-age=300")
		}
		r := c.Request().Clone(c.Request().Context())
		r.URL.Path = "/" + name
		files.ServeHTTP(c.Response(), r)
		return nil
	}
}

// compress gzips answers for clients that ask, from 1 KiB up: a page of the
// history or the audit log shrinks several times over, which is most of its
// time on a slow link. The fastest level: at level 5, compressing took a
// fifth of the server's CPU under load (make bench), for pages barely
// smaller. Streamed exports stay streamed: the writer flushes.
func compress() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{Level: gzip.BestSpeed, MinLength: 1024})
}
