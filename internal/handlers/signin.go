package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/views"
)

// home sends visitors who are not signed in to the sign-in page.
func (h *Handler) home(c echo.Context) error {
	if viewerFrom(c) == nil {
		return c.Redirect(http.StatusSeeOther, "/signin")
	}
	return echo.ErrNotFound
}

// signInForm shows the sign-in form.
func (h *Handler) signInForm(c echo.Context) error {
	noStore(c)
	return render(c, http.StatusOK, views.SignIn(h.page(c, "Sign in", ""), views.SignInProps{
		Next: c.QueryParam("next"),
	}))
}
