package handlers

import (
	"strconv"
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
// ids in URLs do not explode the label set).
func (m *Metrics) middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // let the error handler set the final status first
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			status := strconv.Itoa(c.Response().Status)
			m.requests.WithLabelValues(c.Request().Method, route, status).Inc()
			m.duration.WithLabelValues(c.Request().Method, route, status).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}
