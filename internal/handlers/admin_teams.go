package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/identity"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/restore"
	"restoredesk/internal/views"
)

// adminTeams lists the teams, a page at a time, with the new-team form.
func (h *Handler) adminTeams(c echo.Context) error {
	return h.renderAdminTeams(c, http.StatusOK, "", nil)
}

func (h *Handler) renderAdminTeams(c echo.Context, status int, name string, errs map[string]string) error {
	after := c.QueryParam("after")
	rows, err := h.db.ListTeams(c.Request().Context(), after, adminPageSize+1)
	if err != nil {
		return err
	}
	p := views.AdminTeamsProps{Name: name, Errors: errs}
	if len(rows) > adminPageSize {
		rows = rows[:adminPageSize]
		p.NextHref = "/admin/teams?after=" + url.QueryEscape(rows[len(rows)-1].Name)
	}
	if after != "" {
		p.PrevHref = "/admin/teams"
	}
	for _, r := range rows {
		p.Teams = append(p.Teams, views.AdminTeamRow{ID: r.ID, Name: r.Name, Members: r.Members, Leads: r.Leads})
	}
	noStore(c)
	return render(c, status, views.AdminTeams(h.page(c, "Teams", "admin"), p))
}

// adminTeamCreate creates a team.
func (h *Handler) adminTeamCreate(c echo.Context) error {
	name := c.FormValue("name")
	id, err := h.Identity.CreateTeam(c.Request().Context(), actorOf(c), name)
	var fe identity.FieldErrors
	if errors.As(err, &fe) {
		return h.renderAdminTeams(c, http.StatusUnprocessableEntity, name, fe)
	}
	if err != nil {
		return err
	}
	return h.adminDone(c, teamHref(id), "Team created.")
}

// adminTeam shows a team's members with the membership changes.
func (h *Handler) adminTeam(c echo.Context) error {
	return h.renderAdminTeam(c, http.StatusOK, "", false, nil)
}

// adminTeamPolicy changes the team's policy for its copies: longest
// lifetime, prepaid, remind-only and the second lead's threshold.
func (h *Handler) adminTeamPolicy(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	t, err := h.db.TeamByID(ctx, id)
	if err != nil {
		return err
	}
	f := restore.PolicyForm{MaxKeepDays: c.FormValue("max_keep_days"), PrepaidAllowed: c.FormValue("prepaid_allowed") == "on",
		RemindOnly: c.FormValue("remind_only") == "on", SecondLeadAbove: c.FormValue("second_lead_above")}
	p, errs := restore.ParsePolicy(f)
	if errs != nil {
		return h.renderAdminTeamPolicy(c, http.StatusUnprocessableEntity, &f, errs)
	}
	err = restore.SetTeamPolicy(ctx, h.Pool, actorOf(c).Actor, t, p)
	switch {
	case errors.Is(err, restore.ErrNoChange):
		return h.adminDone(c, teamHref(id), "Nothing to change.")
	case err != nil:
		return err
	}
	return h.adminDone(c, teamHref(id), "Policy saved.")
}

func (h *Handler) renderAdminTeam(c echo.Context, status int, username string, lead bool, errs map[string]string) error {
	return h.renderAdminTeamWith(c, status, username, lead, nil, errs)
}

func (h *Handler) renderAdminTeamPolicy(c echo.Context, status int, f *restore.PolicyForm, errs map[string]string) error {
	return h.renderAdminTeamWith(c, status, "", false, f, errs)
}

// renderAdminTeamWith shows the team page; f is the policy form as typed
// (nil: as stored).
func (h *Handler) renderAdminTeamWith(c echo.Context, status int, username string, lead bool, f *restore.PolicyForm, errs map[string]string) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	t, err := h.db.TeamByID(ctx, id)
	if err != nil {
		return err
	}
	members, err := h.db.TeamMembers(ctx, id)
	if err != nil {
		return err
	}
	if f == nil {
		pol, err := h.db.TeamPolicy(ctx, id)
		if err != nil {
			return err
		}
		stored := restore.FormOf(pol)
		f = &stored
	}
	p := views.AdminTeamProps{ID: t.ID, Name: t.Name, Username: username, Lead: lead, Errors: errs,
		MaxKeepDays: f.MaxKeepDays, PrepaidAllowed: f.PrepaidAllowed, RemindOnly: f.RemindOnly, SecondLeadAbove: f.SecondLeadAbove}
	me := currentUser(c)
	for _, m := range members {
		p.Members = append(p.Members, views.AdminMember{
			UserID: m.UserID, Username: m.Username, Name: m.DisplayName, Lead: m.Lead, Disabled: m.Disabled,
			Self: !policy.CanChangeAccess(me, m.UserID),
		})
	}
	noStore(c)
	return render(c, status, views.AdminTeam(h.page(c, "Team "+t.Name, "admin"), p))
}

// adminTeamAddMember adds a user (by username) to the team as member or lead.
func (h *Handler) adminTeamAddMember(c echo.Context) error {
	ctx := c.Request().Context()
	team, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.db.TeamByID(ctx, team); err != nil {
		return err
	}
	username, lead := strings.ToLower(strings.TrimSpace(c.FormValue("username"))), c.FormValue("lead") == "on"
	fail := func(msg string) error {
		return h.renderAdminTeam(c, http.StatusUnprocessableEntity, c.FormValue("username"), lead, map[string]string{"username": msg})
	}
	if username == "" {
		return fail("Enter the username of the person to add.")
	}
	u, err := h.db.UserByUsername(ctx, username)
	if errors.Is(err, postgres.ErrNotFound) {
		return fail("There is no user called " + username + ".")
	}
	if err != nil {
		return err
	}
	if !policy.CanChangeAccess(currentUser(c), u.ID) {
		return echo.NewHTTPError(http.StatusForbidden, "Admins cannot change their own teams; another admin must.")
	}
	changed, err := h.Identity.SetMembership(ctx, actorOf(c), u.ID, team, lead)
	if err != nil {
		return err
	}
	if !changed {
		return fail(username + " is already in this team with that role.")
	}
	return h.adminDone(c, teamHref(team), username+" added.")
}

// adminTeamMemberRole makes a member a lead or a lead a member.
func (h *Handler) adminTeamMemberRole(c echo.Context) error {
	team, user, err := memberTarget(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := h.db.Membership(ctx, user, team); err != nil {
		return err // not a member: 404
	}
	lead := c.FormValue("lead") == "true"
	if _, err := h.Identity.SetMembership(ctx, actorOf(c), user, team, lead); err != nil {
		return err
	}
	return h.adminDone(c, teamHref(team), "Role changed.")
}

// adminTeamRemoveMember takes a user out of the team.
func (h *Handler) adminTeamRemoveMember(c echo.Context) error {
	team, user, err := memberTarget(c)
	if err != nil {
		return err
	}
	if err := h.Identity.RemoveMembership(c.Request().Context(), actorOf(c), user, team); err != nil {
		return err
	}
	return h.adminDone(c, teamHref(team), "Member removed.")
}

// memberTarget returns the :id team and :user of the request after checking
// the admin may change that user's memberships.
func memberTarget(c echo.Context) (team, user int64, err error) {
	if team, err = pathID(c, "id"); err != nil {
		return 0, 0, err
	}
	if user, err = pathID(c, "user"); err != nil {
		return 0, 0, err
	}
	if !policy.CanChangeAccess(currentUser(c), user) {
		return 0, 0, echo.NewHTTPError(http.StatusForbidden, "Admins cannot change their own teams; another admin must.")
	}
	return team, user, nil
}

func teamHref(id int64) string { return "/admin/teams/" + strconv.FormatInt(id, 10) }
