package handlers

import (
	"github.com/labstack/echo/v4"

	"restoredesk/internal/timezone"
)

// timeZone puts the zone the viewer's pages use into the request's context
// (timezone.Resolve: their own setting, else their browser's, else the
// deployment's default), where views.Time and views.WhenIn find it.
func (h *Handler) timeZone() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var setting, browser string
			if u := currentUser(c); u != nil {
				setting = u.TimeZone
			}
			if ck, err := c.Cookie(timezone.Cookie); err == nil {
				browser = ck.Value
			}
			r := c.Request()
			c.SetRequest(r.WithContext(timezone.With(r.Context(), timezone.Resolve(setting, browser, h.DefaultZone))))
			return next(c)
		}
	}
}
