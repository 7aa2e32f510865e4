package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/static"
)

// Routes configures e with the middleware, the error handler and every route
// of the product. It is the one list of what the server answers.
func Routes(e *echo.Echo, h *Handler, d Deps) {
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.errorHandler
	e.IPExtractor = ipExtractor(d.TrustedProxies)

	e.Use(
		requestID(),
		requestLogger(h.log),
		h.metrics.middleware(),
		securityHeaders(d.SecureCookies),
		recoverPanics(h.log),
		crossOriginProtection(),
		timeout(30*time.Second),
	)

	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/static/*", staticFiles())

	e.GET("/", h.home)
	e.GET("/signin", h.signInForm)

	// Audit log (audit trail).
	e.GET("/audit", h.auditPage, requireUser)
	e.GET("/audit/export", h.auditExport, requireUser)
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
