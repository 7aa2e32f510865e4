package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"restoredesk/internal/audit"
	"restoredesk/internal/clip"
	"restoredesk/internal/identity"
	"restoredesk/internal/policy"
	"restoredesk/internal/views"
)

// sessionIDKey is where the cookie keeps the session id. The cookie is signed
// and encrypted (gorilla/securecookie keyed from SESSION_KEYS), but what makes
// it valid is the row in the sessions table the id points to.
const sessionIDKey = "sid"

// authenticate loads the signed-in user, with their roles and teams as the
// database has them now, on every request: a disabled account, a removed
// lead or membership takes effect on the very next request. It sets userKey
// (*policy.User) and viewerKey (*views.Viewer); anonymous requests get neither.
func (h *Handler) authenticate() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			switch c.Path() {
			case "/healthz", "/readyz", "/static/*":
				return next(c)
			}
			id := h.sessionID(c)
			if id == "" {
				return next(c)
			}
			u, err := h.Identity.Authenticate(c.Request().Context(), id, !backgroundPoll(c))
			if errors.Is(err, identity.ErrNoSession) {
				return next(c)
			}
			if err != nil {
				return err
			}
			c.Set(userKey, u)
			c.Set(viewerKey, viewerOf(u))
			return next(c)
		}
	}
}

// backgroundPoll reports whether c is a request a page makes by itself (the
// request status it refreshes), which must not keep an idle session alive.
func backgroundPoll(c echo.Context) bool {
	return c.Path() == "/requests/:id/status"
}

// viewerOf is what the navigation needs to know about u.
func viewerOf(u *policy.User) *views.Viewer {
	return &views.Viewer{
		Name: u.Name, Username: u.Username, Admin: u.Admin, Auditor: u.Auditor,
		Lead: len(u.LedTeamIDs()) > 0, Member: len(u.Teams) > 0,
	}
}

// requireAdmin lets only admins through; anonymous visitors are treated as
// by requireUser.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return requireUser(func(c echo.Context) error {
		if !policy.CanAdminister(currentUser(c)) {
			return echo.NewHTTPError(http.StatusForbidden, "Only admins may open the administration pages.")
		}
		return next(c)
	})
}

// cookieSession returns the request's cookie session, or a fresh one when the
// cookie is missing or was signed with a key no longer configured.
func (h *Handler) cookieSession(c echo.Context) *sessions.Session {
	s, err := h.Sessions.Get(c.Request(), sessionName)
	if err != nil {
		s, _ = h.Sessions.New(c.Request(), sessionName)
	}
	return s
}

// sessionID returns the session id the request's cookie carries, or "".
func (h *Handler) sessionID(c echo.Context) string {
	s, err := h.Sessions.Get(c.Request(), sessionName)
	if err != nil {
		return ""
	}
	id, _ := s.Values[sessionIDKey].(string)
	return id
}

// startCookieSession replaces whatever the cookie held (a previous session,
// a pending single sign-on) with the new session id, so no earlier value
// survives sign-in.
func (h *Handler) startCookieSession(c echo.Context, id string) error {
	s := h.cookieSession(c)
	for k := range s.Values {
		delete(s.Values, k)
	}
	s.Values[sessionIDKey] = id
	return s.Save(c.Request(), c.Response())
}

// endCookieSession empties the cookie (the session id with everything else)
// and leaves msg for the sign-in page.
func (h *Handler) endCookieSession(c echo.Context, msg string) error {
	s := h.cookieSession(c)
	for k := range s.Values {
		delete(s.Values, k)
	}
	return h.setFlash(c, "info", msg)
}

// clientOf is where the request comes from: the address as the trusted
// proxies report it, and the user agent.
func clientOf(c echo.Context) identity.Client {
	return identity.Client{Addr: clip.String(c.RealIP(), clip.Addr), UserAgent: clip.String(c.Request().UserAgent(), clip.UserAgent)}
}

// actorOf is the signed-in user as the audit trail records them.
func actorOf(c echo.Context) identity.Actor {
	u := currentUser(c)
	cl := clientOf(c)
	a := audit.Actor{ClientAddr: cl.Addr, UserAgent: cl.UserAgent}
	if u != nil {
		a.UserID, a.Name = u.ID, u.Username
	}
	return identity.Actor{Actor: a}
}

// safeNext returns next when it is a path on this site, and "/" otherwise, so
// the sign-in form cannot be used to send people elsewhere (an open
// redirect): no scheme, no host, no "//" or "/\" that browsers read as one.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t\x00\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}
