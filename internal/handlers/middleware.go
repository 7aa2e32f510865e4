package handlers

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"restoredesk/internal/logging"
)

// contentSecurityPolicy allows only our own scripts, styles and images: no
// inline script anywhere, no framing, forms posting only to us.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// requestID gives every request an id (kept from X-Request-Id when a trusted
// proxy set one), returns it in the response and puts it in the request's
// context, where the logger finds it for every line logged while serving it.
func requestID() echo.MiddlewareFunc {
	return middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		RequestIDHandler: func(c echo.Context, id string) {
			r := c.Request()
			c.SetRequest(r.WithContext(logging.WithRequestID(r.Context(), id)))
		},
	})
}

// requestLogger logs one line per request through slog.
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
				slog.String("method", v.Method), slog.String("path", v.URIPath),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency),
				slog.String("client", v.RemoteIP))
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
