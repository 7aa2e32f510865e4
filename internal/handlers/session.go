package handlers

import (
	"github.com/labstack/echo/v4"

	"restoredesk/internal/clip"
	"restoredesk/internal/policy"
	"restoredesk/internal/views"
)

// sessionName is the cookie carrying the session.
const sessionName = "restoredesk"

// viewerKey is the echo context key under which the signed-in user's view is kept.
const viewerKey = "viewer"

// viewerFrom returns the signed-in user as the views need them, or nil.
func viewerFrom(c echo.Context) *views.Viewer {
	v, _ := c.Get(viewerKey).(*views.Viewer)
	return v
}

// maxFlashBytes bounds a flash message: it travels in the cookie, which
// browsers cap at 4 KB, and some messages quote what the user typed.
const maxFlashBytes = 400

// setFlash stores a message for the next page the user sees. A message that
// would not fit the cookie is cut; should the cookie still not save, the
// message is dropped (and logged) rather than the action it reports failing.
func (h *Handler) setFlash(c echo.Context, kind, msg string) error {
	s, err := h.Sessions.Get(c.Request(), sessionName)
	if err != nil {
		// A cookie from a rotated-out key: start over with a fresh session.
		s, _ = h.Sessions.New(c.Request(), sessionName)
	}
	if len(msg) > maxFlashBytes {
		msg = clip.String(msg, maxFlashBytes-len("…")) + "…"
	}
	s.AddFlash(kind+"\x00"+msg, "flash")
	if err := s.Save(c.Request(), c.Response()); err != nil {
		h.Log.WarnContext(c.Request().Context(), "flash message not saved", "err", err)
	}
	return nil
}

// popFlash returns and removes the pending flash, if any.
func (h *Handler) popFlash(c echo.Context) views.Flash {
	s, err := h.Sessions.Get(c.Request(), sessionName)
	if err != nil {
		return views.Flash{}
	}
	flashes := s.Flashes("flash")
	if len(flashes) == 0 {
		return views.Flash{}
	}
	if err := s.Save(c.Request(), c.Response()); err != nil {
		h.Log.WarnContext(c.Request().Context(), "save session after flash", "err", err)
	}
	raw, _ := flashes[len(flashes)-1].(string)
	for i := 0; i < len(raw); i++ {
		if raw[i] == 0 {
			return views.Flash{Kind: raw[:i], Message: raw[i+1:]}
		}
	}
	return views.Flash{Kind: "info", Message: raw}
}

// userKey is the echo context key of the signed-in *policy.User, set by the
// authentication middleware from the database on every request.
const userKey = "user"

// currentUser returns the signed-in user, or nil.
func currentUser(c echo.Context) *policy.User {
	u, _ := c.Get(userKey).(*policy.User)
	return u
}
