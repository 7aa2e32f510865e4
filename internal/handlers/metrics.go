package handlers

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the Prometheus collectors of the HTTP layer, in their own
// registry so tests can create as many as they like.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics returns a registry with the Go runtime and process collectors and
// request counts and latencies by route and status.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "restoredesk_http_requests_total",
			Help: "HTTP requests served, by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "restoredesk_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by method, route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route", "status"}),
	}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration)
	return m
}

// middleware records each request under its route pattern (not its path, so
// ids in URLs do not explode the label set) and its method, with methods
// outside HTTP's own set counted as "other": no client can add series.
func (m *Metrics) middleware() echo.MiddlewareFunc {
	var (
		once   sync.Once
		routes map[string]bool
	)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // let the error handler set the final status first
			}
			once.Do(func() {
				routes = map[string]bool{}
				for _, r := range c.Echo().Routes() {
					routes[r.Path] = true
				}
			})
			route := c.Path()
			if !routes[route] {
				route = "unmatched"
			}
			method := c.Request().Method
			if !knownMethods[method] {
				method = "other"
			}
			status := strconv.Itoa(c.Response().Status)
			m.requests.WithLabelValues(method, route, status).Inc()
			m.duration.WithLabelValues(method, route, status).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// knownMethods are the methods of RFC 9110 and PATCH; the metrics name any
// other "other".
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodConnect: true, http.MethodOptions: true, http.MethodTrace: true,
}
