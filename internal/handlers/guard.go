package handlers

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// requireUser lets only signed-in users through. A browser asking for a page
// is sent to the sign-in form and brought back afterwards; anything else is
// refused outright.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) != nil {
			return next(c)
		}
		if c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
			return c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		return echo.NewHTTPError(http.StatusUnauthorized, "Sign in first.")
	}
}
