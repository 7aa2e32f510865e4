package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/identity"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/views"
)

// adminPageSize is how many rows an administration list shows at once.
const adminPageSize = 50

// adminHome opens the administration at the user list.
func (h *Handler) adminHome(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/admin/users")
}

// adminUsers lists the users by username, a page at a time (keyset on username).
func (h *Handler) adminUsers(c echo.Context) error {
	after := c.QueryParam("after")
	rows, err := h.db.ListUsers(c.Request().Context(), after, adminPageSize+1)
	if err != nil {
		return err
	}
	p := views.AdminUsersProps{}
	if len(rows) > adminPageSize {
		rows = rows[:adminPageSize]
		p.NextHref = "/admin/users?after=" + url.QueryEscape(rows[len(rows)-1].Username)
	}
	if after != "" {
		p.PrevHref = "/admin/users"
	}
	if p.FailingChannels, err = h.failingChannels(c); err != nil {
		return err
	}
	for _, r := range rows {
		p.Users = append(p.Users, views.AdminUserRow{
			ID: r.ID, Username: r.Username, Name: r.DisplayName, Email: r.Email, Disabled: r.Disabled,
			Admin: r.Admin, Auditor: r.Auditor, SSO: r.SSO, Teams: r.Teams,
		})
	}
	noStore(c)
	return render(c, http.StatusOK, views.AdminUsers(h.page(c, "Users", "admin"), p))
}

// adminUserNew shows the new-user form.
func (h *Handler) adminUserNew(c echo.Context) error {
	noStore(c)
	return render(c, http.StatusOK, views.AdminUserNew(h.page(c, "New user", "admin"), views.AdminUserForm{}))
}

// adminUserCreate creates a local account from the form.
func (h *Handler) adminUserCreate(c echo.Context) error {
	f := views.AdminUserForm{
		Username: c.FormValue("username"), Email: c.FormValue("email"), Name: c.FormValue("name"),
		Admin: c.FormValue("admin") == "on", Auditor: c.FormValue("auditor") == "on",
	}
	id, err := h.Identity.CreateUser(c.Request().Context(), actorOf(c), identity.NewUser{
		Username: f.Username, Email: f.Email, Name: f.Name, Password: c.FormValue("password"),
		Admin: f.Admin, Auditor: f.Auditor,
	})
	var fe identity.FieldErrors
	if errors.As(err, &fe) {
		f.Errors = fe
		noStore(c)
		return render(c, http.StatusUnprocessableEntity, views.AdminUserNew(h.page(c, "New user", "admin"), f))
	}
	if err != nil {
		return err
	}
	if f.Admin {
		return h.adminDone(c, userHref(id), "User created. Their admin role starts when a second admin confirms it.")
	}
	return h.adminDone(c, userHref(id), "User created.")
}

// adminUser shows one user.
func (h *Handler) adminUser(c echo.Context) error {
	return h.renderAdminUser(c, http.StatusOK, nil)
}

func (h *Handler) renderAdminUser(c echo.Context, status int, errs map[string]string) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := h.db.UserByID(ctx, id)
	if err != nil {
		return err
	}
	pu, err := postgres.LoadUser(ctx, h.Pool, id)
	if err != nil {
		return err
	}
	n, err := h.db.CountActiveSessions(ctx, id, h.Identity.Config().IdleTimeout)
	if err != nil {
		return err
	}
	me := currentUser(c)
	p := views.AdminUserProps{
		ID: u.ID, Username: u.Username, Name: u.DisplayName, Email: u.Email, Disabled: u.Disabled,
		Admin: u.Admin, Auditor: u.Auditor, SSO: u.SSO(), Sessions: n,
		Self: !policy.CanChangeAccess(me, id), Patron: slices.Contains(me.Patrons, id), Errors: errs,
		AdminPending: u.AdminPending,
		CanConfirm:   u.AdminPending && policy.CanChangeAccess(me, id) && policy.CanConfirmAdmin(me, id, requesterOf(u)),
	}
	for _, m := range pu.Teams {
		p.Memberships = append(p.Memberships, views.AdminMembership{TeamID: m.TeamID, TeamName: m.TeamName, Lead: m.Lead})
	}
	noStore(c)
	return render(c, status, views.AdminUser(h.page(c, u.Username, "admin"), p))
}

// targetUser returns the :id of the request after checking the signed-in
// admin may change that user's access (never their own).
func targetUser(c echo.Context) (int64, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return 0, err
	}
	if !policy.CanChangeAccess(currentUser(c), id) {
		if slices.Contains(currentUser(c).Patrons, id) {
			return 0, echo.NewHTTPError(http.StatusForbidden, "This admin created your account or made you an admin; another admin must change their access.")
		}
		return 0, echo.NewHTTPError(http.StatusForbidden, "Admins cannot change their own roles, teams or status; another admin must.")
	}
	return id, nil
}

// requesterOf is who asked for u's pending admin role (0: the identity provider).
func requesterOf(u postgres.User) int64 {
	if u.AdminRequestedBy == nil {
		return 0
	}
	return *u.AdminRequestedBy
}

// adminUserConfirmAdmin is the second admin confirming an admin grant.
func (h *Handler) adminUserConfirmAdmin(c echo.Context) error {
	id, err := targetUser(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := h.db.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if !u.AdminPending {
		return h.adminDoneKind(c, "info", userHref(id), "Nothing to confirm: no admin role waits for this account.")
	}
	if !policy.CanConfirmAdmin(currentUser(c), id, requesterOf(u)) {
		return echo.NewHTTPError(http.StatusForbidden, "You asked for this admin role; a second admin must confirm it.")
	}
	err = h.Identity.ConfirmAdmin(ctx, actorOf(c), id)
	if errors.Is(err, identity.ErrConfirmOwnRequest) {
		return echo.NewHTTPError(http.StatusForbidden, "You asked for this admin role; a second admin must confirm it.")
	}
	if err != nil {
		return err
	}
	return h.adminDone(c, userHref(id), "Admin role confirmed.")
}

// adminUserRoles grants or revokes the admin and auditor roles.
func (h *Handler) adminUserRoles(c echo.Context) error {
	id, err := targetUser(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = h.Identity.SetRoles(ctx, actorOf(c), id, c.FormValue("admin") == "on", c.FormValue("auditor") == "on")
	if err != nil {
		return err
	}
	if u, err := h.db.UserByID(ctx, id); err == nil && u.AdminPending {
		return h.adminDone(c, userHref(id), "Roles saved. The admin role starts when a second admin confirms it.")
	}
	return h.adminDone(c, userHref(id), "Roles saved.")
}

// adminUserDisable disables an account and ends its sessions.
func (h *Handler) adminUserDisable(c echo.Context) error { return h.setDisabled(c, true) }

// adminUserEnable re-enables an account.
func (h *Handler) adminUserEnable(c echo.Context) error { return h.setDisabled(c, false) }

func (h *Handler) setDisabled(c echo.Context, disabled bool) error {
	id, err := targetUser(c)
	if err != nil {
		return err
	}
	if err := h.Identity.SetDisabled(c.Request().Context(), actorOf(c), id, disabled); err != nil {
		return err
	}
	msg := "Account enabled."
	if disabled {
		msg = "Account disabled; its sessions have ended."
	}
	return h.adminDone(c, userHref(id), msg)
}

// adminUserPassword sets a new password for a user and ends their sessions.
func (h *Handler) adminUserPassword(c echo.Context) error {
	id, err := targetUser(c)
	if err != nil {
		return err
	}
	err = h.Identity.ResetPassword(c.Request().Context(), actorOf(c), id, c.FormValue("password"))
	var fe identity.FieldErrors
	if errors.As(err, &fe) {
		return h.renderAdminUser(c, http.StatusUnprocessableEntity, fe)
	}
	if err != nil {
		return err
	}
	return h.adminDone(c, userHref(id), "Password reset; the user's sessions have ended.")
}

// adminUserRevokeSessions signs a user out everywhere.
func (h *Handler) adminUserRevokeSessions(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if !policy.CanRevokeSessions(currentUser(c), id) {
		return echo.NewHTTPError(http.StatusForbidden, "You may not do that.")
	}
	n, err := h.Identity.RevokeSessions(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	if id == currentUser(c).ID {
		if err := h.endCookieSession(c, "You have been signed out everywhere."); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/signin")
	}
	return h.adminDone(c, userHref(id), "Signed out everywhere ("+strconv.FormatInt(n, 10)+" sessions ended).")
}

// adminDone finishes an administration change: a flash and back to a page.
func (h *Handler) adminDone(c echo.Context, to, msg string) error {
	return h.adminDoneKind(c, "success", to, msg)
}

func (h *Handler) adminDoneKind(c echo.Context, kind, to, msg string) error {
	if err := h.setFlash(c, kind, msg); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// pathID parses the path parameter name as an id; anything else is "not found".
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

func userHref(id int64) string { return "/admin/users/" + strconv.FormatInt(id, 10) }
