package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/clip"
	"restoredesk/internal/jdcloud"
	"restoredesk/internal/postgres"
	"restoredesk/internal/problem"
	"restoredesk/internal/views"
)

// errPanic stands for a recovered panic; the stack was already logged.
var errPanic = errors.New("recovered panic")

// problemStatus is the HTTP status of each kind of domain refusal.
var problemStatus = map[problem.Code]int{
	problem.Invalid:     http.StatusUnprocessableEntity,
	problem.Forbidden:   http.StatusForbidden,
	problem.NotFound:    http.StatusNotFound,
	problem.Conflict:    http.StatusConflict,
	problem.Unavailable: http.StatusServiceUnavailable,
	problem.Internal:    http.StatusInternalServerError,
}

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
		h.Log.DebugContext(c.Request().Context(), "no form to resume", "err", rerr)
	}
	status, msg := http.StatusInternalServerError, problem.InternalMessage
	var he *echo.HTTPError
	var pe *problem.Error
	var api *jdcloud.APIError
	switch {
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok && status < 500 {
			msg = m
		} else {
			msg = http.StatusText(status)
		}
	case errors.As(err, &pe):
		status, msg = problemStatus[pe.Code], pe.Message
	case errors.As(err, &api):
		// A JD Cloud refusal reaches the user in JD Cloud's words, with its request id.
		status, msg = http.StatusBadGateway, "JD Cloud answered with an error: "+api.Description()+"."
	case errors.Is(err, postgres.ErrNotFound):
		status, msg = http.StatusNotFound, "Not found"
	case errors.Is(err, context.DeadlineExceeded):
		status, msg = http.StatusServiceUnavailable, "The server took too long to answer"
	case postgres.IsUnavailable(err):
		status, msg = http.StatusServiceUnavailable, "Restore Desk cannot reach its database right now. Try again in a moment."
	}
	if status == http.StatusNotFound && msg == http.StatusText(http.StatusNotFound) {
		msg = "Page not found"
	}
	if status >= 500 && !errors.Is(err, errPanic) {
		h.Log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
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
	p := views.Page{Title: msg, Demo: h.Demo, Viewer: viewerFrom(c)}
	if rerr := render(c, status, views.ErrorPage(p, status, msg)); rerr != nil {
		h.Log.ErrorContext(c.Request().Context(), "render error page", "err", rerr)
		c.String(status, msg)
	}
}
