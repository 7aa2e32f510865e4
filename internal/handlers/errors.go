package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/clip"
	"restoredesk/internal/postgres"
	"restoredesk/internal/views"
)

// errPanic stands for a recovered panic; the stack was already logged.
var errPanic = errors.New("recovered panic")

// statusClientClosed is what the log and the metrics show for a request whose
// client went away before the answer (nginx's 499): nobody reads the answer,
// and it is not the server's failure.
const statusClientClosed = 499

// errorHandler is the one place that decides what a failed request shows.
// Users see a status and plain words; operators see the error in the log,
// logged once, with the request id. Internal error text never reaches a page.
func (h *Handler) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if errors.Is(err, context.Canceled) && clientGone(c) {
		// The client disconnected; what it was waiting for stopped with it.
		c.Response().WriteHeader(statusClientClosed)
		return
	}
	if errors.Is(err, errSignInToSend) {
		c.SetRequest(c.Request().WithContext(context.WithoutCancel(c.Request().Context())))
		rerr := h.renderResumeSignIn(c)
		if rerr == nil {
			return
		}
		h.log.DebugContext(c.Request().Context(), "no form to resume", "err", rerr)
	}
	status, msg := http.StatusInternalServerError, "Something went wrong"
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok && status < 500 {
			msg = m
		} else {
			msg = http.StatusText(status)
		}
	case errors.Is(err, postgres.ErrNotFound):
		status, msg = http.StatusNotFound, "Not found"
	case errors.Is(err, context.DeadlineExceeded):
		status, msg = http.StatusServiceUnavailable, "The server took too long to answer"
	}
	if status == http.StatusNotFound && msg == http.StatusText(http.StatusNotFound) {
		msg = "Page not found"
	}
	if status >= 500 && !errors.Is(err, errPanic) {
		h.log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
			slog.String("method", clip.String(c.Request().Method, maxLoggedMethod)), slog.String("path", clip.String(c.Request().URL.Path, maxLoggedPath)),
			slog.Int("status", status), slog.String("err", err.Error()))
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	noStore(c)
	// The request's context may already be cancelled (a timeout, a client
	// gone); the page is still worth writing for whoever is listening.
	c.SetRequest(c.Request().WithContext(context.WithoutCancel(c.Request().Context())))
	p := views.Page{Title: msg, Demo: h.demo, Viewer: viewerFrom(c)}
	if rerr := render(c, status, views.ErrorPage(p, status, msg)); rerr != nil {
		h.log.ErrorContext(c.Request().Context(), "render error page", "err", rerr)
		c.String(status, msg)
	}
}
