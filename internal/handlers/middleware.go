package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"restoredesk/internal/clip"
	"restoredesk/internal/logging"
)

// contentSecurityPolicy allows only our own scripts, styles and images: no
// inline script anywhere, no framing, forms posting only to us.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// requestIDPattern is what an X-Request-Id from a trusted proxy must look
// like to be kept: short, and nothing a log reader could be fooled by.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestID gives every request an id, returns it in the response and puts it
// in the request's context, where the logger finds it for every line logged
// while serving it. An X-Request-Id header is kept only when the direct peer
// is one of the trusted proxies and the id is short and well-formed; a client
// cannot choose the id its requests are logged under.
func requestID(trusted []netip.Prefix) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			id := r.Header.Get(echo.HeaderXRequestID)
			if id == "" || !requestIDPattern.MatchString(id) || !fromTrustedProxy(r.RemoteAddr, trusted) {
				id = rand.Text()
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			c.Set(connContextKey, r.Context())
			c.SetRequest(r.WithContext(logging.WithRequestID(r.Context(), id)))
			return next(c)
		}
	}
}

// connContextKey keeps the context net/http gave the request, which ends
// when the client goes away; later middleware replaces the request's own.
const connContextKey = "conn_context"

// clientGone reports whether the client of c has disconnected.
func clientGone(c echo.Context) bool {
	ctx, ok := c.Get(connContextKey).(context.Context)
	return ok && ctx.Err() != nil
}

// fromTrustedProxy reports whether remoteAddr (host:port) is in trusted.
func fromTrustedProxy(remoteAddr string, trusted []netip.Prefix) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	for _, p := range trusted {
		if p.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// Limits of the input gate. The largest form of the product (a restore
// request) is a few KB; nothing legitimate comes near these.
const (
	// MaxBodyBytes bounds a request body; a larger one is answered 413.
	MaxBodyBytes = 64 << 10
	// MaxQueryBytes bounds the query string; a longer one is answered 414.
	MaxQueryBytes = 8 << 10
)

// inputGate stands before every handler and refuses input no page needs, so
// that no handler ever sees it: a body over MaxBodyBytes (413), a body that is
// not a URL-encoded form, multipart above all (415: no form uploads files, and
// refusing it before parsing means no temp file is ever written), a query
// over MaxQueryBytes (414), and any path, query, form or header value that is
// not valid UTF-8 or holds a NUL (400). The body is read here, within the
// limit, and handed on from memory.
func inputGate() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if len(r.URL.RawQuery) > MaxQueryBytes {
				return echo.NewHTTPError(http.StatusRequestURITooLong, "The address is too long.")
			}
			if !cleanText(r.URL.Path) {
				return errBadBytes
			}
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil || !cleanValues(q) {
				return errBadBytes
			}
			if !cleanValues(url.Values(r.Header)) {
				return errBadBytes
			}
			if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt == echo.MIMEMultipartForm {
				return errNoUploads
			}
			if r.ContentLength > MaxBodyBytes {
				return errTooLarge
			}
			if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
				return next(c)
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
			if err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "The request could not be read.")
			}
			if len(body) > MaxBodyBytes {
				return errTooLarge
			}
			if len(body) > 0 {
				mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
				if mt != echo.MIMEApplicationForm {
					return errNoUploads
				}
				form, err := url.ParseQuery(string(body))
				if err != nil || !cleanValues(form) {
					return errBadBytes
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			return next(c)
		}
	}
}

// The gate's refusals, each a plain page saying what was wrong.
var (
	errBadBytes  = echo.NewHTTPError(http.StatusBadRequest, "The request holds characters that are not text (invalid UTF-8 or a NUL byte).")
	errNoUploads = echo.NewHTTPError(http.StatusUnsupportedMediaType, "Restore Desk takes only ordinary form posts; nothing here accepts file uploads.")
	errTooLarge  = echo.NewHTTPError(http.StatusRequestEntityTooLarge, "The request is too large.")
)

// cleanText reports whether s is valid UTF-8 without NUL bytes.
func cleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func cleanValues(v url.Values) bool {
	for k, vals := range v {
		if !cleanText(k) {
			return false
		}
		for _, s := range vals {
			if !cleanText(s) {
				return false
			}
		}
	}
	return true
}

// Logged lengths of the request line: a path can be as long as the header
// limit allows, and a log line should stay a line.
const (
	maxLoggedPath   = 2048
	maxLoggedMethod = 32
)

// requestLogger logs one line per request through slog, client text cut short.
func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRemoteIP: true,
		LogError:    true,
		HandleError: true, // lets the error handler set the status before we log it
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			if c.Path() == "/healthz" || c.Path() == "/readyz" || c.Path() == "/static/*" {
				level = slog.LevelDebug
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", clip.String(v.Method, maxLoggedMethod)), slog.String("path", clip.String(v.URIPath, maxLoggedPath)),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency),
				slog.String("client", clip.String(v.RemoteIP, clip.Addr)))
			return nil
		},
	})
}

// recoverPanics turns a panic into a 500 error page and logs its stack once;
// the server keeps serving.
func recoverPanics(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					stack := make([]byte, 8<<10)
					stack = stack[:runtime.Stack(stack, false)]
					log.ErrorContext(c.Request().Context(), "panic serving request",
						"panic", fmt.Sprint(r), "stack", string(stack))
					err = errPanic
				}
			}()
			return next(c)
		}
	}
}

// securityHeaders sets the headers every response carries.
func securityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Frame-Options", "DENY")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			return next(c)
		}
	}
}

// crossOriginProtection refuses state-changing requests that a browser marks
// as coming from another site (Sec-Fetch-Site, or an Origin that is not ours),
// which is what a forged form or fetch from elsewhere looks like. Safe methods
// pass. This needs no token in the forms, so every form works without JS.
func crossOriginProtection() echo.MiddlewareFunc {
	cop := http.NewCrossOriginProtection()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := cop.Check(c.Request()); err != nil {
				return echo.NewHTTPError(http.StatusForbidden, "This form was sent from another site and has been refused.")
			}
			return next(c)
		}
	}
}

// ipExtractor believes X-Forwarded-For only when the direct peer is one of the
// trusted proxies; otherwise the client address is the peer's address. Unlike
// echo's defaults, loopback and private ranges are not trusted implicitly.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		_, n, err := net.ParseCIDR(p.String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// timeout bounds how long a handler may run, so a stuck query cannot hold a
// connection forever.
func timeout(d time.Duration) echo.MiddlewareFunc {
	return middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{
		Timeout: d,
		Skipper: func(c echo.Context) bool { return c.Path() == "/audit/export" },
	})
}
