package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/policy"
	"restoredesk/internal/views"
)

// dashboard greets the signed-in user with their teams and roles. Visitors
// who are not signed in go to the sign-in page.
func (h *Handler) dashboard(c echo.Context) error {
	u := currentUser(c)
	if u == nil {
		return c.Redirect(http.StatusSeeOther, "/signin")
	}
	restore, err := h.dashboardRequests(c, u)
	if err != nil {
		return err
	}
	noStore(c)
	return render(c, http.StatusOK, views.Dashboard(h.page(c, "Dashboard", "dashboard"), views.DashboardProps{
		Name: u.Name, Teams: teamRoles(u), Admin: u.Admin, Auditor: u.Auditor, Restore: restore,
	}))
}

// teamRoles lists u's teams for the views.
func teamRoles(u *policy.User) []views.TeamRole {
	out := make([]views.TeamRole, len(u.Teams))
	for i, m := range u.Teams {
		out[i] = views.TeamRole{Name: m.TeamName, Lead: m.Lead}
	}
	return out
}
