package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/policy"
	"restoredesk/internal/restore"
	"restoredesk/internal/views"
)

// The one-click changes that are hard to undo (removing a member or a lead,
// removing a team's instance or VPC, disabling an account, signing someone
// out everywhere) ask first: their button is a link to a GET that shows the
// question and a form posting to the same address, which does the change.
// That works the same with or without JavaScript, and the POST alone (a
// script, a test) still does the change at once.

func (h *Handler) renderConfirm(c echo.Context, title string, q views.Confirm) error {
	noStore(c)
	return render(c, http.StatusOK, views.ConfirmPage(h.page(c, title, "admin"), q))
}

// adminTeamRemoveMemberConfirm asks before removing someone from a team.
func (h *Handler) adminTeamRemoveMemberConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	team, user, err := memberTarget(c)
	if err != nil {
		return err
	}
	t, err := h.db.TeamByID(ctx, team)
	if err != nil {
		return err
	}
	u, err := h.db.UserByID(ctx, user)
	if err != nil {
		return err
	}
	return h.renderConfirm(c, "Remove from team", views.Confirm{
		Question: "Remove " + u.DisplayName + " (" + u.Username + ") from team " + t.Name + "?",
		Detail:   "They no longer see the team's requests, and cannot request restores for it or decide them. Their past requests and decisions stay.",
		Action:   c.Request().URL.Path, Button: "Remove from " + t.Name, Back: teamHref(team),
	})
}

// adminUserDisableConfirm asks before disabling an account.
func (h *Handler) adminUserDisableConfirm(c echo.Context) error {
	id, err := targetUser(c)
	if err != nil {
		return err
	}
	u, err := h.db.UserByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.renderConfirm(c, "Disable account", views.Confirm{
		Question: "Disable the account of " + u.DisplayName + " (" + u.Username + ")?",
		Detail:   "They cannot sign in, and every session of theirs ends at once. An admin can enable the account again.",
		Action:   c.Request().URL.Path, Button: "Disable the account", Back: userHref(id),
	})
}

// adminUserRevokeSessionsConfirm asks before signing someone out everywhere.
func (h *Handler) adminUserRevokeSessionsConfirm(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	me := currentUser(c)
	if !policy.CanRevokeSessions(me, id) {
		return echo.NewHTTPError(http.StatusForbidden, "You may not do that.")
	}
	u, err := h.db.UserByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	q := views.Confirm{
		Question: "Sign " + u.DisplayName + " (" + u.Username + ") out everywhere?",
		Detail:   "Every session of theirs ends, in every browser; they sign in again to go on.",
		Action:   c.Request().URL.Path, Button: "Sign out everywhere", Back: userHref(id),
	}
	if id == me.ID {
		q.Question, q.Detail = "Sign yourself out everywhere?", "Every session of yours ends, this one included; you sign in again to go on."
	}
	return h.renderConfirm(c, "Sign out everywhere", q)
}

// adminOwnershipRemoveConfirm asks before a team loses an instance or a VPC.
func (h *Handler) adminOwnershipRemoveConfirm(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		team, err := h.pathTeam(c)
		if err != nil {
			return err
		}
		region := strings.TrimSpace(c.QueryParam("region"))
		field, noun, detail := "instance_id", "instance", "The team's engineers can no longer restore its backups; requests already filed keep their record."
		if kind == restore.KindVPC {
			field, noun, detail = "vpc_id", "VPC", "The team's engineers can no longer restore into it; instances already restored there stay."
		}
		id := strings.TrimSpace(c.QueryParam(field))
		back := teamHref(team.ID) + "/ownership?" + url.Values{"region": {region}}.Encode()
		if id == "" {
			return c.Redirect(http.StatusSeeOther, back)
		}
		return h.renderConfirm(c, "Remove "+noun, views.Confirm{
			Question: "Remove " + noun + " " + id + " from team " + team.Name + "?",
			Detail:   detail,
			Action:   c.Request().URL.Path, Button: "Remove the " + noun, Back: back,
			Fields: []views.ResumeField{{Name: "region", Value: region}, {Name: field, Value: id}},
		})
	}
}
