package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/identity"
	"restoredesk/internal/policy"
	"restoredesk/internal/views"
)

// account shows the signed-in user's identity, teams and roles, with the
// password form and "Sign out everywhere".
func (h *Handler) account(c echo.Context) error {
	return h.renderAccount(c, http.StatusOK, nil)
}

func (h *Handler) renderAccount(c echo.Context, status int, errs map[string]string) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	row, err := h.db.UserByID(ctx, u.ID)
	if err != nil {
		return err
	}
	n, err := h.db.CountActiveSessions(ctx, u.ID, h.Identity.Config().IdleTimeout)
	if err != nil {
		return err
	}
	reminders, err := h.db.ReminderMail(ctx, u.ID)
	if err != nil {
		return err
	}
	noStore(c)
	return render(c, status, views.Account(h.page(c, "Your account", ""), views.AccountProps{
		Username: u.Username, Name: u.Name, Email: u.Email, SSO: row.SSO(), Teams: teamRoles(u),
		Admin: u.Admin, Auditor: u.Auditor, Sessions: n, Errors: errs, ReminderMail: reminders,
	}))
}

// accountPassword changes the user's own password, given the current one.
func (h *Handler) accountPassword(c echo.Context) error {
	err := h.Identity.ChangeOwnPassword(c.Request().Context(), actorOf(c), c.FormValue("current"), c.FormValue("new"))
	var fe identity.FieldErrors
	if errors.As(err, &fe) {
		return h.renderAccount(c, http.StatusUnprocessableEntity, fe)
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, "success", "Your password has been changed."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account")
}

// accountRevokeSessions signs the user out everywhere, this browser included.
func (h *Handler) accountRevokeSessions(c echo.Context) error {
	u := currentUser(c)
	if !policy.CanRevokeSessions(u, u.ID) {
		return echo.NewHTTPError(http.StatusForbidden, "You may not do that.")
	}
	if _, err := h.Identity.RevokeSessions(c.Request().Context(), actorOf(c), u.ID); err != nil {
		return err
	}
	if err := h.endCookieSession(c, "You have been signed out everywhere."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/signin")
}
