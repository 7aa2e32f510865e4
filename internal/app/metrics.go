package app

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"restoredesk/internal/jdcloud"
	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
)

// workflowMetrics are the restore workflow's Prometheus metrics: JD Cloud
// calls by operation and outcome, and requests by status (read from the
// database at each scrape, so every replica reports the same truth).
type workflowMetrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newWorkflowMetrics(reg prometheus.Registerer, pool *pgxpool.Pool) *workflowMetrics {
	m := &workflowMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "restoredesk_jdcloud_calls_total",
			Help: "JD Cloud API calls (each HTTP attempt), by operation and outcome: ok, not performed, ambiguous, refused.",
		}, []string{"operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "restoredesk_jdcloud_call_duration_seconds",
			Help:    "Time of JD Cloud API calls (each HTTP attempt), by operation.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
	}
	reg.MustRegister(m.calls, m.duration, &requestsCollector{pool: pool,
		desc: prometheus.NewDesc("restoredesk_requests", "Restore requests by status.", []string{"status"}, nil),
		dups: prometheus.NewDesc("restoredesk_duplicate_instances",
			"Instances found carrying a request's tag beside the request's own (they bill until deleted).", nil, nil)})
	return m
}

// observe counts one JD Cloud call.
func (m *workflowMetrics) observe(info jdcloud.CallInfo) {
	m.calls.WithLabelValues(info.Operation, jdcloud.Classify(info.Err).String()).Inc()
	m.duration.WithLabelValues(info.Operation).Observe(info.Duration.Seconds())
}

// requestsCollector reports the number of requests in each status and of
// duplicate instances found.
type requestsCollector struct {
	pool       *pgxpool.Pool
	desc, dups *prometheus.Desc
}

func (c *requestsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.dups }

func (c *requestsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := postgres.New(c.pool).RequestCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	// Every status, zeros included, so a dashboard's series never vanish.
	for _, s := range request.Statuses() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[string(s)]), string(s))
	}
	n, err := postgres.New(c.pool).CountDuplicateInstances(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.dups, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.dups, prometheus.GaugeValue, float64(n))
}
