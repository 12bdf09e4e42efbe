package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/scaling"
)

// Prometheus metrics: each server (gallery, manager) has its own registry,
// served at GET /metrics behind the test API's guard (open on loopback,
// the API token otherwise), in Prometheus' text format:
//
//	picpool_http_requests_total{route,code}          requests by route pattern and status
//	picpool_http_request_duration_seconds{route}     their latency (histogram)
//	picpool_pool_nodes                               the pool's size
//	picpool_pool_miss_rate                           its miss rate over the last minute
//	picpool_autoscaler_decisions_total{outcome}      the manager's autoscaler, when it runs there
//
// and the Go runtime's and the process's own (go_*, process_*).

// DecisionCounter counts the autoscaler's decisions by outcome
// (*scaling.Autoscaler is one).
type DecisionCounter interface {
	Counts() map[scaling.Outcome]int64
}

// serverMetrics is one server's registry and its HTTP instruments.
type serverMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// newServerMetrics registers the instruments of a server over pool;
// decisions may be nil (no autoscaler in this process, or a gallery).
func newServerMetrics(pool gallery.PoolAdmin, decisions DecisionLog) *serverMetrics {
	m := &serverMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picpool_http_requests_total", Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "picpool_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10), // 0.5 ms to 2 min
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "picpool_pool_nodes", Help: "Cache nodes in the pool."},
			func() float64 { return float64(pool.Nodes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "picpool_pool_miss_rate", Help: "The pool's miss rate over the last minute (0 without lookups)."},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				c := pool.Window(ctx)
				if c.Hits+c.Misses == 0 {
					return 0
				}
				return float64(c.Misses) / float64(c.Hits+c.Misses)
			}),
	)
	if dc, ok := decisions.(DecisionCounter); ok {
		m.reg.MustRegister(decisionCollector{dc})
	}
	return m
}

// instrument counts and times every request by the route pattern that
// served it ("unmatched" for none), once the router has answered it.
func (m *serverMetrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		code := ww.Status()
		if code == 0 {
			code = http.StatusOK // nothing written: net/http answers 200
		}
		m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// routes mounts GET /metrics behind guard.
func (m *serverMetrics) routes(r chi.Router, guard func(http.Handler) http.Handler) {
	r.With(guard).Method(http.MethodGet, "/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// decisionCollector exports the autoscaler's decision counts.
type decisionCollector struct{ c DecisionCounter }

var decisionsDesc = prometheus.NewDesc("picpool_autoscaler_decisions_total",
	"Autoscaler decisions since the process started, by outcome (skipped, held, resized, failed).", []string{"outcome"}, nil)

func (d decisionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- decisionsDesc }

func (d decisionCollector) Collect(ch chan<- prometheus.Metric) {
	counts := d.c.Counts()
	for _, o := range []scaling.Outcome{scaling.OutcomeSkipped, scaling.OutcomeHeld, scaling.OutcomeResized, scaling.OutcomeFailed} {
		ch <- prometheus.MustNewConstMetric(decisionsDesc, prometheus.CounterValue, float64(counts[o]), string(o))
	}
}
