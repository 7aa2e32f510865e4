package handlers

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// requireUser lets only signed-in users through. A browser asking for a page
// is sent to the sign-in form and brought back afterwards; a form posted
// without a session gets the sign-in form (401) carrying what was posted,
// which can be sent again once signed in.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) != nil {
			return next(c)
		}
		if c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
			return c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		return errSignInToSend
	}
}

// errSignInToSend: a form was posted without a working session (it ended
// while the page was open). The error handler answers 401 with the sign-in
// form carrying what was posted, so nothing typed is lost.
var errSignInToSend = echo.NewHTTPError(http.StatusUnauthorized, "Sign in first.")
