package handlers

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/picpool/picpool/cache/node"
)

// NodeMetrics are a cache node's Prometheus metrics, served at the node's
// GET /metrics behind its token (node.Options.Metrics):
//
//	picpool_node_items                                  items held
//	picpool_node_bytes                                  bytes charged for them
//	picpool_node_capacity_bytes                         the configured capacity
//	picpool_node_lookups_total{outcome}                 counted lookups: hit or miss
//	picpool_node_requests_total                         every request (lookups, stores, deletes, clears)
//	picpool_node_evictions_total                        items evicted to make room
//	picpool_node_command_duration_seconds{command}      time to serve a data-port command (histogram)
//
// and the Go runtime's and the process's own (go_*, process_*). The
// memcached protocol's "stats" gives the same figures under memcached's
// names, for memcached's exporters.
type NodeMetrics struct {
	latency *prometheus.HistogramVec
}

// WithNodeMetrics returns opts with a new NodeMetrics's Observe and
// Handler in them: the node serves its metrics at GET /metrics.
func WithNodeMetrics(opts node.Options) node.Options {
	m := NewNodeMetrics()
	opts.Observe, opts.Metrics = m.Observe, m.Handler
	return opts
}

// NewNodeMetrics returns the instruments of one node.
func NewNodeMetrics() *NodeMetrics {
	return &NodeMetrics{latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "picpool_node_command_duration_seconds",
		Help:    "Time to serve a command on the data port, from its line read to its reply queued, by command.",
		Buckets: prometheus.ExponentialBuckets(0.000005, 4, 10), // 5 µs to 1.3 s
	}, []string{"command"})}
}

// Observe records one data-port command (node.Options.Observe).
func (m *NodeMetrics) Observe(command string, took time.Duration) {
	m.latency.WithLabelValues(command).Observe(took.Seconds())
}

// Handler serves n's metrics (node.Options.Metrics).
func (m *NodeMetrics) Handler(n *node.Node) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.latency, nodeCollector{n},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// nodeCollector reads the node's figures at each scrape.
type nodeCollector struct{ n *node.Node }

var (
	nodeItemsDesc     = prometheus.NewDesc("picpool_node_items", "Items the node holds.", nil, nil)
	nodeBytesDesc     = prometheus.NewDesc("picpool_node_bytes", "Bytes charged for the items the node holds.", nil, nil)
	nodeCapacityDesc  = prometheus.NewDesc("picpool_node_capacity_bytes", "The node's configured capacity.", nil, nil)
	nodeLookupsDesc   = prometheus.NewDesc("picpool_node_lookups_total", "Counted lookups since the node started, by outcome (hit, miss).", []string{"outcome"}, nil)
	nodeRequestsDesc  = prometheus.NewDesc("picpool_node_requests_total", "Requests since the node started: lookups, stores, deletes and clears.", nil, nil)
	nodeEvictionsDesc = prometheus.NewDesc("picpool_node_evictions_total", "Items evicted to make room since the node started.", nil, nil)
)

func (c nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{nodeItemsDesc, nodeBytesDesc, nodeCapacityDesc, nodeLookupsDesc, nodeRequestsDesc, nodeEvictionsDesc} {
		ch <- d
	}
}

func (c nodeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.n.Status()
	ch <- prometheus.MustNewConstMetric(nodeItemsDesc, prometheus.GaugeValue, float64(st.Items))
	ch <- prometheus.MustNewConstMetric(nodeBytesDesc, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(nodeCapacityDesc, prometheus.GaugeValue, float64(st.Config.Capacity))
	ch <- prometheus.MustNewConstMetric(nodeLookupsDesc, prometheus.CounterValue, float64(st.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(nodeLookupsDesc, prometheus.CounterValue, float64(st.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(nodeRequestsDesc, prometheus.CounterValue, float64(st.Requests))
	ch <- prometheus.MustNewConstMetric(nodeEvictionsDesc, prometheus.CounterValue, float64(st.Evicted))
}
