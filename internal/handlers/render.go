package handlers

import (
	"bytes"
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"restoredesk/internal/views"
)

// render writes component with status. It renders into a buffer first, so a
// failing template still becomes a clean error page rather than half a page.
func render(c echo.Context, status int, component templ.Component) error {
	var buf bytes.Buffer
	if err := component.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page returns the frame data every page needs, with the pending flash popped.
func (h *Handler) page(c echo.Context, title, active string) views.Page {
	return views.Page{
		Title:  title,
		Demo:   h.Demo,
		Viewer: viewerFrom(c),
		Flash:  h.popFlash(c),
		Active: active,
	}
}

// noStore marks a response as private to this user and never cached.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
}
