package handlers

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/identity"
	"restoredesk/internal/policy"
	"restoredesk/internal/postgres"
	"restoredesk/internal/timezone"
	"restoredesk/internal/views"
)

// account shows the signed-in user's identity, teams and roles, with the
// password form, the time zone setting and their sessions.
func (h *Handler) account(c echo.Context) error {
	return h.renderAccount(c, http.StatusOK, accountForms{})
}

// accountForms are the account page's forms as they come back after a
// refusal: each form's problems, and the zone as typed.
type accountForms struct {
	password map[string]string
	zone     *string // the zone as submitted, when the time zone form is shown again
	zoneErr  string
}

func (h *Handler) renderAccount(c echo.Context, status int, forms accountForms) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	row, err := h.db.UserByID(ctx, u.ID)
	if err != nil {
		return err
	}
	sessions, err := h.db.ActiveSessions(ctx, u.ID, h.Identity.Config().IdleTimeout)
	if err != nil {
		return err
	}
	reminders, err := h.db.ReminderMail(ctx, u.ID)
	if err != nil {
		return err
	}
	zone := views.TimeZoneSetting{Value: u.TimeZone, Effective: timezone.From(ctx).String(), Error: forms.zoneErr}
	if forms.zone != nil {
		zone.Value = *forms.zone
	}
	if ck, err := c.Cookie(timezone.Cookie); err == nil {
		if loc, err := timezone.Load(ck.Value); err == nil {
			zone.Browser = loc.String()
		}
	}
	if h.DefaultZone != nil {
		zone.Default = h.DefaultZone.String()
	}
	noStore(c)
	return render(c, status, views.Account(h.page(c, "Your account", ""), views.AccountProps{
		Username: u.Username, Name: u.Name, Email: u.Email, SSO: row.SSO(), Teams: teamRoles(u),
		Admin: u.Admin, Auditor: u.Auditor, Sessions: sessionRows(sessions, identity.HashSessionID(h.sessionID(c))),
		Errors: forms.password, ReminderMail: reminders, TimeZone: zone,
	}))
}

// sessionRows turns the user's stored sessions into the account page's list,
// the one the page is shown in (its hash is current) first.
func sessionRows(list []postgres.Session, current []byte) []views.SessionRow {
	out := make([]views.SessionRow, len(list))
	for i, s := range list {
		out[i] = views.SessionRow{
			Handle: hex.EncodeToString(s.IDHash), Started: s.CreatedAt, LastSeen: s.LastSeenAt, Addr: s.ClientAddr,
			Browser: views.BrowserName(s.UserAgent), UserAgent: s.UserAgent, SSO: s.Method == "oidc",
			Current: bytes.Equal(s.IDHash, current),
		}
	}
	slices.SortStableFunc(out, func(a, b views.SessionRow) int {
		switch {
		case a.Current == b.Current:
			return 0
		case a.Current:
			return -1
		}
		return 1
	})
	return out
}

// accountPassword changes the user's own password, given the current one.
func (h *Handler) accountPassword(c echo.Context) error {
	err := h.Identity.ChangeOwnPassword(c.Request().Context(), actorOf(c), c.FormValue("current"), c.FormValue("new"))
	var fe identity.FieldErrors
	if errors.As(err, &fe) {
		return h.renderAccount(c, http.StatusUnprocessableEntity, accountForms{password: fe})
	}
	if err != nil {
		return err
	}
	if err := h.setFlash(c, "success", "Your password has been changed."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account")
}

// accountTimeZone stores the zone the user's pages show times in ("" for
// their browser's).
func (h *Handler) accountTimeZone(c echo.Context) error {
	zone := c.FormValue("time_zone")
	err := h.Identity.SetTimeZone(c.Request().Context(), actorOf(c), zone)
	var fe identity.FieldErrors
	if errors.As(err, &fe) {
		return h.renderAccount(c, http.StatusUnprocessableEntity, accountForms{zone: &zone, zoneErr: fe["time_zone"]})
	}
	if err != nil {
		return err
	}
	msg := "Times now show in " + zone + "."
	if zone == "" {
		msg = "Times now show in your browser's time zone."
	}
	return h.adminDone(c, "/account", msg)
}

// accountEndSession signs the user out of one of their other sessions; the
// session the page is shown in signs out through /signout.
func (h *Handler) accountEndSession(c echo.Context) error {
	u := currentUser(c)
	if !policy.CanRevokeSessions(u, u.ID) {
		return echo.NewHTTPError(http.StatusForbidden, "You may not do that.")
	}
	hash, err := hex.DecodeString(c.Param("session"))
	if err != nil || len(hash) != 32 {
		return echo.NewHTTPError(http.StatusNotFound, "That session has already ended.")
	}
	err = h.Identity.EndSession(c.Request().Context(), actorOf(c), hash)
	if errors.Is(err, identity.ErrNoSuchSession) {
		return h.adminDoneKind(c, "info", "/account", "That session had already ended.")
	}
	if err != nil {
		return err
	}
	if bytes.Equal(hash, identity.HashSessionID(h.sessionID(c))) {
		if err := h.endCookieSession(c, "You have been signed out."); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/signin")
	}
	return h.adminDone(c, "/account", "That session has been signed out.")
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
